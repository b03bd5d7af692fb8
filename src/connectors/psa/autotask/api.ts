// HTTP to Autotask and nothing else: zone discovery (cached per API user), the three auth headers, queries
// with `Filter[]` and paging by `pageDetails.nextPageUrl`, and every call admitted by the budget broker
// (budget.ts). Reads are retried through retryDecision; writes are never retried here — Autotask has no
// idempotency key, so the connector checks before every write instead.
import { reportVendorRetry, retryDecision, send, sleep as defaultSleep, VendorError, type RetryDecision, type VendorResponse } from '../../http.ts';
import { budgetFor, type ApiBudget, type Priority, type Threshold } from './budget.ts';
import { autotaskCatalogue } from './catalogue.ts';

export interface AutotaskConnection {
  /** Where zone discovery starts: `https://webservices2.autotask.net/ATServicesRest`. */
  readonly globalUrl: string;
  readonly integrationCode: string;
  readonly username: string;
  readonly secret: string;
}

export interface AutotaskApiOptions {
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onRetry?: (e: { path: string; attempt: number; decision: RetryDecision }) => void;
  /** The broker to spend through; default: this process's broker for the API user (budgetFor). */
  readonly budget?: ApiBudget;
  /** Settle's share of what other integrations leave of the hour (default 0.25). */
  readonly share?: number;
}

export type FilterItem =
  { readonly op: 'and' | 'or'; readonly items: readonly FilterItem[] } | { readonly op: string; readonly field: string; readonly value?: unknown };

export interface FieldInfo {
  readonly name: string;
  readonly dataType: string;
  readonly isReadOnly: boolean;
  readonly isRequired: boolean;
  readonly picklistValues: readonly { value: string; label: string; isActive: boolean }[] | null;
}

const VENDOR = autotaskCatalogue.vendor;

/** One Autotask database as seen from this process: where discovery starts and the API user. */
export const budgetKey = (c: Pick<AutotaskConnection, 'globalUrl' | 'username'>): string => `${c.globalUrl.replace(/\/+$/, '')}|${c.username.toLowerCase()}`;
const zones = new Map<string, Promise<string>>();

export function errorCode(body: unknown): { code: string | null; message: string | null } {
  const errors = body && typeof body === 'object' ? (body as { errors?: unknown }).errors : null;
  const first = Array.isArray(errors) ? errors.find((e) => typeof e === 'string') : null;
  return { code: null, message: typeof first === 'string' ? first : null };
}

export class AutotaskApi {
  readonly budget: ApiBudget;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fieldCache = new Map<string, Promise<FieldInfo[]>>();

  constructor(
    readonly connection: AutotaskConnection,
    private readonly opts: AutotaskApiOptions = {},
  ) {
    this.sleep = opts.sleep ?? defaultSleep;
    this.budget = opts.budget ?? budgetFor(budgetKey(connection), opts.share === undefined ? {} : { share: opts.share });
    this.budget.setReader(() => this.readThreshold());
  }

  private get headers(): Record<string, string> {
    const c = this.connection;
    return { ApiIntegrationCode: c.integrationCode, UserName: c.username, Secret: c.secret, accept: 'application/json' };
  }

  /** The zone's base URL (`…/ATServicesRest/`), discovered once per API user and process. */
  zoneUrl(): Promise<string> {
    const key = `${this.connection.globalUrl}|${this.connection.username.toLowerCase()}`;
    let z = zones.get(key);
    if (!z) {
      z = this.discoverZone();
      zones.set(key, z);
      z.catch(() => zones.delete(key));
    }
    return z;
  }

