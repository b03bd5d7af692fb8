// "Your account": change the password, turn the second factor on or off, replace recovery codes, see and
// end one's sessions ("sign out everywhere"). Changing the password or the second factor asks for the
// current password again (ASVS 2.1.6 / 3.7.1), and signs out every other session.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { liveSessions, endUserSessions, type StaffSession } from '../../engine/staff-sessions.ts';
import {
  beginMfaEnrolment,
  confirmMfaEnrolment,
  disableMfa,
  enrolmentUri,
  ownersMustUseMfa,
  pendingMfaSecret,
  regenerateRecoveryCodes,
} from '../../engine/staff-mfa.ts';
import { setPassword, StaffAccountError } from '../../engine/staff-users.ts';
import { MIN_PASSWORD_LENGTH } from '../../domain/password-policy.ts';
import { checkPassword } from '../passwords.ts';
import { renderStaff } from '../staff/view.ts';
import type { HttpDeps } from '../deps.ts';
import { boxOf, clearSessionCookie, errorsOf, requireSession, type Outcome } from './staff-forms.ts';

interface View extends Outcome {
  /** Set while enrolling: the secret to add to the app. */
  readonly enrol?: { secret: string; uri: string };
  /** Shown once, right after they are made. */
  readonly recoveryCodes?: string[];
}

async function accountPage(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: HttpDeps,
  session: StaffSession,
  view: View = {},
  code = 200,
): Promise<FastifyReply> {
  const data = await withTenant(deps.ctx.db, session.tenantId, async (tx) => {
    const user = await tx
      .selectFrom('users')
      .select(['email', 'name', 'role', 'mfa_enabled_at', 'mfa_recovery_hashes', 'password_changed_at'])
      .where('id', '=', session.userId)
      .executeTakeFirstOrThrow();
    return { user, sessions: await liveSessions(tx, session.userId), required: await ownersMustUseMfa(tx, session.tenantId) };
  });
  const mustEnrol = data.required && session.role === 'owner' && !data.user.mfa_enabled_at;
  return renderStaff(
    req,
    reply,
    'account',
    {
      user: data.user,
      sessions: data.sessions,
      required: data.required,
      mustEnrol,
      currentSessionId: session.id,
      minLength: MIN_PASSWORD_LENGTH,
      enrol: view.enrol,
      recoveryCodes: view.recoveryCodes,
      errors: errorsOf(view),
      ok: view.ok,
    },
    { status: code },
  );
}

type Handler = (req: FastifyRequest, reply: FastifyReply, session: StaffSession, body: Record<string, string | undefined>) => Promise<FastifyReply>;

export function registerAccountRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const post = (path: string, handler: Handler): void => {
    app.post(path, { schema: { hide: true } }, async (req, reply) => {
      const session = await requireSession(req, reply, deps);
      if (!session) return reply;
      try {
        return await handler(req, reply, session, (req.body ?? {}) as Record<string, string | undefined>);
      } catch (e) {
        if (e instanceof StaffAccountError) return accountPage(req, reply, deps, session, { error: e.message }, 400);
        throw e;
      }
    });
  };
  const currentPasswordOk = async (session: StaffSession, password: string | undefined): Promise<boolean> => {
    const u = await withTenant(deps.ctx.db, session.tenantId, (tx) =>
      tx.selectFrom('users').select('password_hash').where('id', '=', session.userId).executeTakeFirstOrThrow(),
    );
    return checkPassword(password ?? '', u.password_hash);
  };

  app.get('/account', { schema: { hide: true } }, async (req, reply) => {
    const session = await requireSession(req, reply, deps);
    return session ? accountPage(req, reply, deps, session) : reply;
  });

  post('/account/password', async (req, reply, session, body) => {
    if (!(await currentPasswordOk(session, body.current)))
      return accountPage(req, reply, deps, session, { error: 'The current password is wrong.', field: 'current' }, 400);
    if ((body.password ?? '') !== (body.confirm ?? ''))
      return accountPage(req, reply, deps, session, { error: 'The two new passwords differ.', field: 'confirm' }, 400);
    await withTenant(deps.ctx.db, session.tenantId, (tx) =>
      setPassword(tx, session.tenantId, session.userId, body.password ?? '', `user:${session.userId}`, { reason: 'password_changed', keepSession: session.id }),
    );
    return accountPage(req, reply, deps, session, { ok: 'Password changed; your other sessions are signed out.' });
  });

  post('/account/second-factor/start', async (req, reply, session) => {
    const workspace = await deps.ctx.db.selectFrom('tenants').select('slug').where('id', '=', session.tenantId).executeTakeFirstOrThrow();
    const enrol = await withTenant(deps.ctx.db, session.tenantId, (tx) =>
      beginMfaEnrolment(tx, boxOf(deps), session.tenantId, session.userId, { workspace: workspace.slug, email: session.email }),
    );
    return accountPage(req, reply, deps, session, { enrol });
  });

  post('/account/second-factor/confirm', async (req, reply, session, body) => {
    const result = await withTenant(deps.ctx.db, session.tenantId, async (tx) => {
      try {
        return { codes: await confirmMfaEnrolment(tx, boxOf(deps), session.tenantId, session.userId, body.code ?? '', session.id) };
      } catch (e) {
        if (!(e instanceof StaffAccountError)) throw e;
        return { error: e.message, secret: await pendingMfaSecret(tx, boxOf(deps), session.tenantId, session.userId) };
      }
    });
    if ('codes' in result) return accountPage(req, reply, deps, session, { recoveryCodes: result.codes, ok: 'Second factor on.' });
    const workspace = await deps.ctx.db.selectFrom('tenants').select('slug').where('id', '=', session.tenantId).executeTakeFirstOrThrow();
    const enrol = result.secret ? { secret: result.secret, uri: enrolmentUri(workspace.slug, session.email, result.secret) } : undefined;
    return accountPage(req, reply, deps, session, { error: result.error, ...(enrol ? { enrol, field: 'code' } : {}) }, 400);
  });

  post('/account/second-factor/recovery-codes', async (req, reply, session) => {
    const codes = await withTenant(deps.ctx.db, session.tenantId, (tx) => regenerateRecoveryCodes(tx, session.tenantId, session.userId));
    return accountPage(req, reply, deps, session, { recoveryCodes: codes, ok: 'New recovery codes; the old ones no longer work.' });
  });

  post('/account/second-factor/disable', async (req, reply, session, body) => {
    if (!(await currentPasswordOk(session, body.password)))
      return accountPage(req, reply, deps, session, { error: 'The current password is wrong.', field: 'mfa-off-password' }, 400);
    const refused = await withTenant(deps.ctx.db, session.tenantId, async (tx) => {
      if (session.role === 'owner' && (await ownersMustUseMfa(tx, session.tenantId))) return true;
      await disableMfa(tx, session.tenantId, session.userId, `user:${session.userId}`, session.id);
      return false;
    });
    if (refused) return accountPage(req, reply, deps, session, { error: 'The workspace requires a second factor for owners.' }, 400);
    return accountPage(req, reply, deps, session, { ok: 'Second factor off.' });
  });

  post('/account/sessions/end-all', async (_req, reply, session) => {
    await withTenant(deps.ctx.db, session.tenantId, (tx) =>
      endUserSessions(tx, session.tenantId, session.userId, 'signed_out_everywhere', `user:${session.userId}`),
    );
    return clearSessionCookie(reply, deps).redirect('/login');
  });
}
