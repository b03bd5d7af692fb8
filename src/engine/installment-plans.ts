// Installment plans: an invoice paid in N parts on set dates, each part charged off-session to a saved
// method like an autopay charge (collect-installments.ts). Creating and cancelling are staff decisions,
// audited in the same transaction.
import { money, parseCurrency } from '../domain/money.ts';
import { InstallmentError, installmentSchedule, type ScheduleRequest } from '../domain/installments.ts';
import { CalendarDateError } from '../domain/rules/calendar-date.ts';
import type { Tx } from '../db/tenant.ts';
import { openBalanceMinor } from '../db/queries/invoice-balance.ts';
import { UseCaseError, today } from './context.ts';
import { audit, type Actor } from './audit.ts';
import { enqueue } from './enqueue.ts';
import { sql } from 'kysely';

export interface InstallmentPlanView {
  readonly id: string;
  readonly invoiceId: string;
  readonly invoiceNumber: string;
  readonly clientId: string;
  readonly status: string;
  readonly currency: string;
  readonly totalMinor: bigint;
  readonly paymentMethodId: string;
  readonly cancelReason: string | null;
  /** Who made it: `user:…` (staff, API) or `client:…` (chosen in the portal from an installment offer). */
  readonly createdBy: string;
  readonly offerId: string | null;
  /** The plan fee agreed with an offer (0 otherwise): charged with part 1, on top of it (collect-installments.ts). */
  readonly feeMinor: bigint;
  readonly parts: readonly { partNo: number; dueOn: string; amountMinor: bigint; status: string; paymentId: string | null }[];
}

export async function describePlans(tx: Tx, where: { planId?: string; invoiceId?: string; clientId?: string }): Promise<InstallmentPlanView[]> {
  let q = tx
    .selectFrom('installment_plans as p')
    .innerJoin('invoices as i', 'i.id', 'p.invoice_id')
    .selectAll('p')
    .select('i.number')
    .orderBy('p.created_at', 'desc');
  if (where.planId) q = q.where('p.id', '=', where.planId);
  if (where.invoiceId) q = q.where('p.invoice_id', '=', where.invoiceId);
  if (where.clientId) q = q.where('p.client_id', '=', where.clientId);
  const plans = await q.execute();
  if (plans.length === 0) return [];
  const parts = await tx
    .selectFrom('installment_parts')
    .selectAll()
    .where(
      'plan_id',
      'in',
      plans.map((p) => p.id),
    )
    .orderBy('part_no')
    .execute();
  return plans.map((p) => ({
    id: p.id,
    invoiceId: p.invoice_id,
    invoiceNumber: p.number,
    clientId: p.client_id,
    status: p.status,
    currency: p.currency,
    totalMinor: p.total_minor,
    paymentMethodId: p.payment_method_id,
    cancelReason: p.cancel_reason,
    createdBy: p.created_by,
    offerId: p.offer_id,
    feeMinor: p.fee_minor,
    parts: parts
      .filter((x) => x.plan_id === p.id)
      .map((x) => ({ partNo: x.part_no, dueOn: x.due_on, amountMinor: x.amount_minor, status: x.status, paymentId: x.payment_id })),
  }));
}

/** Part of an invoice a bank debit still at the processor will pay if it settles (payments-rules §2.8). */
export async function inFlightMinor(tx: Tx, invoiceId: string): Promise<bigint> {
  const r = await sql<{ n: string | null }>`
    SELECT sum((a->>'amountMinor')::bigint)::text AS n
      FROM payments p, jsonb_array_elements(p.planned_allocations) a
     WHERE p.state = 'processing' AND a->>'invoiceId' = ${invoiceId}`.execute(tx);
  return BigInt(r.rows[0]?.n ?? 0);
}

