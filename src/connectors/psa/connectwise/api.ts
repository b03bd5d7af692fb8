// HTTP to ConnectWise Manage and nothing else: auth headers, API-version pinning, paging (navigable,
// forward-only `pageId`, and keyset paging on `lastUpdated` + id), retries of reads through
// retryDecision (429 waits Retry-After). Writes are never retried here: ConnectWise has no
// idempotency key, so the connector checks before every write instead.
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
import { connectWiseCatalogue } from './catalogue.ts';

export interface ConnectWiseConnection {
  /** `https://{site}/v4_6_release/apis/3.0` */
  readonly baseUrl: string;
  readonly companyId: string;
  readonly publicKey: string;
  readonly privateKey: string;
  readonly clientId: string;
}

export interface ConnectWiseApiOptions {
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told about every retry, with the decision's reason (for logs and tests). */
  readonly onRetry?: (e: { path: string; attempt: number; decision: RetryDecision }) => void;
}

export type QueryParams = Readonly<Record<string, string | number | undefined>>;

const VENDOR = connectWiseCatalogue.vendor;

export function errorCode(body: unknown): { code: string | null; message: string | null } {
  if (!body || typeof body !== 'object') return { code: null, message: null };
  const b = body as { code?: unknown; message?: unknown };
  return { code: typeof b.code === 'string' ? b.code : null, message: typeof b.message === 'string' ? b.message : null };
}

/** A string literal for `conditions` ("…" with quotes and backslashes escaped). */
export function cwString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * A date literal for `conditions`. ConnectWise stamps records to the second, so the instant is
 * floored to the second: a `>=` on it can repeat a record, never skip one.
 */
export function cwDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`"${iso}" is not a timestamp`);
  return `[${new Date(ms - (ms % 1000)).toISOString().slice(0, 19)}Z]`;
}

/**
 * A page size ConnectWise will honour: at most its documented hard limit of 1000. Asking for more is
 * not refused — the vendor clamps it — but a reader that stops at the first page shorter than what it
 * asked for would then stop after 1000 records and miss the rest.
 */
export function vendorPageSize(pageSize: number): number {
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`page size ${pageSize} is not a whole number of at least 1`);
  return Math.min(pageSize, connectWiseCatalogue.paging.maxPageSize);
}

function nextPageId(link: string | null): number | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (!m) continue;
    const id = new URL(m[1]!).searchParams.get('pageId') ?? new URL(m[1]!).searchParams.get('pageid');
    return id && /^\d+$/.test(id) ? Number(id) : null;
  }
  return null;
}

