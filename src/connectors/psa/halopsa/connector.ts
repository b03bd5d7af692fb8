// HaloPSA as Settle's PsaConnector. Invoices have no modified-since filter, so the connector walks them
// newest first (`order=last_modified&orderdesc=true`, lines included) and stops at the first one older
// than the cursor, then hands them over oldest first (the engine's cursor must only move forward).
// Payments go back as InvoicePayment records carrying our reference in `thirdpartyid`, looked for before
// every write; webhooks are registered with basic or header authentication and verified on receipt.
import { z } from 'zod';
import { retryDecision, sleep as defaultSleep, VendorError } from '../../http.ts';
import { parseDecimal, toVendorNumber, type Currency } from '../../../domain/money.ts';
import type {
  CallbackCheck,
  PsaChangeNotice,
  PsaClient,
  PsaConnector,
  PsaInvoice,
  PsaPage,
  PsaRejectedRecord,
  RecordFailureInput,
  RecordPaymentInput,
  RecordPaymentResult,
  ReversePaymentInput,
  ReversePaymentResult,
} from '../types.ts';
import { HaloApi, haloDate, isoInstant, rowsOf, type HaloApiOptions, type HaloConnection } from './api.ts';
import { haloCatalogue } from './catalogue.ts';
import { mapClient, mapInvoice } from './mapping.ts';
import { haloClient, haloInvoice, haloPayment, haloUser, haloWebhook, type HaloClient, type HaloPayment, type HaloUser, type HaloWebhook } from './schema.ts';
import { expectedCredential, verifyWebhook, webhookSecretFor, type Headers, type WebhookAuth } from './webhook.ts';

export interface HaloConnectorOptions extends HaloConnection {
  /** Currency for invoices that carry none. Default USD. */
  readonly currency?: Currency;
  /** How Halo authenticates its webhook calls to Settle. Default basic. */
  readonly webhookAuth?: WebhookAuth;
  /** The webhook password/header value; default derived from the client secret. */
  readonly webhookSecret?: string;
  /** Records per list request (at most 100). */
  readonly pageSize?: number;
  readonly api?: HaloApiOptions;
}

type Rejected = PsaRejectedRecord;

/** Pages of the initial import's invoice walk requested at once (see listInvoices). */
const PAGES_AT_ONCE = 4;

/** Invoices handed to the store at once (one transaction each): read 100 a page, stored 500 at a time. */
const STORE_PAGE = 500;

async function eachAtOnce<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** A page's invoices as id@last_modified: equal when the head of the list did not change. */
const stamps = (rows: readonly unknown[]): string =>
  rows.map((r) => `${String((r as { id?: unknown } | null)?.id)}@${String((r as { last_modified?: unknown } | null)?.last_modified)}`).join(',');

function describe(entity: 'client' | 'invoice', row: unknown): Omit<Rejected, 'reason'> {
  const r = row as { id?: unknown; invoicenumber?: unknown; name?: unknown } | null;
  const id = String(r?.id ?? '?');
  return entity === 'invoice'
    ? { entity, externalId: id, label: `invoice ${String(r?.invoicenumber ?? '?')} (id ${id})` }
    : { entity, externalId: id, label: `client ${JSON.stringify(String(r?.name ?? '?'))} (id ${id})` };
}

function reason(e: unknown): string {
  if (e instanceof z.ZodError) return e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  return e instanceof Error ? e.message : String(e);
}

/** Pages of `size`, oldest first by (updatedAt, id); the rejected records ride on the first page. */
function* inPages<T extends { updatedAt: string; externalId: string }>(records: T[], rejected: Rejected[], size: number): Generator<PsaPage<T>> {
  records.sort((a, b) => (a.updatedAt === b.updatedAt ? Number(a.externalId) - Number(b.externalId) : a.updatedAt < b.updatedAt ? -1 : 1));
  if (records.length === 0) {
    if (rejected.length > 0) yield Object.assign([] as T[], { rejected });
    return;
  }
  for (let i = 0; i < records.length; i += size) {
    const page = records.slice(i, i + size);
    yield i === 0 && rejected.length > 0 ? Object.assign(page, { rejected }) : page;
  }
}

export class HaloConnector implements PsaConnector {
  readonly vendor = 'halopsa' as const;
  readonly api: HaloApi;
  private readonly currency: Currency;
  private readonly pageSize: number;
  private readonly auth: WebhookAuth;
  private readonly secret: string;

  constructor(private readonly opts: HaloConnectorOptions) {
    this.api = new HaloApi(opts, opts.api ?? {});
    this.currency = opts.currency ?? 'USD';
    this.pageSize = Math.min(opts.pageSize ?? haloCatalogue.paging.maxPageSize, haloCatalogue.paging.maxPageSize);
    this.auth = opts.webhookAuth ?? 'basic';
    this.secret = webhookSecretFor(opts.clientSecret, opts.webhookSecret);
  }

