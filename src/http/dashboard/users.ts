// "Users" (owners only; the role is enforced from http/permissions.ts): who has access, invitations by
// e-mail, removal (their sessions end at once), ending a user's sessions, turning off a colleague's second
// factor when their phone is lost, and the workspace setting "owners must use a second factor".
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { endUserSessions, type StaffSession } from '../../engine/staff-sessions.ts';
import { disableMfa, ownersMustUseMfa, setOwnersMustUseMfa } from '../../engine/staff-mfa.ts';
import { addUser, listUsers, removeUser, StaffAccountError } from '../../engine/staff-users.ts';
import { createStaffLink, mailStaffLink } from '../../engine/staff-links.ts';
import { renderStaff } from '../staff/view.ts';
import type { HttpDeps } from '../deps.ts';
import { errorsOf, requireSession, showMessage, type Outcome } from './staff-forms.ts';

interface View extends Outcome {
  /** An invitation link to hand over when it could not be e-mailed. */
  readonly link?: string;
}

async function usersPage(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps, session: StaffSession, view: View = {}, code = 200): Promise<FastifyReply> {
  const data = await withTenant(deps.ctx.db, session.tenantId, async (tx) => ({
    users: await listUsers(tx),
    required: await ownersMustUseMfa(tx, session.tenantId),
  }));
  return renderStaff(
    req,
    reply,
    'users',
    { users: data.users, required: data.required, currentUserId: session.userId, link: view.link, errors: errorsOf(view), ok: view.ok },
    { status: code },
  );
}

const onlyOwners = (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
  showMessage(req, reply, { title: 'Not allowed', message: 'Only an owner manages users.', kind: 'error' }, 403);

type Handler = (
  req: FastifyRequest<{ Params: { id?: string } }>,
  reply: FastifyReply,
  session: StaffSession,
  body: Record<string, string | undefined>,
) => Promise<FastifyReply>;

export function registerUserRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const post = (path: string, handler: Handler): void => {
    app.post<{ Params: { id?: string } }>(path, { schema: { hide: true } }, async (req, reply) => {
      const session = await requireSession(req, reply, deps);
      if (!session) return reply;
      if (session.role !== 'owner') return onlyOwners(req, reply);
      if (req.params.id !== undefined && !/^[0-9a-f-]{36}$/.test(req.params.id)) return usersPage(req, reply, deps, session, { error: 'No such user.' }, 404);
      try {
        return await handler(req, reply, session, (req.body ?? {}) as Record<string, string | undefined>);
      } catch (e) {
        if (e instanceof StaffAccountError) return usersPage(req, reply, deps, session, { error: e.message }, 400);
        throw e;
      }
    });
  };
  const emailOf = async (session: StaffSession, id: string): Promise<string> => {
    const u = await withTenant(deps.ctx.db, session.tenantId, (tx) => tx.selectFrom('users').select('email').where('id', '=', id).executeTakeFirst());
    if (!u) throw new StaffAccountError('that user no longer exists');
    return u.email;
  };

  app.get('/users', { schema: { hide: true } }, async (req, reply) => {
    const session = await requireSession(req, reply, deps);
    if (!session) return reply;
    if (session.role !== 'owner') return onlyOwners(req, reply);
    return usersPage(req, reply, deps, session);
  });

  post('/users/invite', async (req, reply, session, body) => {
    const tenant = await deps.ctx.db.selectFrom('tenants').select(['name']).where('id', '=', session.tenantId).executeTakeFirstOrThrow();
    const { email, link } = await withTenant(deps.ctx.db, session.tenantId, async (tx) => {
      const id = await addUser(tx, session.tenantId, { email: body.email ?? '', name: body.name ?? '', role: body.role ?? 'viewer' }, `user:${session.userId}`);
      const u = await tx.selectFrom('users').select('email').where('id', '=', id).executeTakeFirstOrThrow();
      return { email: u.email, link: await createStaffLink(tx, deps.ctx.publicUrl, session.tenantId, id, 'invitation', `user:${session.userId}`) };
    });
    try {
      await mailStaffLink(deps.ctx, email, 'invitation', link, tenant.name);
      return usersPage(req, reply, deps, session, { ok: `Invitation e-mailed to ${email}.` });
    } catch (e) {
      req.log.warn({ err: (e as Error).message }, 'invitation e-mail not sent');
      return usersPage(req, reply, deps, session, { error: `The invitation could not be e-mailed (${(e as Error).message}).`, link: link.url });
    }
  });

  post('/users/:id/remove', async (req, reply, session) => {
    const email = await emailOf(session, req.params.id!);
    if (req.params.id === session.userId) throw new StaffAccountError('you cannot remove yourself; another owner can');
    await withTenant(deps.ctx.db, session.tenantId, (tx) => removeUser(tx, session.tenantId, email, `user:${session.userId}`));
    return usersPage(req, reply, deps, session, { ok: `${email} removed; their sessions have ended.` });
  });

  post('/users/:id/sessions/end', async (req, reply, session) => {
    const email = await emailOf(session, req.params.id!);
    const n = await withTenant(deps.ctx.db, session.tenantId, (tx) =>
      endUserSessions(tx, session.tenantId, req.params.id!, 'ended_by_owner', `user:${session.userId}`, req.params.id === session.userId ? session.id : null),
    );
    return usersPage(req, reply, deps, session, { ok: `${n} session(s) of ${email} ended.` });
  });

  post('/users/:id/second-factor/disable', async (req, reply, session) => {
    const email = await emailOf(session, req.params.id!);
    await withTenant(deps.ctx.db, session.tenantId, (tx) => disableMfa(tx, session.tenantId, req.params.id!, `user:${session.userId}`));
    return usersPage(req, reply, deps, session, { ok: `Second factor of ${email} turned off; they can set it up again from their account page.` });
  });

  post('/users/second-factor-required', async (req, reply, session, body) => {
    const required = body.required === 'yes';
    await withTenant(deps.ctx.db, session.tenantId, (tx) => setOwnersMustUseMfa(tx, session.tenantId, required, `user:${session.userId}`));
    return usersPage(req, reply, deps, session, { ok: required ? 'Owners must now use a second factor.' : 'A second factor is no longer required.' });
  });
}
