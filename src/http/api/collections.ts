// Collections API: a client's credit (see it, apply it, decide a refund) and installment plans on an
// invoice (create, read, cancel, collect a part now). Every change is audited by the use case.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { UseCaseError } from '../../engine/context.ts';
import { applyClientCredit, creditBalance } from '../../engine/client-credit.ts';
import { decideCreditRefund, sendCreditRefunds } from '../../engine/refund-client-credit.ts';
import { cancelInstallmentPlan, createInstallmentPlan, describePlans, type InstallmentPlanView } from '../../engine/installment-plans.ts';
import { collectInstallments } from '../../engine/collect-installments.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody, minor } from './schemas.ts';

const uuidParam = z.object({ id: z.string().uuid() });

const plan = z.object({
  id: z.string().uuid(),
  invoice_id: z.string().uuid(),
  invoice_number: z.string(),
  client_id: z.string().uuid(),
  status: z.string(),
  currency: z.string(),
  total_minor: minor,
  fee_minor: minor.describe('plan fee agreed with an installment offer, charged with part 1 on top of it (0: none)'),
  payment_method_id: z.string().uuid(),
  cancel_reason: z.string().nullable(),
  parts: z.array(
    z.object({ part_no: z.number().int(), due_on: z.string(), amount_minor: minor, status: z.string(), payment_id: z.string().uuid().nullable() }),
  ),
});

function planJson(p: InstallmentPlanView): z.infer<typeof plan> {
  return {
    id: p.id,
    invoice_id: p.invoiceId,
    invoice_number: p.invoiceNumber,
    client_id: p.clientId,
    status: p.status,
    currency: p.currency,
    total_minor: p.totalMinor.toString(),
    fee_minor: p.feeMinor.toString(),
    payment_method_id: p.paymentMethodId,
    cancel_reason: p.cancelReason,
    parts: p.parts.map((x) => ({ part_no: x.partNo, due_on: x.dueOn, amount_minor: x.amountMinor.toString(), status: x.status, payment_id: x.paymentId })),
  };
}

const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
const idempotencyHeader = z
  .object({
    'idempotency-key': z
      .string()
      .regex(/^[A-Za-z0-9._:-]{8,200}$/, '8–200 letters, digits, . _ : -')
      .optional(),
  })
  .passthrough();

