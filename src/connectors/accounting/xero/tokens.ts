// OAuth 2.0 tokens for one Xero connection. Xero rotates refresh tokens: each refresh answers with a new
// refresh token and the one used stops working. So the new pair is saved to the TokenStore (sealed with the
// connection's other secrets) BEFORE its access token is used — a crash between "Xero rotated" and "we
// stored it" would otherwise disconnect the MSP's books. One refresh in flight per connection; a pair that
// could not be saved is saved (not re-requested) on the next try. Same contract as QuickBooks' tokens.ts.
import { retryDecision, send, sleep, VendorError } from '../../http.ts';
import type { QboTokens as OAuthTokens, TokenStore } from '../quickbooks-online/tokens.ts';

export type { TokenStore, OAuthTokens };

export const XERO_VENDOR = 'xero';
/** Xero's refresh tokens live 60 days unused (docs: developer.xero.com … /oauth2/auth-flow). */
const REFRESH_TTL_MS = 60 * 86_400_000;

export function xeroTokensFromRefreshToken(refreshToken: string, now = Date.now()): OAuthTokens {
  return { accessToken: '', refreshToken, accessTokenExpiresAt: 0, refreshTokenExpiresAt: now + REFRESH_TTL_MS };
}

export interface XeroTokenConfig {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshSkewMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class XeroTokenManager {
  private current: OAuthTokens | null = null;
  private unsaved: OAuthTokens | null = null;
  private inflight: Promise<OAuthTokens> | null = null;
  private readonly now: () => number;

  constructor(
    private readonly cfg: XeroTokenConfig,
    private readonly store: TokenStore,
  ) {
    this.now = cfg.now ?? Date.now;
  }

  async accessToken(): Promise<string> {
    if (!this.current && !this.inflight) this.current = await this.store.load();
    const c = this.current;
    if (c && c.accessToken && c.accessTokenExpiresAt - (this.cfg.refreshSkewMs ?? 60_000) > this.now()) return c.accessToken;
    return (await this.refresh(c?.accessToken)).accessToken;
  }

  /** Refresh after `stale` was refused; a pair another caller already got is used instead of rotating again. */
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
      await this.store.save(this.unsaved);
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
    const basic = Buffer.from(`${this.cfg.clientId}:${this.cfg.clientSecret}`).toString('base64');
    for (let attempt = 1; ; attempt++) {
      const startedAt = this.now();
      try {
        const res = await send(
          {
            vendor: XERO_VENDOR,
            method: 'POST',
            url: this.cfg.tokenUrl,
            headers: { authorization: `Basic ${basic}`, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
            timeoutMs: 30_000,
          },
          oauthError,
        );
        const b = JSON.parse(res.text) as Record<string, unknown>;
        if (typeof b['access_token'] !== 'string' || typeof b['refresh_token'] !== 'string') {
          throw new VendorError(XERO_VENDOR, 'invalid', 'token endpoint answered without access_token/refresh_token', res.status);
        }
        return {
          accessToken: b['access_token'],
          refreshToken: b['refresh_token'],
          accessTokenExpiresAt: startedAt + Number(b['expires_in'] ?? 1800) * 1000,
          refreshTokenExpiresAt: startedAt + REFRESH_TTL_MS,
        };
      } catch (e) {
        // invalid_grant: the refresh token is used, expired or revoked — only a reconnect helps.
        const err =
          e instanceof VendorError && e.vendorCode === 'invalid_grant'
            ? new VendorError(
                XERO_VENDOR,
                'auth',
                'Xero refused the refresh token (invalid_grant: used, expired or revoked); reconnect Xero',
                e.status,
                null,
                'invalid_grant',
                e.body,
              )
            : e;
        const d = retryDecision(err, attempt, 4);
        if (!d.retry) throw err;
        await (this.cfg.sleep ?? sleep)(d.delayMs);
      }
    }
  }
}

function oauthError(body: unknown): { code: string | null; message: string | null } {
  if (body && typeof body === 'object' && 'error' in body)
    return { code: String((body as { error: unknown }).error), message: String((body as { error: unknown }).error) };
  return { code: null, message: null };
}
