// Who is calling: an API key (Authorization: Bearer stl_…) or a staff session cookie. Either resolves to
// one tenant; every handler then works inside that tenant's row-level-security context.
// The session cookie holds only a random id; the session lives in the database (engine/staff-sessions.ts),
// so ending it (sign-out, password change, removal of the user) refuses the cookie on the next request.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/pool.ts';
import type { Actor } from '../engine/audit.ts';
import type { StaffRole } from '../domain/roles.ts';
import { authenticateApiKey } from './api-key-auth.ts';
import { DEFAULT_TIMEOUTS, findSession, type SessionTimeouts, type StaffSession } from '../engine/staff-sessions.ts';

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
    if (k !== name) continue;
    // A malformed escape (%ZZ) is no cookie of ours, not a 500 (issue #8 item 8).
    try {
      return decodeURIComponent(v.join('='));
    } catch {
      return null;
    }
  }
  return null;
}

/** The staff session named by the request's cookie, if it is live. */
export async function staffSession(req: FastifyRequest, db: Db, timeouts: SessionTimeouts = DEFAULT_TIMEOUTS): Promise<StaffSession | null> {
  const cookie = readCookie(req, SESSION_COOKIE);
  // A request a page makes by itself (?auto=1: a poll for progress, say) is not a person using the session,
  // so it does not keep an unattended session alive. No staff page reloads itself on a timer.
  const automatic = (req.query as Record<string, unknown> | undefined)?.auto === '1';
  return cookie ? findSession(db, cookie, timeouts, { touch: !automatic }) : null;
}

/** Set-Cookie value for the session cookie (empty value and Max-Age=0 clear it). Secure when served over https. */
export function sessionCookie(value: string, maxAgeSec: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${maxAgeSec}${secure ? '; Secure' : ''}`;
}

/**
 * /api/v1 callers: bearer API keys only, never the session cookie (issue #8 item 3). A browser attaches the
 * cookie to any request a page on another origin makes it send; it can never attach a bearer key.
 */
export async function identifyApiKey(req: FastifyRequest, db: Db): Promise<Caller | null> {
  const auth = req.headers.authorization;
  if (!auth?.startsWith('Bearer ')) {
    if (readCookie(req, SESSION_COOKIE))
      refusals.set(req, 'the API does not accept the staff sign-in cookie, only an API key (create one with `settle api-key create`)');
    return null;
  }
  const key = await authenticateApiKey(db, auth.slice(7).trim(), req.log);
  if (key.ok) return { tenantId: key.tenantId, actor: `api_key:${key.keyId}`, role: key.role };
  refusals.set(req, key.message);
  return null;
}

// sessionSecret is no longer used for sessions (kept for callers' signatures); timeouts come from HttpDeps.staff.
export async function identify(req: FastifyRequest, db: Db, _sessionSecret: string, timeouts: SessionTimeouts = DEFAULT_TIMEOUTS): Promise<Caller | null> {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) {
    const key = await authenticateApiKey(db, auth.slice(7).trim(), req.log);
    if (key.ok) return { tenantId: key.tenantId, actor: `api_key:${key.keyId}`, role: key.role };
    refusals.set(req, key.message);
    return null;
  }
  // The session and the user's role are read on every request, so a changed role, an ended session or a
  // removed user counts at once.
  const session = await staffSession(req, db, timeouts);
  return session ? { tenantId: session.tenantId, actor: `user:${session.userId}`, role: session.role } : null;
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
