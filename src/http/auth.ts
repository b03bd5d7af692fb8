// Who is calling: an API key (Authorization: Bearer stl_…) or a staff session cookie. Either resolves to
// one tenant; every handler then works inside that tenant's row-level-security context.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../db/tenant.ts';
import type { Db } from '../db/pool.ts';
import type { Actor } from '../engine/audit.ts';
import type { StaffRole } from '../domain/roles.ts';
import { authenticateApiKey } from './api-key-auth.ts';
import { verifyToken } from './signed-token.ts';

export interface Caller {
  readonly tenantId: string;
  readonly actor: Actor;
  /** What the caller may do (http/permissions.ts): the user's role, or the role the API key was made with. */
  readonly role: StaffRole;
}

// Why a presented credential was refused (a revoked or expired key), for the 401's message.
const refusals = new WeakMap<FastifyRequest, string>();

export const SESSION_COOKIE = 'settle_session';

export function readCookie(req: FastifyRequest, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

export async function identify(req: FastifyRequest, db: Db, sessionSecret: string): Promise<Caller | null> {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) {
    const key = await authenticateApiKey(db, auth.slice(7).trim(), req.log);
    if (key.ok) return { tenantId: key.tenantId, actor: `api_key:${key.keyId}`, role: key.role };
    refusals.set(req, key.message);
    return null;
  }
  const cookie = readCookie(req, SESSION_COOKIE);
  if (cookie) {
    const check = verifyToken<{ t: string; u: string; exp: number }>(cookie, sessionSecret);
    if (!check.ok) return null;
    // The role is read on every request, so a changed role (or a removed user) counts at once.
    const user = await withTenant(db, check.claims.t, (tx) => tx.selectFrom('users').select('role').where('id', '=', check.claims.u).executeTakeFirst());
    if (user) return { tenantId: check.claims.t, actor: `user:${check.claims.u}`, role: user.role };
  }
  return null;
}

export function unauthorized(reply: FastifyReply): FastifyReply {
  const refused = refusals.get(reply.request);
  return reply.code(401).send({
    error: {
      code: 'unauthorized',
      message: refused
        ? `${refused}; send it as "Authorization: Bearer stl_…"`
        : 'send an API key as "Authorization: Bearer stl_…" (create one with `settle api-key create`), or sign in at /login',
    },
  });
}
