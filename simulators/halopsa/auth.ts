// Halo's authorisation server as the simulator models it: OAuth 2 client credentials at `POST /auth/token`
// (form-encoded `grant_type=client_credentials`, `client_id`, `client_secret`, `scope`; `?tenant=` for
// hosted tenants), answering `{ access_token, token_type: "Bearer", expires_in, scope }`, and RFC 6749
// errors (`{ "error": "invalid_client" }`, 400). The token endpoint is not in the swagger (specs/README §3).
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

export interface HaloCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Hosted tenants name themselves with `?tenant=`; null: a self-hosted instance (no tenant parameter). */
  readonly tenant: string | null;
}

export class TokenStore {
  private readonly tokens = new Map<string, { clientId: string; expiresMs: number }>();
  constructor(public ttlMs: number) {}

  issue(clientId: string): { token: string; expiresIn: number } {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { clientId, expiresMs: Date.now() + this.ttlMs });
    return { token, expiresIn: Math.max(1, Math.round(this.ttlMs / 1000)) };
  }

  /** The client a live token belongs to; null when unknown or expired. */
  check(token: string): string | null {
    const t = this.tokens.get(token);
    if (!t) return null;
    if (Date.now() >= t.expiresMs) {
      this.tokens.delete(token);
      return null;
    }
    return t.clientId;
  }

  /** Expire every token now (tests: "the token expired"). */
  expireAll(): void {
    this.tokens.clear();
  }

  get issued(): number {
    return this.tokens.size;
  }
}

const oauthError = (error: string, description: string): Record<string, string> => ({ error, error_description: description });

export function registerAuth(app: FastifyInstance, creds: HaloCredentials, tokens: TokenStore, counter: { tokenRequests: number }): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.post('/auth/token', async (req, reply) => {
    counter.tokenRequests += 1;
    const type = String(req.headers['content-type'] ?? '');
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      return reply.code(400).send(oauthError('invalid_request', 'The token request must be application/x-www-form-urlencoded.'));
    }
    const q = req.query as Record<string, string | undefined>;
    if (creds.tenant !== null && q.tenant !== creds.tenant) {
      return reply.code(400).send(oauthError('invalid_request', q.tenant ? `Unknown tenant '${q.tenant}'.` : 'The tenant parameter is required.'));
    }
    const b = (req.body ?? {}) as Record<string, string | undefined>;
    let clientId = b.client_id;
    let secret = b.client_secret;
    const basic = /^Basic\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      clientId = decodeURIComponent(decoded.slice(0, i));
      secret = decodeURIComponent(decoded.slice(i + 1));
    }
    if (b.grant_type !== 'client_credentials')
      return reply.code(400).send(oauthError('unsupported_grant_type', 'Only client_credentials is allowed for this client.'));
    if (clientId !== creds.clientId || secret !== creds.clientSecret) return reply.code(400).send(oauthError('invalid_client', 'Invalid client credentials.'));
    if (b.scope !== undefined && !b.scope.split(' ').every((s) => s === 'all' || s.startsWith('read:') || s.startsWith('edit:'))) {
      return reply.code(400).send(oauthError('invalid_scope', `Unknown scope '${b.scope}'.`));
    }
    const t = tokens.issue(clientId);
    return reply.header('cache-control', 'no-store').send({ access_token: t.token, token_type: 'Bearer', expires_in: t.expiresIn, scope: b.scope ?? 'all' });
  });
}
