// Staff sign-in after the password (POST /login in pages.ts checks it): the second factor, the server-side
// session, sign-out; and the signed-out doors to an account: "forgot password" (an expiring e-mailed
// link) and accepting an invitation.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { audit } from '../../engine/audit.ts';
import { endSession, startSession } from '../../engine/staff-sessions.ts';
import { verifySecondFactor } from '../../engine/staff-mfa.ts';
import { checkStaffLink, createStaffLink, mailStaffLink, useStaffLink, type LinkPurpose } from '../../engine/staff-links.ts';
import { setPassword, StaffAccountError, userByEmail } from '../../engine/staff-users.ts';
import { MIN_PASSWORD_LENGTH } from '../../domain/password-policy.ts';
import { hashPassword, needsRehash } from '../passwords.ts';
import { readCookie, staffSession } from '../auth.ts';
import { signToken, verifyToken } from '../signed-token.ts';
import type { HttpDeps } from '../deps.ts';
import { signInGuard, type SignInGuard } from '../sign-in-guard.ts';
import { renderStaff } from '../staff/view.ts';
import { boxOf, clearSessionCookie, secure, setSessionCookie, showMessage, timeoutsOf } from './staff-forms.ts';

const PENDING_COOKIE = 'settle_second_factor';
const PENDING_TTL_SEC = 5 * 60;
/** Wrong codes allowed for one password sign-in; then the password must be given again (and counts for lockout). */
const PENDING_TRIES = 5;
const pendingFailures = new Map<string, number>();

function pendingKey(deps: HttpDeps): string {
  return crypto.createHmac('sha256', deps.sessionSecret).update('second-factor-pending').digest('hex');
}

function client(req: FastifyRequest): { ip: string; userAgent: string | null } {
  return { ip: req.ip, userAgent: req.headers['user-agent'] ?? null };
}

const guards = new WeakMap<HttpDeps, SignInGuard>();
/** B2's lockout guard (sign-in-guard.ts): one per server. */
function guardOf(deps: HttpDeps): SignInGuard {
  let g = guards.get(deps);
  if (!g) guards.set(deps, (g = signInGuard(deps)));
  return g;
}

async function openSession(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps, tenantId: string, userId: string, how: string): Promise<FastifyReply> {
  const { token, sessionId, email } = await withTenant(deps.ctx.db, tenantId, async (tx) => {
    const s = await startSession(tx, tenantId, userId, timeoutsOf(deps), client(req));
    await audit(tx, tenantId, `user:${userId}`, 'user.signed_in', { type: 'user', id: userId }, { session: s.sessionId, ip: req.ip, with: how });
    const u = await tx.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirstOrThrow();
    return { ...s, email: u.email };
  });
  // A full sign-in (password, and the second factor if any) forgets this address's failures for the e-mail.
  await guardOf(deps).succeeded(req, tenantId, email);
  req.log.debug({ session: sessionId }, 'staff session started');
  return setSessionCookie(reply, deps, token).redirect('/app');
}

/**
 * After the password matched: re-hash it if it was stored with older parameters, then either ask for the
 * second factor or start the session.
 */
export async function completeSignIn(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: HttpDeps,
  s: { tenantId: string; userId: string; password: string; storedHash: string },
): Promise<FastifyReply> {
  const mfa = await withTenant(deps.ctx.db, s.tenantId, async (tx) => {
    if (needsRehash(s.storedHash)) {
      const fresh = await hashPassword(s.password);
      await tx.updateTable('users').set({ password_hash: fresh }).where('id', '=', s.userId).where('password_hash', '=', s.storedHash).execute();
      await audit(tx, s.tenantId, 'system:sign-in', 'user.password_rehashed', { type: 'user', id: s.userId });
    }
    const u = await tx.selectFrom('users').select('mfa_enabled_at').where('id', '=', s.userId).executeTakeFirstOrThrow();
    return u.mfa_enabled_at !== null;
  });
  if (!mfa) return openSession(req, reply, deps, s.tenantId, s.userId, 'password');
  const n = crypto.randomBytes(12).toString('base64url');
  const pending = signToken({ t: s.tenantId, u: s.userId, n, exp: Math.floor(Date.now() / 1000) + PENDING_TTL_SEC }, pendingKey(deps));
  return reply
    .header('set-cookie', `${PENDING_COOKIE}=${pending}; HttpOnly; SameSite=Strict; Path=/login; Max-Age=${PENDING_TTL_SEC}${secure(deps) ? '; Secure' : ''}`)
    .redirect('/login/second-factor');
}

