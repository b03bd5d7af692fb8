// Applying a PSA-exported credit memo in QuickBooks Online, over HTTP against the simulator (which holds
// CreditMemo as QuickBooks does: RemainingCredit, a zero-total Payment linking Invoice and CreditMemo): the
// memo found by number is applied to the same invoice — never created; a repeat finds the first application
// (check-before-write); a memo or invoice not in the books yet is a wait; another customer's memo or too
// little credit left is a final failure and nothing is written.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import { startQuickBooksSimulator, type RunningQuickBooksSimulator } from '../../../../simulators/quickbooks-online/index.ts';
import { QuickBooksOnlineConnector } from './connector.ts';
import { QboRequestLimiter } from './limiter.ts';
import { tokensFromRefreshToken, type QboTokens, type TokenStore } from './tokens.ts';

type Json = Record<string, any>;

class MemoryTokens implements TokenStore {
  constructor(private tokens: QboTokens) {}
  async load(): Promise<QboTokens> {
    return this.tokens;
  }
  async save(t: QboTokens): Promise<void> {
    this.tokens = t;
  }
}

let qbo: RunningQuickBooksSimulator;
let books: QuickBooksOnlineConnector;
beforeEach(async () => {
  qbo = await startQuickBooksSimulator();
  books = new QuickBooksOnlineConnector(
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
    new MemoryTokens(tokensFromRefreshToken(qbo.initialRefreshToken)),
    { limiter: new QboRequestLimiter(), throttleWaitMs: 20 },
  );
});
afterEach(async () => qbo.close());

const usd = (cents: number) => money(cents, 'USD');
const apply = (n: string, invoice: string, cents: number, key = `credit:${n}`) =>
  books.applyCreditMemo({
    idempotencyKey: key,
    creditMemoNumber: n,
    invoiceNumber: invoice,
    amount: usd(cents),
    appliedOn: '2026-12-01',
    memo: `Credit memo ${n}`,
  });
const memoOf = (n: string) => qbo.sim.creditMemos().find((m) => m['DocNumber'] === n) as Json;
const invoiceOf = (n: string) => qbo.sim.store.list('Invoice').find((i) => i['DocNumber'] === n) as Json;

describe('credit memos from the PSA in QuickBooks Online', () => {
  it('applies the exported memo to the same invoice with a zero Payment, once, however often asked', async () => {
    qbo.sim.seedInvoice({ docNumber: 'INV-1', customerName: 'Acme Dental', amount: '100.00' });
    qbo.sim.seedCreditMemo({ docNumber: 'CM-1', customerName: 'Acme Dental', amount: '30.00' });
    const first = await apply('CM-1', 'INV-1', 3000);
    expect(first).toMatchObject({ ok: true });
    const payment = qbo.sim.payments().find((p) => p.Id === (first as { remoteId: string }).remoteId) as Json;
    expect(payment['TotalAmt']).toBe(0);
    expect(payment['Line']).toEqual([
      { Amount: 30, LinkedTxn: [{ TxnId: invoiceOf('INV-1')['Id'], TxnType: 'Invoice' }] },
      { Amount: 30, LinkedTxn: [{ TxnId: memoOf('CM-1')['Id'], TxnType: 'CreditMemo' }] },
    ]);
    expect(invoiceOf('INV-1')['Balance']).toBe(70);
    expect(memoOf('CM-1')['RemainingCredit']).toBe(0);
    expect(qbo.sim.creditMemos()).toHaveLength(1); // never creates one

    // A retry (a crash after the write, a second flush): the same record, nothing more in the books.
    expect(await apply('CM-1', 'INV-1', 3000)).toEqual(first);
    expect(qbo.sim.payments()).toHaveLength(1);
    expect(invoiceOf('INV-1')['Balance']).toBe(70);
  });

  it('waits for a memo or an invoice the PSA has not exported yet, then applies it once it is there', async () => {
    qbo.sim.seedInvoice({ docNumber: 'INV-2', customerName: 'Acme Dental', amount: '100.00' });
    expect(await apply('CM-2', 'INV-2', 1000)).toMatchObject({ ok: false, retryable: true, waitingForCreditMemo: 'CM-2' });
    qbo.sim.seedCreditMemo({ docNumber: 'CM-2', customerName: 'Acme Dental', amount: '10.00' });
    expect(await apply('CM-2', 'INV-9', 1000, 'credit:CM-2:INV-9')).toMatchObject({ ok: false, retryable: true, waitingForInvoice: 'INV-9' });
    expect(qbo.sim.payments()).toHaveLength(0);
    expect(await apply('CM-2', 'INV-2', 1000)).toMatchObject({ ok: true });
    expect(invoiceOf('INV-2')['Balance']).toBe(90);
  });

  it('refuses, as a final failure that writes nothing, another customer’s memo or more credit than is left', async () => {
    qbo.sim.seedInvoice({ docNumber: 'INV-3', customerName: 'Acme Dental', amount: '100.00' });
    qbo.sim.seedCreditMemo({ docNumber: 'CM-3', customerName: 'Other Co', amount: '10.00' });
    qbo.sim.seedCreditMemo({ docNumber: 'CM-4', customerName: 'Acme Dental', amount: '10.00' });
    const other = await apply('CM-3', 'INV-3', 1000);
    expect(other).toMatchObject({ ok: false, retryable: false });
    expect((other as { error: string }).error).toContain('belong to different customers');
    const tooMuch = await apply('CM-4', 'INV-3', 2000);
    expect(tooMuch).toMatchObject({ ok: false, retryable: false });
    expect((tooMuch as { error: string }).error).toContain('credit memo CM-4 has 10 of credit left in QuickBooks');
    expect(qbo.sim.payments()).toHaveLength(0);
    expect(invoiceOf('INV-3')['Balance']).toBe(100);
  });
});