export class ConnectWiseApi {
  private readonly authHeaders: Record<string, string>;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly connection: ConnectWiseConnection,
    private readonly opts: ConnectWiseApiOptions = {},
  ) {
    const c = connection;
    const basic = Buffer.from(`${c.companyId}+${c.publicKey}:${c.privateKey}`, 'utf8').toString('base64');
    this.authHeaders = { authorization: `Basic ${basic}`, clientId: c.clientId, accept: connectWiseCatalogue.accept };
    this.sleep = opts.sleep ?? defaultSleep;
  }

  /** Scheme, host and port of the ConnectWise site (callback key URLs must be on it). */
  get siteOrigin(): string {
    return new URL(this.connection.baseUrl).origin;
  }

  url(path: string, query: QueryParams = {}): string {
    const u = new URL(this.connection.baseUrl.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
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

  private request(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    query: QueryParams,
    extra: Record<string, string> = {},
    body?: unknown,
  ): Promise<VendorResponse> {
    return send(
      {
        vendor: VENDOR,
        method,
        url: this.url(path, query),
        headers: { ...this.authHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...extra },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        timeoutMs: this.opts.timeoutMs ?? 30_000,
      },
      errorCode,
    );
  }

  /** GET with retries; the parsed JSON body and the Link header. */
  async get(path: string, query: QueryParams = {}, extra: Record<string, string> = {}): Promise<{ body: unknown; link: string | null }> {
    const res = await this.withRetries(path, () => this.request('GET', path, query, extra));
    return { body: res.text ? JSON.parse(res.text) : null, link: res.headers.get('link') };
  }

  async getList(path: string, query: QueryParams = {}, extra: Record<string, string> = {}): Promise<{ rows: unknown[]; link: string | null }> {
    const { body, link } = await this.get(path, query, extra);
    if (!Array.isArray(body)) throw new Error(`ConnectWise ${path} did not answer with a list`);
    return { rows: body, link };
  }

  /** Every record matching `conditions`, in id order, page by page with forward-only paging. */
  async *forwardOnly(path: string, conditions: string, requestedPageSize: number = connectWiseCatalogue.paging.maxPageSize): AsyncGenerator<unknown[]> {
    const pageSize = vendorPageSize(requestedPageSize);
    let pageId = 0;
    for (;;) {
      const { rows, link } = await this.getList(path, { conditions, pageSize, pageId }, { 'pagination-type': 'forward-only' });
      if (rows.length > 0) yield rows;
      const next = nextPageId(link);
      if (next === null || rows.length === 0) return;
      pageId = next;
    }
  }

  /**
   * Records changed at or after `since`, oldest first, by keyset paging on (lastUpdated, id): each
   * page asks for what comes strictly after the last record seen, so page edges neither skip nor
   * repeat records even when many share a timestamp or records change during the walk. The field is
   * named `lastUpdated`, as ConnectWise's developer guide writes it (`lastUpdated > [2016-08-20T18:04:26Z]`);
   * the record carries it in `_info.lastUpdated`.
   */
  async *changedSince(path: string, since: string | null, requestedPageSize: number = connectWiseCatalogue.paging.maxPageSize): AsyncGenerator<unknown[]> {
    const pageSize = vendorPageSize(requestedPageSize);
    let after: { at: string; id: number } | null = null;
    for (;;) {
      const parts: string[] = [];
      if (since) parts.push(`lastUpdated >= ${cwDate(since)}`);
      if (after) parts.push(`(lastUpdated > ${cwDate(after.at)} or (lastUpdated = ${cwDate(after.at)} and id > ${after.id}))`);
      const { rows } = await this.getList(path, { conditions: parts.join(' and ') || undefined, orderBy: 'lastUpdated asc, id asc', page: 1, pageSize });
      if (rows.length > 0) yield rows;
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1] as { id?: unknown; _info?: { lastUpdated?: unknown } };
      if (typeof last.id !== 'number' || typeof last._info?.lastUpdated !== 'string') throw new Error(`ConnectWise ${path} rows lack id or _info.lastUpdated`);
      after = { at: last._info.lastUpdated, id: last.id };
    }
  }

  /** GET a binary answer (the invoice PDF) with retries; null on 404. Not through `send`, which reads text. */
  async getBytes(path: string): Promise<Buffer | null> {
    return this.withRetries(path, async () => {
      const res = await fetch(this.url(path), {
        headers: { ...this.authHeaders, accept: 'application/pdf' },
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
      if (res.status === 404) return null;
      const kind = classifyStatus(res.status);
      if (kind) throw new VendorError(VENDOR, kind, `GET ${path} answered ${res.status}`, res.status);
      return Buffer.from(await res.arrayBuffer());
    });
  }

  /** POST once (no retry: a write's outcome after a failure is unknown and must be checked first). */
  async post(path: string, body: unknown): Promise<unknown> {
    const res = await this.request('POST', path, {}, {}, body);
    return res.text ? JSON.parse(res.text) : null;
  }

  /** PATCH once with ConnectWise's JSON Patch list ([{op, path, value}]); no retry, as for POST. */
  async patch(path: string, ops: readonly { op: 'replace'; path: string; value: unknown }[]): Promise<unknown> {
    const res = await this.request('PATCH', path, {}, {}, ops);
    return res.text ? JSON.parse(res.text) : null;
  }

  async delete(path: string): Promise<void> {
    await this.request('DELETE', path, {});
  }
}
