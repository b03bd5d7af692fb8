// "Users" (owners only; the role is enforced from http/permissions.ts): who has access, invitations by
// e-mail, removal (their sessions end at once), ending a user's sessions, turning off a colleague's second
// factor when their phone is lost, and the workspace setting "owners must use a second factor".
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { endUserSessions, type StaffSession } from '../../engine/staff-sessions.ts';
import { disableMfa, ownersMustUseMfa, setOwnersMustUseMfa } from '../../engine/staff-mfa.ts';
import { addUser, listUsers, removeUser, StaffAccountError } from '../../engine/staff-users.ts';
import { createStaffLink, mailStaffLink } from '../../engine/staff-links.ts';
import { html } from '../html.ts';
import type { HttpDeps } from '../deps.ts';
import { csrf, notice, requireSession, sendPage, staffNav } from './staff-forms.ts';

interface View {
  readonly error?: string;
  readonly ok?: string;
  /** An invitation link to hand over when it could not be e-mailed. */
  readonly link?: string;
}

async function usersPage(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps, session: StaffSession, view: View = {}, code = 200): Promise<FastifyReply> {
  const data = await withTenant(deps.ctx.db, session.tenantId, async (tx) => ({
    users: await listUsers(tx),
    required: await ownersMustUseMfa(tx, session.tenantId),
  }));
  const f = csrf(req, reply, deps);
  const body = html`${staffNav(session, f)} ${notice(view.error)} ${notice(view.ok, 'ok')}
    ${
      view.link
        ? html`<div class="card">
            <p>Give them this link (it works once, for 7 days):</p>
            <p><code id="invitation-link">${view.link}</code></p>
          </div>`
        : ''
    }
    <div class="card">
      <h3 style="margin-top:0">Users</h3>
      <table id="users">
        <thead>
          <tr>
            <th>E-mail</th>
            <th>Name</th>
            <th>Role</th>
            <th>Second factor</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${data.users.map(
            (u) =>
              html`<tr data-email="${u.email}">
                <td>${u.email}${u.invitation_pending ? html` <span class="pill warn">invited</span>` : ''}</td>
                <td>${u.name}</td>
                <td>${u.role}</td>
                <td>${u.mfa_enabled_at ? html`<span class="pill ok">on</span>` : html`<span class="muted">off</span>`}</td>
                <td style="display:flex;gap:6px;flex-wrap:wrap">
                  <form method="post" action="/users/${u.id}/sessions/end">${f}<button type="submit">Sign out</button></form>
                  ${u.mfa_enabled_at ? html`<form method="post" action="/users/${u.id}/second-factor/disable">${f}<button type="submit">Turn off second factor</button></form>` : ''}
                  ${u.id === session.userId ? '' : html`<form method="post" action="/users/${u.id}/remove">${f}<button type="submit">Remove</button></form>`}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <div class="card">
      <h3 style="margin-top:0">Invite someone</h3>
      <form method="post" action="/users/invite" style="max-width:420px">
        ${f}<label>E-mail</label><input type="email" name="email" required /> <label>Name</label><input type="text" name="name" />
        <label>Role</label>
        <select name="role">
          <option value="viewer">viewer (reads everything)</option>
          <option value="finance">finance (also moves money)</option>
          <option value="owner">owner (also settings, users, keys)</option>
        </select>
        <p><button type="submit">Send invitation</button></p>
      </form>
    </div>
    <div class="card">
      <h3 style="margin-top:0">Second factor for owners</h3>
      <form method="post" action="/users/second-factor-required">
        ${f}<input type="hidden" name="required" value="${data.required ? 'no' : 'yes'}" />
        <p>${data.required ? 'Required: an owner without one must set it up at their next page.' : 'Not required.'}</p>
        <button type="submit">${data.required ? 'Stop requiring it' : 'Require it'}</button>
      </form>
    </div>`;
  return sendPage(reply, 'Users', body, code);
}

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
      if (session.role !== 'owner') return sendPage(reply, 'Not allowed', html`<div class="card"><p class="error">Only an owner manages users.</p></div>`, 403);
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
    if (session.role !== 'owner') return sendPage(reply, 'Not allowed', html`<div class="card"><p class="error">Only an owner manages users.</p></div>`, 403);
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
