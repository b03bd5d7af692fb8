// ACH payments through their whole life (payments-rules.md §2.8): processing until the bank settles,
// paid but not final until the return window of the SEC code has passed, and a return after the invoice
// was marked paid — which reopens the invoice in Settle, ConnectWise and QuickBooks, books the ledger
// reversal and tells the client by email. Stripe reports a bank return after success as a dispute on the
// debit; the bank-ACH connector calls reverseSucceededPayment directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { finalAfter } from '../../src/domain/rules/ach-return-window.ts';
import { utcDateOf } from '../../src/domain/rules/calendar-date.ts';
import { reverseSucceededPayment } from '../../src/engine/reverse-succeeded-payment.ts';
import { eventually, openInvoices, startStack, type Stack, payByBankInPortal } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';

let smtp: TestSmtp;
let stack: Stack;
let key: string;
beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ companies: 3, invoices: 8, achSettleDelayMs: null, smtpUrl: smtp.url });
  key = await stack.apiKey();
});
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

const db = () => stack.database.db;
const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(db(), stack.tenantId, fn);
const cents = (n: unknown): bigint => BigInt(Math.round(Number(n) * 100));

const payByBank = (token: string, invoiceIds: string[], bankToken: string) => payByBankInPortal(stack, token, invoiceIds, bankToken);

