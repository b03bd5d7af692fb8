// Autotask PSA as Settle's PsaConnector. Invoices have no last-modified field and no webhooks, so a poll asks
// for what the invoice's own stamps can show changed — created, voided, paid or stamped by an integration
// (CreateDateTime, VoidedDate, PaidDate, WebServiceDate ≥ since) — and, every `sweepEveryMs`, sweeps all open
// invoices (and those paid in the last 90 days) for changes that leave no stamp or a stamp in the past. Lines are the BillingItems of a whole
// page of invoices at once (`InvoiceID in […]`); every call is spent through the budget broker (budget.ts).
import { z } from 'zod';
import { zero, type Currency, sum } from '../../../domain/money.ts';
import type {
  CallbackCheck,
  PsaChangeNotice,
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
import { AutotaskApi, budgetKey, type AutotaskApiOptions, type AutotaskConnection, type FilterItem } from './api.ts';
import type { BudgetState, Priority } from './budget.ts';
import {
  atBillingItem,
  atCompany,
  atContact,
  atInvoice,
  mapClient,
  mapInvoice,
  mapLine,
  type AtBillingItem,
  type AtCompany,
  type AtContact,
  type AtInvoice,
} from './mapping.ts';
import { lookupContracts } from './contracts.ts';
import { notesOf, parsePaymentNote, type PaymentNote } from './notes.ts';
import { verifyHook, type Headers } from './webhook.ts';
import { readAhead } from '../read-ahead.ts';
import { recordFailure, recordPayment, reversePayment } from './writeback.ts';

export interface AutotaskConnectorOptions extends AutotaskConnection {
  /** Autotask invoices carry no currency; the MSP's (default USD). */
  readonly currency?: Currency;
  /** Secret Settle gives its company webhook (write-only at Autotask); without it, no webhooks. */
  readonly webhookSecret?: string;
  /** How often a poll also sweeps every open (or recently paid) invoice (default 1 h). */
  readonly sweepEveryMs?: number;
  readonly api?: AutotaskApiOptions;
}

/** Clock skew and Autotask's own stamping delay: a poll looks this far behind its cursor (ingestion is idempotent). */
const OVERLAP_MS = 10 * 60_000;
const IN_CHUNK = 500;
/**
 * Invoice pages whose lines and notes are fetched while the page before is stored: 2, so at most 2 of
 * Autotask's 3 concurrent requests per endpoint (BillingItems, CompanyNotes) are a walk's, one kept for a
 * write-back. What beats the vendor's latency on a 20,000-invoice import (bench psa-import-autotask).
 */
const PAGES_AHEAD = 2;
const PAID_LOOKBACK_MS = 90 * 86_400_000;
const lastSweep = new Map<string, number>();

const chunks = <T>(xs: readonly T[], n = IN_CHUNK): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

function tryMap<Out>(fn: () => Out): Out | Error {
  try {
    return fn();
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** Parse each record on its own: one Settle cannot take is named in `rejected`, the rest of the page goes on. */
function parseEach<T>(
  rows: readonly unknown[],
  schema: z.ZodType<T>,
  describe: (row: unknown) => Omit<PsaRejectedRecord, 'reason'>,
): { ok: T[]; rejected: PsaRejectedRecord[] } {
  const ok: T[] = [];
  const rejected: PsaRejectedRecord[] = [];
  for (const row of rows) {
    const r = schema.safeParse(row);
    if (r.success) ok.push(r.data);
    else rejected.push({ ...describe(row), reason: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  }
  return { ok, rejected };
}

const page = <T>(items: T[], rejected: PsaRejectedRecord[]): PsaPage<T> => (rejected.length > 0 ? Object.assign(items, { rejected }) : items);

const describeInvoice = (row: unknown): Omit<PsaRejectedRecord, 'reason'> => {
  const r = row as { id?: unknown; invoiceNumber?: unknown } | null;
  return { entity: 'invoice', externalId: String(r?.id ?? '?'), label: `invoice ${String(r?.invoiceNumber ?? '?')} (id ${String(r?.id ?? '?')})` };
};
const describeCompany = (row: unknown): Omit<PsaRejectedRecord, 'reason'> => {
  const r = row as { id?: unknown; companyName?: unknown } | null;
  return { entity: 'client', externalId: String(r?.id ?? '?'), label: `company ${JSON.stringify(String(r?.companyName ?? '?'))} (id ${String(r?.id ?? '?')})` };
};

export class AutotaskConnector implements PsaConnector {
  readonly vendor = 'autotask' as const;
  readonly api: AutotaskApi;
  private readonly currency: Currency;

  constructor(private readonly opts: AutotaskConnectorOptions) {
    this.api = new AutotaskApi(opts, opts.api ?? {});
    this.currency = opts.currency ?? 'USD';
  }

  /** The budget broker's state (used, limit, share, remaining) for the connection page. */
  budgetState(): BudgetState {
    return this.api.budget.state();
  }

  async *listClients(since: string | null): AsyncIterable<PsaPage<PsaClient>> {
    const seen = new Set<number>();
    const filter: FilterItem[] = since ? [{ op: 'gte', field: 'LastTrackedModifiedDateTime', value: behind(since) }] : [{ op: 'exist', field: 'id' }];
    for await (const rows of this.api.query('Companies', filter, 'other')) {
      yield await this.clientsOf(rows, seen);
    }
    if (!since) return;
    // A changed contact changes its company's billing e-mail: bring those companies too.
    const changed = new Set<number>();
    for await (const rows of this.api.query('Contacts', [{ op: 'gte', field: 'LastModifiedDate', value: behind(since) }], 'other', ['id', 'companyID'])) {
      for (const r of rows) {
        const id = (r as { companyID?: unknown }).companyID;
        if (typeof id === 'number' && !seen.has(id)) changed.add(id);
      }
    }
    for (const ids of chunks([...changed])) {
      for await (const rows of this.api.query('Companies', [{ op: 'in', field: 'id', value: ids }], 'other')) yield await this.clientsOf(rows, seen);
    }
  }

  private async clientsOf(rows: readonly unknown[], seen: Set<number>): Promise<PsaPage<PsaClient>> {
    const { ok, rejected } = parseEach<AtCompany>(rows, atCompany, describeCompany);
    const contacts = new Map<number, AtContact[]>();
    for (const ids of chunks(ok.map((c) => c.id))) {
      const filter = [
        { op: 'in', field: 'CompanyID', value: ids },
        { op: 'eq', field: 'IsActive', value: 1 },
      ];
      for await (const rs of this.api.query('Contacts', filter, 'other')) {
        for (const k of z.array(atContact).parse(rs)) contacts.set(k.companyID, [...(contacts.get(k.companyID) ?? []), k]);
      }
    }
    const out: PsaClient[] = [];
    for (const c of ok) {
      seen.add(c.id);
      const m = tryMap(() => mapClient(c, contacts.get(c.id) ?? []));
      if (m instanceof Error) rejected.push({ ...describeCompany(c), reason: m.message });
      else out.push(m);
    }
    return page(out, rejected);
  }

  /**
   * One company as a client, or null when it no longer exists: a company webhook names only the company's id,
   * and the record read now is the truth (so duplicate and out-of-order deliveries are harmless). A company
   * Settle cannot take throws, with the reason.
   */
  async getClient(externalId: string): Promise<PsaClient | null> {
    if (!/^\d+$/.test(externalId)) throw new Error(`"${externalId}" is not an Autotask company id`);
    for await (const rows of this.api.query('Companies', [{ op: 'eq', field: 'id', value: Number(externalId) }], 'recent')) {
      const got = await this.clientsOf(rows, new Set());
      if (got[0]) return got[0];
      if (got.rejected?.[0]) throw new Error(got.rejected[0].reason);
    }
    return null;
  }

  async *listInvoices(since: string | null): AsyncIterable<PsaPage<PsaInvoice>> {
    if (!since) {
      yield* readAhead(this.api.query('Invoices', [{ op: 'exist', field: 'id' }], 'sweep'), (rows) => this.invoicesOf(rows, 'sweep'), PAGES_AHEAD);
      lastSweep.set(budgetKey(this.opts), Date.now());
      return;
    }
    const at = behind(since);
    const changed: FilterItem[] = [
      {
        op: 'or',
        items: ['CreateDateTime', 'VoidedDate', 'PaidDate', 'WebServiceDate'].map((field) => ({ op: 'gte', field, value: at })),
      },
    ];
    for await (const rows of this.api.query('Invoices', changed, 'recent')) yield await this.invoicesOf(rows, 'recent');
    const key = budgetKey(this.opts);
    if (Date.now() - (lastSweep.get(key) ?? 0) < (this.opts.sweepEveryMs ?? 3_600_000)) return;
    // Open invoices, and those paid in the last 90 days: staff (or a books integration) may mark an invoice
    // paid with a PaidDate in the past, which the changes query above (PaidDate ≥ since) cannot see.
    const paidSince = new Date(Date.now() - PAID_LOOKBACK_MS).toISOString();
    const open: FilterItem[] = [
      { op: 'eq', field: 'IsVoided', value: false },
      {
        op: 'or',
        items: [
          { op: 'notExist', field: 'PaidDate' },
          { op: 'gte', field: 'PaidDate', value: paidSince },
        ],
      },
    ];
    yield* readAhead(this.api.query('Invoices', open, 'sweep'), (rows) => this.invoicesOf(rows, 'sweep'), PAGES_AHEAD);
    lastSweep.set(key, Date.now());
  }

  async getInvoice(externalId: string): Promise<PsaInvoice | null> {
    if (!/^\d+$/.test(externalId)) throw new Error(`"${externalId}" is not an Autotask invoice id`);
    const raw = await this.api.get('Invoices', Number(externalId), 'recent');
    if (!raw) return null;
    const p = await this.invoicesOf([raw], 'recent');
    const r = p.rejected?.[0];
    if (r) throw new Error(`Autotask ${r.label}: ${r.reason}`);
    return p[0] ?? null;
  }

  /** The invoice PDF Autotask renders (`InvoicePDF`), for the client portal's invoice page. */
  async invoicePdf(externalId: string): Promise<Buffer | null> {
    if (!/^\d+$/.test(externalId)) return null;
    return this.api.invoicePdf(Number(externalId), 'link');
  }

  /** A page of invoices with their lines and Settle's payment notes, fetched for the whole page at once. */
  private async invoicesOf(rows: readonly unknown[], priority: Priority): Promise<PsaPage<PsaInvoice>> {
    const { ok, rejected } = parseEach<AtInvoice>(rows, atInvoice, describeInvoice);
    const lines = new Map<number, PsaInvoiceLine[] | Error>();
    const items: AtBillingItem[] = [];
    for (const ids of chunks(ok.map((i) => i.id))) {
      for await (const rs of this.api.query('BillingItems', [{ op: 'in', field: 'InvoiceID', value: ids }], priority))
        items.push(...z.array(atBillingItem).parse(rs));
    }
    // The contracts and projects the lines name, for the whole page at once (contracts.ts).
    const contracts = await lookupContracts(this.api, items, priority);
    for (const b of items) {
      if (b.invoiceID === null || lines.get(b.invoiceID) instanceof Error) continue;
      const line = tryMap(() => mapLine(b, this.currency, contracts));
      if (line instanceof Error) lines.set(b.invoiceID, new Error(`billing item ${b.id}: ${line.message}`));
      else lines.set(b.invoiceID, [...((lines.get(b.invoiceID) as PsaInvoiceLine[] | undefined) ?? []), line]);
    }
    const open = ok.filter((i) => !i.isVoided && !i.paidDate);
    const paid = new Map<number, PaymentNote[]>();
    const companies = [...new Set(open.map((i) => i.companyID))];
    if (companies.length > 0) {
      for (const n of await notesOf(this.api, companies, 'settle:payment invoice=', priority)) {
        const p = parsePaymentNote(n);
        if (p) paid.set(p.invoiceId, [...(paid.get(p.invoiceId) ?? []), p]);
      }
    }
    const out: PsaInvoice[] = [];
    for (const inv of ok) {
      const own = lines.get(inv.id) ?? [];
      const notes = paid.get(inv.id) ?? [];
      const m =
        own instanceof Error
          ? own
          : tryMap(() =>
              mapInvoice(
                inv,
                own,
                this.currency,
                notes.length > 0
                  ? sum(
                      notes.map((n) => n.amount),
                      this.currency,
                    )
                  : zero(this.currency),
                notes.map((n) => n.stamp),
              ),
            );
      if (m instanceof Error) rejected.push({ ...describeInvoice(inv), reason: m.message });
      else out.push(m);
    }
    return page(out, rejected);
  }

  recordPayment(input: RecordPaymentInput): Promise<RecordPaymentResult> {
    return recordPayment(this.api, input, this.opts.api ?? {});
  }

  reversePayment(input: ReversePaymentInput): Promise<ReversePaymentResult> {
    return reversePayment(this.api, input, this.opts.api ?? {});
  }

  recordFailure(input: RecordFailureInput): Promise<RecordPaymentResult> {
    return recordFailure(this.api, input, this.opts.api ?? {});
  }

  async subscribe(url: string): Promise<boolean> {
    return (await this.ensureCallback(url)).outcome !== 'unsupported';
  }

  /**
   * One active company webhook at `url` subscribed to create and update events. Ours are those whose URL has
   * the same path; any other of ours (inactive, elsewhere) is deleted and the wanted one created. Without a
   * webhook secret Settle cannot verify deliveries, so it registers none ('unsupported': polling only).
   */
  async ensureCallback(url: string): Promise<CallbackCheck> {
    const secret = this.opts.webhookSecret;
    if (!secret) return { outcome: 'unsupported', replaced: [] };
    const path = new URL(url).pathname;
    const hook = z.object({
      id: z.number(),
      webhookUrl: z.string(),
      isActive: z.boolean().nullable(),
      isSubscribedToCreateEvents: z.boolean().nullable(),
      isSubscribedToUpdateEvents: z.boolean().nullable(),
    });
    const ours: z.infer<typeof hook>[] = [];
    for await (const rows of this.api.query('CompanyWebhooks', [{ op: 'exist', field: 'id' }], 'other')) {
      for (const h of z.array(hook).parse(rows)) if (safePath(h.webhookUrl) === path) ours.push(h);
    }
    const good = ours.find((h) => h.webhookUrl === url && h.isActive && h.isSubscribedToCreateEvents && h.isSubscribedToUpdateEvents);
    const stale = ours.filter((h) => h !== good);
    for (const h of stale) await this.api.delete('CompanyWebhooks', h.id);
    const replaced = stale.map((h) => `${h.isActive ? '' : 'inactive '}company webhook ${h.id} to ${h.webhookUrl}`);
    if (good) return { outcome: 'present', replaced };
    await this.api.create('CompanyWebhooks', {
      name: 'Settle: company changes',
      webhookUrl: url,
      deactivationUrl: url,
      secretKey: secret,
      isActive: true,
      isSubscribedToCreateEvents: true,
      isSubscribedToUpdateEvents: true,
      isSubscribedToDeleteEvents: false,
      sendThresholdExceededNotification: true,
    });
    return { outcome: stale.length > 0 ? 'repaired' : 'created', replaced };
  }

  parseNotification(headers: Headers, rawBody: Buffer): PsaChangeNotice {
    return verifyHook(headers, rawBody, this.opts.webhookSecret ?? null);
  }
}

function behind(since: string): string {
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) throw new Error(`"${since}" is not a timestamp`);
  return new Date(ms - OVERLAP_MS).toISOString();
}

function safePath(u: string): string | null {
  try {
    return new URL(u).pathname;
  } catch {
    return null;
  }
}

export function createAutotaskConnector(opts: AutotaskConnectorOptions): AutotaskConnector {
  return new AutotaskConnector(opts);
}
