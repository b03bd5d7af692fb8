// OAuth 2.0 tokens for one Xero connection: Xero rotates refresh tokens and refuses the used one, so the
// shared RotatingTokenManager (../oauth-tokens.ts, as QuickBooks Online) saves each new pair sealed before its
// access token is used. What is Xero's own: access tokens of 30 minutes, refresh tokens of 60 days unused.
import { RotatingTokenManager, type OAuthTokens, type RotatingTokenConfig, type TokenStore } from '../oauth-tokens.ts';

export type { TokenStore, OAuthTokens };

export const XERO_VENDOR = 'xero';
/** Xero's refresh tokens live 60 days unused (docs: developer.xero.com … /oauth2/auth-flow). */
const REFRESH_TTL_MS = 60 * 86_400_000;

export function xeroTokensFromRefreshToken(refreshToken: string, now = Date.now()): OAuthTokens {
  return { accessToken: '', refreshToken, accessTokenExpiresAt: 0, refreshTokenExpiresAt: now + REFRESH_TTL_MS };
}

export type XeroTokenConfig = RotatingTokenConfig;

export class XeroTokenManager extends RotatingTokenManager {
  constructor(cfg: XeroTokenConfig, store: TokenStore) {
    super(
      {
        vendor: XERO_VENDOR,
        defaultAccessTtlSec: 1800,
        refreshTokenExpiresAt: (_b, startedAt) => startedAt + REFRESH_TTL_MS,
        deadRefreshToken: 'Xero refused the refresh token (invalid_grant: used, expired or revoked); reconnect Xero',
      },
      { refreshSkewMs: 60_000, ...cfg },
      store,
    );
  }
}
