// ConnectWise PSA as Settle's PsaConnector: incremental invoice and client sync with lines fetched in
// bulk, check-before-write payments (ConnectWise has no idempotency key), callback registration
// and verification.
import { z } from 'zod';
import { retryDecision, sleep as defaultSleep, VendorError } from '../../http.ts';
import { parseDecimal, toVendorNumber, type Currency } from '../../../domain/money.ts';
import type {
  CallbackCheck,
  PsaChangeNotice,
  PsaCreditApplication,
  PsaClient,
  PsaConnector,
  PsaInvoice,
  PsaInvoiceLine,
  PsaPage,
  PsaRejectedRecord,
  RecordFailureInput,
  RecordPaymentInput,
  RecordPaymentResult,
  ReversePaymentInput,
  ReversePaymentResult,
} from '../types.ts';
import { ConnectWiseApi, cwString, vendorPageSize, type ConnectWiseApiOptions, type ConnectWiseConnection } from './api.ts';
import { connectWiseCatalogue } from './catalogue.ts';
import { invoiceCurrency, mapClient, mapExpenseLine, mapInvoice, mapProductLine, mapTimeLine } from './mapping.ts';
import {
  cwCallbackEntry,
  cwCompany,
  cwContact,
  cwExpenseEntry,
  cwInvoice,
  cwPayment,
  cwProductItem,
  cwTimeEntry,
  type CwCallbackEntry,
  type CwCompany,
  type CwContact,
  type CwPayment,
} from './schema.ts';
import { SigningKeyCache, verifyCallback, type Headers } from './webhook.ts';
import { recordFailureNote } from './notes.ts';
import { readAhead } from '../read-ahead.ts';
import { listCreditApplications } from './credit-applications.ts';

export interface ConnectWiseConnectorOptions extends ConnectWiseConnection {
  /** Currency for invoices that carry none (single-currency ConnectWise sites). Default USD. */
  readonly currency?: Currency;
  /**
   * Identifier of the API member the keys belong to. ConnectWise stamps it as a payment's
   * `appliedBy`, which tells Settle's payments from those staff enter by hand.
   */
  readonly apiMemberIdentifier?: string;
  /** Records per list request; at most ConnectWise's hard limit of 1000 (more is clamped to it). */
  readonly pageSize?: number;
  readonly api?: ConnectWiseApiOptions;
  readonly signingKeys?: SigningKeyCache;
}

/**
 * `conditions` travel in the query string; long `in (…)` lists are split so that a URL stays well
 * under the 2 KB query-string limit common to IIS-hosted sites (an assumption, not a published limit).
 */
const MAX_ID_LIST_CHARS = 1500;
/** Invoice pages (with their lines) read ahead of the one being stored during a sync. */
const PAGES_AHEAD = 2;

