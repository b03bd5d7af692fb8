// OAuth 2.0 tokens for one books connection whose vendor ROTATES refresh tokens (Intuit for QuickBooks Online,
// Xero): a refresh answers with a NEW refresh token and the one used stops working. So the new pair is saved
// to the TokenStore (sealed with the connection's other secrets) BEFORE its access token is used — a crash
// between "the vendor rotated" and "we stored it" would otherwise disconnect the MSP's books. Refreshes are
// serialised: one in flight per connection, everyone else awaits it; a pair that could not be saved is saved
// (not re-requested) on the next try; a pair another process rotated first is adopted. The vendor's own
// details (token lifetimes, words for a dead refresh token) come in RotatingTokenConfig.
import { retryDecision, send, sleep, VendorError } from '../http.ts';

export interface OAuthTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** ms since epoch */
  readonly accessTokenExpiresAt: number;
  /** ms since epoch */
  readonly refreshTokenExpiresAt: number;
}

export interface TokenStore {
  load(): Promise<OAuthTokens>;
  save(tokens: OAuthTokens): Promise<void>;
}

/** In-memory store for tests, the demo and scripts; production keeps tokens sealed in `connections`. */
export class MemoryTokenStore implements TokenStore {
  constructor(private tokens: OAuthTokens) {}
  async load(): Promise<OAuthTokens> {
    return this.tokens;
  }
  async save(tokens: OAuthTokens): Promise<void> {
    this.tokens = tokens;
  }
}

export interface RotatingTokenConfig {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Refresh this long before the access token's stated expiry (clock skew, slow requests). */
  readonly refreshSkewMs?: number;
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What differs between vendors: their name, token lifetimes and the words for a refresh token refused. */
export interface TokenVendor {
  readonly vendor: string;
  /** expires_in when the answer leaves it out, in seconds. */
  readonly defaultAccessTtlSec: number;
  /** When the new refresh token expires, from the token answer. */
  refreshTokenExpiresAt(answer: Readonly<Record<string, unknown>>, startedAt: number): number;
  /** The message of the auth error for invalid_grant: the refresh token is dead, only a reconnect helps. */
  readonly deadRefreshToken: string;
}

export class RotatingTokenManager {
  private current: OAuthTokens | null = null;
  /** A pair the vendor issued that could not be saved yet: saved (not re-requested) on the next refresh. */
  private unsaved: OAuthTokens | null = null;
  private inflight: Promise<OAuthTokens> | null = null;
  private readonly now: () => number;

  constructor(
    private readonly vendor: TokenVendor,
    private readonly cfg: RotatingTokenConfig,
    private readonly store: TokenStore,
  ) {
    this.now = cfg.now ?? Date.now;
  }

  /** A usable access token, refreshing first when it is missing or about to expire. */
  async accessToken(): Promise<string> {
    if (!this.current && !this.inflight) this.current = await this.store.load();
    const c = this.current;
    if (c && c.accessToken && c.accessTokenExpiresAt - (this.cfg.refreshSkewMs ?? 120_000) > this.now()) return c.accessToken;
    return (await this.refresh(c?.accessToken)).accessToken;
  }

  /** Refresh after `stale` was refused (or expired); a pair another caller already got is used instead of rotating again. */
  refresh(stale?: string): Promise<OAuthTokens> {
    if (this.inflight) return this.inflight;
    const c = this.current;
    if (c && stale !== undefined && c.accessToken !== stale && c.accessTokenExpiresAt > this.now()) return Promise.resolve(c);
    this.inflight = this.doRefresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async doRefresh(): Promise<OAuthTokens> {
    if (this.unsaved) {
      await this.store.save(this.unsaved); // throws again if the store is still failing
      this.current = this.unsaved;
      this.unsaved = null;
      if (this.current.accessTokenExpiresAt > this.now()) return this.current;
    }
    const base = this.current ?? (await this.store.load());
    let next: OAuthTokens;
    try {
      next = await this.exchange(base.refreshToken);
    } catch (e) {
      // Another process sharing the store may have rotated first: adopt its pair.
      if (!(e instanceof VendorError && e.kind === 'auth')) throw e;
      const stored = await this.store.load();
      if (stored.refreshToken === base.refreshToken) throw e;
      this.current = stored;
      if (stored.accessToken && stored.accessTokenExpiresAt > this.now()) return stored;
      next = await this.exchange(stored.refreshToken);
    }
    try {
      await this.store.save(next);
    } catch (e) {
      this.unsaved = next;
      throw e;
    }
    this.current = next;
    return next;
  }

  private async exchange(refreshToken: string): Promise<OAuthTokens> {
    const v = this.vendor;
    const basic = Buffer.from(`${this.cfg.clientId}:${this.cfg.clientSecret}`).toString('base64');
    for (let attempt = 1; ; attempt++) {
      const startedAt = this.now();
      try {
        const res = await send(
          {
            vendor: v.vendor,
            method: 'POST',
            url: this.cfg.tokenUrl,
            headers: { authorization: `Basic ${basic}`, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
            timeoutMs: this.cfg.timeoutMs ?? 30_000,
          },
          oauthError,
        );
        const b = JSON.parse(res.text) as Record<string, unknown>;
        if (typeof b['access_token'] !== 'string' || typeof b['refresh_token'] !== 'string') {
          throw new VendorError(v.vendor, 'invalid', 'token endpoint answered without access_token/refresh_token', res.status);
        }
        return {
          accessToken: b['access_token'],
          refreshToken: b['refresh_token'],
          accessTokenExpiresAt: startedAt + Number(b['expires_in'] ?? v.defaultAccessTtlSec) * 1000,
          refreshTokenExpiresAt: v.refreshTokenExpiresAt(b, startedAt),
        };
      } catch (e) {
        // invalid_grant: the refresh token is used, expired or revoked — only a reconnect helps.
        const err =
          e instanceof VendorError && e.vendorCode === 'invalid_grant'
            ? new VendorError(v.vendor, 'auth', v.deadRefreshToken, e.status, null, 'invalid_grant', e.body)
            : e;
        const d = retryDecision(err, attempt, this.cfg.maxAttempts ?? 4);
        if (!d.retry) throw err;
        await (this.cfg.sleep ?? sleep)(d.delayMs);
      }
    }
  }
}

function oauthError(body: unknown): { code: string | null; message: string | null } {
  if (body && typeof body === 'object' && 'error' in body) {
    const b = body as { error?: unknown; error_description?: unknown };
    return { code: String(b.error), message: b.error_description ? String(b.error_description) : String(b.error) };
  }
  return { code: null, message: null };
}
