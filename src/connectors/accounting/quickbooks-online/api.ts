// HTTP to the QuickBooks Online Accounting API v3 and nothing else: bearer auth with refresh on
// expiry and on 401, Intuit's limits (limiter.ts), 429 → wait (Intuit sends no Retry-After and says
// wait 60 s), 5xx/timeouts → back-off via retryDecision, faults → typed VendorErrors by code.
// Writes carry `requestid` so a retry after an unknown outcome replays instead of duplicating.
import { reportVendorRetry, retryDecision, send, sleep, VendorError, type VendorRequest } from '../../http.ts';
import { QBO_CATALOGUE } from './catalogue.ts';
import { QboRequestLimiter, limiterFor } from './limiter.ts';
import { faultKind, readFault } from './mapping.ts';
import { QboTokenManager, type TokenStore } from './tokens.ts';

const VENDOR = QBO_CATALOGUE.vendor;
type Json = Record<string, unknown>;

export interface QboApiConfig {
  /** API host root, e.g. https://quickbooks.api.intuit.com (or a simulator's baseUrl). */
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly realmId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly minorVersion: number;
}

export interface QboApiOptions {
  readonly limiter?: QboRequestLimiter;
  /** Wait after a 429 without Retry-After; Intuit documents 60 s. Tests shorten it. */
  readonly throttleWaitMs?: number;
  readonly maxAttempts?: number;
  readonly timeoutMs?: number;
  readonly refreshSkewMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told about every retry (logging, metrics). */
  readonly onRetry?: (info: { path: string; attempt: number; reason: string; delayMs: number }) => void;
}

export interface QboCall {
  readonly method: 'GET' | 'POST';
  /** Below /v3/company/{realmId}, e.g. "/payment". */
  readonly path: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly requestId?: string;
  readonly batch?: boolean;
}

export interface BatchItemRequest {
  readonly bId: string;
  readonly operation?: 'create' | 'update' | 'delete' | 'void';
  readonly entity?: string;
  readonly body?: Json;
  readonly query?: string;
}

export interface QueryPage {
  readonly rows: Json[];
  readonly startPosition: number;
  readonly maxResults: number;
}

/** Reads the code and text of a QBO fault for the shared executor's VendorError. */
export function qboErrorCode(body: unknown): { code: string | null; message: string | null } {
  const f = readFault(body);
  return { code: f?.code ?? null, message: f?.message ?? null };
}

/** The executor types errors by HTTP status; QBO's fault code refines it (400 + 5010 is a conflict, …). */
export function refineError(e: unknown): unknown {
  if (!(e instanceof VendorError)) return e;
  const fault = readFault(e.body);
  if (!fault) return e;
  const kind = faultKind(fault, e.status);
  if (kind === e.kind) return e;
  return new VendorError(VENDOR, kind, e.message.replace(`${VENDOR}: `, ''), e.status, e.retryAfterMs, e.vendorCode, e.body);
}

export class QboApi {
  readonly tokens: QboTokenManager;
  private readonly limiter: QboRequestLimiter;
  private readonly pause: (ms: number) => Promise<void>;

