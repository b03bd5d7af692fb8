import type { EngineContext } from '../engine/context.ts';

export interface HttpDeps {
  readonly ctx: EngineContext;
  /** HMAC key for staff session cookies (derived from the instance secret key). */
  readonly sessionSecret: string;
  /** Lifetime of a client portal link. */
  readonly portalLinkTtlSec: number;
  /** Readiness: true once migrations ran and the worker started. */
  readonly isReady: () => boolean;
}
