// Settle on QuickBooks Desktop books, end to end: the portal, the Stripe simulator and the engine in front, the
// simulated Web Connector polling Settle's SOAP endpoint on its schedule behind, a real PostgreSQL. Each payment
// lands against its invoice; a payout is one deposit equal to the bank line with its fee as a negative line; a
// partial refund, a lost dispute and an ACH return are each reversed by one balanced JournalEntryAdd (the
// invoice owes that part again); every qbXML document the Web Connector carried is valid qbXML 13.0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payByBankInPortal, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { useQbdBooks } from '../helpers/qbd-books.ts';
import type { RunningQbdSimulator } from '../../simulators/quickbooks-desktop/index.ts';
import { validateQbxml } from '../conformance/quickbooks-desktop/xsd-validate.ts';
import { refundThroughApi } from '../helpers/api-refund.ts';

let stack: Stack;
let qbd: RunningQbdSimulator;
let key: string;
beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 8, achSettleDelayMs: null });
  qbd = await useQbdBooks(stack, stack.settleUrl, { runEveryMs: 500 });
  key = await stack.apiKey();
}, 120_000);
afterAll(async () => {
  await qbd?.close();
  await stack?.close();
});

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const state = async (id: string) => (await q((tx) => tx.selectFrom('payments').select('state').where('id', '=', id).executeTakeFirstOrThrow())).state;
const booksPostings = (id: string) =>
  q((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', id).where('target', '=', 'accounting').execute());
const posted = (id: string, kind: string) =>
  eventually(
    async () => (await booksPostings(id)).find((r) => r.kind === kind && r.status === 'posted') ?? null,
    60_000,
    `the ${kind} posted to QuickBooks Desktop`,
  );
const invoiceIn = (number: string) => qbd.company.invoices.find((i) => i.refNumber === number)!;
const paymentsFor = (number: string) => qbd.company.payments.filter((p) => p.applied.some((a) => a.txnId === invoiceIn(number).txnId));
/** An open invoice QuickBooks has no payment for yet (an earlier test's reversal re-opens A/R, not the invoice). */
const untouched = async () => (await openInvoices(stack)).find((i) => invoiceIn(i.number) && paymentsFor(i.number).length === 0)!;
const journalsFor = (number: string) =>
  qbd.company.journals.filter((j) => j.debits.some((l) => l.account === 'Accounts Receivable' && l.memo.includes(`invoice ${number}`)));

describe('QuickBooks Desktop books through the Web Connector', () => {
  it('payment per invoice; the payout is one deposit equal to the bank line with a negative fee line; a partial refund is a journal entry', async () => {
    const [a, b] = await openInvoices(stack);
    const pa = await payInPortal(stack, await stack.portalToken(a!.client_id), [a!.id]);
    const pb = await payInPortal(stack, await stack.portalToken(b!.client_id), [b!.id]);
    await posted(pa.paymentId, 'payment');
    await posted(pb.paymentId, 'payment');
    expect(paymentsFor(a!.number).map((p) => p.total)).toEqual([BigInt(a!.total_minor)]);
    expect(invoiceIn(a!.number).balance).toBe(0n);
    expect(paymentsFor(b!.number)).toHaveLength(1);

    const payout = stack.sims.stripe.sim.runPayouts()!;
    const deposit = await eventually(async () => qbd.company.deposits.find((d) => d.memo.includes(payout.id)), 60_000, 'the payout’s deposit');
    expect(deposit.total).toBe(BigInt(payout.amount)); // equals the bank line
    expect(deposit.account).toBe('Checking');
    const fee = deposit.lines.find((l) => l.account === 'Merchant Fees')!;
    expect(fee.amount).toBeLessThan(0n);
    expect(deposit.lines.filter((l) => l.paymentTxnId).map((l) => l.paymentTxnId)).toEqual(
      expect.arrayContaining([paymentsFor(a!.number)[0]!.txnId, paymentsFor(b!.number)[0]!.txnId]),
    );

    const part = BigInt(a!.total_minor) / 4n;
    await refundThroughApi(stack.settleUrl, key, pa.paymentId, part);
    await posted(pa.paymentId, 'refund');
    const [entry] = journalsFor(a!.number);
    expect(entry!.debits).toEqual([expect.objectContaining({ account: 'Accounts Receivable', amount: part })]);
    expect(entry!.credits).toEqual([expect.objectContaining({ account: 'Payments Clearing', amount: part })]);
    expect(journalsFor(a!.number)).toHaveLength(1);
    expect(paymentsFor(a!.number)).toHaveLength(1); // the payment stays; the entry takes the part back
  }, 180_000);

  it('a lost dispute is reversed by one journal entry: the customer owes the total again in A/R', async () => {
    const inv = await untouched();
    const p = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    await posted(p.paymentId, 'payment');
    const dispute = stack.sims.stripe.sim.createDispute({ paymentIntent: p.intentId, reason: 'fraudulent' });
    await eventually(async () => (await state(p.paymentId)) === 'disputed', 20_000, 'disputed');
    stack.sims.stripe.sim.resolveDispute({ dispute: dispute.id, outcome: 'lost' });
    await eventually(
      async () => (await booksPostings(p.paymentId)).some((r) => r.kind !== 'payment' && r.status === 'posted'),
      60_000,
      'the dispute’s reversal posted to QuickBooks Desktop',
    );
    const entries = journalsFor(inv.number);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.debits[0]!.amount).toBe(BigInt(inv.total_minor));
    expect(entries[0]!.debits[0]!.entityListId).toBe(invoiceIn(inv.number).customerListId);
  }, 180_000);

  it('an ACH debit that settles is one payment; its return after success is one journal entry', async () => {
    const inv = await untouched();
    const { paymentId, intentId } = await payByBankInPortal(stack, await stack.portalToken(inv.client_id), [inv.id], 'pm_usBankAccount');
    await eventually(async () => (await state(paymentId)) === 'processing', 15_000, 'processing');
    stack.sims.stripe.sim.settleAch({ paymentIntent: intentId, outcome: 'succeeded' });
    await posted(paymentId, 'payment');
    expect(paymentsFor(inv.number)).toHaveLength(1);
    stack.sims.stripe.sim.createDispute({ paymentIntent: intentId, reason: 'debit_not_authorized' });
    await eventually(async () => (await state(paymentId)) === 'returned', 20_000, 'returned');
    await posted(paymentId, 'payment_reversal');
    expect(journalsFor(inv.number)).toHaveLength(1);
    expect(journalsFor(inv.number)[0]!.debits[0]!.amount).toBe(BigInt(inv.total_minor));
    expect((await booksPostings(paymentId)).filter((r) => r.kind === 'payment_reversal')).toHaveLength(1);
  }, 180_000);

  it('every qbXML document the Web Connector carried is valid against qbxmlops130.xsd', async () => {
    const all = qbd.webConnector.requests;
    for (const rq of ['ReceivePaymentAddRq', 'DepositAddRq', 'JournalEntryAddRq']) expect(all.join('')).toContain(`<${rq}`);
    expect((await validateQbxml(all)).errors).toEqual([]);
  }, 120_000);
});
