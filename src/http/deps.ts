import type { RateLimits } from './rate-limits.ts';
import type { LockoutPolicy } from '../engine/sign-in-lockout.ts';
import type { EngineContext } from '../engine/context.ts';
import type { SecretBox } from '../db/crypto.ts';
import type { SessionTimeouts } from '../engine/staff-sessions.ts';
import type { OAuthApps } from '../engine/quickbooks-connect.ts';

export interface HttpDeps {
  readonly ctx: EngineContext;
  /** HMAC key for staff session cookies (derived from the instance secret key). */
  readonly sessionSecret: string;
  /** Lifetime of a client portal link. */
  readonly portalLinkTtlSec: number;
  /** Readiness: true once migrations ran and the worker started. */
  readonly isReady: () => boolean;
  /** Rate limits and sign-in lockout (http/rate-limits.ts); absent = from the environment, else the defaults. */
  readonly limits?: { readonly rate: RateLimits; readonly lockout: LockoutPolicy };
  /** From the configuration (TRUST_PROXY, PUBLIC_URL, METRICS_*); absent = the safe defaults (docs/security.md). */
  readonly security?: HttpSecurity;
  /** Staff accounts: session timeouts, and the key that seals second-factor secrets (engine/staff-*.ts). */
  readonly staff?: StaffSettings;
  /** The install's OAuth apps (the Intuit app for "Connect to QuickBooks"; engine/quickbooks-connect.ts). */
  readonly oauthApps?: OAuthApps;
}

export interface StaffSettings {
  readonly box: SecretBox;
  readonly timeouts: SessionTimeouts;
}

export interface HttpSecurity {
  /** Fastify's trustProxy: false (default), a hop count, or proxy addresses/CIDRs. */
  readonly trustProxy: boolean | number | string;
  /** PUBLIC_URL is https: HSTS and Secure cookies. */
  readonly https: boolean;
  /** GET /metrics needs this bearer token. */
  readonly metricsToken?: string;
  /** host:port where /metrics is served instead of beside the API. */
  readonly metricsListen?: string;
}
