import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { boxOf, UseCaseError } from '../../engine/context.ts';
import { audit } from '../../engine/audit.ts';
import { portalLinkFor } from '../portal/links.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody, pageQuery } from './schemas.ts';

const client = z.object({
  id: z.string().uuid(),
  name: z.string(),
  identifier: z.string(),
  billing_email: z.string().nullable(),
  collection_enabled: z.boolean(),
  autopay_enabled: z.boolean(),
});

export function registerClientRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/clients',
    {
      schema: {
        tags: ['clients'],
        summary: "The MSP's clients, synced from the PSA",
        querystring: pageQuery,
        response: { 200: z.object({ data: z.array(client) }) },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(deps.ctx.db, caller.tenantId, (tx) =>
        tx
          .selectFrom('clients')
          .select(['id', 'name', 'identifier', 'billing_email', 'collection_enabled', 'autopay_enabled'])
          .orderBy('name')
          .limit(req.query.limit)
          .offset(req.query.offset)
          .execute(),
      );
      return { data: rows };
    },
  );
  r.get(
    '/clients/:id/payment-methods',
    {
      schema: {
        tags: ['clients'],
        summary: 'Saved payment methods of a client (processor tokens; never card or account numbers)',
        params: z.object({ id: z.string().uuid() }),
        response: {
          200: z.object({
            data: z.array(
              z.object({
                id: z.string().uuid(),
                kind: z.string(),
                brand: z.string().nullable(),
                last4: z.string(),
                funding: z.string().nullable(),
                is_default: z.boolean(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(deps.ctx.db, caller.tenantId, (tx) =>
        tx.selectFrom('payment_methods').select(['id', 'kind', 'brand', 'last4', 'funding', 'is_default']).where('client_id', '=', req.params.id).execute(),
      );
      return { data: rows };
    },
  );
  r.post(
    '/clients/:id/portal-links',
    {
      schema: {
        tags: ['clients'],
        summary: 'Create a signed, expiring link to the client payment portal',
        params: z.object({ id: z.string().uuid() }),
        body: z
          .object({
            ttl_hours: z
              .number()
              .int()
              .min(1)
              .max(24 * 60)
              .optional(),
          })
          .optional(),
        response: { 201: z.object({ url: z.string().url(), expires_at: z.string() }), 404: errorBody },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const ttl = (req.body?.ttl_hours ?? 0) * 3600 || deps.portalLinkTtlSec;
      const link = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const c = await tx.selectFrom('clients').select('id').where('id', '=', req.params.id).executeTakeFirst();
        if (!c) throw new UseCaseError('not_found', `no client ${req.params.id} in this workspace`);
        const l = await portalLinkFor(tx, deps.ctx.publicUrl, caller.tenantId, c.id, ttl, boxOf(deps.ctx));
        await audit(tx, caller.tenantId, caller.actor, 'portal_link.created', { type: 'client', id: c.id }, { expires_at: l.expiresAt });
        return l;
      });
      return reply.code(201).send({ url: link.url, expires_at: link.expiresAt });
    },
  );
}