const payment = (id: string) => q((tx) => tx.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
const waitState = (id: string, state: string) => eventually(async () => ((await payment(id)).state === state ? payment(id) : null), 15_000, `payment ${state}`);
const postings = (id: string) => q((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', id).orderBy('created_at').execute());
const waitPosted = (id: string, n: number) =>
  eventually(
    async () => {
      const rows = await postings(id);
      return rows.length === n && rows.every((r) => r.status === 'posted') ? rows : null;
    },
    15_000,
    `${n} postings posted`,
  );
async function apiInvoice(id: string) {
  const res = await fetch(`${stack.settleUrl}/api/v1/invoices/${id}`, { headers: { authorization: `Bearer ${key}` } });
  return (await res.json()) as { status: string; open_minor: string; final: boolean; final_after: string | null };
}

/** Every journal balances, per journal (the database checks it at commit too). */
async function journalsBalance(): Promise<void> {
  const rows = await q((tx) => tx.selectFrom('ledger_entries').select(['journal_id', 'direction', 'amount_minor']).execute());
  const net = new Map<string, bigint>();
  for (const r of rows) net.set(r.journal_id, (net.get(r.journal_id) ?? 0n) + (r.direction === 'debit' ? r.amount_minor : -r.amount_minor));
  expect([...net.values()].every((v) => v === 0n)).toBe(true);
}

describe('ACH payment lifecycle', () => {
  it('a bank payment is processing, then paid when it settles — but final only after the return window of its SEC code', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId, intentId } = await payByBank(await stack.portalToken(invoice.client_id), [invoice.id], 'pm_usBankAccount');
    await waitState(paymentId, 'processing');
    expect(await apiInvoice(invoice.id)).toMatchObject({ status: 'open', final: false, final_after: null });

    stack.sims.stripe.sim.settleAch({ paymentIntent: intentId });
    await waitState(paymentId, 'succeeded');
    await waitPosted(paymentId, 2);
    const p = await payment(paymentId);
    // Stripe does not say whether the account is a company's (CCD, 2 banking days) or a person's (WEB,
    // 60 days for unauthorized returns): the longer window is assumed.
    const expected = finalAfter('WEB', utcDateOf(p.succeeded_at!));
    expect(p).toMatchObject({ method_kind: 'us_bank_account', sec_code: 'WEB', final_after: expected });
    expect(await apiInvoice(invoice.id)).toMatchObject({ status: 'paid', open_minor: '0', final: false, final_after: expected });
    expect(expected > utcDateOf(new Date())).toBe(true);
  });

  it('a return after the invoice was marked paid (and deposited) reopens it everywhere, reverses the books, balances the ledger and emails the client', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId, intentId } = await payByBank(await stack.portalToken(invoice.client_id), [invoice.id], 'pm_usBankAccount');
    await waitState(paymentId, 'processing');
    stack.sims.stripe.sim.settleAch({ paymentIntent: intentId, outcome: 'succeeded' });
    await waitState(paymentId, 'succeeded');
    await waitPosted(paymentId, 2);
    expect(await apiInvoice(invoice.id)).toMatchObject({ status: 'paid' });
    const cwInvoiceId = Number(invoice.remote);
    expect(stack.sims.connectwise.sim.paymentsFor(cwInvoiceId)).toHaveLength(1);
    // The payout lands and the books deposit the payment: a void in QuickBooks is no longer possible.
    const depositsBefore = stack.sims.quickbooks.sim.deposits().length;
    expect(stack.sims.stripe.sim.runPayouts()).not.toBeNull();
    await eventually(async () => stack.sims.quickbooks.sim.deposits().length > depositsBefore, 15_000, 'deposit posted');
    const qboPayment = stack.sims.quickbooks.sim.payments().find((x) => String(x['PrivateNote']).includes(paymentId))!;
    expect(qboPayment['LinkedTxn']).toEqual(expect.arrayContaining([expect.objectContaining({ TxnType: 'Deposit' })]));
    const mailsBefore = smtp.received.length;

    // The bank takes the money back after success; Stripe reports it as a dispute on the debit (§2.8).
    stack.sims.stripe.sim.createDispute({ paymentIntent: intentId, reason: 'debit_not_authorized' });
    await waitState(paymentId, 'returned');
    const reversals = await eventually(
      async () => {
        const rows = (await postings(paymentId)).filter((r) => r.kind === 'payment_reversal');
        return rows.length === 2 && rows.every((r) => r.status === 'posted') ? rows : null;
      },
      15_000,
      'reversal postings posted',
    );
    expect(reversals.map((r) => r.target).sort()).toEqual(['accounting', 'psa']);

    // Settle: the invoice is owed again.
    expect(await apiInvoice(invoice.id)).toMatchObject({ status: 'open', open_minor: invoice.total_minor.toString(), final: false });
    // ConnectWise: the payment Settle recorded is gone and the invoice owes its total again.
    expect(stack.sims.connectwise.sim.paymentsFor(cwInvoiceId)).toHaveLength(0);
    expect(cents(stack.sims.connectwise.state.invoices.get(cwInvoiceId)!.balance)).toBe(invoice.total_minor);
    // QuickBooks: a journal entry re-opens the customer's A/R, the deposited payment keeps its amount but
    // now applies to that entry, so the invoice owes its total again.
    const je = stack.sims.quickbooks.sim.journalEntries().find((j) => String(j['PrivateNote']).includes(paymentId))!;
    expect(cents(je['TotalAmt'])).toBe(invoice.total_minor);
    const qboInvoice = stack.sims.quickbooks.sim.invoices().find((i) => i['DocNumber'] === invoice.number)!;
    expect(cents(qboInvoice['Balance'])).toBe(invoice.total_minor);
    const after = stack.sims.quickbooks.sim.payments().find((x) => x['Id'] === qboPayment['Id'])!;
    expect(cents(after['TotalAmt'])).toBe(invoice.total_minor);
    expect(after['Line']).toEqual([{ Amount: Number(after['TotalAmt']), LinkedTxn: [{ TxnId: je['Id'], TxnType: 'JournalEntry' }] }]);

    // Ledger: the return reverses the receipt (A/R owed again), every journal balances.
    await journalsBalance();
    const entries = await q((tx) => tx.selectFrom('ledger_entries').selectAll().where('payment_id', '=', paymentId).execute());
    expect(entries.filter((e) => e.journal_kind === 'ach_return').length).toBeGreaterThan(0);
    const ar = entries
      .filter((e) => e.account === 'accounts_receivable')
      .reduce((s, e) => s + (e.direction === 'debit' ? e.amount_minor : -e.amount_minor), 0n);
    expect(ar).toBe(0n);

    // The client is told, staff see it, and it is audited.
    const mail = await eventually(async () => smtp.received.slice(mailsBefore).find((m) => /returned/i.test(m.subject)), 10_000, 'return email');
    expect(mail.raw).toContain(invoice.number);
    const client = await q((tx) => tx.selectFrom('clients').select('billing_email').where('id', '=', invoice.client_id).executeTakeFirstOrThrow());
    expect(mail.to).toEqual([client.billing_email]);
    const ex = await q((tx) => tx.selectFrom('exceptions').selectAll().where('payment_id', '=', paymentId).execute());
    expect(ex.map((e) => [e.kind, e.status])).toEqual([['payment_returned', 'open']]);
    const audits = await q((tx) => tx.selectFrom('audit_log').select('action').where('subject_id', '=', paymentId).execute());
    expect(audits.map((a) => a.action)).toContain('payment.returned');
    const dispute = await q((tx) => tx.selectFrom('disputes').selectAll().where('payment_id', '=', paymentId).executeTakeFirstOrThrow());
    expect(dispute).toMatchObject({ kind: 'ach', status: 'lost' });
  });

  it('the bank-ACH path (reverseSucceededPayment with an R-code) reverses once; a second return does nothing', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId, intentId } = await payByBank(await stack.portalToken(invoice.client_id), [invoice.id], 'pm_usBankAccount');
    await waitState(paymentId, 'processing');
    stack.sims.stripe.sim.settleAch({ paymentIntent: intentId, outcome: 'succeeded' });
    await waitState(paymentId, 'succeeded');
    await waitPosted(paymentId, 2);

    const ctx = stack.settle!.ctx;
    const first = await reverseSucceededPayment(ctx, stack.tenantId, { paymentId, reason: 'Insufficient funds', code: 'R01' });
    const second = await reverseSucceededPayment(ctx, stack.tenantId, { paymentId, reason: 'Insufficient funds', code: 'R01' });
    expect(first).toEqual({ reversed: true, state: 'returned' });
    expect(second).toEqual({ reversed: false, state: 'returned' });
    await eventually(
      async () => (await postings(paymentId)).filter((r) => r.kind === 'payment_reversal' && r.status === 'posted').length === 2,
      15_000,
      'reversals posted',
    );
    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote))).toHaveLength(0);
    expect(await apiInvoice(invoice.id)).toMatchObject({ status: 'open', open_minor: invoice.total_minor.toString() });
    expect((await payment(paymentId)).failure_code).toBe('R01');
    await journalsBalance();
    // Returned payments cannot be refunded.
    const res = await fetch(`${stack.settleUrl}/api/v1/payments/${paymentId}/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'goodwill' }),
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/returned/);
  });
});
