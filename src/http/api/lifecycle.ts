// Payment lifecycle API: refunds (full or partial) of a payment, and the workspace setting that decides
// when an invoice counts as paid (engine/payment-lifecycle.ts).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import type { Refund } from '../../db/schema.ts';
import { UseCaseError } from '../../engine/context.ts';
import { requestHash, requestRefund } from '../../engine/refund-payment.ts';
import { idempotencyKeyOf } from '../../engine/idempotent-request.ts';
import { MARK_PAID_ON, markPaidOn, setMarkPaidOn } from '../../engine/payment-lifecycle.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody, minor } from './schemas.ts';

const refundBody = z.object({
  id: z.string().uuid(),
  payment_id: z.string().uuid(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  amount_minor: minor,
  surcharge_minor: minor.describe('part of the payment surcharge given back with this refund'),
  plan_fee_minor: minor.describe('part of the installment-plan fee charged with the payment given back with this refund'),
  currency: z.string(),
  reason: z.string(),
  source: z.enum(['settle', 'processor']),
  processor_refund_id: z.string().nullable(),
  failure_message: z.string().nullable(),
  created_at: z.string(),
});

const view = (r: Refund): z.infer<typeof refundBody> => ({
  id: r.id,
  payment_id: r.payment_id,
  status: r.status,
  amount_minor: r.amount_minor.toString(),
  surcharge_minor: r.surcharge_minor.toString(),
  plan_fee_minor: r.plan_fee_minor.toString(),
  currency: r.currency,
  reason: r.reason,
  source: r.source,
  processor_refund_id: r.processor_refund_id,
  failure_message: r.failure_message,
  created_at: new Date(r.created_at).toISOString(),
});

export function registerLifecycleRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/payments/:id/refunds',
    {
      schema: {
        tags: ['payments'],
        summary: 'Refund a payment, fully or in part, to the method it was paid with',
        description:
          'Without amount_minor, everything still refundable is refunded. The surcharge, and an installment-plan fee, are refunded in proportion. The invoices the payment paid owe the refunded part again (in Settle, the PSA and the books); if the refund settles a credit, issue the credit memo in the PSA. ' +
          'Idempotency-Key (header, ≤ 200 printable characters) makes a retried request return the first result (200) instead of refunding again; without it the key is derived from the payment, amount and reason, so an identical request is refunded once — send distinct keys to refund the same amount twice on purpose.',
        params: z.object({ id: z.string().uuid() }),
        headers: z.object({ 'idempotency-key': z.string().optional() }).passthrough(),
        body: z.object({ amount_minor: minor.optional(), reason: z.string().min(1).max(500) }),
        response: { 200: refundBody, 201: refundBody, 404: errorBody, 409: errorBody, 422: errorBody },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const amountMinor = req.body.amount_minor === undefined ? undefined : BigInt(req.body.amount_minor);
      if (amountMinor !== undefined && amountMinor <= 0n)
        throw new UseCaseError('invalid', 'amount_minor must be more than zero (or left out to refund everything still refundable)');
      const header = idempotencyKeyOf(req.headers['idempotency-key']);
      const base = { paymentId: req.params.id, reason: req.body.reason, ...(amountMinor !== undefined ? { amountMinor } : {}) };
      const key = header ? `key:${header}` : `derived:${requestHash(base)}`;
      const result = await requestRefund(deps.ctx, caller.tenantId, { ...base, idempotencyKey: key, actor: caller.actor });
      return reply.code(result.replayed ? 200 : 201).send(view(result.refund));
    },
  );

  r.get(
    '/payments/:id/refunds',
    {
      schema: {
        tags: ['payments'],
        summary: "A payment's refunds, oldest first",
        params: z.object({ id: z.string().uuid() }),
        response: { 200: z.object({ data: z.array(refundBody) }), 404: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      return withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const p = await tx.selectFrom('payments').select('id').where('id', '=', req.params.id).executeTakeFirst();
        if (!p) throw new UseCaseError('not_found', `no payment ${req.params.id} in this workspace`);
        const rows = await tx.selectFrom('refunds').selectAll().where('payment_id', '=', p.id).orderBy('created_at').execute();
        return { data: rows.map(view) };
      });
    },
  );

  const setting = z.object({ mark_paid_on: z.enum(MARK_PAID_ON) });
  r.get(
    '/settings/lifecycle',
    {
      schema: { tags: ['settings'], summary: 'When an invoice is marked paid (and written back to the PSA and the books)', response: { 200: setting } },
    },
    async (req) => {
      const caller = callerOf(req);
      return { mark_paid_on: await withTenant(deps.ctx.db, caller.tenantId, (tx) => markPaidOn(tx, caller.tenantId)) };
    },
  );
  r.put(
    '/settings/lifecycle',
    {
      schema: {
        tags: ['settings'],
        summary: 'Set when an invoice is marked paid',
        description:
          'submit: when a bank debit is submitted; settlement (default): when the processor confirms the money; payout: when the payout containing it reaches the bank. A bank-debit-paid invoice is final only after the return window of its SEC code (see invoice final_after).',
        body: setting,
        response: { 200: setting, 422: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const v = await withTenant(deps.ctx.db, caller.tenantId, (tx) => setMarkPaidOn(tx, caller.tenantId, req.body.mark_paid_on, caller.actor));
      return { mark_paid_on: v };
    },
  );
}
