// Xero's identity service as a client meets it (specs/xero/xero-identity.yaml; docs:
// developer.xero.com/documentation/guides/oauth2/auth-flow): the consent page at
// /identity/connect/authorize (login.xero.com), the token endpoint POST /connect/token (identity.xero.com)
// with HTTP Basic client authentication, access tokens of 30 minutes, refresh tokens of 60 days that
// ROTATE — a refresh answers with a new refresh token and the one used is refused from then on
// (`invalid_grant`; Xero documents a grace period for a lost answer, which this simulator leaves out by
// default: `refreshGraceSec`) — /connections listing the tenants a token reaches, DELETE /connections/{id}
// to disconnect one, and POST /connect/revocation to revoke a refresh token.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { problem } from './errors.ts';

export interface IdentityOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tenantId: string;
  readonly tenantName: string;
  readonly accessTokenTtlSec: number;
  readonly refreshTokenTtlSec: number;
  readonly refreshGraceSec: number;
  readonly now: () => number;
}

interface Grant {
  readonly scopes: readonly string[];
  /** The connection (authEventId) this grant belongs to; gone ⇒ every token of it refused. */
  readonly connectionId: string;
}

const KNOWN_SCOPES = new Set([
  'openid',
  'profile',
  'email',
  'offline_access',
  'accounting.transactions',
  'accounting.transactions.read',
  'accounting.settings',
  'accounting.settings.read',
  'accounting.contacts',
  'accounting.contacts.read',
]);
export const FULL_SCOPES = ['offline_access', 'accounting.transactions', 'accounting.settings', 'accounting.contacts'];

export type AccessCheck = { ok: true; scopes: readonly string[] } | { ok: false; status: 401 | 403; detail: string };

export class XeroIdentity {
  private readonly refresh = new Map<string, Grant & { expiresAt: number; usedAt?: number }>();
  private readonly access = new Map<string, Grant & { expiresAt: number }>();
  private readonly codes = new Map<string, Grant & { redirectUri: string; expiresAt: number }>();
  /** Live connections (the tenant is connected to the app); DELETE /connections/{id} removes one. */
  readonly connections = new Map<string, { createdAt: number }>();
  readonly redirectUris = new Set<string>();
  readonly initialRefreshToken: string;
  readonly log: { grant: string; ok: boolean }[] = [];

  constructor(readonly opts: IdentityOptions) {
    const connectionId = randomUUID();
    this.connections.set(connectionId, { createdAt: opts.now() });
    this.initialRefreshToken = this.newRefresh({ scopes: FULL_SCOPES, connectionId });
  }

  private newRefresh(g: Grant): string {
    const t = randomBytes(24).toString('hex');
    this.refresh.set(t, { ...g, expiresAt: this.opts.now() + this.opts.refreshTokenTtlSec * 1000 });
    return t;
  }

  private issue(grant: Grant): Record<string, unknown> {
    const g: Grant = { scopes: grant.scopes, connectionId: grant.connectionId };
    const access = `xero.sim.${randomBytes(24).toString('base64url')}`;
    this.access.set(access, { ...g, expiresAt: this.opts.now() + this.opts.accessTokenTtlSec * 1000 });
    return {
      access_token: access,
      expires_in: this.opts.accessTokenTtlSec,
      token_type: 'Bearer',
      ...(g.scopes.includes('offline_access') ? { refresh_token: this.newRefresh(g) } : {}),
      scope: g.scopes.join(' '),
    };
  }

  /** The bearer token of an API call, with the tenant it names (xero-tenant-id). */
  checkAccess(authorization: string | undefined, tenantId: string | undefined): AccessCheck {
    const m = /^Bearer (.+)$/.exec(authorization ?? '');
    const rec = m ? this.access.get(m[1]!) : undefined;
    if (!rec) return { ok: false, status: 401, detail: 'AuthenticationUnsuccessful' };
    if (rec.expiresAt <= this.opts.now()) return { ok: false, status: 401, detail: `TokenExpired: token expired at ${new Date(rec.expiresAt).toISOString()}` };
    if (!this.connections.has(rec.connectionId)) return { ok: false, status: 403, detail: 'AuthenticationUnsuccessful' };
    if (!tenantId || tenantId !== this.opts.tenantId) return { ok: false, status: 403, detail: 'AuthenticationUnsuccessful' };
    return { ok: true, scopes: rec.scopes };
  }

