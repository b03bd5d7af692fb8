// Shared pieces of the staff account pages: the signed-in check, the session cookie, and a page with one
// message. The pages themselves are Eta views rendered in the staff app's layout (http/staff/view.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { sessionCookie, staffSession } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { DEFAULT_TIMEOUTS, type SessionTimeouts, type StaffSession } from '../../engine/staff-sessions.ts';
import { ownersMustUseMfa } from '../../engine/staff-mfa.ts';
import type { SecretBox } from '../../db/crypto.ts';
import { renderStaff } from '../staff/view.ts';

export function timeoutsOf(deps: HttpDeps): SessionTimeouts {
  return deps.staff?.timeouts ?? DEFAULT_TIMEOUTS;
}

export function boxOf(deps: HttpDeps): SecretBox {
  if (!deps.staff) throw new Error('staff settings (the instance key) are not configured for this server');
  return deps.staff.box;
}

export function secure(deps: HttpDeps): boolean {
  return deps.security?.https ?? false;
}

export function setSessionCookie(reply: FastifyReply, deps: HttpDeps, token: string): FastifyReply {
  return reply.header('set-cookie', sessionCookie(token, timeoutsOf(deps).absoluteSec, secure(deps)));
}

export function clearSessionCookie(reply: FastifyReply, deps: HttpDeps): FastifyReply {
  return reply.header('set-cookie', sessionCookie('', 0, secure(deps)));
}

export interface Message {
  readonly title: string;
  readonly message: string;
  readonly kind?: 'error' | 'ok';
  readonly link?: { readonly href: string; readonly text: string };
  /** Show the link as a button (the one thing to do next). */
  readonly button?: boolean;
}

/** A page with one message and, where there is one, the link to what to do next (views/message.eta). */
export function showMessage(req: FastifyRequest, reply: FastifyReply, m: Message, status = 200): Promise<FastifyReply> {
  return renderStaff(req, reply, 'message', { ...m }, { status });
}

/** The signed-in staff member, or null after answering (a redirect to /login for a page, 401 for a form). */
export async function requireSession(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps): Promise<StaffSession | null> {
  const session = await staffSession(req, deps.ctx.db, timeoutsOf(deps));
  if (session) return session;
  if (req.method === 'GET') await reply.redirect('/login');
  else
    await showMessage(
      req,
      reply,
      { title: 'Sign in', message: 'Your session has ended.', kind: 'error', link: { href: '/login', text: 'Sign in again' } },
      401,
    );
  return null;
}

/** Whether this owner must turn on a second factor before anything else (the workspace requires it). */
export async function mustEnrolMfa(deps: HttpDeps, session: StaffSession): Promise<boolean> {
  if (session.role !== 'owner') return false;
  return withTenant(deps.ctx.db, session.tenantId, async (tx) => {
    if (!(await ownersMustUseMfa(tx, session.tenantId))) return false;
    const u = await tx.selectFrom('users').select('mfa_enabled_at').where('id', '=', session.userId).executeTakeFirst();
    return !u?.mfa_enabled_at;
  });
}

/** A form's outcome for a page: an error (shown in the error summary, linked to its field when it has one) or a success line. */
export interface Outcome {
  readonly error?: string;
  /** The input the error is about (its id on the page). */
  readonly field?: string | undefined;
  readonly ok?: string;
}

export function errorsOf(o: Outcome): { field?: string; message: string }[] {
  return o.error ? [{ ...(o.field ? { field: o.field } : {}), message: o.error }] : [];
}
