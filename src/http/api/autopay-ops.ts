// Autopay operations: per-client settings (pilot switches, rule lock, fallback method), the client's saved
// methods (sync from the processor, choose the default), the schedules, staff approvals, and "run now".
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { decideAutopayApproval } from '../../engine/decide-autopay-approval.ts';
import { enqueue } from '../../engine/enqueue.ts';
import { getClientAutopay, saveClientAutopay, setDefaultMethod } from '../../engine/manage-autopay.ts';
import { syncSavedMethods } from '../../engine/sync-saved-methods.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody, minor, pageQuery } from './schemas.ts';

const clientAutopay = z.object({
  client_id: z.string().uuid(),
  collection_enabled: z.boolean(),
  autopay_enabled: z.boolean(),
  locked_rule_id: z.string().uuid().nullable(),
  fallback_method_id: z.string().uuid().nullable(),
  default_method_id: z.string().uuid().nullable(),
});

const approvalOut = z.object({
  id: z.string().uuid(),
  status: z.string(),
  invoice_id: z.string().uuid(),
  invoice_number: z.string(),
  client_id: z.string().uuid(),
  client_name: z.string(),
  invoice_version: z.number().int(),
  amount_minor: minor,
  currency: z.string(),
  reasons: z.array(z.string()),
  detail: z.record(z.unknown()),
  decided_by: z.string().nullable(),
  decided_at: z.string().nullable(),
  note: z.string().nullable(),
  created_at: z.string(),
});

