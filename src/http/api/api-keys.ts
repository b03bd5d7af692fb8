// API keys of the workspace, for owners (http/permissions.ts): list them with role, expiry and last use,
// make one (the secret is in this answer only), revoke one. The same as `settle api-key …`.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_ROLES } from '../../domain/roles.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../../engine/api-keys.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody } from './schemas.ts';

const keyView = z.object({
  id: z.string().uuid(),
  name: z.string(),
  prefix: z.string(),
  role: z.enum(STAFF_ROLES),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function registerApiKeyRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api-keys',
    {
      schema: {
        tags: ['api keys'],
        summary: "The workspace's API keys (never their secrets), oldest first",
        response: { 200: z.object({ data: z.array(keyView) }) },
      },
    },
    async (req) => {
      const keys = await listApiKeys(deps.ctx.db, callerOf(req).tenantId);
      return {
        data: keys.map((k) => ({
          ...k,
          created_at: k.created_at.toISOString(),
          expires_at: iso(k.expires_at),
          last_used_at: iso(k.last_used_at),
          revoked_at: iso(k.revoked_at),
        })),
      };
    },
  );
  r.post(
    '/api-keys',
    {
      schema: {
        tags: ['api keys'],
        summary: 'Make an API key acting with a role; its secret is in this answer only',
        description: 'role: viewer (reads), finance (also moves money), owner (also settings, users, keys). expires_at: optional, in the future.',
        body: z.object({ name: z.string().min(1).max(100), role: z.enum(STAFF_ROLES), expires_at: z.string().datetime({ offset: true }).optional() }),
        response: {
          201: z.object({ id: z.string().uuid(), secret: z.string(), role: z.enum(STAFF_ROLES), expires_at: z.string().nullable() }),
          400: errorBody,
          422: errorBody,
        },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const expiresAt = req.body.expires_at ? new Date(req.body.expires_at) : null;
      if (expiresAt && expiresAt.getTime() <= Date.now())
        return reply.code(422).send({ error: { code: 'invalid', message: `expires_at ${expiresAt.toISOString()} is not in the future` } });
      const key = await createApiKey(deps.ctx.db, caller.tenantId, { name: req.body.name, role: req.body.role, expiresAt }, caller.actor);
      return reply.code(201).send({ id: key.id, secret: key.secret, role: req.body.role, expires_at: iso(expiresAt) });
    },
  );
  r.delete(
    '/api-keys/:id',
    {
      schema: {
        tags: ['api keys'],
        summary: 'Revoke an API key: refused from its next request',
        params: z.object({ id: z.string().uuid() }),
        response: { 200: z.object({ id: z.string().uuid(), revoked: z.literal(true), already_revoked: z.boolean() }), 404: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const r = await revokeApiKey(deps.ctx.db, caller.tenantId, req.params.id, caller.actor);
      return { id: r.id, revoked: true as const, already_revoked: r.alreadyRevoked };
    },
  );
}
