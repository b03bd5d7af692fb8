// HTTP to Stripe through the official SDK: pointed at api.stripe.com or a simulator, pinned to our API
// version, SDK retries off (we retry ourselves, with reasons), and SDK errors turned into the shared
// VendorError vocabulary from their HTTP status, Stripe error type and code — never message text.
import Stripe from 'stripe';
import { classifyStatus, reportVendorRetry, retryDecision, sleep, VendorError, type VendorFailureKind } from '../../http.ts';
import { STRIPE } from './catalogue.ts';
import { defaultStripeLimits, pacedHttpClient, pacerFor, RATE_LIMITED_PAUSE_MS, type StripeRateLimits } from './pacing.ts';

export interface StripeApiOptions {
  readonly secretKey: string;
  /** Defaults to https://api.stripe.com; the simulator's base URL in tests and the demo. */
  readonly baseUrl?: string | undefined;
  readonly timeoutMs?: number | undefined;
  /** Attempts for calls that are safe to repeat (reads; writes carrying an idempotency key). */
  readonly maxAttempts?: number | undefined;
  /** The account's limits where Stripe raised them; by default Stripe's published figures for the key's mode. */
  readonly rateLimits?: { readonly [K in keyof StripeRateLimits]?: number | undefined } | undefined;
}

/** The limits this connection paces to: configured figures over the defaults for the key's mode. */
export function effectiveLimits(opts: Pick<StripeApiOptions, 'secretKey' | 'rateLimits'>): StripeRateLimits {
  const given = Object.fromEntries(Object.entries(opts.rateLimits ?? {}).filter(([, v]) => v !== undefined)) as Partial<StripeRateLimits>;
  return { ...defaultStripeLimits(opts.secretKey), ...given };
}

export function createStripeClient(opts: StripeApiOptions): Stripe {
  const url = new URL(opts.baseUrl ?? STRIPE.apiBaseUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const pacer = pacerFor(opts.secretKey, url.origin, effectiveLimits(opts));
  return new Stripe(opts.secretKey, {
    // Every request waits for its slot under the account's limits (pacing.ts).
    httpClient: pacedHttpClient(pacer),
    // The SDK's types describe its newest API version; we pin the version our spec and simulator describe.
    apiVersion: STRIPE.apiVersion as Stripe.LatestApiVersion,
    host: url.hostname,
    port: url.port || (protocol === 'http' ? 80 : 443),
    protocol,
    // Our retries, with reasons. The SDK still resends once, with the same Idempotency-Key, when a
    // kept-alive socket turns out closed (ECONNRESET/EPIPE); Stripe replays the first result, so it is safe.
    maxNetworkRetries: 0,
    timeout: opts.timeoutMs ?? 30_000,
    telemetry: false,
    appInfo: { name: 'Settle', url: 'https://github.com/settle' },
  });
}

/** What a Stripe SDK error is, as a VendorError (status, kind, Stripe error code, raw error). */
export function toVendorError(e: unknown): VendorError {
  if (e instanceof VendorError) return e;
  if (e instanceof Stripe.errors.StripeError) {
    if (e instanceof Stripe.errors.StripeConnectionError) {
      // The SDK reports its own timeout as a connection error whose cause carries code ETIMEDOUT.
      const code = errorCode((e as { detail?: unknown }).detail);
      const kind: VendorFailureKind = code === 'ETIMEDOUT' ? 'timeout' : 'network';
      return new VendorError(STRIPE.vendor, kind, e.message, null, null, code, null);
    }
    const status = e.statusCode ?? null;
    let kind: VendorFailureKind = status === null ? 'network' : (classifyStatus(status) ?? 'invalid');
    // A key reused with different parameters (400) conflicts with the request that first used it.
    if (e.rawType === 'idempotency_error') kind = 'conflict';
    const retryAfter = headerNumber(e.headers, 'retry-after');
    return new VendorError(STRIPE.vendor, kind, e.message, status, retryAfter === null ? null : retryAfter * 1000, e.code ?? e.rawType ?? null, e.raw);
  }
  return new VendorError(STRIPE.vendor, 'network', e instanceof Error ? e.message : String(e));
}

function errorCode(detail: unknown): string | null {
  if (detail && typeof detail === 'object' && 'code' in detail && typeof (detail as { code: unknown }).code === 'string') {
    return (detail as { code: string }).code;
  }
  return null;
}

function headerNumber(headers: unknown, name: string): number | null {
  if (!headers || typeof headers !== 'object') return null;
  const v = (headers as Record<string, unknown>)[name];
  const n = typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  /** Which failures this call may repeat; the delay comes from retryDecision. */
  readonly retryable: (e: VendorError) => boolean;
  readonly wait?: (ms: number) => Promise<void>;
}

/** Retries safe to take for a read, or a write with an idempotency key (Stripe replays the first result). */
export const repeatable = (e: VendorError): boolean =>
  e.kind === 'rate_limited' ||
  e.kind === 'server' ||
  e.kind === 'timeout' ||
  e.kind === 'network' ||
  (e.kind === 'conflict' && e.vendorCode === 'idempotency_key_in_use');

/** Stripe's own word on whether a retry can succeed (`Stripe-Should-Retry`), when it gave one. */
export function stripeShouldRetry(e: unknown): boolean | null {
  if (!(e instanceof Stripe.errors.StripeError)) return null;
  const v = (e.headers as Record<string, unknown> | undefined)?.['stripe-should-retry'];
  return v === 'true' ? true : v === 'false' ? false : null;
}

/**
 * Call, classify failures, and retry by retryDecision while the policy allows. Throws VendorError.
 * `Stripe-Should-Retry: false` is final. A 429 waits at least the one-second window Stripe counts in,
 * growing with each attempt, plus jitter so that parallel callers do not come back together.
 */
export async function call<T>(fn: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (raw) {
      const err = toVendorError(raw);
      const decision = retryDecision(err, attempt, policy.maxAttempts);
      if (!decision.retry || !policy.retryable(err) || stripeShouldRetry(raw) === false) throw err;
      const delay =
        err.kind === 'rate_limited' && err.retryAfterMs === null
          ? RATE_LIMITED_PAUSE_MS * 2 ** (attempt - 1) + Math.floor(Math.random() * 250)
          : decision.delayMs;
      reportVendorRetry({ vendor: 'stripe', path: '', attempt, reason: decision.reason, delayMs: Math.min(delay, 5_000) });
      await (policy.wait ?? sleep)(Math.min(delay, 5_000));
    }
  }
}
