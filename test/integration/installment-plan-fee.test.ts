// An installment offer with a fee, end to end: the client chooses it in the portal (fee shown before they
// agree), part 1 is charged part + fee at the processor, the invoice gets only the part (never the fee, never
// credit), the journal books the fee as installment_fee_income, the receipt lists it on its own line, part 2
// is charged without it, the payout's QuickBooks deposit carries it on the account the MSP mapped (and still
// equals the payout), and a partial refund gives back the fee in proportion, the rest with the last refund.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { parseOffer } from '../../src/domain/installment-offers.ts';
import { money } from '../../src/domain/money.ts';
import { BOOKS_ACCOUNT_SETTINGS, saveBooksAccounts } from '../../src/engine/books-accounts.ts';
import { saveOffer } from '../../src/engine/installment-offers.ts';
import { collectInstallments } from '../../src/engine/collect-installments.ts';
import { ensureProcessorCustomer } from '../../src/engine/start-portal-payment.ts';
import { syncSavedMethods } from '../../src/engine/sync-saved-methods.ts';
import { receiptLines } from '../../src/notify/payment-receipt.ts';
import { previewRefund } from '../../src/engine/refund-preview.ts';
import { createAccount } from '../../simulators/quickbooks-online/names.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';
import { invoiceRow, newInvoice, postingsPosted } from './collections-helpers.ts';

let stack: Stack;
let smtp: TestSmtp;
let api: string;
let clientId: string;
let methodId: string;
let feeAccount: string;

const q = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => withTenant(stack.database.db, stack.tenantId, fn);
type Json = Record<string, unknown>;
type Line = { Amount: number; Description?: string; LinkedTxn?: { TxnId: string }[]; DepositLineDetail?: { AccountRef: { value: string } } };

beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ companies: 2, invoices: 2, smtpUrl: smtp.url });
  api = await stack.apiKey();
  clientId = (await openInvoices(stack))[0]!.client_id;
  const ctx = stack.settle!.ctx;
  const customer = await ensureProcessorCustomer(ctx, stack.tenantId, clientId);
  const s = stack.sims.stripe;
  const res = await fetch(`${s.baseUrl}/v1/payment_methods/pm_card_visa/attach`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ customer }).toString(),
  });
  const pm = (await res.json()) as { id: string };
  methodId = (await syncSavedMethods(ctx, stack.tenantId, clientId, 'system:test')).find((m) => m.processorMethodId === pm.id)!.id;

  // GL mapping, as Settings → Accounts saves it: the accounts as they are, plus an income account for plan fees.
  feeAccount = createAccount(stack.sims.quickbooks.sim.store, { Name: 'Installment plan fees', AccountType: 'Income' }).Id;
  const config = (await q((tx) => tx.selectFrom('connections').select('config').where('role', '=', 'accounting').executeTakeFirstOrThrow())).config as Json;
  const accounts = Object.fromEntries(BOOKS_ACCOUNT_SETTINGS.map((st) => [st.key, typeof config[st.key] === 'string' ? String(config[st.key]) : '']));
  const deps = { db: stack.database.db, box: SecretBox.fromHex(stack.secretKeyHex), connectors: ctx.connectors };
  const saved = await saveBooksAccounts(deps, stack.tenantId, { ...accounts, planFeeIncomeAccountId: feeAccount }, 'system:test');
  expect(saved.changed).toEqual(['planFeeIncomeAccountId']);
}, 300_000);
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

const h = () => ({ authorization: `Bearer ${api}`, 'content-type': 'application/json' });
const offerInput = (o: Record<string, unknown>) =>
  parseOffer({ label: '3 monthly payments', parts: '3', every_days: '30', min_owed: '1000.00', methods: ['card'], ...o }, 'USD');

async function ledgerOf(paymentId: string) {
  const rows = await q((tx) =>
    tx.selectFrom('ledger_entries').select(['account', 'direction', 'amount_minor', 'journal_kind']).where('payment_id', '=', paymentId).execute(),
  );
  const net = (account: string) =>
    rows.filter((e) => e.account === account).reduce((s, e) => s + (e.direction === 'debit' ? e.amount_minor : -e.amount_minor), 0n);
  const debits = rows.filter((e) => e.direction === 'debit').reduce((s, e) => s + e.amount_minor, 0n);
  const credits = rows.filter((e) => e.direction === 'credit').reduce((s, e) => s + e.amount_minor, 0n);
  return { rows, net, debits, credits };
}