const scheduleOut = z.object({
  id: z.string().uuid(),
  invoice_id: z.string().uuid(),
  invoice_number: z.string(),
  client_id: z.string().uuid(),
  rule_id: z.string().uuid(),
  state: z.string(),
  reason: z.string().nullable(),
  charge_on: z.string(),
  not_before: z.string().nullable(),
  noticed_version: z.number().int().nullable(),
  noticed_amount_minor: minor.nullable(),
  notices_sent: z.number().int(),
  attempt: z.number().int(),
  payment_id: z.string().uuid().nullable(),
  updated_at: z.string(),
});

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function registerAutopayOpsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = deps.ctx.db;
  const id = z.object({ id: z.string().uuid() });

  r.get(
    '/autopay/clients/:id',
    {
      schema: { tags: ['autopay'], summary: "A client's autopay settings", params: id, response: { 200: clientAutopay, 404: errorBody } },
    },
    async (req) => {
      const caller = callerOf(req);
      return withTenant(db, caller.tenantId, (tx) => getClientAutopay(tx, req.params.id));
    },
  );
  r.put(
    '/autopay/clients/:id',
    {
      schema: {
        tags: ['autopay'],
        summary: "Change a client's autopay settings: pilot switches, lock to one rule, fallback method (fields left out keep their value)",
        params: id,
        body: z
          .object({
            collection_enabled: z.boolean(),
            autopay_enabled: z.boolean(),
            locked_rule_id: z.string().uuid().nullable(),
            fallback_method_id: z.string().uuid().nullable(),
          })
          .partial()
          .strict(),
        response: { 200: clientAutopay, 400: errorBody, 404: errorBody, 422: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const b = Object.fromEntries(Object.entries(req.body).filter(([, v]) => v !== undefined));
      return withTenant(db, caller.tenantId, (tx) => saveClientAutopay(tx, caller.tenantId, req.params.id, b, caller.actor));
    },
  );

  r.post(
    '/clients/:id/payment-methods/sync',
    {
      schema: {
        tags: ['clients'],
        summary: "Record the client's methods saved at the processor",
        params: id,
        response: {
          200: z.object({ data: z.array(z.object({ id: z.string().uuid(), kind: z.string(), brand: z.string().nullable(), last4: z.string() })) }),
          404: errorBody,
          409: errorBody,
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const methods = await syncSavedMethods(deps.ctx, caller.tenantId, req.params.id, caller.actor);
      return { data: methods.map((m) => ({ id: m.id, kind: m.kind, brand: m.brand, last4: m.last4 })) };
    },
  );
  r.put(
    '/clients/:id/payment-methods/:methodId/default',
    {
      schema: {
        tags: ['clients'],
        summary: "Make a saved method the client's default (autopay charges it first)",
        params: z.object({ id: z.string().uuid(), methodId: z.string().uuid() }),
        response: { 204: z.null(), 404: errorBody },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      await withTenant(db, caller.tenantId, (tx) => setDefaultMethod(tx, caller.tenantId, req.params.id, req.params.methodId, caller.actor));
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/autopay/schedules',
    {
      schema: {
        tags: ['autopay'],
        summary: 'Autopay schedules (one per invoice): state, what the client was told, the payment',
        querystring: pageQuery.extend({
          state: z.enum(['pending_notice', 'awaiting_approval', 'blocked', 'noticed', 'charging', 'charged', 'failed', 'cancelled']).optional(),
          invoice_id: z.string().uuid().optional(),
        }),
        response: { 200: z.object({ data: z.array(scheduleOut) }) },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(db, caller.tenantId, (tx) => {
        let q = tx.selectFrom('autopay_schedules as s').innerJoin('invoices as i', 'i.id', 's.invoice_id').selectAll('s').select('i.number as invoice_number');
        if (req.query.state) q = q.where('s.state', '=', req.query.state);
        if (req.query.invoice_id) q = q.where('s.invoice_id', '=', req.query.invoice_id);
        return q.orderBy('s.updated_at', 'desc').limit(req.query.limit).offset(req.query.offset).execute();
      });
      return {
        data: rows.map((s) => ({
          id: s.id,
          invoice_id: s.invoice_id,
          invoice_number: s.invoice_number,
          client_id: s.client_id,
          rule_id: s.rule_id,
          state: s.state,
          reason: s.reason,
          charge_on: s.charge_on,
          not_before: s.not_before,
          noticed_version: s.noticed_version,
          noticed_amount_minor: s.noticed_amount_minor === null ? null : s.noticed_amount_minor.toString(),
          notices_sent: s.notices_sent,
          attempt: s.attempt,
          payment_id: s.payment_id,
          updated_at: iso(s.updated_at)!,
        })),
      };
    },
  );

  r.get(
    '/autopay/approvals',
    {
      schema: {
        tags: ['autopay'],
        summary: 'Charges waiting for (or decided by) staff approval',
        querystring: pageQuery.extend({ status: z.enum(['pending', 'approved', 'rejected', 'superseded']).optional() }),
        response: { 200: z.object({ data: z.array(approvalOut) }) },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(db, caller.tenantId, (tx) => {
        let q = tx
          .selectFrom('autopay_approvals as a')
          .innerJoin('invoices as i', 'i.id', 'a.invoice_id')
          .innerJoin('clients as c', 'c.id', 'i.client_id')
          .selectAll('a')
          .select(['i.number as invoice_number', 'c.id as client_id', 'c.name as client_name']);
        if (req.query.status) q = q.where('a.status', '=', req.query.status);
        return q.orderBy('a.created_at', 'desc').limit(req.query.limit).offset(req.query.offset).execute();
      });
      return {
        data: rows.map((a) => ({
          id: a.id,
          status: a.status,
          invoice_id: a.invoice_id,
          invoice_number: a.invoice_number,
          client_id: a.client_id,
          client_name: a.client_name,
          invoice_version: a.invoice_version,
          amount_minor: a.amount_minor.toString(),
          currency: a.currency,
          reasons: a.reasons,
          detail: a.detail as Record<string, unknown>,
          decided_by: a.decided_by,
          decided_at: iso(a.decided_at),
          note: a.note,
          created_at: iso(a.created_at)!,
        })),
      };
    },
  );
  for (const decision of ['approve', 'reject'] as const) {
    r.post(
      `/autopay/approvals/:id/${decision}`,
      {
        schema: {
          tags: ['autopay'],
          summary:
            decision === 'approve'
              ? 'Approve a waiting autopay charge (the notice and charge follow)'
              : 'Reject a waiting autopay charge (the schedule is cancelled; a client already told is told it is off)',
          params: id,
          body: z
            .object({ note: z.string().trim().max(1000).optional() })
            .strict()
            .nullish(),
          response: { 200: z.object({ id: z.string().uuid(), status: z.string() }), 404: errorBody, 409: errorBody },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        const r2 = await decideAutopayApproval(deps.ctx, caller.tenantId, {
          approvalId: req.params.id,
          decision,
          note: req.body?.note ?? null,
          actor: caller.actor,
        });
        return { id: req.params.id, status: r2.status };
      },
    );
  }

  r.post(
    '/autopay/runs',
    {
      schema: {
        tags: ['autopay'],
        summary: 'Run autopay for this workspace now (otherwise every five minutes)',
        response: { 202: z.object({ queued: z.boolean() }) },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      await withTenant(db, caller.tenantId, (tx) =>
        enqueue(
          tx,
          'autopay-run',
          { tenantId: caller.tenantId },
          { jobKey: `autopay-run:${caller.tenantId}`, queueName: `autopay:${caller.tenantId}`, maxAttempts: 5 },
        ),
      );
      return reply.code(202).send({ queued: true });
    },
  );
}
