// Installment plans through the API: an invoice split into 3 parts (remainder on the last), each part
// charged off-session to the client's saved card like an autopay charge, each written to ConnectWise and
// QuickBooks as a payment against that invoice; collecting twice at once never charges a part twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { addDays } from '../../src/domain/rules/calendar-date.ts';
import { ensureProcessorCustomer } from '../../src/engine/start-portal-payment.ts';
import { syncSavedMethods } from '../../src/engine/sync-saved-methods.ts';
import { collectInstallments } from '../../src/engine/collect-installments.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';
import { cwPaymentsCents, invoiceRow, newInvoice, postingsPosted, qboPaymentsCents } from './collections-helpers.ts';

let stack: Stack;
let api: string;
let clientId: string;
let methodId: string;

beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 2 });
  api = await stack.apiKey();
  clientId = (await openInvoices(stack))[0]!.client_id;
  // The client saved a card at the processor (hosted fields with "save"); Settle mirrors it.
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
});
afterAll(async () => stack?.close());

const h = () => ({ authorization: `Bearer ${api}`, 'content-type': 'application/json' });
const today = () => new Date().toISOString().slice(0, 10);

interface Plan {
  id: string;
  status: string;
  total_minor: string;
  parts: { part_no: number; due_on: string; amount_minor: string; status: string; payment_id: string | null }[];
}