  private async discoverZone(): Promise<string> {
    const url = new URL(`${this.connection.globalUrl.replace(/\/+$/, '')}/V1.0/ZoneInformation`);
    url.searchParams.set('user', this.connection.username);
    const res = await this.withRetries('/V1.0/ZoneInformation', () =>
      send({ vendor: VENDOR, method: 'GET', url: url.toString(), timeoutMs: this.opts.timeoutMs ?? 30_000 }, errorCode),
    );
    const body = JSON.parse(res.text) as { url?: unknown };
    if (typeof body.url !== 'string' || !/^https?:\/\//.test(body.url)) throw new Error('Autotask ZoneInformation did not name a zone URL');
    return body.url.endsWith('/') ? body.url : `${body.url}/`;
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

  /** One request to the zone, admitted by the broker. `target` is a path under V1.0 or a nextPageUrl. */
  private async request(priority: Priority, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', target: string, body?: unknown): Promise<VendorResponse> {
    const zone = await this.zoneUrl();
    const url = /^https?:\/\//.test(target) ? target : `${zone}V1.0/${target}`;
    // Credentials go to the zone only: a next-page URL pointing anywhere else is refused.
    if (!url.startsWith(zone)) throw new Error(`Autotask answered with a page URL outside the zone (${new URL(url).origin})`);
    const endpoint = /\/V1\.0\/([^/?]+)/i.exec(url)?.[1] ?? 'unknown';
    return this.budget.run(endpoint, priority, () =>
      send(
        {
          vendor: VENDOR,
          method,
          url,
          headers: { ...this.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          timeoutMs: this.opts.timeoutMs ?? 30_000,
        },
        errorCode,
      ),
    );
  }

  private async read(priority: Priority, method: 'GET' | 'POST', target: string, body?: unknown): Promise<unknown> {
    const res = await this.withRetries(target.split('?')[0] ?? target, () => this.request(priority, method, target, body));
    return res.text ? JSON.parse(res.text) : null;
  }

  private async readThreshold(): Promise<Threshold> {
    const zone = await this.zoneUrl();
    const res = await send(
      { vendor: VENDOR, method: 'GET', url: `${zone}V1.0/ThresholdInformation`, headers: this.headers, timeoutMs: this.opts.timeoutMs ?? 30_000 },
      errorCode,
    );
    const b = JSON.parse(res.text) as { externalRequestThreshold?: unknown; requestThresholdTimeframe?: unknown; currentTimeframeRequestCount?: unknown };
    const limit = Number(b.externalRequestThreshold);
    const minutes = Number(b.requestThresholdTimeframe);
    const used = Number(b.currentTimeframeRequestCount);
    if (![limit, minutes, used].every((n) => Number.isFinite(n) && n >= 0) || minutes === 0)
      throw new Error('Autotask ThresholdInformation is not as described');
    return { limit, timeframeMinutes: minutes, used };
  }

  /** Every record matching `filter`, page by page (at most 500 a page), following `pageDetails.nextPageUrl`. */
  async *query(entity: string, filter: readonly FilterItem[], priority: Priority, includeFields?: readonly string[]): AsyncGenerator<unknown[]> {
    const model = { MaxRecords: autotaskCatalogue.paging.maxRecords, Filter: filter, ...(includeFields ? { IncludeFields: includeFields } : {}) };
    let page = (await this.read(priority, 'POST', `${entity}/query`, model)) as { items?: unknown; pageDetails?: { nextPageUrl?: unknown } } | null;
    for (;;) {
      if (!page || !Array.isArray(page.items)) throw new Error(`Autotask ${entity}/query did not answer with items`);
      if (page.items.length > 0) yield page.items;
      const next = page.pageDetails?.nextPageUrl;
      if (typeof next !== 'string' || next === '') return;
      page = (await this.read(priority, 'GET', next)) as typeof page;
    }
  }

  async count(entity: string, filter: readonly FilterItem[], priority: Priority): Promise<number> {
    const b = (await this.read(priority, 'POST', `${entity}/query/count`, { Filter: filter })) as { queryCount?: unknown } | null;
    if (typeof b?.queryCount !== 'number') throw new Error(`Autotask ${entity}/query/count did not answer with queryCount`);
    return b.queryCount;
  }

  /** One record by id, or null (Autotask answers a missing id with `item: null`). */
  async get(entity: string, id: number, priority: Priority): Promise<unknown> {
    const b = (await this.read(priority, 'GET', `${entity}/${id}`)) as { item?: unknown } | null;
    return b?.item ?? null;
  }

  /** `GET /V1.0/InvoicePDF/{id}`: the invoice as Autotask renders it (InvoicePDFModel, the file as base64). */
  async invoicePdf(id: number, priority: Priority): Promise<Buffer | null> {
    const b = (await this.read(priority, 'GET', `InvoicePDF/${id}`)) as { data?: unknown } | null;
    return typeof b?.data === 'string' && b.data.length > 0 ? Buffer.from(b.data, 'base64') : null;
  }

  /**
   * `entityInformation/fields`, read once per entity for this client (what is writable, picklists). A write-back
   * that needs them asks at its own priority: at 'other' it would wait behind the tiers kept for write-backs.
   */
  fields(entity: string, priority: Priority = 'other'): Promise<FieldInfo[]> {
    let f = this.fieldCache.get(entity);
    if (!f) {
      f = this.read(priority, 'GET', `${entity}/entityInformation/fields`).then((b) => {
        const list = (b as { fields?: unknown } | null)?.fields;
        if (!Array.isArray(list)) throw new Error(`Autotask ${entity}/entityInformation/fields did not answer with fields`);
        return list as FieldInfo[];
      });
      this.fieldCache.set(entity, f);
      f.catch(() => this.fieldCache.delete(entity));
    }
    return f;
  }

  /** `entityInformation/userDefinedFields`: the UDFs the MSP defined on an entity (pay links, pay-link.ts). */
  async userDefinedFields(entity: string, priority: Priority = 'link'): Promise<{ name: string }[]> {
    const b = (await this.read(priority, 'GET', `${entity}/entityInformation/userDefinedFields`)) as { fields?: unknown } | null;
    return Array.isArray(b?.fields)
      ? (b.fields as unknown[]).filter((f): f is { name: string } => typeof (f as { name?: unknown } | null)?.name === 'string')
      : [];
  }

  /** Create once (no retry: the outcome of a failed write is unknown and must be checked first). */
  async create(entity: string, body: Record<string, unknown>): Promise<number> {
    return itemId(await this.request('writeback', 'POST', entity, body), entity);
  }

  /** Delete once (company webhooks only: Autotask deletes little else). */
  async delete(entity: string, id: number): Promise<void> {
    await this.request('other', 'DELETE', `${entity}/${id}`);
  }

  /** Update once (PATCH with the id in the body); no retry, as for create. */
  async update(entity: string, body: Record<string, unknown> & { id: number }, priority: Priority = 'writeback'): Promise<number> {
    return itemId(await this.request(priority, 'PATCH', entity, body), entity);
  }
}

export type { Priority };

function itemId(res: VendorResponse, entity: string): number {
  const b = res.text ? (JSON.parse(res.text) as { itemId?: unknown }) : null;
  if (typeof b?.itemId !== 'number') throw new VendorError(VENDOR, 'invalid', `${entity} write answered without itemId`, res.status);
  return b.itemId;
}
