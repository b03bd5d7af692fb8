// Intuit's OAuth 2.0 as QuickBooks Online clients meet it (docs: developer.intuit.com … /develop/
// authentication-and-authorization/oauth-2.0): the token endpoint `POST /oauth2/v1/tokens/bearer`
// with HTTP Basic client authentication and a form body, access tokens valid for 3600 s, and
// refresh tokens that ROTATE — each refresh returns a new refresh token and the client must keep
// only the newest. The superseded token keeps working for a short grace (so a client that lost the
// response can try again) until the client shows it holds the successor — by refreshing with it or
// by using an access token issued with it; after that, or after the grace, it is `invalid_grant`.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

export interface OAuthOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly realmId: string;
  readonly accessTokenTtlSec: number;
  readonly refreshTokenTtlSec: number;
  /** How long a superseded refresh token still works while its successor is unused. */
  readonly refreshGraceSec: number;
  /** Lifetime of an authorization code (see consent.ts for the figure). */
  readonly authorizationCodeTtlSec: number;
  readonly now: () => number;
}

interface RefreshRecord {
  readonly clientId: string;
  readonly expiresAt: number;
  successor?: string;
  supersededAt?: number;
  /** Refreshed with, or an access token issued with it was used: the client surely holds it. */
  used: boolean;
}

interface AccessRecord {
  readonly clientId: string;
  readonly realmId: string;
  /** The refresh token handed out in the same answer. */
  readonly refreshToken: string;
  expiresAt: number;
  uses: number;
}

export type TokenCheck = { ok: true; clientId: string; realmId: string } | { ok: false; reason: string };

export interface TokenResponse {
  token_type: 'bearer';
  access_token: string;
  expires_in: number;
  refresh_token: string;
  x_refresh_token_expires_in: number;
}

export class TokenAuthority {
  private readonly refresh = new Map<string, RefreshRecord>();
  private readonly access = new Map<string, AccessRecord>();
  private readonly codes = new Map<string, { clientId: string; redirectUri: string; expiresAt: number }>();
  /** The app's registered redirect URIs (Intuit: the Keys tab of the app's dashboard); exact match only. */
  readonly redirectUris = new Set<string>();
  readonly initialRefreshToken: string;
  /** Every token-endpoint exchange, in order (tests assert rotation and refresh counts). */
  readonly log: { grant: string; refreshToken?: string; issuedRefreshToken?: string; error?: string }[] = [];

  constructor(readonly opts: OAuthOptions) {
    this.initialRefreshToken = this.newRefreshToken(opts.clientId);
  }

  private newRefreshToken(clientId: string): string {
    const t = `RT1-${randomBytes(18).toString('base64url')}`;
    this.refresh.set(t, { clientId, expiresAt: this.opts.now() + this.opts.refreshTokenTtlSec * 1000, used: false });
    return t;
  }

  private issue(clientId: string, refreshToken: string): TokenResponse {
    const access = `eyJ.sim.${randomBytes(24).toString('base64url')}`;
    this.access.set(access, { clientId, realmId: this.opts.realmId, refreshToken, expiresAt: this.opts.now() + this.opts.accessTokenTtlSec * 1000, uses: 0 });
    const rec = this.refresh.get(refreshToken)!;
    return {
      token_type: 'bearer',
      access_token: access,
      expires_in: this.opts.accessTokenTtlSec,
      refresh_token: refreshToken,
      x_refresh_token_expires_in: Math.max(0, Math.floor((rec.expiresAt - this.opts.now()) / 1000)),
    };
  }

  /** Basic client auth: `Authorization: Basic base64(client_id:client_secret)`. */
  clientFromHeader(header: string | undefined): string | null {
    const m = /^Basic\s+(.+)$/i.exec(header ?? '');
    if (!m) return null;
    const [id, secret] = Buffer.from(m[1]!, 'base64').toString('utf8').split(':');
    return id === this.opts.clientId && secret === this.opts.clientSecret ? id : null;
  }

  refreshGrant(clientId: string, token: string): TokenResponse | { error: 'invalid_grant'; detail: string } {
    const now = this.opts.now();
    const rec = this.refresh.get(token);
    const fail = (detail: string): { error: 'invalid_grant'; detail: string } => {
      this.log.push({ grant: 'refresh_token', refreshToken: token, error: detail });
      return { error: 'invalid_grant', detail };
    };
    if (!rec || rec.clientId !== clientId) return fail('unknown refresh token');
    if (rec.expiresAt <= now) return fail('refresh token expired');
    if (rec.successor !== undefined) {
      const succ = this.refresh.get(rec.successor)!;
      if (succ.used) return fail('refresh token was rotated and the client has used its successor');
      if (now > (rec.supersededAt ?? now) + this.opts.refreshGraceSec * 1000) return fail('refresh token was rotated');
      // Within the grace: hand out the same successor again rather than forking the chain.
      this.log.push({ grant: 'refresh_token', refreshToken: token, issuedRefreshToken: rec.successor });
      return this.issue(clientId, rec.successor);
    }
    rec.used = true;
    const next = this.newRefreshToken(clientId);
    rec.successor = next;
    rec.supersededAt = now;
    this.log.push({ grant: 'refresh_token', refreshToken: token, issuedRefreshToken: next });
    return this.issue(clientId, next);
  }

