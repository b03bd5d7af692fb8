// Staff exceptions over the API: what needs a person (failed payments first), and dismissing one. An
// exception about invoices also resolves itself when they are paid.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { dismissException } from '../../engine/exceptions.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody, pageQuery } from './schemas.ts';

const exception = z.object({
  id: z.string().uuid(),
  kind: z.string(),
  status: z.enum(['open', 'resolved']),
  title: z.string(),
  detail: z.string(),
  client_id: z.string().uuid().nullable(),
  invoice_ids: z.array(z.string().uuid()),
  payment_id: z.string().uuid().nullable(),
  data: z.record(z.unknown()),
  opened_at: z.string(),
  updated_at: z.string(),
  resolved_at: z.string().nullable(),
  resolved_by: z.string().nullable(),
  resolution: z.string().nullable(),
});

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function registerExceptionRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/exceptions',
    {
      schema: {
        tags: ['exceptions'],
        summary: 'What needs a person: failed payments and other exceptions, newest first (open ones by default)',
        querystring: pageQuery.extend({ status: z.enum(['open', 'resolved', 'all']).default('open'), kind: z.string().max(64).optional() }),
        response: { 200: z.object({ data: z.array(exception) }) },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(deps.ctx.db, caller.tenantId, (tx) => {
        let q = tx.selectFrom('exceptions').selectAll().orderBy('opened_at', 'desc').orderBy('id').limit(req.query.limit).offset(req.query.offset);
        if (req.query.status !== 'all') q = q.where('status', '=', req.query.status);
        if (req.query.kind) q = q.where('kind', '=', req.query.kind);
        return q.execute();
      });
      return {
        data: rows.map((e) => ({
          id: e.id,
          kind: e.kind,
          status: e.status,
          title: e.title,
          detail: e.detail,
          client_id: e.client_id,
          invoice_ids: e.invoice_ids,
          payment_id: e.payment_id,
          data: e.data,
          opened_at: iso(e.opened_at)!,
          updated_at: iso(e.updated_at)!,
          resolved_at: iso(e.resolved_at),
          resolved_by: e.resolved_by,
          resolution: e.resolution,
        })),
      };
    },
  );

  r.post(
    '/exceptions/:id/dismiss',
    {
      schema: {
        tags: ['exceptions'],
        summary: 'Dismiss an open exception (recorded in the audit log with who and why)',
        params: z.object({ id: z.string().uuid() }),
        body: z
          .object({ note: z.string().max(500).optional() })
          .strict()
          .optional(),
        response: {
          200: z.object({ id: z.string().uuid(), status: z.literal('resolved'), resolution: z.literal('dismissed') }),
          404: errorBody,
          409: errorBody,
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      await withTenant(deps.ctx.db, caller.tenantId, (tx) => dismissException(tx, caller.tenantId, req.params.id, caller.actor, req.body?.note ?? null));
      return { id: req.params.id, status: 'resolved' as const, resolution: 'dismissed' as const };
    },
  );
}