async function post(path: string, body: unknown): Promise<{ status: number; json: Plan & { error?: { message: string } } }> {
  const res = await fetch(`${stack.settleUrl}/api/v1${path}`, { method: 'POST', headers: h(), body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Plan & { error?: { message: string } } };
}
const getPlan = async (id: string): Promise<Plan> =>
  (await (await fetch(`${stack.settleUrl}/api/v1/installment-plans/${id}`, { headers: h() })).json()) as Plan;

describe('installment plans', () => {
  it('splits $100.00 into 3 parts with the remainder last; each part is charged and posted to ConnectWise and QuickBooks', async () => {
    const inv = await newInvoice(stack, clientId, '100.00');
    const dates = [today(), addDays(today(), 30), addDays(today(), 60)];
    const created = await post(`/invoices/${inv.id}/installment-plans`, { payment_method_id: methodId, dates });
    expect(created.status).toBe(201);
    expect(created.json.parts.map((p) => [p.part_no, p.due_on, p.amount_minor])).toEqual([
      [1, dates[0], '3333'],
      [2, dates[1], '3333'],
      [3, dates[2], '3334'],
    ]);
    const planId = created.json.id;
    // A second plan on the same invoice is refused while this one is active.
    expect((await post(`/invoices/${inv.id}/installment-plans`, { payment_method_id: methodId, parts: 2, first_due_on: addDays(today(), 1) })).status).toBe(
      409,
    );

    // Part 1 is due today: the collector (queued when the plan was made) charges it.
    const p1 = await eventually(
      async () => ((await getPlan(planId)).parts[0]!.status === 'paid' ? (await getPlan(planId)).parts[0] : null),
      15_000,
      'part 1 paid',
    );
    await postingsPosted(stack, p1.payment_id!);
    expect(await invoiceRow(stack, inv.id)).toMatchObject({ status: 'partially_paid', paid_minor: 3_333n });
    // Running the collector again charges nothing more: parts 2 and 3 are not due.
    const intentsBefore = stack.sims.stripe.sim.store.paymentIntents.size;
    expect(await collectInstallments(stack.settle!.ctx, stack.tenantId)).toMatchObject({ charged: 0, paid: 0 });
    expect(stack.sims.stripe.sim.store.paymentIntents.size).toBe(intentsBefore);

    // The client asks to pay the rest now: staff collect parts 2 and 3 early.
    for (const n of [2, 3]) {
      const r = await post(`/installment-plans/${planId}/parts/${n}/collect`, {});
      expect(r.status).toBe(200);
      expect(r.json.parts[n - 1]!.status).toBe('paid');
      await postingsPosted(stack, r.json.parts[n - 1]!.payment_id!);
    }
    const done = await getPlan(planId);
    expect(done.status).toBe('completed');
    expect(await invoiceRow(stack, inv.id)).toMatchObject({ status: 'paid', paid_minor: 10_000n });
    // Three payments of 33.33, 33.33, 33.34 in ConnectWise — the two equal ones on the same day kept apart — and in QuickBooks.
    expect(cwPaymentsCents(stack, inv.remote).sort()).toEqual([3333, 3333, 3334]);
    expect(qboPaymentsCents(stack, inv.number).sort()).toEqual([3333, 3333, 3334]);
    const payments = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx
        .selectFrom('payments')
        .select(['source', 'amount_minor', 'method_last4'])
        .where(
          'id',
          'in',
          done.parts.map((p) => p.payment_id!),
        )
        .execute(),
    );
    expect(payments.map((p) => p.source)).toEqual(['installment', 'installment', 'installment']);
    expect(payments.every((p) => p.method_last4 === '4242')).toBe(true);
    // A paid part cannot be charged again.
    expect((await post(`/installment-plans/${planId}/parts/1/collect`, {})).status).toBe(409);
    const audit = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('audit_log').select('action').where('subject_id', '=', planId).execute(),
    );
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['installment_plan.created', 'installment_plan.completed']));
  });

  it('collectors racing on a due part charge it once', async () => {
    const inv = await newInvoice(stack, clientId, '60.00');
    const created = await post(`/invoices/${inv.id}/installment-plans`, { payment_method_id: methodId, parts: 2, first_due_on: today(), every_days: 14 });
    expect(created.status).toBe(201);
    const ctx = stack.settle!.ctx;
    await Promise.all([collectInstallments(ctx, stack.tenantId), collectInstallments(ctx, stack.tenantId), collectInstallments(ctx, stack.tenantId)]);
    const plan = await eventually(
      async () => {
        const p = await getPlan(created.json.id);
        return p.parts[0]!.status === 'paid' ? p : null;
      },
      15_000,
      'part 1 paid',
    );
    const payments = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx
        .selectFrom('payments')
        .select('id')
        .where('source', '=', 'installment')
        .where('planned_allocations', '@>', JSON.stringify([{ invoiceId: inv.id }]) as never)
        .execute(),
    );
    expect(payments).toHaveLength(1);
    const intents = [...stack.sims.stripe.sim.store.paymentIntents.values()].filter((pi) => pi.metadata['settle_payment'] === plan.parts[0]!.payment_id);
    expect(intents).toHaveLength(1);
    expect(plan.parts[1]!.status).toBe('scheduled');
  });

  it('the portal shows the plan; bad schedules are refused; a cancelled plan stops collecting', async () => {
    const inv = await newInvoice(stack, clientId, '90.00');
    const past = await post(`/invoices/${inv.id}/installment-plans`, { payment_method_id: methodId, dates: [addDays(today(), -1), addDays(today(), 5)] });
    expect(past.status).toBe(422);
    expect(past.json.error!.message).toMatch(/in the past/);
    const neither = await post(`/invoices/${inv.id}/installment-plans`, { payment_method_id: methodId });
    expect(neither.status).toBe(422);
    const created = await post(`/invoices/${inv.id}/installment-plans`, {
      payment_method_id: methodId,
      parts: 3,
      first_due_on: addDays(today(), 7),
      every_days: 30,
    });
    expect(created.json.parts.map((p) => p.amount_minor)).toEqual(['3000', '3000', '3000']);
    const page = await (await fetch(`${stack.settleUrl}/portal/${await stack.portalToken(clientId)}`)).text();
    expect(page).toContain(`Installment plan for invoice ${inv.number}`);
    expect(page).toContain('1 of 3');
    const cancelled = await post(`/installment-plans/${created.json.id}/cancel`, { reason: 'client paid by cheque' });
    expect(cancelled.json.status).toBe('cancelled');
    expect(cancelled.json.parts.map((p) => p.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect((await post(`/installment-plans/${created.json.id}/parts/1/collect`, {})).status).toBe(409);
  });

  it('a declined part is charged again from the plan on the retry schedule, with the card the client saved since', async () => {
    const ctx = stack.settle!.ctx;
    const customer = await ensureProcessorCustomer(ctx, stack.tenantId, clientId);
    const attach = async (token: string) => {
      const s = stack.sims.stripe;
      const pm = (await (
        await fetch(`${s.baseUrl}/v1/payment_methods/${token}/attach`, {
          method: 'POST',
          headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ customer }).toString(),
        })
      ).json()) as { id: string };
      return (await syncSavedMethods(ctx, stack.tenantId, clientId, 'system:test')).find((m) => m.processorMethodId === pm.id)!.id;
    };
    const poor = await attach('pm_card_chargeDeclinedInsufficientFunds');
    const inv = await newInvoice(stack, clientId, '40.00');
    const created = await post(`/invoices/${inv.id}/installment-plans`, { payment_method_id: poor, parts: 2, first_due_on: today(), every_days: 30 });
    const failed = await eventually(
      async () => {
        const p = await getPlan(created.json.id);
        return p.parts[0]!.status === 'failed' ? p : null;
      },
      15_000,
      'part 1 failed',
    );
    // Not yet: a soft decline waits for the next step of the schedule (+1 banking day by default).
    expect(await collectInstallments(ctx, stack.tenantId)).toMatchObject({ charged: 0, paid: 0 });
    expect((await getPlan(created.json.id)).parts[0]!.payment_id).toBe(failed.parts[0]!.payment_id);
    // The client saves a good card as the default; a week later the collector charges the part again with it.
    const good = await attach('pm_card_visa');
    await withTenant(stack.database.db, stack.tenantId, async (tx) => {
      await tx.updateTable('payment_methods').set({ is_default: false }).where('client_id', '=', clientId).execute();
      await tx.updateTable('payment_methods').set({ is_default: true }).where('id', '=', good).execute();
    });
    const later = { ...ctx, now: () => new Date(Date.now() + 7 * 86_400_000) };
    const r = await collectInstallments(later, stack.tenantId);
    expect(r.paid).toBe(1);
    const plan = await getPlan(created.json.id);
    expect(plan.parts[0]).toMatchObject({ status: 'paid', amount_minor: '2000' });
    expect(plan.parts[0]!.payment_id).not.toBe(failed.parts[0]!.payment_id);
    const retry = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('payments').select(['method_last4', 'state']).where('id', '=', plan.parts[0]!.payment_id!).executeTakeFirstOrThrow(),
    );
    expect(retry).toEqual({ method_last4: '4242', state: 'succeeded' });
    expect(plan.parts[1]!.status).toBe('scheduled');
  });
});
