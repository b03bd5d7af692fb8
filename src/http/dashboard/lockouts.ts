// Staff → Sign-in lockouts: an owner sees which e-mails are locked for sign-in from which address (after
// repeated failed attempts) and lifts a lock at once, so that a colleague locked out by a typo, or by someone
// guessing their password, does not wait for it to end. The server-side equivalent is `settle user unlock`.
//   GET  /staff/lockouts          the list, each with an Unlock button (a form with the session's CSRF token)
//   POST /staff/lockouts/unlock   { email, address? } → lifts the lock, audited with the owner's name
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { activeLockouts, unlockSignIn } from '../../engine/sign-in-lockout.ts';
import { identify, type Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { renderStaff } from '../staff/view.ts';
import { showMessage } from './staff-forms.ts';

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
      await showMessage(req, reply, { title: 'Not allowed', message: 'Only a workspace owner can lift sign-in locks.', kind: 'error' }, 403);
      return null;
    }
    return caller;
  }

  app.get<{ Querystring: { unlocked?: string } }>('/staff/lockouts', { schema: { hide: true } }, async (req, reply) => {
    const caller = await owner(req, reply);
    if (!caller) return reply;
    const locks = await activeLockouts(deps.ctx.db, caller.tenantId);
    const unlocked = typeof req.query.unlocked === 'string' ? req.query.unlocked.slice(0, 320) : '';
    return renderStaff(req, reply, 'lockouts', { locks, unlocked });
  });

  app.post<{ Body: { email?: unknown; address?: unknown } }>('/staff/lockouts/unlock', { schema: { hide: true } }, async (req, reply) => {
    const caller = await owner(req, reply);
    if (!caller) return reply;
    const email = typeof req.body?.email === 'string' ? req.body.email.trim() : '';
    const address = typeof req.body?.address === 'string' && req.body.address.trim() ? req.body.address.trim() : undefined;
    if (!email || email.length > 320) {
      return showMessage(
        req,
        reply,
        { title: 'Unlock', message: 'Say which e-mail to unlock.', kind: 'error', link: { href: '/staff/lockouts', text: 'Back to sign-in lockouts' } },
        400,
      );
    }
    const lifted = await unlockSignIn(deps.ctx.db, caller.tenantId, email, caller.actor, address);
    req.log.warn({ tenant: caller.tenantId, by: caller.actor, email, address, lifted }, 'sign-in unlocked');
    return reply.redirect(`/staff/lockouts?unlocked=${encodeURIComponent(email)}`, 303);
  });
}
