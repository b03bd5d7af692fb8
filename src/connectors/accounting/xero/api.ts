// HTTP to Xero's Accounting API and nothing else: bearer auth with `xero-tenant-id` on every call, refresh on
// expiry and on 401 (tokens.ts), the limits (limiter.ts: X-*Limit-Remaining read from every answer, 429 →
// wait Retry-After, a used-up day → fail fast as rate-limited), 5xx/timeouts → back-off, and Xero's error
// bodies (ValidationException Elements[].ValidationErrors, the identity problem document) turned into typed
// VendorErrors. Creates carry `Idempotency-Key`, so a retry after an unknown outcome replays, never doubles.
import { parseRetryAfter, reportVendorRetry, retryDecision, sleep, VendorError, classifyStatus } from '../../http.ts';
import { xeroLimiterFor, type XeroLimiter } from './limiter.ts';
import { XERO_VENDOR, XeroTokenManager, type TokenStore } from './tokens.ts';

export type Json = Record<string, unknown>;

export interface XeroApiConfig {
  /** The Accounting API root, https://api.xero.com/api.xro/2.0 (or a simulator's). */
  readonly apiUrl: string;
  readonly tokenUrl: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface XeroApiOptions {
  readonly limiter?: XeroLimiter;
  readonly maxAttempts?: number;
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Longest wait on a 429 before giving the call back as rate-limited (a minute's window at most). */
  readonly maxThrottleWaitMs?: number;
}

export interface XeroCall {
  readonly method: 'GET' | 'PUT' | 'POST';
  /** Below the API root, e.g. "/Payments". */
  readonly path: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly idempotencyKey?: string;
  readonly ifModifiedSince?: string;
}

/** The words of a Xero error body: validation messages, or the problem document's Detail. */
export function xeroErrorText(body: unknown): { code: string | null; message: string | null } {
  if (!body || typeof body !== 'object') return { code: null, message: typeof body === 'string' ? body : null };
  const b = body as Json;
  if (Array.isArray(b['Elements'])) {
    const msgs = (b['Elements'] as Json[]).flatMap((e) => ((e['ValidationErrors'] as Json[] | undefined) ?? []).map((v) => String(v['Message'])));
    return { code: String(b['Type'] ?? 'ValidationException'), message: msgs.join('; ') || String(b['Message'] ?? '') };
  }
  if (typeof b['Type'] === 'string' && typeof b['Message'] === 'string') return { code: b['Type'], message: b['Message'] };
  if (typeof b['Detail'] === 'string') return { code: b['Detail'].split(':')[0]!, message: b['Detail'] };
  return { code: null, message: null };
}

export class XeroApi {
  readonly tokens: XeroTokenManager;
  readonly limiter: XeroLimiter;
  private readonly pause: (ms: number) => Promise<void>;

  constructor(
    readonly config: XeroApiConfig,
    store: TokenStore,
    private readonly options: XeroApiOptions = {},
  ) {
    this.tokens = new XeroTokenManager(
      { tokenUrl: config.tokenUrl, clientId: config.clientId, clientSecret: config.clientSecret, ...(options.sleep ? { sleep: options.sleep } : {}) },
      store,
    );
    this.limiter = options.limiter ?? xeroLimiterFor(config.tenantId);
    this.pause = options.sleep ?? sleep;
  }

  async call(c: XeroCall): Promise<Json> {
    const qs = c.params ? `?${new URLSearchParams(c.params).toString()}` : '';
    const url = `${this.config.apiUrl}${c.path}${qs}`;
    const maxAttempts = this.options.maxAttempts ?? 6;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      if (this.limiter.dayExhaustedUntil > Date.now()) throw this.dailyError();
      const token = await this.tokens.accessToken();
      try {
        return await this.limiter.run(() => this.once(c, url, token));
      } catch (err) {
        if (err instanceof VendorError && err.status === 401 && !refreshed) {
          // Expired or revoked access token: refresh (saved first) and try once more.
          refreshed = true;
          await this.tokens.refresh(token);
          attempt -= 1;
          continue;
        }
        if (err instanceof VendorError && err.kind === 'rate_limited') {
          if (err.vendorCode === 'daily') {
            this.limiter.dailyExhausted(err.retryAfterMs);
            throw this.dailyError();
          }
          this.limiter.hold(err.retryAfterMs ?? 1000);
          if ((err.retryAfterMs ?? 0) > (this.options.maxThrottleWaitMs ?? 65_000)) throw err;
        }
        const d = retryDecision(err, attempt, maxAttempts);
        if (!d.retry) throw err;
        const delayMs = err instanceof VendorError && err.kind === 'rate_limited' ? (err.retryAfterMs ?? d.delayMs) : d.delayMs;
        reportVendorRetry({ vendor: XERO_VENDOR, path: c.path, attempt, reason: d.reason, delayMs });
        // A 429's wait is the limiter's hold: the next start waits there, whoever it is.
        if (!(err instanceof VendorError && err.kind === 'rate_limited')) await this.pause(delayMs);
      }
    }
  }

  /** Postings wait as retryable (the engine retries later); the words say why and until when. */
  private dailyError(): VendorError {
    const until = this.limiter.dayExhaustedUntil;
    return new VendorError(
      XERO_VENDOR,
      'rate_limited',
      `Xero's daily limit of 5,000 calls for this organisation is used up; Settle carries on from ${new Date(until).toISOString()}`,
      429,
      Math.max(0, until - Date.now()),
      'daily',
    );
  }

  private async once(c: XeroCall, url: string, token: string): Promise<Json> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'xero-tenant-id': this.config.tenantId,
      accept: 'application/json',
      ...(c.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(c.idempotencyKey ? { 'idempotency-key': c.idempotencyKey } : {}),
      ...(c.ifModifiedSince ? { 'if-modified-since': c.ifModifiedSince } : {}),
    };
    const controller = new AbortController();
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method: c.method, headers, ...(c.body === undefined ? {} : { body: JSON.stringify(c.body) }), signal: controller.signal });
      text = await res.text();
    } catch (e) {
      throw new VendorError(
        XERO_VENDOR,
        controller.signal.aborted ? 'timeout' : 'network',
        `${c.method} ${c.path}: ${controller.signal.aborted ? `no answer in ${timeoutMs} ms` : (e as Error).message}`,
      );
    } finally {
      clearTimeout(timer);
    }
    this.limiter.observe(res.headers);
    const kind = classifyStatus(res.status);
    if (kind === null) return res.status === 304 || text === '' ? {} : (JSON.parse(text) as Json);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* text */
    }
    const e = xeroErrorText(body);
    const problem = res.headers.get('x-rate-limit-problem');
    throw new VendorError(
      XERO_VENDOR,
      kind,
      `${c.method} ${c.path} answered ${res.status}${e.message ? `: ${e.message}` : ''}`,
      res.status,
      parseRetryAfter(res.headers.get('retry-after')),
      res.status === 429 ? (problem ?? 'minute') : e.code,
      body,
    );
  }

  /** Every row of a list, page by page (100 a page unless asked otherwise). */
  async listAll(path: string, key: string, params: Record<string, string> = {}): Promise<Json[]> {
    const out: Json[] = [];
    for (let page = 1; ; page++) {
      const res = await this.call({ method: 'GET', path, params: { ...params, page: String(page) } });
      const rows = (res[key] as Json[] | undefined) ?? [];
      out.push(...rows);
      if (rows.length < 100) return out;
    }
  }
}
