// A Deposit edited by hand in QuickBooks put back as Settle posted it (the reconciliation's fix): the
// connector against the QuickBooks Online simulator over real HTTP. Same Deposit id, the payout's total and
// lines again, the payment still linked; a second restore writes nothing; a Deposit without Settle's note is refused.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { money, type Money } from '../../../domain/money.ts';
import { startQuickBooksSimulator, type RunningQuickBooksSimulator } from '../../../../simulators/quickbooks-online/index.ts';
import { editDepositByHand } from '../../../../simulators/quickbooks-online/drift.ts';
import { QuickBooksOnlineConnector } from './connector.ts';
import { QboRequestLimiter } from './limiter.ts';
import { tokensFromRefreshToken, type QboTokens, type TokenStore } from './tokens.ts';
import type { PostDepositInput } from '../types.ts';

type Json = Record<string, unknown>;
const usd = (cents: number): Money => money(cents, 'USD');

let qbo: RunningQuickBooksSimulator;
beforeEach(async () => {
  qbo = await startQuickBooksSimulator();
});
afterEach(async () => {
  await qbo.close();
});

function connect(): QuickBooksOnlineConnector {
  let tokens = tokensFromRefreshToken(qbo.initialRefreshToken);
  const store: TokenStore = { load: async () => tokens, save: async (t: QboTokens) => void (tokens = t) };
  return new QuickBooksOnlineConnector(
    {
      baseUrl: qbo.baseUrl,
      tokenUrl: qbo.oauthTokenUrl,
      realmId: qbo.realmId,
      clientId: qbo.clientId,
      clientSecret: qbo.clientSecret,
      bankAccountId: qbo.sim.accounts.checking,
      feeExpenseAccountId: qbo.sim.accounts.merchantFees,
      minorVersion: 75,
    },
    store,
    { limiter: new QboRequestLimiter(), throttleWaitMs: 20 },
  );
}

/** Writes to the company (every POST: creates and updates alike). */
const writes = () => qbo.sim.calls.total('POST ');

describe('restoreDeposit', () => {
  it('puts an edited Deposit back to the payout in place; again is a no-op; not Settle’s is refused', async () => {
    const c = connect();
    qbo.sim.seedInvoice({ docNumber: 'A', customerName: 'Acme', amount: '120.00' });
    const [a] = await c.postPayments([
      { idempotencyKey: 'payment:1', invoiceNumber: 'A', amount: usd(12000), paidOn: '2025-03-15', reference: 'pi_1', memo: 'Settle payment 1' },
    ]);
    const input: PostDepositInput = {
      idempotencyKey: 'payout:po_1:deposit',
      payoutId: 'po_1',
      depositedOn: '2025-03-16',
      payments: [{ paymentRemoteId: a!.ok ? a!.remoteId : '', amount: usd(12000) }],
      fees: usd(378),
      adjustments: usd(0),
      memo: 'stripe payout po_1',
    };
    const posted = await c.postDeposit(input);
    expect(posted).toMatchObject({ ok: true });
    const id = posted.ok ? posted.remoteId : '';
    const before = qbo.sim.store.get('Deposit', id);
    const lines = JSON.stringify(before['Line']);

    editDepositByHand(qbo.sim.store, id, '2.50');
    expect(Number(qbo.sim.store.get('Deposit', id)['TotalAmt'])).toBe(113.72);

    const m = writes();
    const r = await c.restoreDeposit({ ...input, depositRemoteId: id });
    expect(writes()).toBe(m + 1); // one sparse update
    expect(r).toEqual({ ok: true, remoteId: id, onClearing: [] });
    const after = qbo.sim.store.get('Deposit', id);
    expect(Number(after['TotalAmt'])).toBe(116.22);
    expect(JSON.stringify((after['Line'] as Json[]).map(({ Id: _, ...l }) => l))).toBe(
      JSON.stringify((JSON.parse(lines) as Json[]).map(({ Id: _, ...l }) => l)),
    );
    expect(qbo.sim.deposits()).toHaveLength(1);
    const payment = qbo.sim.payments().find((p) => p['Id'] === (a!.ok ? a!.remoteId : ''))!;
    expect(payment['LinkedTxn']).toEqual([{ TxnId: id, TxnType: 'Deposit' }]);

    const n = writes();
    expect(await c.restoreDeposit({ ...input, depositRemoteId: id })).toEqual({ ok: true, remoteId: id, onClearing: [] });
    expect(writes()).toBe(n);

    const other = await c.restoreDeposit({ ...input, idempotencyKey: 'payout:po_2:deposit', depositRemoteId: id });
    expect(other).toMatchObject({ ok: false, retryable: false });
    expect(other.ok ? '' : other.error).toMatch(/does not carry Settle's note/);
  });
});
