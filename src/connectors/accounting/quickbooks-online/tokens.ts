// OAuth 2.0 tokens for one QuickBooks Online connection: Intuit rotates refresh tokens, so the shared
// RotatingTokenManager (../oauth-tokens.ts) saves each new pair sealed before its access token is used.
// What is Intuit's own: an access token of an hour, the refresh token's life from x_refresh_token_expires_in.
import { MemoryTokenStore, RotatingTokenManager, type OAuthTokens, type RotatingTokenConfig, type TokenStore } from '../oauth-tokens.ts';
import { QBO_CATALOGUE } from './catalogue.ts';

export type QboTokens = OAuthTokens;
export type TokenManagerConfig = RotatingTokenConfig;
export { MemoryTokenStore, type TokenStore };

/** Tokens for a connection that has only a refresh token so far (its access token counts as expired). */
export function tokensFromRefreshToken(refreshToken: string, now = Date.now()): QboTokens {
  return { accessToken: '', refreshToken, accessTokenExpiresAt: 0, refreshTokenExpiresAt: now + 100 * 86_400_000 };
}

export class QboTokenManager extends RotatingTokenManager {
  constructor(cfg: TokenManagerConfig, store: TokenStore) {
    super(
      {
        vendor: QBO_CATALOGUE.vendor,
        defaultAccessTtlSec: 3600,
        refreshTokenExpiresAt: (b, startedAt) => startedAt + Number(b['x_refresh_token_expires_in'] ?? 0) * 1000,
        deadRefreshToken: 'refresh token rejected (invalid_grant); reconnect QuickBooks',
      },
      cfg,
      store,
    );
  }
}
