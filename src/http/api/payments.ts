import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import type { Tx } from '../../db/tenant.ts';
import { UseCaseError } from '../../engine/context.ts';
import { chargeWithKey } from '../../engine/charge-with-key.ts';
import { fingerprint, idempotencyKeyOf } from '../../engine/idempotent-request.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody, minor, pageQuery, paymentSummary } from './schemas.ts';

async function describePayments(tx: Tx, ids: readonly string[]): Promise<z.infer<typeof paymentSummary>[]> {
  if (ids.length === 0) return [];
  const payments = await tx.selectFrom('payments').selectAll().where('id', 'in', ids).orderBy('created_at', 'desc').execute();
  const allocations = await tx.selectFrom('allocations').select(['payment_id', 'invoice_id', 'amount_minor']).where('payment_id', 'in', ids).execute();
  const postings = await tx
    .selectFrom('postings')
    .select(['payment_id', 'target', 'vendor', 'status', 'remote_id', 'last_error'])
    .where('payment_id', 'in', ids)
    .execute();
  return payments.map((p) => ({
    id: p.id,
    client_id: p.client_id,
    state: p.state,
    source: p.source,
    currency: p.currency,
    amount_minor: p.amount_minor.toString(),
    fee_minor: p.fee_minor === null ? null : p.fee_minor.toString(),
    processor_payment_id: p.processor_payment_id,
    method: p.method_kind ? `${p.method_brand ?? p.method_kind} ${p.method_last4 ?? ''}`.trim() : null,
    created_at: new Date(p.created_at).toISOString(),
    allocations: allocations.filter((a) => a.payment_id === p.id).map((a) => ({ invoice_id: a.invoice_id, amount_minor: a.amount_minor.toString() })),
    postings: postings.filter((x) => x.payment_id === p.id).map(({ payment_id: _p, ...x }) => x),
  }));
}

export function registerPaymentRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/payments',
    {
      schema: {
        tags: ['payments'],
        summary: 'Payments, newest first, with allocations and where each was posted',
        querystring: pageQuery.extend({ state: z.string().optional() }),
        response: { 200: z.object({ data: z.array(paymentSummary) }) },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      return withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        let q = tx.selectFrom('payments').select('id').orderBy('created_at', 'desc').limit(req.query.limit).offset(req.query.offset);
        if (req.query.state) q = q.where('state', '=', req.query.state as never);
        const ids = (await q.execute()).map((x) => x.id);
        return { data: await describePayments(tx, ids) };
      });
    },
  );
  r.get(
    '/payments/:id',
    {
      schema: { tags: ['payments'], summary: 'One payment', params: z.object({ id: z.string().uuid() }), response: { 200: paymentSummary, 404: errorBody } },
    },
    async (req) => {
      const caller = callerOf(req);
      return withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const [p] = await describePayments(tx, [req.params.id]);
        if (!p) throw new UseCaseError('not_found', `no payment ${req.params.id} in this workspace`);
        return p;
      });
    },
  );
  r.post(
    '/payments',
    {
      schema: {
        tags: ['payments'],
        summary: "Charge a client's saved payment method for one or more invoices",
        description:
          'Amounts are optional per invoice (default: the open balance). Returns 201 with the outcome; an unknown outcome is resolved by asking the processor and never re-charged. ' +
          'Idempotency-Key (header, ≤ 200 printable characters, scoped to your API key): a retry with the same key and body gets the first answer again (Idempotent-Replayed: true) and is never charged twice; the same key with another body is refused (409, idempotency_key_reused); while the first request is still waiting for the processor, 409 idempotency_key_in_use — retry later. ' +
          'Money already in flight on an invoice (a charge being sent, an unknown outcome, a bank debit processing) is not charged again: 409 names that payment (error.payment: id, state, amount_minor).',
        headers: z.object({ 'idempotency-key': z.string().optional() }).passthrough(),
        body: z.object({
          payment_method_id: z.string().uuid(),
          invoices: z
            .array(z.object({ invoice_id: z.string().uuid(), amount_minor: minor.optional() }))
            .min(1)
            .max(100),
        }),
        response: {
          201: z.object({ payment_id: z.string().uuid(), outcome: z.string() }),
          404: errorBody,
          409: errorBody,
          422: errorBody,
        },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const choices = req.body.invoices.map((i) => {
        const amountMinor = i.amount_minor === undefined ? undefined : BigInt(i.amount_minor);
        if (amountMinor !== undefined && amountMinor <= 0n)
          throw new UseCaseError('invalid', `amount_minor for invoice ${i.invoice_id} must be more than zero`);
        return amountMinor === undefined ? { invoiceId: i.invoice_id } : { invoiceId: i.invoice_id, amountMinor };
      });
      const key = idempotencyKeyOf(req.headers['idempotency-key']);
      // The request as the client meant it (amounts as sent, order kept): what a key is bound to.
      const request = { payment_method_id: req.body.payment_method_id, invoices: req.body.invoices.map((i) => [i.invoice_id, i.amount_minor ?? null]) };
      const r = await chargeWithKey(
        deps.ctx,
        caller.tenantId,
        { choices, paymentMethodId: req.body.payment_method_id, actor: caller.actor },
        key ? { key, requestHash: fingerprint(request) } : null,
      );
      // Stripe answers a replay with the first response's status; the header says it is a replay.
      if (r.replayed) void reply.header('idempotent-replayed', 'true');
      return reply.code(r.status as 201).send(r.body);
    },
  );
}
