// settle doctor's Xero accounts row against the Xero simulator: fitting codes pass (with Xero's remaining-call
// figure), a clearing account that is not bank-type fails naming the accounts that would fit and the command.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startXeroSimulator, type RunningXeroSimulator } from '../../simulators/xero/index.ts';
import { MemoryTokenStore } from '../connectors/accounting/quickbooks-online/tokens.ts';
import { XeroConnector } from '../connectors/accounting/xero/connector.ts';
import { XeroLimiter } from '../connectors/accounting/xero/limiter.ts';
import { xeroTokensFromRefreshToken } from '../connectors/accounting/xero/tokens.ts';
import { checkXeroAccounts } from './xero-checks.ts';
import { DoctorProblem } from './vendor-checks.ts';

let x: RunningXeroSimulator;
beforeEach(async () => {
  x = await startXeroSimulator();
});
afterEach(async () => x.close());

const config = { bankAccountCode: '090', clearingAccountCode: '091', feeAccountCode: '404' };
const books = (): XeroConnector =>
  new XeroConnector(
    {
      apiUrl: x.apiUrl,
      tokenUrl: x.tokenUrl,
      tenantId: x.tenantId,
      clientId: x.clientId,
      clientSecret: x.clientSecret,
      ...config,
      processorContactName: 'Stripe',
    },
    new MemoryTokenStore(xeroTokensFromRefreshToken(x.initialRefreshToken)),
    { limiter: new XeroLimiter() },
  );

describe('checkXeroAccounts', () => {
  it('passes for fitting codes and says how many calls Xero has left today', async () => {
    expect(await checkXeroAccounts(books(), config, 'acme')).toMatch(/fit their roles; Xero says 4999 calls left today/);
  });

  it('names the fix when the clearing account cannot take payments', async () => {
    const e = await checkXeroAccounts(books(), { ...config, clearingAccountCode: '200' }, 'acme').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(DoctorProblem);
    expect((e as Error).message).toMatch(
      /clearingAccountCode “200 Sales” \(REVENUE\) cannot take this role — use a BANK account.*“091 Settle Clearing”.*settle connect accounting xero --workspace acme/,
    );
  });
});