export function chunkIds(ids: readonly number[], maxChars = MAX_ID_LIST_CHARS): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let length = 0;
  for (const id of ids) {
    const add = String(id).length + 1;
    if (current.length > 0 && length + add > maxChars) {
      chunks.push(current);
      current = [];
      length = 0;
    }
    current.push(id);
    length += add;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Parse and map each record of a page on its own: one record Settle cannot understand (an unknown invoice
 * type, an amount that is not a plain decimal) is named in the page's `rejected` list instead of failing the
 * page, so the rest of the import goes on.
 */
function mapEach<Raw, Out>(
  rows: readonly unknown[],
  schema: z.ZodType<Raw>,
  describe: (row: unknown) => Omit<PsaRejectedRecord, 'reason'>,
  map: (records: Raw[]) => Promise<(Out | Error)[]> | (Out | Error)[],
): Promise<PsaPage<Out>> {
  const rejected: PsaRejectedRecord[] = [];
  const parsed: Raw[] = [];
  for (const row of rows) {
    const r = schema.safeParse(row);
    if (r.success) parsed.push(r.data);
    else rejected.push({ ...describe(row), reason: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  }
  return Promise.resolve(map(parsed)).then((results) => {
    const out: Out[] = [];
    results.forEach((r, i) => {
      if (r instanceof Error) rejected.push({ ...describe(parsed[i]), reason: r.message });
      else out.push(r);
    });
    return rejected.length > 0 ? Object.assign(out, { rejected }) : out;
  });
}

function tryMap<Out>(fn: () => Out): Out | Error {
  try {
    return fn();
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

const describeCompany = (row: unknown): Omit<PsaRejectedRecord, 'reason'> => {
  const r = row as { id?: unknown; name?: unknown; identifier?: unknown } | null;
  return { entity: 'client', externalId: String(r?.id ?? '?'), label: `company ${JSON.stringify(String(r?.name ?? '?'))} (id ${String(r?.id ?? '?')})` };
};
const describeInvoice = (row: unknown): Omit<PsaRejectedRecord, 'reason'> => {
  const r = row as { id?: unknown; invoiceNumber?: unknown } | null;
  return { entity: 'invoice', externalId: String(r?.id ?? '?'), label: `invoice ${String(r?.invoiceNumber ?? '?')} (id ${String(r?.id ?? '?')})` };
};

function paymentDay(p: CwPayment): string | null {
  return p.paymentDate ? p.paymentDate.slice(0, 10) : null;
}

export class ConnectWiseConnector implements PsaConnector {
  readonly vendor = 'connectwise' as const;
  readonly api: ConnectWiseApi;
  private readonly currency: Currency;
  private readonly pageSize: number;
  private readonly keys: SigningKeyCache;

  constructor(private readonly opts: ConnectWiseConnectorOptions) {
    this.api = new ConnectWiseApi(opts, opts.api ?? {});
    this.currency = opts.currency ?? 'USD';
    this.pageSize = vendorPageSize(opts.pageSize ?? connectWiseCatalogue.paging.maxPageSize);
    this.keys = opts.signingKeys ?? new SigningKeyCache();
  }

  async *listClients(since: string | null): AsyncIterable<PsaPage<PsaClient>> {
    for await (const rows of this.api.changedSince('/company/companies', since, this.pageSize)) {
      yield await mapEach(rows, cwCompany, describeCompany, (companies) => this.clientsOf(companies));
    }
  }

  /** Companies with their billing contacts, fetched for the whole page at once. */
  private async clientsOf(companies: CwCompany[]): Promise<(PsaClient | Error)[]> {
    const contacts: CwContact[] = [];
    for (const ids of chunkIds(companies.map((c) => c.id))) {
      const where = `company/id in (${ids.join(',')}) and inactiveFlag = false and (defaultBillingFlag = true or defaultFlag = true)`;
      for await (const page of this.api.forwardOnly('/company/contacts', where, this.pageSize)) contacts.push(...z.array(cwContact).parse(page));
    }
    const byCompany = new Map<number, CwContact[]>();
    for (const c of contacts) byCompany.set(c.company?.id ?? 0, [...(byCompany.get(c.company?.id ?? 0) ?? []), c]);
    return companies.map((c) => tryMap(() => mapClient(c, byCompany.get(c.id) ?? [])));
  }

  async *listInvoices(since: string | null): AsyncIterable<PsaPage<PsaInvoice>> {
    // The next page and its lines are read while this one is stored (read-ahead.ts): on a 100,000-invoice
    // import the vendor's time and the database's overlap instead of adding up.
    const pageOf = (rows: unknown[]) =>
      mapEach(rows, cwInvoice, describeInvoice, async (invoices) => {
        const currencies = new Map<number, Currency>();
        const results = new Map<number, Error>();
        for (const inv of invoices) {
          const c = tryMap(() => invoiceCurrency(inv, this.currency));
          if (c instanceof Error) results.set(inv.id, c);
          else currencies.set(inv.id, c);
        }
        const lines = await this.linesFor(currencies);
        return invoices.map((inv) => {
          const own = results.get(inv.id) ?? lines.get(inv.id) ?? [];
          return own instanceof Error ? own : tryMap(() => mapInvoice(inv, own, this.currency));
        });
      });
    yield* readAhead(this.api.changedSince('/finance/invoices', since, this.pageSize), pageOf, PAGES_AHEAD);
  }

  async getInvoice(externalId: string): Promise<PsaInvoice | null> {
    const id = this.invoiceId(externalId);
    let body: unknown;
    try {
      body = (await this.api.get(`/finance/invoices/${id}`)).body;
    } catch (e) {
      if (e instanceof VendorError && e.kind === 'not_found') return null;
      throw e;
    }
    const inv = cwInvoice.parse(body);
    const lines = (await this.linesFor(new Map([[inv.id, invoiceCurrency(inv, this.currency)]]))).get(inv.id) ?? [];
    if (lines instanceof Error) throw lines;
    return mapInvoice(inv, lines, this.currency);
  }

  /** `GET /finance/invoices/{id}/pdf`: the invoice rendered with the MSP's ConnectWise template. */
  async invoicePdf(externalId: string): Promise<Buffer | null> {
    return this.api.getBytes(`/finance/invoices/${this.invoiceId(externalId)}/pdf`);
  }

  /**
   * Lines are the billable records that reference an invoice (there is no /invoices/{id}/lines):
   * product items, time entries and expense entries, fetched for many invoices at once with
   * `invoice/id in (…)` and forward-only paging. A line Settle cannot map makes its invoice an Error (that
   * invoice is rejected, not the page).
   */
  private async linesFor(currencies: ReadonlyMap<number, Currency>): Promise<Map<number, PsaInvoiceLine[] | Error>> {
    const out = new Map<number, PsaInvoiceLine[] | Error>();
    const add = (invoiceId: number | undefined, kind: string, id: number, map: () => PsaInvoiceLine | null): void => {
      if (invoiceId === undefined || out.get(invoiceId) instanceof Error) return;
      const line = tryMap(map);
      if (line instanceof Error) return void out.set(invoiceId, new Error(`${kind} line ${id}: ${line.message}`));
      if (!line) return;
      const list = out.get(invoiceId) as PsaInvoiceLine[] | undefined;
      if (list) list.push(line);
      else out.set(invoiceId, [line]);
    };
    const currencyOf = (id: number | undefined): Currency => (id === undefined ? undefined : currencies.get(id)) ?? this.currency;
    for (const ids of chunkIds([...currencies.keys()])) {
      const where = `invoice/id in (${ids.join(',')})`;
      const [products, times, expenses] = await Promise.all([
        this.collect('/procurement/products', where, cwProductItem),
        this.collect('/time/entries', where, cwTimeEntry),
        this.collect('/expense/entries', where, cwExpenseEntry),
      ]);
      for (const p of products) add(p.invoice?.id, 'product', p.id, () => mapProductLine(p, currencyOf(p.invoice?.id)));
      for (const t of times) add(t.invoice?.id, 'time', t.id, () => mapTimeLine(t, currencyOf(t.invoice?.id)));
      for (const e of expenses) add(e.invoice?.id, 'expense', e.id, () => mapExpenseLine(e, currencyOf(e.invoice?.id)));
    }
    return out;
  }

  private async collect<T>(path: string, where: string, schema: z.ZodType<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const page of this.api.forwardOnly(path, where, this.pageSize)) out.push(...z.array(schema).parse(page));
    return out;
  }

  private invoiceId(externalId: string): number {
    if (!/^\d+$/.test(externalId)) throw new Error(`"${externalId}" is not a ConnectWise invoice id`);
    return Number(externalId);
  }

  /**
   * ConnectWise's Payment (id, type, invoice, credit, amount, paymentDate, appliedBy) has no field
   * that could carry our reference, and POST takes no idempotency key. So a payment is "ours" when
   * it is on the same invoice, for the same amount, on the same payment date — and, when the API
   * member is configured, applied by that member (staff-entered payments are applied by people).
   * Two Settle payments of the same amount on the same invoice and day look alike: the caller passes the
   * remote ids its other postings already hold (claimedRemoteIds), and those are never matched.
   */
  private async findOurPayment(invoiceId: number, input: RecordPaymentInput): Promise<CwPayment | null> {
    const member = this.opts.apiMemberIdentifier?.toLowerCase();
    for (let page = 1; ; page++) {
      const { rows } = await this.api.getList(`/finance/invoices/${invoiceId}/payments`, { page, pageSize: this.pageSize });
      for (const p of z.array(cwPayment).parse(rows)) {
        if (p.credit) continue; // a credit memo applied by staff, not money
        if (paymentDay(p) !== input.paidOn) continue;
        if (member && (p.appliedBy ?? '').toLowerCase() !== member) continue;
        if (input.claimedRemoteIds?.includes(String(p.id))) continue; // another Settle payment of the same day and amount
        if (parseDecimal(p.amount, input.amount.currency).amountMinor === input.amount.amountMinor) return p;
      }
      if (rows.length < this.pageSize) return null;
    }
  }

  async recordPayment(input: RecordPaymentInput): Promise<RecordPaymentResult> {
    if (!input.idempotencyKey) throw new Error('recordPayment needs an idempotencyKey');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(input.paidOn)) throw new Error(`paidOn "${input.paidOn}" is not YYYY-MM-DD`);
    const invoiceId = this.invoiceId(input.invoiceExternalId);
    const maxAttempts = this.opts.api?.maxAttempts ?? 5;
    const sleep = this.opts.api?.sleep ?? defaultSleep;
    for (let attempt = 1; ; attempt++) {
      // Check before every write, including a retry after a failure whose outcome is unknown.
      const existing = await this.findOurPayment(invoiceId, input);
      if (existing) return { remoteId: String(existing.id), alreadyRecorded: true };
      try {
        const created = cwPayment.parse(
          await this.api.post(`/finance/invoices/${invoiceId}/payments`, { amount: toVendorNumber(input.amount), paymentDate: `${input.paidOn}T00:00:00Z` }),
        );
        return { remoteId: String(created.id), alreadyRecorded: false };
      } catch (e) {
        const decision = retryDecision(e, attempt, maxAttempts);
        if (!decision.retry) throw e;
        await sleep(decision.delayMs);
      }
    }
  }

  /** A flagged company note (notes.ts explains why a note); check-before-write by our reference. */
  recordFailure(input: RecordFailureInput): Promise<RecordPaymentResult> {
    return recordFailureNote(this.api, input, {
      ...(this.opts.api?.maxAttempts ? { maxAttempts: this.opts.api.maxAttempts } : {}),
      ...(this.opts.api?.sleep ? { sleep: this.opts.api.sleep } : {}),
    });
  }

  /**
   * A refund reduces the payment Settle recorded (PATCH amount) and a full reversal deletes it
   * (DELETE), so the invoice's balance in ConnectWise owes exactly what the client owes again. A
   * negative payment is not a ConnectWise concept (amounts must be more than zero), and a reduced
   * payment keeps one record per client payment, as staff would keep it by hand. Check before write:
   * the payment is read first; gone or already at (or below) the target means a retry found its work
   * done. Never raised: an out-of-order retry cannot undo a later, smaller target.
   */
  async reversePayment(input: ReversePaymentInput): Promise<ReversePaymentResult> {
    if (!input.idempotencyKey) throw new Error('reversePayment needs an idempotencyKey');
    const invoiceId = this.invoiceId(input.invoiceExternalId);
    if (!/^\d+$/.test(input.paymentRemoteId)) throw new Error(`"${input.paymentRemoteId}" is not a ConnectWise payment id`);
    const path = `/finance/invoices/${invoiceId}/payments/${input.paymentRemoteId}`;
    const maxAttempts = this.opts.api?.maxAttempts ?? 5;
    const sleep = this.opts.api?.sleep ?? defaultSleep;
    for (let attempt = 1; ; attempt++) {
      let current: CwPayment;
      try {
        current = cwPayment.parse((await this.api.get(path)).body);
      } catch (e) {
        if (e instanceof VendorError && e.kind === 'not_found') return { outcome: 'already' };
        throw e;
      }
      const amount = parseDecimal(current.amount, input.remaining.currency).amountMinor;
      if (amount <= input.remaining.amountMinor) return { outcome: 'already' };
      try {
        if (input.remaining.amountMinor === 0n) {
          await this.api.delete(path);
          return { outcome: 'removed' };
        }
        await this.api.patch(path, [{ op: 'replace', path: 'amount', value: toVendorNumber(input.remaining) }]);
        return { outcome: 'reduced' };
      } catch (e) {
        const decision = retryDecision(e, attempt, maxAttempts);
        if (!decision.retry) throw e;
        await sleep(decision.delayMs);
      }
    }
  }

  /** One `invoice`/`owner` callback to `url`; reuses an active one already registered. */
  async subscribe(url: string): Promise<boolean> {
    return (await this.ensureCallback(url)).outcome !== 'unsupported';
  }

  /**
   * Ours are the invoice callbacks whose URL has the same path as `url` (/webhooks/<workspace>/connectwise):
   * one that is active, owner-level and at exactly `url` is kept; every other one of ours (deactivated,
   * changed to another level, or at Settle's former address) is deleted, and the wanted one created.
   * Callbacks of other integrations are never touched.
   */
  async ensureCallback(url: string): Promise<CallbackCheck> {
    const { invoiceType: type, ownerLevel } = connectWiseCatalogue.callbacks;
    const path = new URL(url).pathname;
    const ours: CwCallbackEntry[] = [];
    for (let page = 1; ; page++) {
      const { rows } = await this.api.getList('/system/callbacks', { conditions: `type = ${cwString(type)}`, page, pageSize: this.pageSize });
      for (const cb of z.array(cwCallbackEntry).parse(rows)) {
        let cbPath: string | null = null;
        try {
          cbPath = new URL(cb.url).pathname;
        } catch {
          cbPath = null;
        }
        if (cbPath === path) ours.push(cb);
      }
      if (rows.length < this.pageSize) break;
    }
    const good = ours.find((cb) => cb.url === url && !cb.inactiveFlag && cb.level.toLowerCase() === ownerLevel);
    const stale = ours.filter((cb) => cb !== good);
    for (const cb of stale) await this.api.delete(`/system/callbacks/${cb.id}`);
    const replaced = stale.map((cb) => `${cb.inactiveFlag ? 'inactive ' : ''}${cb.level}-level callback ${cb.id} to ${cb.url}`);
    if (good) return { outcome: 'present', replaced };
    await this.api.post('/system/callbacks', {
      description: 'Settle: invoice changes',
      url,
      objectId: 1, // required by the schema; an owner-level callback covers every invoice
      type,
      level: ownerLevel,
      inactiveFlag: false,
      isSoapCallbackFlag: false,
      isSelfSuppressedFlag: false,
    });
    return { outcome: stale.length > 0 ? 'repaired' : 'created', replaced };
  }

  /** Async because the signing key is fetched from the callback's key URL (cached). */
  /** Credit memos applied to the invoice in ConnectWise (credit-applications.ts). */
  creditApplications(invoiceExternalId: string): Promise<PsaCreditApplication[]> {
    return listCreditApplications(this.api, this.invoiceId(invoiceExternalId), this.currency, this.pageSize);
  }

  parseNotification(headers: Headers, rawBody: Buffer): Promise<PsaChangeNotice> {
    return verifyCallback(headers, rawBody, { siteOrigin: this.api.siteOrigin, companyId: this.opts.companyId, keys: this.keys });
  }
}

export function createConnectWiseConnector(opts: ConnectWiseConnectorOptions): ConnectWiseConnector {
  return new ConnectWiseConnector(opts);
}
