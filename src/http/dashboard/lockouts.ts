// Staff → Sign-in lockouts: an owner sees which e-mails are locked for sign-in from which address (after
// repeated failed attempts) and lifts a lock at once, so that a colleague locked out by a typo, or by someone
// guessing their password, does not wait for it to end. The server-side equivalent is `settle user unlock`.
//   GET  /staff/lockouts          the list, each with an Unlock button (a form with the session's CSRF token)
//   POST /staff/lockouts/unlock   { email, address? } → lifts the lock, audited with the owner's name
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { activeLockouts, unlockSignIn } from '../../engine/sign-in-lockout.ts';
import { identify, type Caller } from '../auth.ts';
import { csrfField, csrfToken } from '../csrf.ts';
import type { HttpDeps } from '../deps.ts';
import { html, page } from '../html.ts';

export function registerLockoutRoutes(app: FastifyInstance, deps: HttpDeps): void {
  // The permission table (http/permissions.ts) requires an owner; checked here too, so the page never
  // depends on that hook alone.
  async function owner(req: FastifyRequest, reply: FastifyReply): Promise<Caller | null> {
    const caller = req.caller ?? (await identify(req, deps.ctx.db, deps.sessionSecret, deps.staff?.timeouts));
    if (!caller) {
      await reply.redirect('/login');
      return null;
    }
    if (caller.role !== 'owner') {
      await reply
        .code(403)
        .type('text/html')
        .send(page('Not allowed', html`<div class="card"><p class="error">Only a workspace owner can lift sign-in locks.</p></div>`));
      return null;
    }
    return caller;
  }

  app.get<{ Querystring: { unlocked?: string } }>('/staff/lockouts', { schema: { hide: true } }, async (req, reply) => {
    const caller = await owner(req, reply);
    if (!caller) return reply;
    const locks = await activeLockouts(deps.ctx.db, caller.tenantId);
    const token = csrfToken(req, reply, deps.sessionSecret, deps.security?.https ?? false);
    const unlocked = typeof req.query.unlocked === 'string' ? req.query.unlocked.slice(0, 320) : '';
    const body = html`<div class="card">
      <h3 style="margin-top:0">Sign-in lockouts</h3>
      <p class="muted">
        After repeated failed sign-ins from one address, that e-mail is locked for sign-in from that address for 15 minutes, then longer each time. Unlocking
        also forgets the failed attempts.
      </p>
      ${unlocked ? html`<p class="ok" id="unlocked">Unlocked ${unlocked}.</p>` : ''}
      ${
        locks.length === 0
          ? html`<p id="no-locks">No sign-in is locked.</p>`
          : html`<table id="lockouts">
              <thead>
                <tr>
                  <th>E-mail</th>
                  <th>Address</th>
                  <th>Locked until (UTC)</th>
                  <th>Locks in a row</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${locks.map(
                  (l) =>
                    html`<tr>
                      <td>${l.email}</td>
                      <td>${l.address}</td>
                      <td>${l.lockedUntil.toISOString().slice(0, 16).replace('T', ' ')}</td>
                      <td>${l.locks}</td>
                      <td>
                        <form method="post" action="/staff/lockouts/unlock">
                          ${csrfField(token)}<input type="hidden" name="email" value="${l.email}" /><input type="hidden" name="address" value="${l.address}" />
                          <button type="submit">Unlock</button>
                        </form>
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <p><a href="/dashboard">Back to the dashboard</a></p>
    </div>`;
    return reply.type('text/html').header('cache-control', 'no-store').send(page('Sign-in lockouts', body));
  });

  app.post<{ Body: { email?: unknown; address?: unknown } }>('/staff/lockouts/unlock', { schema: { hide: true } }, async (req, reply) => {
    const caller = await owner(req, reply);
    if (!caller) return reply;
    const email = typeof req.body?.email === 'string' ? req.body.email.trim() : '';
    const address = typeof req.body?.address === 'string' && req.body.address.trim() ? req.body.address.trim() : undefined;
    if (!email || email.length > 320) {
      return reply
        .code(400)
        .type('text/html')
        .send(page('Unlock', html`<div class="card"><p class="error">Say which e-mail to unlock.</p></div>`));
    }
    const lifted = await unlockSignIn(deps.ctx.db, caller.tenantId, email, caller.actor, address);
    req.log.warn({ tenant: caller.tenantId, by: caller.actor, email, address, lifted }, 'sign-in unlocked');
    return reply.redirect(`/staff/lockouts?unlocked=${encodeURIComponent(email)}`, 303);
  });
}