  /**
   * Clients changed since `since` (Halo's `lastupdatefromdate`), in id order — a client changing during the
   * walk keeps its place, so none is skipped at a page edge — then oldest first. A client without an
   * accounts e-mail is billed at its main contact, fetched from /Users for that client. A contact (user)
   * changed since `since` brings its client along even when the client itself did not change.
   */
  async *listClients(since: string | null): AsyncIterable<PsaPage<PsaClient>> {
    const out: PsaClient[] = [];
    const rejected: Rejected[] = [];
    const changedUsers = new Map<number, HaloUser[]>();
    if (since) {
      for await (const rows of this.api.pages('/Users', { order: 'id', lastupdatefromdate: haloDate(since) }, this.pageSize)) {
        for (const u of z.array(haloUser).parse(rows)) if (u.client_id) changedUsers.set(u.client_id, [...(changedUsers.get(u.client_id) ?? []), u]);
      }
    }
    const seen = new Set<number>();
    const take = async (row: unknown): Promise<void> => {
      try {
        const c = haloClient.parse(row);
        seen.add(c.id);
        const users = [...(changedUsers.get(c.id) ?? []), ...(c.accountsemailaddress?.trim() ? [] : await this.usersOf(c))];
        out.push(mapClient(c, users));
      } catch (e) {
        if (e instanceof VendorError) throw e;
        rejected.push({ ...describe('client', row), reason: reason(e) });
      }
    };
    const query = { order: 'id', ...(since ? { lastupdatefromdate: haloDate(since) } : {}) };
    // A client's contacts are one request each: PAGES_AT_ONCE of them at a time, not one after another.
    for await (const rows of this.api.pages('/Client', query, this.pageSize)) await eachAtOnce(rows, PAGES_AT_ONCE, take);
    for (const clientId of changedUsers.keys()) {
      if (seen.has(clientId)) continue;
      try {
        await take(await this.api.get(`/Client/${clientId}`));
      } catch (e) {
        if (!(e instanceof VendorError && e.kind === 'not_found')) throw e; // a user of a client that is gone
      }
    }
    yield* inPages(out, rejected, this.pageSize);
  }

  private async usersOf(c: HaloClient): Promise<HaloUser[]> {
    const users: HaloUser[] = [];
    for await (const rows of this.api.pages('/Users', { client_id: c.id }, this.pageSize)) users.push(...z.array(haloUser).parse(rows));
    return users;
  }

  /**
   * Newest first until the first invoice older than `since`: an invoice changed during the walk moves to
   * the front (already read: it is newer than the cursor this walk leaves, so the next poll takes it) and
   * pushes the rest back, which repeats a record at a page edge but never skips one. Repeats are merged.
   */
  async *listInvoices(since: string | null): AsyncIterable<PsaPage<PsaInvoice>> {
    const sinceMs = since === null ? null : Date.parse(since);
    if (sinceMs !== null && Number.isNaN(sinceMs)) throw new Error(`"${since}" is not a timestamp`);
    const byId = new Map<string, PsaInvoice>();
    const rejected = new Map<string, Rejected>();
    // An invoice deleted during the walk pulls the rest forward by one, which could skip one at a page edge:
    // seen as a record_count that shrank, and answered by walking again (merged; at most three walks).
    // The initial import (no cursor) reads PAGES_AT_ONCE pages side by side (20,000 invoices are 200 pages at
    // 100–300 ms each). Side by side, a change during the walk could shift a record past a page edge unseen,
    // so the walk is checked: every page's record_count the same, and page 1 unchanged at the end (a new or
    // changed invoice comes first); else it is walked again — the last time one page at a time.
    for (let walks = 1; ; walks++) {
      let first: number | null = null;
      let shrank = false;
      const sideBySide = sinceMs === null && walks < 3;
      const onTotal = (n: number): void => {
        if (first === null) first = n;
        else if (n < first || (sideBySide && n !== first)) shrank = true;
      };
      const query = { order: 'last_modified', orderdesc: true, includelines: true };
      let pageOne: string | null = null;
      const pages = sideBySide
        ? this.api.pagesAhead('/Invoice', query, this.pageSize, PAGES_AT_ONCE, onTotal)
        : this.api.pages('/Invoice', query, this.pageSize, onTotal);
      walk: for await (const rows of pages) {
        pageOne ??= stamps(rows);
        for (const row of rows) {
          const stamp = (row as { last_modified?: unknown } | null)?.last_modified;
          if (sinceMs !== null && typeof stamp === 'string' && Date.parse(isoInstant(stamp)) < sinceMs) break walk;
          const id = String((row as { id?: unknown } | null)?.id ?? '?');
          if (byId.has(id) || rejected.has(id)) continue; // a repeat at a page edge: the first (newest) read stands
          try {
            byId.set(id, mapInvoice(haloInvoice.parse(row), this.currency));
          } catch (e) {
            rejected.set(id, { ...describe('invoice', row), reason: reason(e) });
          }
        }
      }
      if (sideBySide && pageOne !== null && !shrank) {
        const again = rowsOf(
          await this.api.get('/Invoice', { ...query, includelines: false, pageinate: true, page_size: this.pageSize, page_no: 1 }),
          '/Invoice',
        );
        if (stamps(again.rows) !== pageOne || (again.total !== null && again.total !== first)) shrank = true;
      }
      if (!shrank || walks >= 3) break;
    }
    yield* inPages([...byId.values()], [...rejected.values()], STORE_PAGE);
  }

