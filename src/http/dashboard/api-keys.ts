// "API keys" (owners only; the role is enforced from http/permissions.ts): every key with its role, expiry
// and last use; make one (its secret is shown on this answer only); revoke one. The same as
// `settle api-key …` and /api/v1/api-keys (engine/api-keys.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyInputError, createApiKey, listApiKeys, parseExpiry, parseRole, revokeApiKey } from '../../engine/api-keys.ts';
import type { StaffSession } from '../../engine/staff-sessions.ts';
import { renderStaff } from '../staff/view.ts';
import type { HttpDeps } from '../deps.ts';
import { errorsOf, requireSession, type Outcome } from './staff-forms.ts';

interface View extends Outcome {
  /** A key just made: its secret, shown once. */
  readonly secret?: string;
}

async function keysPage(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps, session: StaffSession, view: View = {}, code = 200): Promise<FastifyReply> {
  const keys = await listApiKeys(deps.ctx.db, session.tenantId);
  return renderStaff(req, reply, 'api-keys', { keys, now: Date.now(), secret: view.secret, errors: errorsOf(view), ok: view.ok }, { status: code });
}

export function registerApiKeyPages(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api-keys', { schema: { hide: true } }, async (req, reply) => {
    const session = await requireSession(req, reply, deps);
    if (!session) return reply;
    return keysPage(req, reply, deps, session);
  });

  app.post('/api-keys/create', { schema: { hide: true } }, async (req, reply) => {
    const session = await requireSession(req, reply, deps);
    if (!session) return reply;
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    try {
      const expires = body.expires?.trim();
      const key = await createApiKey(
        deps.ctx.db,
        session.tenantId,
        { name: body.name ?? '', role: parseRole(body.role), expiresAt: expires ? parseExpiry(expires) : null },
        `user:${session.userId}`,
      );
      return keysPage(req, reply, deps, session, { ok: `Key made (${parseRole(body.role)}).`, secret: key.secret });
    } catch (e) {
      if (e instanceof ApiKeyInputError)
        return keysPage(
          req,
          reply,
          deps,
          session,
          {
            error: e.message.replace(/^--expires/, 'Expires'),
            field: /expires/i.test(e.message) ? 'expires' : /name/i.test(e.message) ? 'key-name' : undefined,
          },
          400,
        );
      throw e;
    }
  });

  app.post<{ Params: { id: string } }>('/api-keys/:id/revoke', { schema: { hide: true } }, async (req, reply) => {
    const session = await requireSession(req, reply, deps);
    if (!session) return reply;
    try {
      const r = await revokeApiKey(deps.ctx.db, session.tenantId, req.params.id, `user:${session.userId}`);
      return keysPage(req, reply, deps, session, {
        ok: r.alreadyRevoked ? `${r.name} was already revoked.` : `${r.name} revoked: it is refused from its next request.`,
      });
    } catch (e) {
      if (e instanceof ApiKeyInputError) return keysPage(req, reply, deps, session, { error: e.message }, e.code === 'not_found' ? 404 : 400);
      throw e;
    }
  });
}
