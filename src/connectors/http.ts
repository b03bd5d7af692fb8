// The one place Settle speaks HTTP to vendors. Connectors build requests and parse responses; this
// executor does the transport, timeouts and the classification of failures into typed values, so a
// retry decision is made from status codes and headers, never from message text (STYLE.md habit 3).

export type VendorFailureKind =
  | 'rate_limited' // 429: wait Retry-After, then retry
  | 'server' // 5xx: retry with back-off
  | 'timeout' // no answer in time: outcome unknown for writes
  | 'network' // connection refused/reset: nothing reached the vendor, or unknown for writes
  | 'auth' // 401/403: refresh credentials or ask the MSP to reconnect
  | 'not_found' // 404
  | 'conflict' // 409 / stale SyncToken / idempotency mismatch
  | 'invalid'; // other 4xx: our request is wrong; retrying will not help

export class VendorError extends Error {
  override readonly name = 'VendorError';
  constructor(
    readonly vendor: string,
    readonly kind: VendorFailureKind,
    message: string,
    readonly status: number | null = null,
    readonly retryAfterMs: number | null = null,
    readonly vendorCode: string | null = null,
    readonly body: unknown = null,
  ) {
    super(`${vendor}: ${message}`);
  }
}

export interface RetryDecision {
  readonly retry: boolean;
  readonly delayMs: number;
  readonly reason: string;
}

/** Decide whether and when to retry a failed call. `attempt` counts from 1. */
export function retryDecision(err: unknown, attempt: number, maxAttempts = 5): RetryDecision {
  if (!(err instanceof VendorError)) return { retry: false, delayMs: 0, reason: 'not a vendor failure' };
  if (attempt >= maxAttempts) return { retry: false, delayMs: 0, reason: `gave up after ${attempt} attempts` };
  const backoff = Math.min(30_000, 200 * 2 ** (attempt - 1));
  switch (err.kind) {
    case 'rate_limited':
      return { retry: true, delayMs: err.retryAfterMs ?? backoff, reason: 'rate limited (429)' };
    case 'server':
      return { retry: true, delayMs: backoff, reason: `vendor error ${err.status ?? ''}`.trim() };
    case 'timeout':
    case 'network':
      return { retry: true, delayMs: backoff, reason: err.kind };
    case 'auth':
    case 'not_found':
    case 'conflict':
    case 'invalid':
      return { retry: false, delayMs: 0, reason: `${err.kind} (${err.status ?? '-'}) will not succeed on retry` };
  }
}

/** One vendor call about to be tried again: what failed, which attempt, how long Settle waits first. */
export interface VendorRetry {
  readonly vendor: string;
  readonly path: string;
  readonly attempt: number;
  readonly reason: string;
  readonly delayMs: number;
}

let retryListener: ((r: VendorRetry) => void) | null = null;

/**
 * Where the connectors' retry loops report each wait. The runtime points it at the log: a 429 from
 * QuickBooks means a silent 60-second wait per call, and the soak once saw the books flush slow to one
 * posting a minute with nothing in any log to say why.
 */
export function onVendorRetry(listener: ((r: VendorRetry) => void) | null): void {
  retryListener = listener;
}

export function reportVendorRetry(r: VendorRetry): void {
  try {
    retryListener?.(r);
  } catch {
    // A broken listener must not turn a retry into a failure.
  }
}

export function classifyStatus(status: number): VendorFailureKind | null {
  if (status < 400) return null;
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status >= 500) return 'server';
  return 'invalid';
}

/** Retry-After as seconds or an HTTP date → milliseconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export interface VendorRequest {
  readonly vendor: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs?: number;
}

export interface VendorResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/**
 * Send one request. Returns the response for 2xx/3xx; throws a VendorError for everything else,
 * with the vendor's error code extracted by `errorCode` when the connector supplies one.
 */
export async function send(req: VendorRequest, errorCode?: (body: unknown) => { code: string | null; message: string | null }): Promise<VendorResponse> {
  const controller = new AbortController();
  const timeoutMs = req.timeoutMs ?? 30_000;
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers ?? {},
      ...(req.body === undefined ? {} : { body: req.body }),
      signal: controller.signal,
    });
  } catch (e) {
    clearTimeout(timer);
    if (controller.signal.aborted) {
      throw new VendorError(req.vendor, 'timeout', `${req.method} ${pathOf(req.url)} got no answer in ${timeoutMs} ms`);
    }
    throw new VendorError(req.vendor, 'network', `${req.method} ${pathOf(req.url)} failed: ${(e as Error).message}`);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    throw new VendorError(req.vendor, controller.signal.aborted ? 'timeout' : 'network', `${req.method} ${pathOf(req.url)}: response cut off`);
  } finally {
    clearTimeout(timer);
  }
  const kind = classifyStatus(res.status);
  if (kind === null) return { status: res.status, headers: res.headers, text };
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep text */
  }
  const extracted = errorCode?.(body) ?? { code: null, message: null };
  throw new VendorError(
    req.vendor,
    kind,
    `${req.method} ${pathOf(req.url)} answered ${res.status}${extracted.message ? `: ${extracted.message}` : ''}`,
    res.status,
    parseRetryAfter(res.headers.get('retry-after')),
    extracted.code,
    body,
  );
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
