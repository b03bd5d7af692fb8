import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { minor, pageQuery } from './schemas.ts';

export function registerActivityRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/postings',
    {
      schema: {
        tags: ['postings'],
        summary: 'Effects written (or waiting to be written) to the PSA and the books',
        querystring: pageQuery.extend({ status: z.enum(['pending', 'posted', 'failed']).optional() }),
        response: {
          200: z.object({
            data: z.array(
              z.object({
                id: z.string(),
                target: z.string(),
                vendor: z.string(),
                kind: z.string(),
                status: z.string(),
                amount_minor: minor,
                remote_id: z.string().nullable(),
                attempts: z.number(),
                last_error: z.string().nullable(),
                idempotency_key: z.string(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(deps.ctx.db, caller.tenantId, (tx) => {
        let q = tx
          .selectFrom('postings')
          .select(['id', 'target', 'vendor', 'kind', 'status', 'amount_minor', 'remote_id', 'attempts', 'last_error', 'idempotency_key'])
          .orderBy('created_at', 'desc')
          .limit(req.query.limit)
          .offset(req.query.offset);
        if (req.query.status) q = q.where('status', '=', req.query.status);
        return q.execute();
      });
      return { data: rows.map((x) => ({ ...x, amount_minor: x.amount_minor.toString() })) };
    },
  );
  r.get(
    '/audit-log',
    {
      schema: {
        tags: ['audit'],
        summary: 'Money movements and configuration changes, newest first',
        querystring: pageQuery,
        response: {
          200: z.object({
            data: z.array(
              z.object({
                id: z.string(),
                actor: z.string(),
                action: z.string(),
                subject_type: z.string(),
                subject_id: z.string().nullable(),
                detail: z.unknown(),
                created_at: z.string(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(deps.ctx.db, caller.tenantId, (tx) =>
        tx.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(req.query.limit).offset(req.query.offset).execute(),
      );
      return {
        data: rows.map((x) => ({
          id: x.id.toString(),
          actor: x.actor,
          action: x.action,
          subject_type: x.subject_type,
          subject_id: x.subject_id,
          detail: x.detail,
          created_at: new Date(x.created_at).toISOString(),
        })),
      };
    },
  );
}
