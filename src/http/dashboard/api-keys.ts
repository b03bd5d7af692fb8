// "API keys" (owners only; the role is enforced from http/permissions.ts): every key with its role, expiry
// and last use; make one (its secret is shown on this answer only); revoke one. The same as
// `settle api-key …` and /api/v1/api-keys (engine/api-keys.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyInputError, createApiKey, listApiKeys, parseExpiry, parseRole, revokeApiKey } from '../../engine/api-keys.ts';
import type { StaffSession } from '../../engine/staff-sessions.ts';
import { html } from '../html.ts';
import type { HttpDeps } from '../deps.ts';
import { csrf, notice, requireSession, sendPage, staffNav } from './staff-forms.ts';

interface View {
  readonly error?: string;
  readonly ok?: string;
  /** A key just made: its secret, shown once. */
  readonly secret?: string;
}

const when = (d: Date | null): string => (d ? d.toISOString().slice(0, 16).replace('T', ' ') + 'Z' : '—');

async function keysPage(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps, session: StaffSession, view: View = {}, code = 200): Promise<FastifyReply> {
  const keys = await listApiKeys(deps.ctx.db, session.tenantId);
  const f = csrf(req, reply, deps);
  const now = Date.now();
  const body = html`${staffNav(session, f)} ${notice(view.error)} ${notice(view.ok, 'ok')}
    ${
      view.secret
        ? html`<div class="card">
            <p>Store this key now: Settle keeps only its hash and will not show it again.</p>
            <p><code id="new-api-key">${view.secret}</code></p>
          </div>`
        : ''
    }
    <div class="card">
      <h3 style="margin-top:0">API keys</h3>
      <table id="api-keys">
        <thead>
          <tr>
            <th>Name</th>
            <th>Key</th>
            <th>Role</th>
            <th>Made</th>
            <th>Expires</th>
            <th>Last used</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${keys.map(
            (k) =>
              html`<tr data-key="${k.prefix}">
                <td>${k.name}</td>
                <td><code>${k.prefix}…</code></td>
                <td>${k.role}</td>
                <td>${when(k.created_at)}</td>
                <td>${k.expires_at ? when(k.expires_at) : 'never'}</td>
                <td>${when(k.last_used_at)}</td>
                <td>
                  ${
                    k.revoked_at
                      ? html`<span class="pill bad">revoked ${when(k.revoked_at)}</span>`
                      : k.expires_at && k.expires_at.getTime() <= now
                        ? html`<span class="pill warn">expired</span>`
                        : html`<form method="post" action="/api-keys/${k.id}/revoke">${f}<button type="submit">Revoke</button></form>`
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <div class="card">
      <h3 style="margin-top:0">Make a key</h3>
      <form method="post" action="/api-keys/create" style="max-width:420px">
        ${f}<label>Name</label><input type="text" name="name" required maxlength="100" /> <label>Role</label>
        <select name="role">
          <option value="viewer">viewer (reads everything)</option>
          <option value="finance">finance (also moves money)</option>
          <option value="owner">owner (also settings, users, keys)</option>
        </select>
        <label>Expires (optional: 90d, 12h or a date like 2027-01-31)</label><input type="text" name="expires" />
        <p><button type="submit">Make key</button></p>
      </form>
    </div>`;
  return sendPage(reply, 'API keys', body, code);
}

export function registerApiKeyPages(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api-keys', { schema: { hide: true } }, async (req, reply) => {
    const session = await requireSession(req, reply, deps);
    if (!session) return reply;
    return keysPage(req, reply, deps, session);
  });

  app.post('/api-keys/create', { schema: { hide: true } }, async (req, reply) => {
    const session = await requireSession(req, reply, deps);
    if (!session) return reply;
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    try {
      const expires = body.expires?.trim();
      const key = await createApiKey(
        deps.ctx.db,
        session.tenantId,
        { name: body.name ?? '', role: parseRole(body.role), expiresAt: expires ? parseExpiry(expires) : null },
        `user:${session.userId}`,
      );
      return keysPage(req, reply, deps, session, { ok: `Key made (${parseRole(body.role)}).`, secret: key.secret });
    } catch (e) {
      if (e instanceof ApiKeyInputError) return keysPage(req, reply, deps, session, { error: e.message.replace(/^--expires/, 'Expires') }, 400);
      throw e;
    }
  });

  app.post<{ Params: { id: string } }>('/api-keys/:id/revoke', { schema: { hide: true } }, async (req, reply) => {
    const session = await requireSession(req, reply, deps);
    if (!session) return reply;
    try {
      const r = await revokeApiKey(deps.ctx.db, session.tenantId, req.params.id, `user:${session.userId}`);
      return keysPage(req, reply, deps, session, {
        ok: r.alreadyRevoked ? `${r.name} was already revoked.` : `${r.name} revoked: it is refused from its next request.`,
      });
    } catch (e) {
      if (e instanceof ApiKeyInputError) return keysPage(req, reply, deps, session, { error: e.message }, e.code === 'not_found' ? 404 : 400);
      throw e;
    }
  });
}