describe('installment-plan fee', () => {
  it('bad fees are refused with the field named and nothing changed; a valid fee is saved and audited', async () => {
    const before = await q((tx) => tx.selectFrom('installment_offers').select('id').execute());
    await expect(q((tx) => saveOffer(tx, stack.tenantId, { offer: { ...offerInput({}), feeBps: 1001 }, actor: 'user:test' }))).rejects.toThrow(
      /percentage from 0 to 10/,
    );
    await expect(q((tx) => saveOffer(tx, stack.tenantId, { offer: { ...offerInput({}), feeFlat: money(-1n, 'USD') }, actor: 'user:test' }))).rejects.toThrow(
      /0 or more/,
    );
    expect(await q((tx) => tx.selectFrom('installment_offers').select('id').execute())).toEqual(before);
  });

  it('chosen in the portal: part 1 charged with the fee, booked apart; part 2 without; deposit on the mapped account; refunds give it back in proportion', async () => {
    const offer = await q((tx) => saveOffer(tx, stack.tenantId, { offer: offerInput({ fee_flat: '5.00', fee_percent: '2.5' }), actor: 'user:test' }));
    const audit = await q((tx) => tx.selectFrom('audit_log').select(['action', 'detail']).where('subject_id', '=', offer.id).execute());
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'settings.installment_offer_changed',
        detail: expect.objectContaining({ change: 'added', after: expect.objectContaining({ fee_flat_minor: '500', fee_bps: 250 }) }),
      }),
    ]);

    // $1,000.20 owed: fee $5.00 + 2.5 % half-up ($25.01) = $30.01; parts $333.40 × 3; part 1 charged $363.41.
    const inv = await newInvoice(stack, clientId, '1000.20');
    const token = await stack.portalToken(clientId);
    const page = await (await fetch(`${stack.settleUrl}/portal/${token}/plan/${inv.id}`)).text();
    expect(page).toContain('Installment plan fee: <strong>$30.01</strong>, charged once with part 1');
    expect(page).toContain('$363.41');
    expect(page).toContain('$1,030.21');
    const request = /name="request" value="([0-9a-f-]{36})"/.exec(page)![1]!;
    const total = /name="total_minor" value="(\d+)"/.exec(page)![1]!;
    expect(total).toBe('103021');
    const chose = await fetch(`${stack.settleUrl}/portal/${token}/plan/${inv.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer_id: offer.id, method_id: methodId, agree: 'yes', total_minor: total, request }),
    });
    expect(chose.status).toBe(200);
    const planId = ((await chose.json()) as { plan_id: string }).plan_id;
    const plan = await q((tx) => tx.selectFrom('installment_plans').selectAll().where('id', '=', planId).executeTakeFirstOrThrow());
    expect(plan).toMatchObject({ fee_minor: 3001n, total_minor: 100020n });

    // Part 1: the collector the plan queued charges it at once — part + fee at the processor.
    const part1 = await eventually(
      () =>
        q((tx) =>
          tx.selectFrom('installment_parts').selectAll().where('plan_id', '=', planId).where('part_no', '=', 1).where('status', '=', 'paid').executeTakeFirst(),
        ),
      60_000,
      'part 1 paid',
    );
    const p1 = await q((tx) => tx.selectFrom('payments').selectAll().where('id', '=', part1.payment_id!).executeTakeFirstOrThrow());
    expect(p1).toMatchObject({ amount_minor: 36_341n, plan_fee_minor: 3_001n, surcharge_minor: 0n, source: 'installment' });
    expect(stack.sims.stripe.sim.store.paymentIntents.get(p1.processor_payment_id!)?.amount).toBe(36_341);
    // The invoice gets the part only; nothing becomes the client's credit.
    const allocations = await q((tx) => tx.selectFrom('allocations').select(['invoice_id', 'amount_minor']).where('payment_id', '=', p1.id).execute());
    expect(allocations).toEqual([{ invoice_id: inv.id, amount_minor: 33_340n }]);
    expect(await q((tx) => tx.selectFrom('client_credit_entries').select('id').where('source_payment_id', '=', p1.id).execute())).toEqual([]);
    expect(await invoiceRow(stack, inv.id)).toMatchObject({ status: 'partially_paid', paid_minor: 33_340n });
    const postings = await postingsPosted(stack, p1.id);
    expect(postings.map((x) => x.amount_minor)).toEqual([33_340n, 33_340n]);
    // Journal: fee income of its own, balanced.
    const l1 = await ledgerOf(p1.id);
    expect(l1.rows.filter((r) => r.journal_kind === 'payment_received')).toEqual(
      expect.arrayContaining([
        { account: 'processor_clearing', direction: 'debit', amount_minor: 36_341n, journal_kind: 'payment_received' },
        { account: 'accounts_receivable', direction: 'credit', amount_minor: 33_340n, journal_kind: 'payment_received' },
        { account: 'installment_fee_income', direction: 'credit', amount_minor: 3_001n, journal_kind: 'payment_received' },
      ]),
    );
    expect(l1.net('surcharge_income')).toBe(0n);
    expect(l1.debits).toBe(l1.credits);
    // The receipt: the fee on a line of its own.
    const lines = await q((tx) => receiptLines(tx, p1.id));
    expect(lines.lines).toEqual([
      { label: `Invoice ${inv.number}`, amount: '$333.40' },
      { label: 'Installment plan fee', amount: '$30.01' },
    ]);
    expect(lines.total).toBe('$363.41');
    const receipt = await eventually(async () => smtp.received.find((m) => m.subject.includes('$363.41')), 30_000, 'receipt email');
    expect(receipt.raw.replace(/=\r?\n/g, '')).toMatch(/Installment plan fee\s+\$30\.01/);
    // The plan page says the fee rides on part 1.
    const planPage = await (await fetch(`${stack.settleUrl}/portal/${token}/plan/${inv.id}`)).text();
    expect(planPage).toContain('installment plan fee $30.01 (charged once, with part 1; not part of the invoice)');

    // Part 2, collected early by staff: the part alone, no fee.
    const collected = await fetch(`${stack.settleUrl}/api/v1/installment-plans/${planId}/parts/2/collect`, { method: 'POST', headers: h(), body: '{}' });
    expect(collected.status).toBe(200);
    const part2 = ((await collected.json()) as { parts: { part_no: number; status: string; payment_id: string }[] }).parts[1]!;
    expect(part2.status).toBe('paid');
    const p2 = await q((tx) => tx.selectFrom('payments').selectAll().where('id', '=', part2.payment_id).executeTakeFirstOrThrow());
    expect(p2).toMatchObject({ amount_minor: 33_340n, plan_fee_minor: 0n });
    expect((await ledgerOf(p2.id)).net('installment_fee_income')).toBe(0n);
    await postingsPosted(stack, p2.id);

    // The payout: one deposit equal to the bank line, the fee on the mapped income account, no adjustments.
    const payout = stack.sims.stripe.sim.runPayouts()!;
    const deposit = await eventually(async () => stack.sims.quickbooks.sim.deposits()[0], 30_000, 'deposit');
    expect(Math.round(Number(deposit['TotalAmt']) * 100)).toBe(payout.amount);
    const dl = deposit['Line'] as Line[];
    expect(dl.filter((l) => l.DepositLineDetail?.AccountRef.value === feeAccount).map((l) => Math.round(l.Amount * 100))).toEqual([3_001]);
    expect(dl.find((l) => l.DepositLineDetail?.AccountRef.value === feeAccount)?.Description).toMatch(/^Installment plan fees/);
    expect(dl.some((l) => l.Description?.startsWith('Adjustments'))).toBe(false);

    // A partial refund of part 1: the fee goes back in proportion (floored), the rest reopens the invoice.
    const refund = async (amount: string, key: string) =>
      fetch(`${stack.settleUrl}/api/v1/payments/${p1.id}/refunds`, {
        method: 'POST',
        headers: { ...h(), 'idempotency-key': key },
        body: JSON.stringify({ amount_minor: amount, reason: 'plan changed' }),
      });
    // The staff confirmation states it before asking (the same plan the refund then follows).
    const preview = await q((tx) => previewRefund(tx, p1.id, 10_000n));
    expect(preview?.ok && preview.effect.sentences).toEqual(expect.arrayContaining(['$8.25 of it is installment plan fee given back.']));
    const r1 = await refund('10000', 'fee-refund-1');
    expect(r1.status).toBe(201);
    expect(await r1.json()).toMatchObject({ status: 'succeeded', amount_minor: '10000', plan_fee_minor: '825', surcharge_minor: '0' }); // floor(10000 × 3001 / 36341)
    expect(await invoiceRow(stack, inv.id)).toMatchObject({ paid_minor: 33_340n * 2n - 9_175n });
    const l2 = await ledgerOf(p1.id);
    expect(l2.net('installment_fee_income')).toBe(-(3_001n - 825n));
    expect(l2.debits).toBe(l2.credits);
    // The rest: all of the fee is back, no cent more or less.
    const r2 = await refund('26341', 'fee-refund-2');
    expect(r2.status).toBe(201);
    expect(await r2.json()).toMatchObject({ status: 'succeeded', plan_fee_minor: '2176' });
    const l3 = await ledgerOf(p1.id);
    expect(l3.net('installment_fee_income')).toBe(0n);
    expect(l3.net('accounts_receivable')).toBe(0n);
    expect(l3.debits).toBe(l3.credits);
    expect(await invoiceRow(stack, inv.id)).toMatchObject({ paid_minor: 33_340n });
  }, 240_000);

  it('a declined part 1 is charged again with the fee until it is paid', async () => {
    const ctx = stack.settle!.ctx;
    const customer = await ensureProcessorCustomer(ctx, stack.tenantId, clientId);
    const s = stack.sims.stripe;
    const pm = (await (
      await fetch(`${s.baseUrl}/v1/payment_methods/pm_card_chargeDeclinedInsufficientFunds/attach`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ customer }).toString(),
      })
    ).json()) as { id: string };
    const poor = (await syncSavedMethods(ctx, stack.tenantId, clientId, 'system:test')).find((m) => m.processorMethodId === pm.id)!.id;
    const offer = (await q((tx) => tx.selectFrom('installment_offers').select('id').where('fee_bps', '=', 250).executeTakeFirstOrThrow())).id;
    // $2,000.00: fee $5.00 + $50.00; part 1 $666.66 + $55.00.
    const inv = await newInvoice(stack, clientId, '2000.00');
    const token = await stack.portalToken(clientId);
    const page = await (await fetch(`${stack.settleUrl}/portal/${token}/plan/${inv.id}`)).text();
    const request = /name="request" value="([0-9a-f-]{36})"/.exec(page)![1]!;
    const chose = await fetch(`${stack.settleUrl}/portal/${token}/plan/${inv.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer_id: offer, method_id: poor, agree: 'yes', total_minor: '205500', request }),
    });
    expect(chose.status).toBe(200);
    const planId = ((await chose.json()) as { plan_id: string }).plan_id;
    const part1 = () =>
      q((tx) => tx.selectFrom('installment_parts').selectAll().where('plan_id', '=', planId).where('part_no', '=', 1).executeTakeFirstOrThrow());
    const failed = await eventually(async () => ((await part1()).status === 'failed' ? part1() : null), 60_000, 'part 1 declined');
    const declined = await q((tx) => tx.selectFrom('payments').selectAll().where('id', '=', failed.payment_id!).executeTakeFirstOrThrow());
    expect(declined).toMatchObject({ state: 'failed', amount_minor: 72_166n, plan_fee_minor: 5_500n });
    expect((await ledgerOf(declined.id)).rows).toEqual([]); // nothing booked for a decline
    // A good card saved as the default since; a week later the collector charges part 1 again, fee included.
    await q(async (tx) => {
      await tx.updateTable('payment_methods').set({ is_default: false }).where('client_id', '=', clientId).execute();
      await tx.updateTable('payment_methods').set({ is_default: true }).where('id', '=', methodId).execute();
    });
    const r = await collectInstallments({ ...ctx, now: () => new Date(Date.now() + 7 * 86_400_000) }, stack.tenantId);
    expect(r.paid).toBe(1);
    const paid = await part1();
    expect(paid.status).toBe('paid');
    const retry = await q((tx) => tx.selectFrom('payments').selectAll().where('id', '=', paid.payment_id!).executeTakeFirstOrThrow());
    expect(retry).toMatchObject({ state: 'succeeded', amount_minor: 72_166n, plan_fee_minor: 5_500n });
    expect((await ledgerOf(retry.id)).net('installment_fee_income')).toBe(-5_500n);
    expect(await invoiceRow(stack, inv.id)).toMatchObject({ paid_minor: 66_666n });
  }, 180_000);
});
