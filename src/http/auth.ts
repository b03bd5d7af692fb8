// Who is calling: an API key (Authorization: Bearer stl_…) or a staff session cookie. Either resolves to
// one tenant; every handler then works inside that tenant's row-level-security context.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { findApiKeyByHash } from '../db/tenant.ts';
import type { Db } from '../db/pool.ts';
import type { Actor } from '../engine/audit.ts';
import { hashApiKey } from './passwords.ts';
import { verifyToken } from './signed-token.ts';

export interface Caller {
  readonly tenantId: string;
  readonly actor: Actor;
}

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
    const key = auth.slice(7).trim();
    if (!/^stl_[A-Za-z0-9_-]{20,}$/.test(key)) return null;
    const row = await findApiKeyByHash(db, hashApiKey(key));
    return row ? { tenantId: row.tenant_id, actor: `api_key:${row.id}` } : null;
  }
  const cookie = readCookie(req, SESSION_COOKIE);
  if (cookie) {
    const check = verifyToken<{ t: string; u: string; exp: number }>(cookie, sessionSecret);
    if (check.ok) return { tenantId: check.claims.t, actor: `user:${check.claims.u}` };
  }
  return null;
}

export function unauthorized(reply: FastifyReply): FastifyReply {
  return reply.code(401).send({
    error: {
      code: 'unauthorized',
      message: 'send an API key as "Authorization: Bearer stl_…" (create one with `settle api-key create`), or sign in at /login',
    },
  });
}