function secondFactorPage(req: FastifyRequest, reply: FastifyReply, error?: string, code = 200): Promise<FastifyReply> {
  return renderStaff(req, reply, 'second-factor', { errors: error ? [{ field: 'code', message: error }] : [] }, { status: code });
}

function linkProblem(reason: 'unknown' | 'expired' | 'used', purpose: LinkPurpose): string {
  const again = purpose === 'password_reset' ? 'ask for a new one at /login/forgot' : 'ask a workspace owner to invite you again';
  return reason === 'expired'
    ? `This link has expired; ${again}.`
    : reason === 'used'
      ? `This link was already used; ${again}.`
      : `This link is not valid; ${again}.`;
}

function choosePasswordPage(
  req: FastifyRequest,
  reply: FastifyReply,
  action: string,
  who: string,
  error?: { field: 'password' | 'confirm'; message: string },
  code = 200,
): Promise<FastifyReply> {
  return renderStaff(req, reply, 'choose-password', { action, who, minLength: MIN_PASSWORD_LENGTH, errors: error ? [error] : [] }, { status: code });
}

const linkPage = (req: FastifyRequest, reply: FastifyReply, text: string): Promise<FastifyReply> =>
  showMessage(req, reply, { title: 'Link', message: text, kind: 'error' }, 410);