  authorizationCodeGrant(clientId: string, code: string, redirectUri: string): TokenResponse | { error: 'invalid_grant'; detail: string } {
    const c = this.codes.get(code);
    this.codes.delete(code); // single use: a second exchange of the same code is refused even if the first failed
    if (!c || c.expiresAt <= this.opts.now() || c.redirectUri !== redirectUri || c.clientId !== clientId) {
      this.log.push({ grant: 'authorization_code', error: 'bad code' });
      return { error: 'invalid_grant', detail: 'authorization code is invalid, used, expired or for another redirect_uri' };
    }
    const rt = this.newRefreshToken(clientId);
    this.log.push({ grant: 'authorization_code', issuedRefreshToken: rt });
    return this.issue(clientId, rt);
  }

  newAuthorizationCode(clientId: string, redirectUri: string): string {
    const code = `AB1-${randomBytes(16).toString('base64url')}`;
    this.codes.set(code, { clientId, redirectUri, expiresAt: this.opts.now() + this.opts.authorizationCodeTtlSec * 1000 });
    return code;
  }

  /** Control: every authorization code handed out so far stops working (a person who waited too long). */
  expireAuthorizationCodes(): void {
    for (const c of this.codes.values()) c.expiresAt = this.opts.now() - 1;
  }

  /** Bearer check for the data API; counts uses so tests can tell whether a token was ever sent. */
  check(authorization: string | undefined): TokenCheck {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return { ok: false, reason: 'no bearer token in the Authorization header' };
    const rec = this.access.get(m[1]!);
    if (!rec) return { ok: false, reason: 'Token invalid' };
    if (rec.expiresAt <= this.opts.now()) return { ok: false, reason: `Token expired: ${m[1]!.slice(0, 12)}…` };
    rec.uses += 1;
    const issuedWith = this.refresh.get(rec.refreshToken);
    if (issuedWith) issuedWith.used = true; // the client got that answer, so the older refresh token can retire
    return { ok: true, clientId: rec.clientId, realmId: rec.realmId };
  }

  accessTokenUses(token: string): number {
    return this.access.get(token)?.uses ?? 0;
  }

  isRefreshTokenUsable(token: string): boolean {
    const rec = this.refresh.get(token);
    if (!rec || rec.expiresAt <= this.opts.now()) return false;
    if (rec.successor === undefined) return true;
    const succ = this.refresh.get(rec.successor)!;
    return !succ.used && this.opts.now() <= (rec.supersededAt ?? 0) + this.opts.refreshGraceSec * 1000;
  }

  /** Control: make every access token issued so far expired (the next API call gets 401). */
  expireAccessTokens(): void {
    const past = this.opts.now() - 1;
    for (const rec of this.access.values()) rec.expiresAt = past;
  }

  revoke(token: string): void {
    this.refresh.delete(token);
    this.access.delete(token);
  }
}

export function registerOAuthRoutes(app: FastifyInstance, auth: TokenAuthority): void {
  app.post('/oauth2/v1/tokens/bearer', async (req, reply) => {
    const clientId = auth.clientFromHeader(req.headers.authorization);
    if (!clientId) return reply.code(401).send({ error: 'invalid_client' });
    const form = (req.body ?? {}) as Record<string, string | undefined>;
    const grant = form['grant_type'];
    let result: TokenResponse | { error: string; detail: string };
    if (grant === 'refresh_token') {
      if (!form['refresh_token']) return reply.code(400).send({ error: 'invalid_request' });
      result = auth.refreshGrant(clientId, form['refresh_token']);
    } else if (grant === 'authorization_code') {
      if (!form['code'] || !form['redirect_uri']) return reply.code(400).send({ error: 'invalid_request' });
      result = auth.authorizationCodeGrant(clientId, form['code'], form['redirect_uri']);
    } else {
      return reply.code(400).send({ error: 'unsupported_grant_type' });
    }
    if ('error' in result) return reply.code(400).send({ error: result.error });
    return reply.header('cache-control', 'no-store').send(result);
  });

  app.post('/oauth2/v1/tokens/revoke', async (req, reply) => {
    if (!auth.clientFromHeader(req.headers.authorization)) return reply.code(401).send({ error: 'invalid_client' });
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    if (body['token']) auth.revoke(body['token']);
    return reply.code(200).send({});
  });
}