export function registerCollectionRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  // ---- client credit
  r.get(
    '/clients/:id/credit',
    {
      schema: {
        tags: ['credit'],
        summary: "A client's credit: what is available per currency and every movement (overpayments, applications, refunds)",
        params: uuidParam,
        response: {
          200: z.object({
            available: z.array(z.object({ currency: z.string(), amount_minor: minor })),
            entries: z.array(
              z.object({
                id: z.string().uuid(),
                kind: z.string(),
                currency: z.string(),
                amount_minor: minor,
                source_payment_id: z.string().uuid(),
                invoice_id: z.string().uuid().nullable(),
                credit_payment_id: z.string().uuid().nullable(),
                note: z.string(),
                created_at: z.string(),
              }),
            ),
          }),
          404: errorBody,
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      return withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const c = await tx.selectFrom('clients').select('id').where('id', '=', req.params.id).executeTakeFirst();
        if (!c) throw new UseCaseError('not_found', `no client ${req.params.id} in this workspace`);
        const balance = await creditBalance(tx, c.id);
        const entries = await tx.selectFrom('client_credit_entries').selectAll().where('client_id', '=', c.id).orderBy('created_at').execute();
        return {
          available: [...balance].map(([currency, n]) => ({ currency, amount_minor: n.toString() })),
          entries: entries.map((e) => ({
            id: e.id,
            kind: e.kind,
            currency: e.currency,
            amount_minor: e.amount_minor.toString(),
            source_payment_id: e.source_payment_id,
            invoice_id: e.invoice_id,
            credit_payment_id: e.credit_payment_id,
            note: e.note,
            created_at: new Date(e.created_at).toISOString(),
          })),
        };
      });
    },
  );

  r.post(
    '/clients/:id/credit/applications',
    {
      schema: {
        tags: ['credit'],
        summary: "Apply the client's credit to its open invoices now",
        description:
          'To the invoices named (in that order), else oldest due first. Each application is a payment against the invoice, written back to the PSA and the books.',
        params: uuidParam,
        body: z.object({ invoice_ids: z.array(z.string().uuid()).min(1).max(100).optional() }).optional(),
        response: {
          201: z.object({
            applied: z.array(z.object({ invoice_id: z.string().uuid(), invoice_number: z.string(), amount_minor: minor, payment_id: z.string().uuid() })),
          }),
          404: errorBody,
          422: errorBody,
        },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const applied = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const c = await tx.selectFrom('clients').select('id').where('id', '=', req.params.id).executeTakeFirst();
        if (!c) throw new UseCaseError('not_found', `no client ${req.params.id} in this workspace`);
        const ids = req.body?.invoice_ids;
        if (ids) {
          const found = await tx.selectFrom('invoices').select(['id', 'client_id']).where('id', 'in', ids).execute();
          const foreign = ids.filter((id) => !found.some((f) => f.id === id && f.client_id === c.id));
          if (foreign.length) throw new UseCaseError('not_found', `these invoices are not this client's: ${foreign.join(', ')}`);
        }
        const balance = await creditBalance(tx, c.id);
        if ([...balance.values()].every((n) => n <= 0n)) throw new UseCaseError('invalid', 'this client has no credit to apply');
        return applyClientCredit(tx, caller.tenantId, { clientId: c.id, ...(ids ? { invoiceIds: ids } : {}), actor: caller.actor, source: 'manual' });
      });
      return reply.code(201).send({
        applied: applied.map((a) => ({
          invoice_id: a.invoiceId,
          invoice_number: a.invoiceNumber,
          amount_minor: a.amountMinor.toString(),
          payment_id: a.creditPaymentId,
        })),
      });
    },
  );

  r.post(
    '/clients/:id/credit/refunds',
    {
      schema: {
        tags: ['credit'],
        summary: "Decide to refund part or all of a client's credit",
        description:
          'Recorded at once (the credit can no longer be applied), then refunded to the method that paid it, oldest credit first. Send an Idempotency-Key header to make a retried request one decision.',
        params: uuidParam,
        headers: idempotencyHeader,
        body: z.object({ amount_minor: minor, currency: z.string().length(3).optional(), reason: z.string().min(3).max(500) }),
        response: {
          201: z.object({
            refunds: z.array(
              z.object({
                id: z.string().uuid(),
                source_payment_id: z.string().uuid(),
                amount_minor: minor,
                status: z.string(),
                message: z.string().nullable(),
              }),
            ),
          }),
          404: errorBody,
          422: errorBody,
        },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const amount = BigInt(req.body.amount_minor);
      const key = req.headers['idempotency-key'] ?? `credit-refund:${req.id}:${Date.now()}`;
      const decided = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const t = await tx.selectFrom('tenants').select('currency').where('id', '=', caller.tenantId).executeTakeFirstOrThrow();
        return decideCreditRefund(tx, caller.tenantId, {
          clientId: req.params.id,
          currency: (req.body.currency ?? t.currency).toUpperCase(),
          amountMinor: amount,
          reason: req.body.reason,
          actor: caller.actor,
          idempotencyKey: key,
        });
      });
      const out = await sendCreditRefunds(deps.ctx, caller.tenantId, decided, caller.actor);
      return reply.code(201).send({
        refunds: out.map((x) => ({
          id: x.refundId,
          source_payment_id: x.sourcePaymentId,
          amount_minor: x.amountMinor.toString(),
          status: x.status,
          message: x.message,
        })),
      });
    },
  );

  // ---- installment plans
  r.post(
    '/invoices/:id/installment-plans',
    {
      schema: {
        tags: ['installments'],
        summary: 'Split what an invoice still owes into parts charged on set dates to a saved payment method',
        description: 'Either `dates` (one per part), or `parts` + `first_due_on` + `every_days`. Amounts are split evenly with the remainder on the last part.',
        params: uuidParam,
        body: z.object({
          payment_method_id: z.string().uuid(),
          dates: z.array(isoDay).min(2).max(36).optional(),
          parts: z.number().int().min(2).max(36).optional(),
          first_due_on: isoDay.optional(),
          every_days: z.number().int().min(1).max(366).optional(),
        }),
        response: { 201: plan, 404: errorBody, 409: errorBody, 422: errorBody },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const b = req.body;
      const schedule = b.dates
        ? ({ kind: 'dates', dates: b.dates } as const)
        : b.parts !== undefined && b.first_due_on !== undefined
          ? ({ kind: 'every', parts: b.parts, firstDueOn: b.first_due_on, everyDays: b.every_days ?? 30 } as const)
          : null;
      if (!schedule) throw new UseCaseError('invalid', 'give either dates (one per part) or parts and first_due_on (and every_days, default 30)');
      const created = await withTenant(deps.ctx.db, caller.tenantId, (tx) =>
        createInstallmentPlan(tx, caller.tenantId, {
          invoiceId: req.params.id,
          schedule,
          paymentMethodId: b.payment_method_id,
          actor: caller.actor,
          now: deps.ctx.now(),
        }),
      );
      return reply.code(201).send(planJson(created));
    },
  );

  r.get(
    '/invoices/:id/installment-plans',
    {
      schema: {
        tags: ['installments'],
        summary: "An invoice's installment plans, newest first",
        params: uuidParam,
        response: { 200: z.object({ data: z.array(plan) }) },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const plans = await withTenant(deps.ctx.db, caller.tenantId, (tx) => describePlans(tx, { invoiceId: req.params.id }));
      return { data: plans.map(planJson) };
    },
  );

  r.get(
    '/installment-plans/:id',
    {
      schema: { tags: ['installments'], summary: 'One installment plan with its parts', params: uuidParam, response: { 200: plan, 404: errorBody } },
    },
    async (req) => {
      const caller = callerOf(req);
      const [p] = await withTenant(deps.ctx.db, caller.tenantId, (tx) => describePlans(tx, { planId: req.params.id }));
      if (!p) throw new UseCaseError('not_found', `no installment plan ${req.params.id} in this workspace`);
      return planJson(p);
    },
  );

  r.post(
    '/installment-plans/:id/cancel',
    {
      schema: {
        tags: ['installments'],
        summary: 'Cancel a plan: parts not yet charged are cancelled',
        params: uuidParam,
        body: z.object({ reason: z.string().min(3).max(500) }),
        response: { 200: plan, 404: errorBody, 409: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const p = await withTenant(deps.ctx.db, caller.tenantId, (tx) =>
        cancelInstallmentPlan(tx, caller.tenantId, { planId: req.params.id, reason: req.body.reason, actor: caller.actor }),
      );
      return planJson(p);
    },
  );

  r.post(
    '/installment-plans/:id/parts/:part_no/collect',
    {
      schema: {
        tags: ['installments'],
        summary: 'Charge one part now: early at the client’s request, or again after it failed',
        params: z.object({ id: z.string().uuid(), part_no: z.coerce.number().int().min(1).max(36) }),
        response: { 200: plan, 404: errorBody, 409: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const part = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const row = await tx
          .selectFrom('installment_parts as x')
          .innerJoin('installment_plans as p', 'p.id', 'x.plan_id')
          .select(['x.id', 'x.status', 'p.status as plan_status'])
          .where('x.plan_id', '=', req.params.id)
          .where('x.part_no', '=', req.params.part_no)
          .executeTakeFirst();
        if (!row) throw new UseCaseError('not_found', `installment plan ${req.params.id} has no part ${req.params.part_no}`);
        if (row.plan_status !== 'active') throw new UseCaseError('conflict', `the plan is ${row.plan_status}`);
        if (row.status !== 'scheduled' && row.status !== 'failed')
          throw new UseCaseError('conflict', `part ${req.params.part_no} is ${row.status}; only a scheduled or failed part can be charged`);
        return row;
      });
      await collectInstallments(deps.ctx, caller.tenantId, { partId: part.id, actor: caller.actor });
      const [p] = await withTenant(deps.ctx.db, caller.tenantId, (tx) => describePlans(tx, { planId: req.params.id }));
      return planJson(p!);
    },
  );
}