  async getInvoice(externalId: string): Promise<PsaInvoice | null> {
    const id = this.numericId(externalId, 'invoice');
    let body: unknown;
    try {
      body = await this.api.get(`/Invoice/${id}`);
    } catch (e) {
      if (e instanceof VendorError && e.kind === 'not_found') return null;
      throw e;
    }
    return mapInvoice(haloInvoice.parse(body), this.currency);
  }

  /** The invoice PDF Halo renders (`POST /Invoice/PDF/{id}`, api.ts), for the client portal's invoice page. */
  async invoicePdf(externalId: string): Promise<Buffer | null> {
    return this.api.invoicePdf(this.numericId(externalId, 'invoice'));
  }

  private numericId(externalId: string, what: string): number {
    if (!/^\d+$/.test(externalId)) throw new Error(`"${externalId}" is not a HaloPSA ${what} id`);
    return Number(externalId);
  }

  /** Our payment on the invoice: the one whose `thirdpartyid` is our reference (GET has no filter on it). */
  private async findOurPayment(invoiceId: number, reference: string): Promise<HaloPayment | null> {
    for await (const rows of this.api.pages('/InvoicePayment', { invoice_id: invoiceId }, this.pageSize)) {
      const hit = z
        .array(haloPayment)
        .parse(rows)
        .find((p) => p.thirdpartyid === reference);
      if (hit) return hit;
    }
    return null;
  }

  private retryLoop(): { maxAttempts: number; sleep: (ms: number) => Promise<void> } {
    return { maxAttempts: this.opts.api?.maxAttempts ?? 5, sleep: this.opts.api?.sleep ?? defaultSleep };
  }