  constructor(
    readonly config: QboApiConfig,
    store: TokenStore,
    private readonly options: QboApiOptions = {},
  ) {
    this.tokens = new QboTokenManager(
      {
        tokenUrl: config.tokenUrl,
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        ...(options.refreshSkewMs === undefined ? {} : { refreshSkewMs: options.refreshSkewMs }),
        ...(options.now ? { now: options.now } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
      },
      store,
    );
    this.limiter = options.limiter ?? limiterFor(config.realmId);
    this.pause = options.sleep ?? sleep;
  }

  /** One logical call: refreshes once on 401, retries 429/5xx/timeouts, throws a typed VendorError. */
  async call(c: QboCall): Promise<Json> {
    // Intuit answers anything below its minimum as the minimum (75); asking for less would only mislead us.
    const minor = Math.max(this.config.minorVersion, QBO_CATALOGUE.minMinorVersion);
    const params = new URLSearchParams({ ...c.params, minorversion: String(minor) });
    if (c.requestId !== undefined) params.set(QBO_CATALOGUE.idempotency.param, c.requestId);
    const url = `${this.config.baseUrl}${QBO_CATALOGUE.companyPath(this.config.realmId)}${c.path}?${params.toString()}`;
    const maxAttempts = this.options.maxAttempts ?? 5;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const token = await this.tokens.accessToken();
      const req: VendorRequest = {
        vendor: VENDOR,
        method: c.method,
        url,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(c.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(c.body === undefined ? {} : { body: JSON.stringify(c.body) }),
        timeoutMs: this.options.timeoutMs ?? QBO_CATALOGUE.limits.requestTimeoutMs,
      };
      try {
        const res = await this.limiter.run(c.batch ? 'batch' : 'call', () => send(req, qboErrorCode));
        return JSON.parse(res.text) as Json;
      } catch (raw) {
        const err = refineError(raw);
        if (err instanceof VendorError && err.kind === 'auth' && err.status === 401 && !refreshed) {
          // Expired or revoked access token: refresh (serialised, saved first) and try again once.
          refreshed = true;
          await this.tokens.refresh(token);
          attempt -= 1;
          continue;
        }
        const d = retryDecision(err, attempt, maxAttempts);
        if (!d.retry) throw err;
        const delayMs =
          err instanceof VendorError && err.kind === 'rate_limited'
            ? (err.retryAfterMs ?? this.options.throttleWaitMs ?? QBO_CATALOGUE.limits.throttleWaitMs)
            : d.delayMs;
        const info = { path: c.path, attempt, reason: d.reason, delayMs };
        if (this.options.onRetry) this.options.onRetry(info);
        else reportVendorRetry({ vendor: VENDOR, ...info });
        await this.pause(delayMs);
      }
    }
  }

  async read(entity: string, id: string): Promise<Json> {
    const res = await this.call({ method: 'GET', path: `/${entity.toLowerCase()}/${encodeURIComponent(id)}` });
    return entityOf(res, entity);
  }

  async create(entity: string, body: Json, requestId: string): Promise<Json> {
    const res = await this.call({ method: 'POST', path: `/${entity.toLowerCase()}`, body, requestId });
    return entityOf(res, entity);
  }

  async query(sql: string): Promise<QueryPage> {
    const res = await this.call({ method: 'GET', path: '/query', params: { query: sql } });
    const qr = (res['QueryResponse'] ?? {}) as Json;
    const list = Object.entries(qr).find(([, v]) => Array.isArray(v));
    return {
      rows: (list?.[1] as Json[] | undefined) ?? [],
      startPosition: Number(qr['startPosition'] ?? 1),
      maxResults: Number(qr['maxResults'] ?? 0),
    };
  }

  /** All rows of `SELECT * FROM entity [WHERE …]`, paged with STARTPOSITION/MAXRESULTS. */
  async queryAll(entity: string, where: string | null, pageSize: number = QBO_CATALOGUE.limits.queryMaxResults): Promise<Json[]> {
    const out: Json[] = [];
    for (let start = 1; ; start += pageSize) {
      const page = await this.query(`SELECT * FROM ${entity}${where ? ` WHERE ${where}` : ''} STARTPOSITION ${start} MAXRESULTS ${pageSize}`);
      out.push(...page.rows);
      if (page.rows.length < pageSize) return out;
    }
  }

  /** POST /batch; answers come back per bId (an entity, a QueryResponse or a Fault). */
  async batch(items: readonly BatchItemRequest[], requestId: string): Promise<Map<string, Json>> {
    if (items.length > QBO_CATALOGUE.limits.batchItemsMax) throw new RangeError(`a batch holds at most ${QBO_CATALOGUE.limits.batchItemsMax} items`);
    const body = {
      BatchItemRequest: items.map((i) =>
        i.query !== undefined ? { bId: i.bId, Query: i.query } : { bId: i.bId, operation: i.operation ?? 'create', [i.entity!]: i.body },
      ),
    };
    const res = await this.call({ method: 'POST', path: '/batch', body, requestId, batch: true });
    const answers = new Map<string, Json>();
    for (const r of (res['BatchItemResponse'] as Json[] | undefined) ?? []) answers.set(String(r['bId']), r);
    return answers;
  }
}

function entityOf(res: Json, entity: string): Json {
  const e = res[entity];
  if (!e || typeof e !== 'object') throw new VendorError(VENDOR, 'invalid', `answer has no ${entity} object`, 200, null, null, res);
  return e as Json;
}
