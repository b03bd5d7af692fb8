// OAuth 2.0 tokens for one QuickBooks Online connection. Intuit rotates refresh tokens: a refresh
// answer carries a NEW refresh token and the old one stops working soon after. So a new token pair
// is saved to the TokenStore BEFORE its access token is used or the old refresh token forgotten —
// a crash between "Intuit rotated" and "we stored it" would otherwise disconnect the MSP's books.
// Refreshes are serialised: one in flight per connection, everyone else awaits it.
import { retryDecision, send, sleep, VendorError } from '../../http.ts';
import { QBO_CATALOGUE } from './catalogue.ts';

export interface QboTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** ms since epoch */
  readonly accessTokenExpiresAt: number;
  /** ms since epoch */
  readonly refreshTokenExpiresAt: number;
}

export interface TokenStore {
  load(): Promise<QboTokens>;
  save(tokens: QboTokens): Promise<void>;
}

/** In-memory store for tests, the demo and scripts; production keeps tokens encrypted in `connections`. */
export class MemoryTokenStore implements TokenStore {
  constructor(private tokens: QboTokens) {}
  async load(): Promise<QboTokens> {
    return this.tokens;
  }
  async save(tokens: QboTokens): Promise<void> {
    this.tokens = tokens;
  }
}

/** Tokens for a connection that has only a refresh token so far (its access token counts as expired). */
export function tokensFromRefreshToken(refreshToken: string, now = Date.now()): QboTokens {
  return { accessToken: '', refreshToken, accessTokenExpiresAt: 0, refreshTokenExpiresAt: now + 100 * 86_400_000 };
}

export interface TokenManagerConfig {
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

const VENDOR = QBO_CATALOGUE.vendor;

export class QboTokenManager {
  private current: QboTokens | null = null;
  /** A pair Intuit issued that could not be saved yet: saved (not re-requested) on the next refresh. */
  private unsaved: QboTokens | null = null;
  private inflight: Promise<QboTokens> | null = null;
  private readonly now: () => number;

  constructor(
    private readonly cfg: TokenManagerConfig,
    private readonly store: TokenStore,
  ) {
    this.now = cfg.now ?? Date.now;
  }

  /** A usable access token, refreshing first when it is missing or about to expire. */
  async accessToken(): Promise<string> {
    if (!this.current && !this.inflight) this.current = await this.store.load();
    if (this.current && this.current.accessToken && this.current.accessTokenExpiresAt - (this.cfg.refreshSkewMs ?? 120_000) > this.now()) {
      return this.current.accessToken;
    }
    return (await this.refresh(this.current?.accessToken)).accessToken;
  }

  /**
   * Refresh after `staleAccessToken` was refused (or expired). If another caller already replaced
   * that token, its result is used instead of rotating again.
   */
  refresh(staleAccessToken?: string): Promise<QboTokens> {
    if (this.inflight) return this.inflight;
    if (this.current && staleAccessToken !== undefined && this.current.accessToken !== staleAccessToken && this.current.accessTokenExpiresAt > this.now()) {
      return Promise.resolve(this.current);
    }
    this.inflight = this.doRefresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async doRefresh(): Promise<QboTokens> {
    if (this.unsaved) {
      await this.store.save(this.unsaved); // throws again if the store is still failing
      this.current = this.unsaved;
      this.unsaved = null;
      if (this.current.accessTokenExpiresAt > this.now()) return this.current;
    }
    const base = this.current ?? (await this.store.load());
    let next: QboTokens;
    try {
      next = await this.exchange(base.refreshToken);
    } catch (e) {
      // Another process sharing the store may have rotated the token first: adopt its pair.
      if (e instanceof VendorError && e.kind === 'auth') {
        const stored = await this.store.load();
        if (stored.refreshToken !== base.refreshToken) {
          this.current = stored;
          if (stored.accessToken && stored.accessTokenExpiresAt > this.now()) return stored;
          next = await this.exchange(stored.refreshToken);
        } else throw e;
      } else throw e;
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

  private async exchange(refreshToken: string): Promise<QboTokens> {
    const basic = Buffer.from(`${this.cfg.clientId}:${this.cfg.clientSecret}`).toString('base64');
    for (let attempt = 1; ; attempt++) {
      const startedAt = this.now();
      try {
        const res = await send(
          {
            vendor: VENDOR,
            method: 'POST',
            url: this.cfg.tokenUrl,
            headers: {
              authorization: `Basic ${basic}`,
              accept: 'application/json',
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
            timeoutMs: this.cfg.timeoutMs ?? 30_000,
          },
          oauthError,
        );
        const b = JSON.parse(res.text) as Record<string, unknown>;
        if (typeof b['access_token'] !== 'string' || typeof b['refresh_token'] !== 'string') {
          throw new VendorError(VENDOR, 'invalid', 'token endpoint answered without access_token/refresh_token', res.status);
        }
        return {
          accessToken: b['access_token'],
          refreshToken: b['refresh_token'],
          accessTokenExpiresAt: startedAt + Number(b['expires_in'] ?? 3600) * 1000,
          refreshTokenExpiresAt: startedAt + Number(b['x_refresh_token_expires_in'] ?? 0) * 1000,
        };
      } catch (e) {
        // invalid_grant comes as 400: the refresh token is dead; only a reconnect helps.
        const err =
          e instanceof VendorError && e.vendorCode === 'invalid_grant'
            ? new VendorError(VENDOR, 'auth', `refresh token rejected (invalid_grant); reconnect QuickBooks`, e.status, null, 'invalid_grant', e.body)
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
