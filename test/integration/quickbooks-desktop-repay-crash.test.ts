// Paying again a reversed invoice on QuickBooks Desktop (reopened.ts), below the engine: the split onto the
// open reversal entry survives a lost answer — the re-send is checked first and finds the payment, so there
// is still one — and a payment queued in the same run as a new reversal of its invoice waits for that entry
// instead of being refused on the paid invoice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQbdDirect, type QbdDirect } from '../helpers/qbd-web-connector.ts';
import { money } from '../../src/domain/money.ts';
import { validateQbxml } from '../conformance/quickbooks-desktop/xsd-validate.ts';

let q: QbdDirect;
const usd = (minor: bigint) => money(minor, 'USD');
beforeAll(async () => {
  q = await startQbdDirect('qbd-repay-crash');
}, 120_000);
afterAll(async () => q?.close());

const pay = (key: string, minor: bigint) => ({
  idempotencyKey: key,
  invoiceNumber: 'R-1',
  amount: usd(minor),
  paidOn: '2026-12-07',
  reference: `pi_${key}`,
  memo: `Card payment for invoice R-1`,
});
const reverse = (key: string, paymentRemoteId: string, minor: bigint) =>
  q.books.reversePayment({ idempotencyKey: key, paymentRemoteId, invoiceNumber: 'R-1', amount: usd(minor), reversedOn: '2026-12-07', memo: 'Settle refund' });
const run = async () => (await q.sim.webConnector.runNow()).outcome;
const paymentsRef = (ref: string) => q.sim.company.payments.filter((p) => p.refNumber === ref);

describe('QuickBooks Desktop: paying again a reversed invoice, crash-safe', () => {
  let first: string;
  let entry: string;

  it('a lost answer to the second payment: the next run checks, finds it, and writes nothing twice', async () => {
    const inv = q.sim.company.addInvoice({ refNumber: 'R-1', customer: 'Acme Dental', amountCents: 10_000n });
    await q.books.postPayments([pay('p1', 10_000n)]);
    expect(await run()).toBe('done');
    const r1 = (await q.books.postPayments([pay('p1', 10_000n)]))[0]!;
    expect(r1.ok).toBe(true);
    first = r1.ok ? r1.remoteId : '';
    await reverse('refund:1', first, 2_500n);
    expect(await run()).toBe('done');
    const rev = await reverse('refund:1', first, 2_500n);
    expect(rev.ok).toBe(true);
    entry = rev.ok ? rev.remoteId : '';

    await q.books.postPayments([pay('p2', 2_500n)]);
    q.sim.webConnector.faults.loseResponse = 1; // QuickBooks writes it; its answer never reaches Settle
    expect(await run()).toBe('error');
    expect(paymentsRef('pi_p2')).toHaveLength(1);
    expect((await q.books.postPayments([pay('p2', 2_500n)]))[0]!.ok).toBe(false);
    expect(await run()).toBe('done');
    expect((await q.books.postPayments([pay('p2', 2_500n)]))[0]!.ok).toBe(true);
    expect(paymentsRef('pi_p2')).toHaveLength(1);
    expect(paymentsRef('pi_p2')[0]!.applied).toEqual([expect.objectContaining({ txnId: entry, amount: 2_500n })]);
    expect(q.sim.company.openOnJournal(entry)).toBe(0n);
    expect(inv.balance).toBe(0n);
    expect(q.sim.webConnector.requests.some((x) => x.includes('<ReceivePaymentQueryRq'))).toBe(true);
  }, 120_000);

  it('a payment queued with a new reversal of its invoice waits for the entry, then applies to it', async () => {
    await reverse('refund:2', first, 1_000n);
    await q.books.postPayments([pay('p3', 1_000n)]);
    expect(await run()).toBe('done');
    const rev = await reverse('refund:2', first, 1_000n);
    const r3 = (await q.books.postPayments([pay('p3', 1_000n)]))[0]!;
    expect(rev.ok && r3.ok).toBe(true);
    expect(paymentsRef('pi_p3')).toHaveLength(1);
    expect(paymentsRef('pi_p3')[0]!.applied).toEqual([expect.objectContaining({ txnId: rev.ok ? rev.remoteId : '', amount: 1_000n })]);
    expect(q.sim.company.openOnJournal(entry)).toBe(0n); // the first entry stays closed: never applied to twice
  }, 120_000);

  it('every qbXML document the Web Connector carried is valid against qbxmlops130.xsd', async () => {
    expect((await validateQbxml(q.sim.webConnector.requests)).errors).toEqual([]);
  }, 120_000);
});
