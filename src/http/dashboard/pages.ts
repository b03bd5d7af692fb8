// The staff sign-in (its password step; the second factor and the session are in sign-in.ts) and the
// doors into the staff app: / and the old /dashboard address lead to /app (http/staff/).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { checkPassword } from '../passwords.ts';
import { signInGuard } from '../sign-in-guard.ts';
import { renderStaff } from '../staff/view.ts';
import { registerLockoutRoutes } from './lockouts.ts';
import { registerStaffAccountRoutes } from './staff-accounts.ts';
import { completeSignIn } from './sign-in.ts';
import type { HttpDeps } from '../deps.ts';

function loginPage(req: FastifyRequest, reply: FastifyReply, error?: string, status = 200): Promise<FastifyReply> {
  return renderStaff(req, reply, 'sign-in', { errors: error ? [{ message: error }] : [] }, { status });
}

export function registerDashboardRoutes(app: FastifyInstance, deps: HttpDeps): void {
  registerLockoutRoutes(app, deps);
  registerStaffAccountRoutes(app, deps);
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/app'));
  const guard = signInGuard(deps);
  app.get('/login', { schema: { hide: true } }, async (req, reply) => loginPage(req, reply));
  app.post<{ Body: { workspace?: string; email?: string; password?: string } }>('/login', { schema: { hide: true } }, async (req, reply) => {
    const { workspace = '', email = '', password = '' } = req.body ?? {};
    const tenant = await deps.ctx.db.selectFrom('tenants').select('id').where('slug', '=', workspace.trim().toLowerCase()).executeTakeFirst();
    // A locked e-mail/address is refused before its password is checked (sign-in-guard.ts).
    if (await guard.refuseIfLocked(req, reply, tenant?.id ?? null, workspace, email)) return reply;
    const user = tenant
      ? await withTenant(deps.ctx.db, tenant.id, (tx) =>
          tx.selectFrom('users').select(['id', 'password_hash']).where('email', '=', email.trim().toLowerCase()).executeTakeFirst(),
        )
      : undefined;
    // Always one password check, against a dummy hash when the workspace or e-mail is unknown (passwords.ts),
    // so the answer takes as long whether or not the account exists.
    // At most a few checks at once (sign-in-guard.ts): a flood cannot take every core.
    const checked = await guard.checkSlot(() => checkPassword(password, user?.password_hash));
    if (!checked) {
      guard.busy(req, reply);
      return reply;
    }
    const matches = checked.value;
    if (!tenant || !user || !matches) {
      const reason = !user ? 'unknown_email' : 'wrong_password';
      if (await guard.failed(req, reply, { tenantId: tenant?.id ?? null, workspace, email, userId: user?.id ?? null, reason })) return reply;
      return loginPage(req, reply, 'That workspace, email and password do not match. Check the workspace name printed by `settle start`.', 401);
    }
    // The failures are forgotten only when the session opens (after the second factor, if any: sign-in.ts),
    // so wrong second-factor codes count towards the same lock as wrong passwords.
    // Second factor if the user has one, then a server-side session (sign-in.ts).
    return completeSignIn(req, reply, deps, { tenantId: tenant.id, userId: user.id, password, storedHash: user.password_hash });
  });
  // The staff app lives at /app; the old address (bookmarks, the sign-in redirect of older versions) leads there.
  app.get('/dashboard', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/app'));
}