export async function createInstallmentPlan(
  tx: Tx,
  tenantId: string,
  input: {
    invoiceId: string;
    schedule: ScheduleRequest;
    paymentMethodId: string;
    actor: Actor;
    now: Date;
    /** A plan the client chose in the portal (engine/installment-offers.ts): the offer, its fee, the request. */
    offer?: { id: string; feeMinor: bigint; requestKey: string };
  },
): Promise<InstallmentPlanView> {
  const inv = await tx.selectFrom('invoices').selectAll().where('id', '=', input.invoiceId).forNoKeyUpdate().executeTakeFirst();
  if (!inv) throw new UseCaseError('not_found', `no invoice ${input.invoiceId} in this workspace`);
  if (inv.status === 'void' || inv.status === 'credit')
    throw new UseCaseError('invalid', `invoice ${inv.number} is ${inv.status} and cannot be paid in installments`);
  const active = await tx.selectFrom('installment_plans').select('id').where('invoice_id', '=', inv.id).where('status', '=', 'active').executeTakeFirst();
  if (active) throw new UseCaseError('conflict', `invoice ${inv.number} already has an active installment plan (${active.id}); cancel it first`);
  const method = await tx.selectFrom('payment_methods').selectAll().where('id', '=', input.paymentMethodId).executeTakeFirst();
  if (!method || method.client_id !== inv.client_id || method.removed_at)
    throw new UseCaseError('not_found', `payment method ${input.paymentMethodId} is not a saved method of this invoice's client`);
  const owed = (await openBalanceMinor(tx, inv.id)) - (await inFlightMinor(tx, inv.id));
  let parts;
  try {
    parts = installmentSchedule(money(owed, parseCurrency(inv.currency)), input.schedule, today(input.now));
  } catch (e) {
    if (e instanceof InstallmentError || e instanceof CalendarDateError) throw new UseCaseError('invalid', `invoice ${inv.number}: ${e.message}`);
    throw e;
  }
  const plan = await tx
    .insertInto('installment_plans')
    .values({
      tenant_id: tenantId,
      client_id: inv.client_id,
      invoice_id: inv.id,
      currency: inv.currency,
      total_minor: owed,
      payment_method_id: method.id,
      created_by: input.actor,
      offer_id: input.offer?.id ?? null,
      fee_minor: input.offer?.feeMinor ?? 0n,
      request_key: input.offer?.requestKey ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx
    .insertInto('installment_parts')
    .values(parts.map((p) => ({ tenant_id: tenantId, plan_id: plan.id, part_no: p.partNo, due_on: p.dueOn, amount_minor: p.amount.amountMinor })))
    .execute();
  await audit(
    tx,
    tenantId,
    input.actor,
    'installment_plan.created',
    { type: 'installment_plan', id: plan.id },
    {
      invoice_id: inv.id,
      total_minor: owed,
      parts: parts.map((p) => ({ part_no: p.partNo, due_on: p.dueOn, amount_minor: p.amount.amountMinor })),
      payment_method: `${method.kind} ${method.last4}`,
      ...(input.offer ? { offer_id: input.offer.id, fee_minor: input.offer.feeMinor } : {}),
    },
  );
  // A part due today is collected now rather than at the next scheduled run.
  await enqueue(
    tx,
    'collect-installments',
    { tenantId },
    { jobKey: `collect-installments:${tenantId}`, queueName: `installments:${tenantId}`, maxAttempts: 5 },
  );
  return (await describePlans(tx, { planId: plan.id }))[0]!;
}

export async function cancelInstallmentPlan(tx: Tx, tenantId: string, input: { planId: string; reason: string; actor: Actor }): Promise<InstallmentPlanView> {
  const plan = await tx.selectFrom('installment_plans').selectAll().where('id', '=', input.planId).forUpdate().executeTakeFirst();
  if (!plan) throw new UseCaseError('not_found', `no installment plan ${input.planId} in this workspace`);
  if (plan.status !== 'active') throw new UseCaseError('conflict', `installment plan ${plan.id} is already ${plan.status}`);
  if (!input.reason.trim()) throw new UseCaseError('invalid', 'give a reason for cancelling; it is kept in the audit log');
  // Parts already at the processor finish on their own; only parts not yet started are cancelled.
  const cancelled = await tx
    .updateTable('installment_parts')
    .set({ status: 'cancelled', updated_at: new Date() })
    .where('plan_id', '=', plan.id)
    .where('status', 'in', ['scheduled', 'failed'])
    .returning('part_no')
    .execute();
  await tx
    .updateTable('installment_plans')
    .set({ status: 'cancelled', cancel_reason: input.reason, updated_at: new Date() })
    .where('id', '=', plan.id)
    .execute();
  await audit(
    tx,
    tenantId,
    input.actor,
    'installment_plan.cancelled',
    { type: 'installment_plan', id: plan.id },
    { reason: input.reason, parts_cancelled: cancelled.map((c) => c.part_no) },
  );
  return (await describePlans(tx, { planId: plan.id }))[0]!;
}
