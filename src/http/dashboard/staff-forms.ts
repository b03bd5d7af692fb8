// Shared pieces of the staff account pages: the signed-in check, the CSRF field, the session cookie, and a
// small page frame in the dashboard's style.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { html, page, type Raw } from '../html.ts';
import { sessionCookie, staffSession } from '../auth.ts';
import { csrfField, csrfToken } from '../csrf.ts';
import type { HttpDeps } from '../deps.ts';
import { DEFAULT_TIMEOUTS, type SessionTimeouts, type StaffSession } from '../../engine/staff-sessions.ts';
import { ownersMustUseMfa } from '../../engine/staff-mfa.ts';
import type { SecretBox } from '../../db/crypto.ts';

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

/** The hidden CSRF field for a form on the page being rendered (http/csrf.ts checks it on POST). */
export function csrf(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps): Raw {
  return csrfField(csrfToken(req, reply, deps.sessionSecret, secure(deps)));
}

export function setSessionCookie(reply: FastifyReply, deps: HttpDeps, token: string): FastifyReply {
  return reply.header('set-cookie', sessionCookie(token, timeoutsOf(deps).absoluteSec, secure(deps)));
}

export function clearSessionCookie(reply: FastifyReply, deps: HttpDeps): FastifyReply {
  return reply.header('set-cookie', sessionCookie('', 0, secure(deps)));
}

/** The signed-in staff member, or null after answering (a redirect to /login for a page, 401 for a form). */
export async function requireSession(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps): Promise<StaffSession | null> {
  const session = await staffSession(req, deps.ctx.db, timeoutsOf(deps));
  if (session) return session;
  // Not awaited: a FastifyReply is a thenable, and the handler returns `reply` once this has answered.
  if (req.method === 'GET') void reply.redirect('/login');
  else
    void reply
      .code(401)
      .type('text/html')
      .send(
        staffPage(
          'Sign in',
          html`<div class="card">
            <p class="error">Your session has ended. <a href="/login">Sign in</a> again.</p>
          </div>`,
        ),
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

/** The bar on every signed-in staff page: who is signed in, links, and the sign-out button. */
export function staffNav(session: StaffSession, csrfInput: Raw): Raw {
  return html`<div class="card" style="display:flex;gap:14px;align-items:center;flex-wrap:wrap">
    <span class="muted">Signed in as ${session.email} (${session.role})</span>
    <a href="/dashboard">Dashboard</a>
    <a href="/account">Your account</a> ${session.role === 'owner' ? html`<a href="/users">Users</a> <a href="/api-keys">API keys</a>` : ''}
    <form method="post" action="/logout" style="margin:0 0 0 auto">${csrfInput}<button type="submit" id="sign-out">Sign out</button></form>
  </div>`;
}

export function staffPage(title: string, body: Raw): string {
  return page(title, body);
}

export function sendPage(reply: FastifyReply, title: string, body: Raw, code = 200): FastifyReply {
  return reply.code(code).type('text/html').header('cache-control', 'no-store').send(staffPage(title, body));
}

export function notice(text: string | undefined, kind: 'error' | 'ok' = 'error'): Raw | string {
  return text ? html`<p class="${kind === 'error' ? 'error' : 'pill ok'}">${text}</p>` : '';
}
