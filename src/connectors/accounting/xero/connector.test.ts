// XeroConnector against the Xero simulator over real HTTP.
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { money, type Money } from '../../../domain/money.ts';
import { startXeroSimulator, type RunningXeroSimulator } from '../../../../simulators/xero/index.ts';
import { MemoryTokenStore } from '../quickbooks-online/tokens.ts';
import { XeroConnector } from './connector.ts';
import { XeroLimiter } from './limiter.ts';
import { xeroConnectorFor } from '../../../../test/helpers/xero-connector.ts';
import { xeroTokensFromRefreshToken, type OAuthTokens } from './tokens.ts';
import { verifyXeroSignature } from './webhook.ts';

const usd = (cents: number): Money => money(cents, 'USD');
let x: RunningXeroSimulator;
let store: MemoryTokenStore;
beforeEach(async () => {
  x = await startXeroSimulator();
  store = new MemoryTokenStore(xeroTokensFromRefreshToken(x.initialRefreshToken));
});
afterEach(async () => {
  await x.close();
});

function connect(limiter = new XeroLimiter()): XeroConnector {
  return xeroConnectorFor(x, { store, limiter });
}

const pay = (n: string, cents: number, key: string) => ({
  idempotencyKey: key,
  invoiceNumber: n,
  amount: usd(cents),
  paidOn: '2026-12-01',
  reference: `pi_${key}`,
  memo: 'card',
});