export function registerSignInRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/login/second-factor', { schema: { hide: true } }, async (req, reply) => {
    if (!readCookie(req, PENDING_COOKIE)) return reply.redirect('/login');
    return secondFactorPage(req, reply);
  });

  app.post<{ Body: { code?: string } }>('/login/second-factor', { schema: { hide: true } }, async (req, reply) => {
    const check = verifyToken<{ t: string; u: string; n: string; exp: number }>(readCookie(req, PENDING_COOKIE) ?? '', pendingKey(deps));
    if (!check.ok)
      return showMessage(
        req,
        reply,
        { title: 'Sign in', message: 'The sign-in took too long.', kind: 'error', link: { href: '/login', text: 'Sign in again' } },
        401,
      );
    const { t: tenantId, u: userId, n } = check.claims;
    const who = await withTenant(deps.ctx.db, tenantId, async (tx) => ({
      workspace: (await tx.selectFrom('tenants').select('slug').where('id', '=', tenantId).executeTakeFirstOrThrow()).slug,
      email: (await tx.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst())?.email ?? '',
    }));
    // Wrong codes count towards the same lock as wrong passwords (http/sign-in-guard.ts).
    // A boolean, not the reply: awaiting a FastifyReply (a thenable) yields undefined once it is sent.
    if (await guardOf(deps).refuseIfLocked(req, reply, tenantId, who.workspace, who.email)) return reply;
    const tries = pendingFailures.get(n) ?? 0;
    const how =
      tries >= PENDING_TRIES
        ? null
        : await withTenant(deps.ctx.db, tenantId, (tx) => verifySecondFactor(tx, boxOf(deps), tenantId, userId, req.body?.code ?? ''));
    if (!how) {
      pendingFailures.set(n, tries + 1);
      if (pendingFailures.size > 10_000) pendingFailures.clear(); // bounded: a cleared count only allows one more round of tries
      await withTenant(deps.ctx.db, tenantId, (tx) =>
        audit(tx, tenantId, `user:${userId}`, 'user.second_factor_failed', { type: 'user', id: userId }, { ip: req.ip }),
      );
      if (await guardOf(deps).failed(req, reply, { tenantId, ...who, userId, reason: 'wrong_second_factor' })) return reply; // the pending cookie is useless while locked, and expires in minutes
      if (tries + 1 >= PENDING_TRIES) {
        reply.header('set-cookie', `${PENDING_COOKIE}=; HttpOnly; SameSite=Strict; Path=/login; Max-Age=0`);
        return showMessage(
          req,
          reply,
          { title: 'Sign in', message: 'Too many wrong codes.', kind: 'error', link: { href: '/login', text: 'Sign in again' } },
          401,
        );
      }
      return secondFactorPage(req, reply, 'That code does not match. Type the code your app shows now, or a recovery code.', 401);
    }
    pendingFailures.delete(n);
    reply.header('set-cookie', `${PENDING_COOKIE}=; HttpOnly; SameSite=Strict; Path=/login; Max-Age=0`);
    return openSession(req, reply, deps, tenantId, userId, how);
  });

  app.post('/logout', { schema: { hide: true } }, async (req, reply) => {
    const session = await staffSession(req, deps.ctx.db, timeoutsOf(deps));
    if (session) await endSession(deps.ctx.db, session, 'signed_out');
    return clearSessionCookie(reply, deps).redirect('/login');
  });

  // ---- forgotten password: the same answer whether or not the account exists ----
  app.get('/login/forgot', { schema: { hide: true } }, async (req, reply) => forgotPage(req, reply));
  app.post<{ Body: { workspace?: string; email?: string } }>('/login/forgot', { schema: { hide: true } }, async (req, reply) => {
    const workspace = (req.body?.workspace ?? '').trim().toLowerCase();
    const email = (req.body?.email ?? '').trim().toLowerCase();
    if (!deps.ctx.mailer.configured)
      return forgotPage(
        req,
        reply,
        'This Settle server cannot send e-mail (no SMTP relay). Ask a workspace owner or the administrator to run `settle user reset-password`.',
        503,
      );
    const tenant = /^[a-z0-9][a-z0-9-]{1,62}$/.test(workspace)
      ? await deps.ctx.db.selectFrom('tenants').select(['id', 'name']).where('slug', '=', workspace).executeTakeFirst()
      : undefined;
    if (tenant) {
      const sent = await withTenant(deps.ctx.db, tenant.id, async (tx) => {
        const user = await userByEmail(tx, email);
        if (!user) return null;
        return { user, link: await createStaffLink(tx, deps.ctx.publicUrl, tenant.id, user.id, 'password_reset', `user:${user.id}`) };
      });
      // Sent after the answer, so the answer time does not tell whether the account exists.
      if (sent)
        void mailStaffLink(deps.ctx, sent.user.email, 'password_reset', sent.link, tenant.name).catch((e: unknown) =>
          req.log.warn({ err: (e as Error).message, tenant: tenant.id }, 'password reset e-mail not sent'),
        );
    }
    return showMessage(req, reply, {
      title: 'Check your e-mail',
      message: `If ${email} is a user of workspace ${workspace}, an e-mail with a link to choose a new password is on its way. The link works once, for 30 minutes.`,
      link: { href: '/login', text: 'Back to sign-in' },
    });
  });

  // ---- the e-mailed links ----
  for (const purpose of ['password_reset', 'invitation'] as const) {
    const path = purpose === 'password_reset' ? '/account/reset/:token' : '/account/invitation/:token';
    app.get<{ Params: { token: string } }>(path, { schema: { hide: true } }, async (req, reply) => {
      const link = await checkStaffLink(deps.ctx.db, req.params.token, purpose);
      if (!link.ok) return linkPage(req, reply, linkProblem(link.reason, purpose));
      const who =
        purpose === 'password_reset'
          ? `New password for ${link.email} (workspace ${link.workspace}).`
          : `Welcome! Choose a password for ${link.email} (workspace ${link.workspace}).`;
      return choosePasswordPage(req, reply, req.url.split('?')[0]!, who);
    });
    app.post<{ Params: { token: string }; Body: { password?: string; confirm?: string } }>(path, { schema: { hide: true } }, async (req, reply) => {
      const link = await checkStaffLink(deps.ctx.db, req.params.token, purpose);
      if (!link.ok) return linkPage(req, reply, linkProblem(link.reason, purpose));
      const password = req.body?.password ?? '';
      const action = req.url.split('?')[0]!;
      if (password !== (req.body?.confirm ?? ''))
        return choosePasswordPage(req, reply, action, link.email, { field: 'confirm', message: 'The two passwords differ; type the same one twice.' }, 400);
      try {
        const ok = await withTenant(deps.ctx.db, link.tenantId, async (tx) => {
          if (!(await useStaffLink(tx, link.linkId))) return false;
          await setPassword(tx, link.tenantId, link.userId, password, `user:${link.userId}`, { reason: 'password_reset', workspace: link.workspace });
          if (purpose === 'invitation') await audit(tx, link.tenantId, `user:${link.userId}`, 'user.invitation_accepted', { type: 'user', id: link.userId });
          return true;
        });
        if (!ok) return linkPage(req, reply, linkProblem('used', purpose));
      } catch (e) {
        if (e instanceof StaffAccountError) return choosePasswordPage(req, reply, action, link.email, { field: 'password', message: e.message }, 400);
        throw e;
      }
      return showMessage(req, reply, {
        title: 'Password saved',
        message: `Your password is saved${purpose === 'password_reset' ? ' and every earlier session of yours has been signed out' : ''}.`,
        kind: 'ok',
        link: { href: '/login', text: 'Sign in' },
        button: true,
      });
    });
  }
}

function forgotPage(req: FastifyRequest, reply: FastifyReply, error?: string, code = 200): Promise<FastifyReply> {
  return renderStaff(req, reply, 'forgot', { errors: error ? [{ message: error }] : [] }, { status: code });
}
