// Settle's copy of a QuickBooks Online company, read through the simulator over HTTP: a full read first, then
// Change Data Capture (a payment entered by hand, a deletion); an answer of 1,000 records (maybe cut short)
// paged entity by entity; a full read when CDC cannot answer (a cursor older than its 30 days, 1,000 in a second).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startQuickBooksSimulator, type RunningQuickBooksSimulator } from '../../../../simulators/quickbooks-online/index.ts';
import { enterPaymentByHand } from '../../../../simulators/quickbooks-online/drift.ts';
import { QuickBooksOnlineConnector } from './connector.ts';
import { QboRequestLimiter } from './limiter.ts';
import { tokensFromRefreshToken, type QboTokens, type TokenStore } from './tokens.ts';

class MemoryStore implements TokenStore {
  constructor(private tokens: QboTokens) {}
  async load(): Promise<QboTokens> {
    return this.tokens;
  }
  async save(t: QboTokens): Promise<void> {
    this.tokens = t;
  }
}

let qbo: RunningQuickBooksSimulator;
/** The company's clock runs ahead by this much (a test moves it to spread changes over seconds). */
let clockOffsetMs = 0;
/** Set: the company's clock stands still at this instant. */
let frozenAtMs: number | null = null;
let books: QuickBooksOnlineConnector;
beforeEach(async () => {
  clockOffsetMs = 0;
  frozenAtMs = null;
  qbo = await startQuickBooksSimulator({ now: () => frozenAtMs ?? Date.now() + clockOffsetMs });
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
    new MemoryStore(tokensFromRefreshToken(qbo.initialRefreshToken)),
    { limiter: new QboRequestLimiter(), throttleWaitMs: 20 },
  );
  qbo.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme Dental', amount: '100.00' });
  qbo.sim.seedInvoice({ docNumber: '1002', customerName: 'Blue Ridge Legal', amount: '250.00' });
});
afterEach(async () => {
  await qbo.close();
});

const cdcCalls = () => [...qbo.sim.calls.counts].filter(([k]) => /cdc/i.test(k)).reduce((n, [, v]) => n + v, 0);

describe('QuickBooks Online ledger copy', () => {
  it('reads everything first, then only what changed through CDC — a hand payment, then its deletion', async () => {
    const first = await books.readLedgerChanges(null);
    expect(first).toMatchObject({ full: true, complete: true, payments: [], deposits: [], deleted: [] });
    expect(first.invoices.map((i) => [i.number, i.total.amountMinor, i.balance.amountMinor])).toEqual([
      ['1001', 10000n, 10000n],
      ['1002', 25000n, 25000n],
    ]);
    expect(cdcCalls()).toBe(0);

    const hand = enterPaymentByHand(qbo.sim.store, '1001', '40.00');
    const second = await books.readLedgerChanges(first.cursor);
    expect(cdcCalls()).toBe(1);
    expect(second.full).toBe(false);
    expect(second.invoices.map((i) => [i.number, i.balance.amountMinor])).toContainEqual(['1001', 6000n]);
    const p = second.payments.find((x) => x.remoteId === hand.Id)!;
    expect(p).toMatchObject({ settleKey: null, voided: false, reference: 'CHK-1001' });
    expect(p.total.amountMinor).toBe(4000n);
    expect(p.applied.map((a) => [a.invoiceRemoteId, a.amount.amountMinor])).toEqual([[first.invoices[0]!.remoteId, 4000n]]);

    qbo.sim.deletePayment(hand.Id);
    const third = await books.readLedgerChanges(second.cursor);
    expect(third.full).toBe(false);
    expect(third.deleted).toContainEqual({ kind: 'payment', remoteId: hand.Id });
  });

  it('a cursor older than CDC can answer (30 days) is followed by a full read', async () => {
    const old = JSON.stringify({ since: new Date(Date.now() - 40 * 86_400_000).toISOString() });
    const r = await books.readLedgerChanges(old);
    expect(r.full).toBe(true);
    expect(cdcCalls()).toBe(0);
    expect(r.invoices).toHaveLength(2);
  });

  it('a CDC answer of 1,000 records may have been cut short: each entity is paged forward by change time', async () => {
    const first = await books.readLedgerChanges(null);
    for (let n = 0; n < 2500; n++) {
      if (n % 100 === 0) clockOffsetMs += 1000; // 100 changes a second
      qbo.sim.seedInvoice({ docNumber: String(5000 + n), customerName: 'Cedar Clinic', amount: '10.00' });
    }
    const r = await books.readLedgerChanges(first.cursor);
    expect(r.full).toBe(false);
    expect(cdcCalls()).toBeGreaterThanOrEqual(4); // the cut answer, then at least three pages of invoices
    const numbers = new Set(r.invoices.map((i) => i.number));
    for (let n = 0; n < 2500; n++) expect(numbers.has(String(5000 + n))).toBe(true);
    expect(numbers.size).toBe(r.invoices.length); // each record once
  }, 120_000);

  it('1,000 changes within one second cannot be paged by time: a full read follows, with every record', async () => {
    const first = await books.readLedgerChanges(null);
    frozenAtMs = Date.now() + 1000;
    for (let n = 0; n < 1000; n++) qbo.sim.seedInvoice({ docNumber: String(5000 + n), customerName: 'Cedar Clinic', amount: '10.00' });
    frozenAtMs = null;
    const r = await books.readLedgerChanges(first.cursor);
    expect(r.full).toBe(true);
    expect(r.invoices).toHaveLength(1002);
  }, 60_000);
});
