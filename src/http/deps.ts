import type { EngineContext } from '../engine/context.ts';

export interface HttpDeps {
  readonly ctx: EngineContext;
  /** HMAC key for staff session cookies (derived from the instance secret key). */
  readonly sessionSecret: string;
  /** Lifetime of a client portal link. */
  readonly portalLinkTtlSec: number;
  /** Readiness: true once migrations ran and the worker started. */
  readonly isReady: () => boolean;
  /** From the configuration (TRUST_PROXY, PUBLIC_URL, METRICS_*); absent = the safe defaults (docs/security.md). */
  readonly security?: HttpSecurity;
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
