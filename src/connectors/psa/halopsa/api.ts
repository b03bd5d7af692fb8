// HTTP to HaloPSA and nothing else: the OAuth 2 client-credentials token (fetched once, shared by concurrent
// calls, renewed a minute before it expires and once more when the API answers 401), Halo's paging
// (`pageinate`/`page_size`/`page_no` and its `{ record_count, <list>: [...] }` envelope) and retries of reads
// through retryDecision (429 waits Retry-After). Writes are sent once: Halo has no idempotency key, so the
// connector checks before every write instead.
import {
  classifyStatus,
  reportVendorRetry,
  retryDecision,
  send,
  sleep as defaultSleep,
  VendorError,
  type RetryDecision,
  type VendorResponse,
} from '../../http.ts';
import { haloCatalogue } from './catalogue.ts';
import { readAhead } from '../read-ahead.ts';
import { haloToken } from './schema.ts';

export interface HaloConnection {
  /** `https://<tenant>.halopsa.com` (a trailing `/api` is accepted and dropped). */
  readonly baseUrl: string;
  /** The authorisation server; default `${baseUrl}/auth`. */
  readonly authUrl?: string;
  /** Hosted tenants: sent as `?tenant=` on the token request. */
  readonly tenant?: string | null;
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface HaloApiOptions {
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onRetry?: (e: { path: string; attempt: number; decision: RetryDecision }) => void;
}

export type QueryParams = Readonly<Record<string, string | number | boolean | undefined>>;

const VENDOR = haloCatalogue.vendor;

/** Halo's errors: problem details (`title`, `errors`) on the API, RFC 6749 (`error`) on the token endpoint. */
export function errorCode(body: unknown): { code: string | null; message: string | null } {
  if (!body || typeof body !== 'object') return { code: null, message: typeof body === 'string' && body ? body.slice(0, 200) : null };
  const b = body as { error?: unknown; error_description?: unknown; title?: unknown; errors?: unknown };
  if (typeof b.error === 'string') return { code: b.error, message: typeof b.error_description === 'string' ? b.error_description : b.error };
  const detail =
    b.errors && typeof b.errors === 'object'
      ? Object.entries(b.errors as Record<string, unknown>)
          .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`)
          .join('; ')
      : '';
  const title = typeof b.title === 'string' ? b.title : null;
  return { code: title, message: [title, detail].filter(Boolean).join(' — ') || null };
}

/** The records of a list answer: Halo wraps them (`{ record_count, invoices: [...] }`); a bare array is taken too. */
export function rowsOf(body: unknown, path: string): { rows: unknown[]; total: number | null } {
  if (Array.isArray(body)) return { rows: body, total: null };
  if (body && typeof body === 'object') {
    const arrays = Object.entries(body as Record<string, unknown>).filter(([, v]) => Array.isArray(v));
    if (arrays.length === 1) {
      const total = (body as { record_count?: unknown }).record_count;
      return { rows: arrays[0]![1] as unknown[], total: typeof total === 'number' ? total : null };
    }
  }
  throw new Error(`HaloPSA ${path} did not answer with a list`);
}

/** A date-time as Halo writes it: UTC without an offset. */
export function haloDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`"${iso}" is not a timestamp`);
  return new Date(ms).toISOString().replace(/Z$/, '');
}

/** Halo's date-times carry no offset and are UTC; as an ISO 8601 instant. */
export function isoInstant(haloDateTime: string): string {
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/.test(haloDateTime) ? haloDateTime : `${haloDateTime}Z`;
  const ms = Date.parse(withZone);
  if (Number.isNaN(ms)) throw new Error(`"${haloDateTime}" is not a date-time`);
  return new Date(ms).toISOString();
}

export class HaloApi {
  private readonly origin: string;
  private readonly sleep: (ms: number) => Promise<void>;
  private token: { value: string; renewAt: number } | null = null;
  private pending: Promise<string> | null = null;
  /** Tokens fetched by this client (tests: renewal happens only when it must). */
  tokensFetched = 0;

  constructor(
    readonly connection: HaloConnection,
    private readonly opts: HaloApiOptions = {},
  ) {
    this.origin = connection.baseUrl.replace(/\/+$/, '').replace(/\/api$/i, '');
    this.sleep = opts.sleep ?? defaultSleep;
  }

  private tokenUrl(): string {
    const base = (this.connection.authUrl ?? `${this.origin}/auth`).replace(/\/+$/, '');
    const u = new URL(`${base}/token`);
    if (this.connection.tenant) u.searchParams.set('tenant', this.connection.tenant);
    return u.toString();
  }

  /** A live access token; one fetch at a time, shared by every caller waiting for it. */
  async accessToken(force = false): Promise<string> {
    if (!force && this.token && Date.now() < this.token.renewAt) return this.token.value;
    if (this.pending) return this.pending;
    this.pending = this.fetchToken().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.connection.clientId,
      client_secret: this.connection.clientSecret,
      scope: haloCatalogue.scope,
    }).toString();
    let res: VendorResponse;
    try {
      res = await send(
        {
          vendor: VENDOR,
          method: 'POST',
          url: this.tokenUrl(),
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body,
          timeoutMs: this.opts.timeoutMs ?? 30_000,
        },
        errorCode,
      );
    } catch (e) {
      // The token endpoint answers a wrong client id, secret or tenant with 400 (RFC 6749): those are keys refused.
      if (
        e instanceof VendorError &&
        e.status === 400 &&
        ['invalid_client', 'unauthorized_client', 'invalid_request', 'invalid_scope'].includes(e.vendorCode ?? '')
      ) {
        throw new VendorError(VENDOR, 'auth', `token request refused: ${e.vendorCode}`, 400, null, e.vendorCode, e.body);
      }
      throw e;
    }
    const t = haloToken.parse(JSON.parse(res.text));
    this.tokensFetched += 1;
    // Renewed a minute before it expires — or, for a short-lived token, half-way through its life.
    const lifeMs = t.expires_in * 1000;
    this.token = { value: t.access_token, renewAt: Date.now() + Math.max(lifeMs - haloCatalogue.renewBeforeMs, lifeMs / 2) };
    return t.access_token;
  }

  url(path: string, query: QueryParams = {}): string {
    const u = new URL(`${this.origin}${haloCatalogue.apiPath}${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** One request; a 401 renews the token once (it expired or was revoked early) and sends the request again. */
  private async request(method: 'GET' | 'POST' | 'DELETE', path: string, query: QueryParams, body?: unknown): Promise<VendorResponse> {
    const attempt = async (token: string): Promise<VendorResponse> =>
      send(
        {
          vendor: VENDOR,
          method,
          url: this.url(path, query),
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          timeoutMs: this.opts.timeoutMs ?? 30_000,
        },
        errorCode,
      );
    try {
      return await attempt(await this.accessToken());
    } catch (e) {
      // A 401 means the request was not processed, so sending it again is safe even for a write.
      if (!(e instanceof VendorError) || e.status !== 401) throw e;
      this.token = null;
      return attempt(await this.accessToken(true));
    }
  }

  private async withRetries<T>(path: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const decision = retryDecision(e, attempt, this.opts.maxAttempts ?? 5);
        if (!decision.retry) throw e;
        if (this.opts.onRetry) this.opts.onRetry({ path, attempt, decision });
        else reportVendorRetry({ vendor: VENDOR, path, attempt, reason: decision.reason, delayMs: decision.delayMs });
        await this.sleep(decision.delayMs);
      }
    }
  }