describe('XeroConnector', () => {
  it('posts payments per invoice into clearing in one call, per-item results, and never twice', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    x.sim.seedInvoice({ number: 'INV-2', contactName: 'Birch', amount: '50.00' });
    const books = connect();
    const r = await books.postPayments([pay('INV-1', 10000, 'a'), pay('INV-2', 9999, 'b'), pay('INV-9', 100, 'c')]);
    expect(r[0]).toMatchObject({ ok: true });
    expect(r[1]).toMatchObject({ ok: false, retryable: false });
    expect((r[1] as { error: string }).error).toMatch(/exceeds the amount outstanding/);
    expect(r[2]).toMatchObject({ ok: false, waitingForInvoice: 'INV-9' });
    expect(x.sim.invoice('INV-1')!.Status).toBe('PAID');
    expect(x.sim.balanceCents('091')).toBe(10000);
    const again = await connect().postPayments([pay('INV-1', 10000, 'a')]);
    expect(again[0]).toEqual(r[0]);
    expect(x.sim.livePayments()).toHaveLength(1);
    // The rotated refresh token was saved before use.
    expect((await store.load()).refreshToken).not.toBe(x.initialRefreshToken);
  });

  it('a first send skips the earlier-write look-up; a backlog is answered per PUT of 50, each reported before the next', async () => {
    for (let n = 1; n <= 60; n++) x.sim.seedInvoice({ number: `INV-${n}`, contactName: `Client ${n}`, amount: '10.00' });
    const books = connect();
    x.sim.calls.reset();
    const inputs = Array.from({ length: 60 }, (_, k) => ({ ...pay(`INV-${k + 1}`, 1000, `k${k}`), firstSend: true }));
    const reports: number[][] = [];
    const r = await books.postPayments(inputs, {
      onAnswered: async (answered) => {
        reports.push([...answered.keys()]);
      },
    });
    expect(r.every((one) => one.ok)).toBe(true);
    const calls = Object.fromEntries(x.sim.calls.counts);
    expect(calls['GET /api.xro/2.0/Payments'] ?? 0).toBe(0); // nothing to look for on a first send
    expect(calls['PUT /api.xro/2.0/Payments']).toBe(2); // 50 + 10
    expect(reports.map((at) => at.length)).toEqual([50, 10]);
    expect(x.sim.livePayments()).toHaveLength(60);
    // Sent again (not a first send: the answer may have been lost): found by marker, nothing written twice.
    const again = await connect().postPayments(inputs.slice(0, 3).map(({ firstSend: _f, ...p }) => p));
    expect(again.every((one) => one.ok)).toBe(true);
    expect(x.sim.livePayments()).toHaveLength(60);
  });

  it('names the invoice by number, no look-up; Xero’s refusal tells waiting (missing, draft) from paid by hand', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    x.sim.seedInvoice({ number: 'INV-D', contactName: 'Birch', amount: '20.00', status: 'DRAFT' });
    x.sim.seedInvoice({ number: 'INV-P', contactName: 'Cedar', amount: '30.00' });
    const books = connect();
    expect(await books.postPayments([pay('INV-P', 3000, 'hand')])).toMatchObject([{ ok: true }]); // "entered by hand"
    x.sim.calls.reset();
    const r = await books.postPayments([
      { ...pay('INV-1', 10000, 'a'), firstSend: true },
      { ...pay('INV-9', 100, 'b'), firstSend: true },
    ]);
    expect(r).toMatchObject([{ ok: true }, { ok: false, retryable: true, waitingForInvoice: 'INV-9' }]);
    expect(Object.fromEntries(x.sim.calls.counts)).toEqual({ 'PUT /api.xro/2.0/Payments': 1 });
    x.sim.calls.reset();
    const refused = await books.postPayments([
      { ...pay('INV-D', 2000, 'd'), firstSend: true },
      { ...pay('INV-P', 3000, 'p'), firstSend: true },
    ]);
    expect(refused[0]).toMatchObject({ ok: false, retryable: true, waitingForInvoice: 'INV-D' });
    expect((refused[0] as { error: string }).error).toMatch(/not approved in Xero yet \(DRAFT\)/);
    expect(refused[1]).toMatchObject({ ok: false, retryable: false });
    expect((refused[1] as { error: string }).error).toMatch(/already PAID in Xero; remove the payment entered there by hand/);
    // One PUT, then one look-up for both "not Authorised" refusals together.
    expect(Object.fromEntries(x.sim.calls.counts)).toEqual({ 'PUT /api.xro/2.0/Payments': 1, 'GET /api.xro/2.0/Invoices': 1 });
    expect(x.sim.livePayments()).toHaveLength(2);
  });

  it('a payout: fees SPEND from clearing, one transfer equal to the bank line; clearing nets to zero', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    x.sim.seedInvoice({ number: 'INV-2', contactName: 'Birch', amount: '50.00' });
    const books = connect();
    const [a, b] = await books.postPayments([pay('INV-1', 10000, 'a'), pay('INV-2', 5000, 'b')]);
    const dep = {
      idempotencyKey: 'payout:po_1',
      payoutId: 'po_1',
      depositedOn: '2026-12-03',
      payments: [a, b].map((p) => ({ paymentRemoteId: (p as { remoteId: string }).remoteId, amount: usd(p === a ? 10000 : 5000) })),
      fees: usd(465),
      adjustments: usd(0),
      surcharges: usd(300),
      memo: 'payout',
    };
    const d = await books.postDeposit(dep);
    expect(d).toMatchObject({ ok: true, onClearing: [] });
    const s = x.sim.store;
    expect(s.transfers).toHaveLength(1);
    expect(s.transfers[0]!.amountCents).toBe(15000 - 465 + 300);
    expect(x.sim.balanceCents('090')).toBe(14835);
    expect(x.sim.balanceCents('091')).toBe(0);
    expect(await connect().postDeposit(dep)).toEqual(d);
    expect(s.transfers).toHaveLength(1);
    expect(s.bankTransactions.map((t) => t.Type).sort()).toEqual(['RECEIVE', 'SPEND']);
  });

  it('reverses part then the rest of a payment: the invoice owes it again, clearing gives it up', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    const books = connect();
    const [p] = await books.postPayments([pay('INV-1', 10000, 'a')]);
    const id = (p as { remoteId: string }).remoteId;
    const rev = { idempotencyKey: 'refund:re_1', paymentRemoteId: id, invoiceNumber: 'INV-1', amount: usd(4000), reversedOn: '2026-12-04', memo: 'refund' };
    const r1 = await books.reversePayment(rev);
    expect(r1).toMatchObject({ ok: true });
    expect(await books.reversePayment(rev)).toEqual(r1);
    expect(x.sim.invoice('INV-1')!.paidCents).toBe(6000);
    expect(x.sim.balanceCents('091')).toBe(6000);
    const r2 = await books.reversePayment({ ...rev, idempotencyKey: 'dispute:dp_1', amount: usd(6000) });
    expect(r2).toMatchObject({ ok: true });
    expect(x.sim.invoice('INV-1')!.paidCents).toBe(0);
    expect(x.sim.livePayments()).toHaveLength(0);
    // The original posting still finds its payment (deleted by the reversal), never posts it again.
    expect((await books.postPayments([pay('INV-1', 10000, 'a')]))[0]).toEqual(p);
  });

  it('a bank ACH return: the payment reversed in full, the bank’s debit a transfer bank → clearing; clearing nets to zero', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    const books = connect();
    const [p] = await books.postPayments([pay('INV-1', 10000, 'a')]);
    const dep = {
      idempotencyKey: 'ach:file1',
      payoutId: 'file1',
      depositedOn: '2026-12-02',
      payments: [{ paymentRemoteId: (p as { remoteId: string }).remoteId, amount: usd(10000) }],
      fees: usd(0),
      adjustments: usd(0),
      memo: 'ACH file',
    };
    expect(await books.postDeposit(dep)).toMatchObject({ ok: true });
    const rev = await books.reversePayment({
      idempotencyKey: 'return:R01',
      paymentRemoteId: (p as { remoteId: string }).remoteId,
      invoiceNumber: 'INV-1',
      amount: usd(10000),
      reversedOn: '2026-12-05',
      memo: 'R01',
    });
    expect(rev).toMatchObject({ ok: true });
    const w = { idempotencyKey: 'bank-debit:R01', amount: usd(10000), withdrawnOn: '2026-12-05', reference: 'ACH return R01', memo: 'return' };
    const r1 = await books.postBankWithdrawal(w);
    expect(r1).toMatchObject({ ok: true });
    expect(await connect().postBankWithdrawal(w)).toEqual(r1);
    expect(x.sim.invoice('INV-1')!.paidCents).toBe(0);
    expect(x.sim.balanceCents('091')).toBe(0);
    expect(x.sim.balanceCents('090')).toBe(0);
  });

  it('refunded before it reached the books: a part → only the rest is paid and the first reversal absorbs the part; all → nothing posted', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    x.sim.seedInvoice({ number: 'INV-2', contactName: 'Birch', amount: '50.00' });
    const books = connect();
    const [p1, p2] = await books.postPayments([
      { ...pay('INV-1', 10000, 'a'), appliedAmount: usd(6000) },
      { ...pay('INV-2', 5000, 'b'), appliedAmount: usd(0) },
    ]);
    expect(x.sim.invoice('INV-1')!.paidCents).toBe(6000);
    expect(p2).toMatchObject({ ok: true });
    expect(x.sim.invoice('INV-2')!.paidCents).toBe(0);
    const id1 = (p1 as { remoteId: string }).remoteId;
    expect(
      await books.reversePayment({ idempotencyKey: 'r1', paymentRemoteId: id1, invoiceNumber: 'INV-1', amount: usd(4000), reversedOn: '2026-12-04', memo: '' }),
    ).toMatchObject({ ok: true });
    expect(x.sim.invoice('INV-1')!.paidCents).toBe(6000);
    expect(
      await books.reversePayment({
        idempotencyKey: 'r2',
        paymentRemoteId: (p2 as { remoteId: string }).remoteId,
        invoiceNumber: 'INV-2',
        amount: usd(5000),
        reversedOn: '2026-12-04',
        memo: '',
      }),
    ).toMatchObject({ ok: true });
    expect(x.sim.livePayments()).toHaveLength(1);
  });

  it('keeps Settle’s ledger copy with If-Modified-Since: everything first, then only what changed', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    x.sim.seedInvoice({ number: 'INV-2', contactName: 'Birch', amount: '50.00' });
    const books = connect();
    const [p] = await books.postPayments([pay('INV-1', 10000, 'a')]);
    await books.postDeposit({
      idempotencyKey: 'po',
      payoutId: 'po_1',
      depositedOn: '2026-12-03',
      payments: [{ paymentRemoteId: (p as { remoteId: string }).remoteId, amount: usd(10000) }],
      fees: usd(300),
      adjustments: usd(0),
      memo: '',
    });
    const first = await books.readLedgerChanges(null);
    expect(first).toMatchObject({ full: true, complete: true });
    expect(first.invoices.map((i) => i.number).sort()).toEqual(['INV-1', 'INV-2']);
    expect(first.payments).toHaveLength(1);
    expect(first.payments[0]!.settleKey).not.toBeNull();
    expect(first.deposits.map((d) => d.total)).toEqual([usd(9700)]);
    await new Promise((r) => setTimeout(r, 5)); // the next change lands on a later millisecond than the cursor
    await books.postPayments([pay('INV-2', 5000, 'b')]);
    const next = await books.readLedgerChanges(first.cursor);
    expect(next.full).toBe(false);
    expect(next.payments.map((x) => x.total)).toEqual([usd(5000)]);
    expect(next.invoices.map((i) => i.number)).toEqual(['INV-2']);
    expect(next.deposits).toEqual([]);
  });

  it('a revoked connection is a final failure telling the person to reconnect', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    x.sim.identity.revokeAll();
    const [r] = await connect().postPayments([pay('INV-1', 100, 'a')]);
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect((r as { error: string }).error).toMatch(/reconnect Xero/);
  });

  it('an expired access token is refreshed, rotated and saved; the daily limit fails fast as retryable', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    const books = connect();
    expect(await books.findInvoiceByNumber('INV-1')).toMatchObject({ number: 'INV-1', balance: usd(10000) });
    const before: OAuthTokens = await store.load();
    x.sim.identity.expireAccessTokens();
    expect(await books.invoicesInBooks(['INV-1', 'INV-2'])).toEqual(new Set(['INV-1']));
    expect((await store.load()).refreshToken).not.toBe(before.refreshToken);
    x.sim.limits.configure({ perDay: 0 });
    const [r] = await books.postPayments([pay('INV-1', 100, 'z')]);
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect((r as { error: string }).error).toMatch(/daily limit/);
    expect(x.sim.livePayments()).toHaveLength(0);
  });

  it('429 over the minute limit: waits Retry-After and goes on; nothing lost', async () => {
    for (let i = 1; i <= 6; i++) x.sim.seedInvoice({ number: `INV-${i}`, contactName: 'Acme', amount: '10.00' });
    x.sim.limits.configure({ perMinute: 3 });
    // A limiter that believes it may send 100 a minute (another process used the rest): Xero's 429 decides.
    const books = connect(new XeroLimiter({ concurrent: 5, perMinute: 100 }));
    x.sim.faults.add({
      pathPattern: '/Payments',
      method: 'PUT',
      times: 1,
      fault: {
        kind: 'status',
        status: 429,
        headers: { 'retry-after': '1', 'x-rate-limit-problem': 'minute' },
        body: { Title: 'Too Many Requests', Status: 429 },
      },
    });
    const r = await books.postPayments([1, 2, 3].map((i) => pay(`INV-${i}`, 1000, `k${i}`)));
    expect(r.every((p) => p.ok)).toBe(true);
    expect(x.sim.livePayments()).toHaveLength(3);
  }, 120_000);

  it('verifies x-xero-signature', () => {
    const body = '{"events":[]}';
    const sig = createHmac('sha256', 'key').update(body).digest('base64');
    expect(verifyXeroSignature(body, sig, 'key')).toBe(true);
    expect(verifyXeroSignature(body, sig, 'other')).toBe(false);
    expect(verifyXeroSignature(body, undefined, 'key')).toBe(false);
  });
});

describe('Xero chart', () => {
  it('reads the chart with roles and names accounts that cannot take theirs', async () => {
    const books = connect();
    const chart = await books.readChart();
    expect(chart.accounts.find((a) => a.id === '091')!.fits).toContain('clearing');
    const { xeroAccountProblems } = await import('./chart.ts');
    expect(xeroAccountProblems({ bankAccountCode: '090', clearingAccountCode: '091', feeAccountCode: '404' }, chart)).toEqual([]);
    const bad = xeroAccountProblems({ bankAccountCode: '090', clearingAccountCode: '200', feeAccountCode: '999' }, chart);
    expect(bad[0]).toMatch(/clearingAccountCode “200 Sales” \(REVENUE\) cannot take this role — use a BANK account.*“091 Settle Clearing”/);
    expect(bad[1]).toMatch(/feeAccountCode 999 is not an active account/);
  });
});