  newCode(g: Grant, redirectUri: string): string {
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, { ...g, redirectUri, expiresAt: this.opts.now() + 300_000 });
    return code;
  }

  newConnection(): string {
    const id = randomUUID();
    this.connections.set(id, { createdAt: this.opts.now() });
    return id;
  }

  /** Tests: every access token expires now (the next call gets 401 TokenExpired). */
  expireAccessTokens(): void {
    for (const rec of this.access.values()) rec.expiresAt = this.opts.now() - 1;
  }

  /** Tests: revoke every refresh token (as "Disconnect" in Xero's connected apps screen does). */
  revokeAll(): void {
    this.refresh.clear();
    this.connections.clear();
  }

  exchange(body: Record<string, string>, basic: string | undefined): { status: number; body: Record<string, unknown> } {
    const expected = Buffer.from(`${this.opts.clientId}:${this.opts.clientSecret}`).toString('base64');
    if (basic !== `Basic ${expected}`) return { status: 400, body: { error: 'invalid_client' } };
    const now = this.opts.now();
    if (body['grant_type'] === 'authorization_code') {
      const c = this.codes.get(body['code'] ?? '');
      this.codes.delete(body['code'] ?? '');
      if (!c || c.expiresAt <= now || c.redirectUri !== body['redirect_uri']) return { status: 400, body: { error: 'invalid_grant' } };
      return { status: 200, body: this.issue(c) };
    }
    if (body['grant_type'] === 'refresh_token') {
      const token = body['refresh_token'] ?? '';
      const r = this.refresh.get(token);
      const grace = r?.usedAt !== undefined && now - r.usedAt < this.opts.refreshGraceSec * 1000;
      if (!r || r.expiresAt <= now || (r.usedAt !== undefined && !grace) || !this.connections.has(r.connectionId)) {
        return { status: 400, body: { error: 'invalid_grant' } };
      }
      r.usedAt ??= now;
      return { status: 200, body: this.issue(r) };
    }
    return { status: 400, body: { error: 'unsupported_grant_type' } };
  }

  revoke(token: string): void {
    this.refresh.delete(token);
  }

  scopesValid(scope: string): string[] | null {
    const s = scope.split(' ').filter(Boolean);
    if (s.length === 0 || s.some((x) => !KNOWN_SCOPES.has(x))) return null;
    return s;
  }
}

export function registerIdentityRoutes(app: FastifyInstance, id: XeroIdentity): void {
  app.post('/connect/token', async (req, reply) => {
    const r = id.exchange((req.body ?? {}) as Record<string, string>, req.headers.authorization);
    id.log.push({ grant: String((req.body as Record<string, string> | undefined)?.['grant_type']), ok: r.status === 200 });
    return reply.code(r.status).header('cache-control', 'no-store').send(r.body);
  });
  app.post('/connect/revocation', async (req, reply) => {
    const expected = Buffer.from(`${id.opts.clientId}:${id.opts.clientSecret}`).toString('base64');
    if (req.headers.authorization !== `Basic ${expected}`) return reply.code(400).send({ error: 'invalid_client' });
    id.revoke(String((req.body as Record<string, string> | undefined)?.['token'] ?? ''));
    return reply.code(200).send();
  });
  app.get('/connections', async (req, reply) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const check = id.checkAccess(req.headers.authorization, id.opts.tenantId);
    if (!m || !check.ok) return problem(reply, 401, check.ok ? 'AuthenticationUnsuccessful' : check.detail);
    return [...id.connections.entries()].map(([cid, c]) => connectionJson(id, cid, c.createdAt));
  });
  app.delete<{ Params: { id: string } }>('/connections/:id', async (req, reply) => {
    const check = id.checkAccess(req.headers.authorization, id.opts.tenantId);
    if (!check.ok) return problem(reply, 401, check.detail);
    if (!id.connections.delete(req.params.id)) return reply.code(404).send();
    return reply.code(204).send();
  });
}

function connectionJson(id: XeroIdentity, cid: string, createdAt: number): Record<string, unknown> {
  return {
    id: cid,
    authEventId: cid,
    tenantId: id.opts.tenantId,
    tenantType: 'ORGANISATION',
    tenantName: id.opts.tenantName,
    createdDateUtc: new Date(createdAt).toISOString(),
    updatedDateUtc: new Date(createdAt).toISOString(),
  };
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function htmlPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html')
    .header('cache-control', 'no-store')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
        `<title>${esc(title)}</title></head><body><main>${body}</main></body></html>`,
    );
}