  /** GET with retries; the parsed JSON body. */
  async get(path: string, query: QueryParams = {}): Promise<unknown> {
    const res = await this.withRetries(path, () => this.request('GET', path, query));
    return res.text ? JSON.parse(res.text) : null;
  }

  /** Every page of a list, in the order asked for, `pageSize` records a page. */
  async *pages(path: string, query: QueryParams, pageSize: number, onTotal?: (recordCount: number) => void): AsyncGenerator<unknown[]> {
    const size = Math.min(Math.max(1, Math.floor(pageSize)), haloCatalogue.paging.maxPageSize);
    for (let pageNo = 1; ; pageNo++) {
      const { rows, total } = rowsOf(await this.get(path, { ...query, pageinate: true, page_size: size, page_no: pageNo }), path);
      if (total !== null) onTotal?.(total);
      if (rows.length > 0) yield rows;
      if (rows.length < size || (total !== null && pageNo * size >= total)) return;
    }
  }

  /**
   * Every page of a list like `pages`, with up to `concurrency` requests at once after page 1 (which gives
   * the record count); pages still come out in order. Pages read side by side can miss a record that moved
   * during the walk, so a caller must check the list did not change meanwhile (HaloConnector.listInvoices).
   */
  async *pagesAhead(
    path: string,
    query: QueryParams,
    pageSize: number,
    concurrency: number,
    onTotal?: (recordCount: number) => void,
  ): AsyncGenerator<unknown[]> {
    const size = Math.min(Math.max(1, Math.floor(pageSize)), haloCatalogue.paging.maxPageSize);
    const pageNo = async (n: number) => rowsOf(await this.get(path, { ...query, pageinate: true, page_size: size, page_no: n }), path);
    const first = await pageNo(1);
    if (first.total !== null) onTotal?.(first.total);
    if (first.rows.length > 0) yield first.rows;
    if (first.rows.length < size || first.total === null || first.total <= size) return;
    const last = Math.ceil(first.total / size);
    async function* numbers(): AsyncGenerator<number> {
      for (let n = 2; n <= last; n++) yield n;
    }
    for await (const { rows, total } of readAhead(numbers(), pageNo, concurrency)) {
      if (total !== null) onTotal?.(total);
      if (rows.length > 0) yield rows;
    }
  }

  /** POST once (no retry: after a failure the outcome of a write is unknown and is checked first). */
  async post(path: string, body: unknown): Promise<unknown> {
    const res = await this.request('POST', path, {}, body);
    return res.text ? JSON.parse(res.text) : null;
  }

  async delete(path: string): Promise<void> {
    await this.request('DELETE', path, {});
  }

  /**
   * `POST /Invoice/PDF/{id}`: the invoice as Halo renders it. The published description (swagger.json, tag
   * InvoiceHeader) gives the route and its integer id but not its answer ("200 Success", no content), so
   * Settle takes a PDF body (bytes starting `%PDF-`) and anything else as no PDF (null) — it does not guess
   * at a JSON shape the description does not give. Binary, so not through `send` (which reads text). Sent
   * once, as every POST (a 401 renews the token and sends it again: not processed either time); 404: null.
   */
  async invoicePdf(id: number): Promise<Buffer | null> {
    const path = `/Invoice/PDF/${id}`;
    const attempt = (token: string) =>
      fetch(this.url(path), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, accept: 'application/pdf' },
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    let res = await attempt(await this.accessToken());
    if (res.status === 401) {
      this.token = null;
      res = await attempt(await this.accessToken(true));
    }
    if (res.status === 404) return null;
    const kind = classifyStatus(res.status);
    if (kind) throw new VendorError(VENDOR, kind, `POST ${path} answered ${res.status}`, res.status);
    const bytes = Buffer.from(await res.arrayBuffer());
    return bytes.subarray(0, 5).toString('latin1') === '%PDF-' ? bytes : null;
  }
}