  async recordPayment(input: RecordPaymentInput): Promise<RecordPaymentResult> {
    if (!input.idempotencyKey) throw new Error('recordPayment needs an idempotencyKey');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(input.paidOn)) throw new Error(`paidOn "${input.paidOn}" is not YYYY-MM-DD`);
    if (!input.reference || input.reference.length > 100) throw new Error('the payment reference must be 1–100 characters (Halo thirdpartyid)');
    const invoiceId = this.numericId(input.invoiceExternalId, 'invoice');
    const { maxAttempts, sleep } = this.retryLoop();
    for (let attempt = 1; ; attempt++) {
      // Check before every write, including a retry after a failure whose outcome is unknown.
      const existing = await this.findOurPayment(invoiceId, input.reference);
      if (existing) return { remoteId: String(existing.id), alreadyRecorded: true };
      try {
        const body = await this.api.post('/InvoicePayment', [
          { invoice_id: invoiceId, amount: toVendorNumber(input.amount), date: `${input.paidOn}T00:00:00`, thirdpartyid: input.reference },
        ]);
        const created = haloPayment.parse(Array.isArray(body) ? body[0] : body);
        return { remoteId: String(created.id), alreadyRecorded: false };
      } catch (e) {
        const decision = retryDecision(e, attempt, maxAttempts);
        if (!decision.retry) throw e;
        await sleep(decision.delayMs);
      }
    }
  }

  /**
   * A full reversal deletes the payment Settle recorded (`DELETE /InvoicePayment/{id}`); a partial one lowers
   * its amount (POST with the payment's `id`, Halo's update convention). Read first: gone, or already at or
   * below the target, means a retry found its work done; never raised.
   */
  async reversePayment(input: ReversePaymentInput): Promise<ReversePaymentResult> {
    if (!input.idempotencyKey) throw new Error('reversePayment needs an idempotencyKey');
    const invoiceId = this.numericId(input.invoiceExternalId, 'invoice');
    const paymentId = this.numericId(input.paymentRemoteId, 'payment');
    const { maxAttempts, sleep } = this.retryLoop();
    for (let attempt = 1; ; attempt++) {
      let current: HaloPayment;
      try {
        current = haloPayment.parse(await this.api.get(`/InvoicePayment/${paymentId}`));
      } catch (e) {
        if (e instanceof VendorError && e.kind === 'not_found') return { outcome: 'already' };
        throw e;
      }
      if (current.invoice_id !== undefined && current.invoice_id !== null && current.invoice_id !== invoiceId) {
        throw new Error(`HaloPSA payment ${paymentId} is on invoice ${current.invoice_id}, not ${invoiceId}`);
      }
      if (parseDecimal(current.amount ?? 0, input.remaining.currency).amountMinor <= input.remaining.amountMinor) return { outcome: 'already' };
      try {
        if (input.remaining.amountMinor === 0n) {
          await this.api.delete(`/InvoicePayment/${paymentId}`);
          return { outcome: 'removed' };
        }
        await this.api.post('/InvoicePayment', [{ id: paymentId, amount: toVendorNumber(input.remaining) }]);
        return { outcome: 'reduced' };
      } catch (e) {
        const decision = retryDecision(e, attempt, maxAttempts);
        if (!decision.retry) throw e;
        await sleep(decision.delayMs);
      }
    }
  }

  /**
   * Halo's API as described offers no place for a failed payment that staff would see on the client without
   * overwriting something of theirs (the client's `notes` is one free-text field). Refused as a vendor
   * limitation: the engine records `psa.failure_not_recorded` in the audit log, and the failure stays in Settle.
   */
  recordFailure(input: RecordFailureInput): Promise<RecordPaymentResult> {
    return Promise.reject(
      new VendorError(
        haloCatalogue.vendor,
        'invalid',
        `HaloPSA has no record Settle can write a failed payment to (client ${input.clientExternalId}); it is shown in Settle only`,
      ),
    );
  }

  async subscribe(url: string): Promise<boolean> {
    await this.ensureCallback(url);
    return true;
  }

  private webhookAuthFields(): Record<string, unknown> {
    const { authTypes, basicUsername } = haloCatalogue.webhooks;
    if (this.auth === 'basic') return { authentication_type: authTypes.basic, basic_username: basicUsername, basic_password: this.secret };
    const cred = expectedCredential('header', this.secret);
    return { authentication_type: authTypes.header, authentication_header: `${cred.header}: ${cred.value}` };
  }

  private async webhooks(): Promise<HaloWebhook[]> {
    const body = await this.api.get('/Webhook');
    return z.array(haloWebhook).parse(Array.isArray(body) ? body : []);
  }

  private isAsWanted(w: HaloWebhook, url: string): boolean {
    const { authTypes, basicUsername, headerName, events } = haloCatalogue.webhooks;
    const eventnos = (w.events ?? []).map((e) => e.eventno);
    const authOk =
      this.auth === 'basic'
        ? w.authentication_type === authTypes.basic && w.basic_username === basicUsername
        : w.authentication_type === authTypes.header && (w.authentication_header ?? '').split(':')[0]!.trim().toLowerCase() === headerName.toLowerCase();
    return w.url === url && w.active !== false && authOk && eventnos.includes(events.created) && eventnos.includes(events.updated);
  }

  /**
   * Ours are the webhooks whose URL has the same path as `url` (/webhooks/<workspace>/halopsa): one that is
   * active, at exactly `url`, with the wanted authentication and both invoice events is kept; every other one
   * of ours is deleted and the wanted one created. Other integrations' webhooks are never touched.
   */
  async ensureCallback(url: string): Promise<CallbackCheck> {
    const path = new URL(url).pathname;
    const ours = (await this.webhooks()).filter((w) => {
      try {
        return new URL(w.url ?? '').pathname === path;
      } catch {
        return false;
      }
    });
    const good = ours.find((w) => this.isAsWanted(w, url));
    const stale = ours.filter((w) => w !== good);
    for (const w of stale) await this.api.delete(`/Webhook/${w.id}`);
    const replaced = stale.map((w) => `${w.active === false ? 'inactive ' : ''}webhook ${w.id} to ${w.url}`);
    if (good) {
      // Halo never reads a webhook's secret back, so the one it holds cannot be compared: it is written again
      // (one call), which also brings it up to date after the client secret — and so the derived one — changed.
      await this.api.post('/Webhook', [{ id: good.id, ...this.webhookAuthFields() }]);
      return { outcome: 'present', replaced };
    }
    const { created, updated } = haloCatalogue.webhooks.events;
    await this.api.post('/Webhook', [
      {
        name: 'Settle: invoice changes',
        url,
        content_type: 'application/json',
        active: true,
        events: [{ eventno: created }, { eventno: updated }],
        ...this.webhookAuthFields(),
      },
    ]);
    return { outcome: stale.length > 0 ? 'repaired' : 'created', replaced };
  }

  parseNotification(headers: Headers, rawBody: Buffer): PsaChangeNotice {
    return verifyWebhook(headers, rawBody, this.auth, this.secret);
  }
}

export function createHaloConnector(opts: HaloConnectorOptions): HaloConnector {
  return new HaloConnector(opts);
}
