import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { createPortalLink } from '../../engine/portal-links.ts';
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
        tx
          .selectFrom('payment_methods')
          .select(['id', 'kind', 'brand', 'last4', 'funding', 'is_default'])
          .where('client_id', '=', req.params.id)
          .where('removed_at', 'is', null)
          .execute(),
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
      const link = await withTenant(deps.ctx.db, caller.tenantId, (tx) => createPortalLink(deps.ctx, tx, caller.tenantId, req.params.id, ttl, caller.actor));
      return reply.code(201).send({ url: link.url, expires_at: link.expiresAt });
    },
  );
}
