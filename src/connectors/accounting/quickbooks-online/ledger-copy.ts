// Settle's copy of a QuickBooks Online company's invoices, payments and deposits (ledger-copy.ts says why).
// Incremental reads use Change Data Capture: one `GET /cdc?entities=Invoice,Payment,Deposit&changedSince=…`
// answers every record changed since, created, updated, voided (an update with amounts zero) or deleted
// (only the id is left). CDC looks back at most 30 days and sends at most 1,000 records an answer, cutting
// the rest off without a continuation token — so an answer that may have been cut short is asked again entity by
// entity, paged forward by change time, and a cursor older than 29 days (or a page that cannot move forward) is
// followed by a full read (paged queries of the three entities), which is always correct.
// The next cursor is our clock at the request less a minute: QuickBooks stamps whole seconds and its clock is
// not ours, and reading a record twice only upserts it again.
import { MoneyError, parseDecimal, type Currency } from '../../../domain/money.ts';
import type { LedgerChanges, LedgerDepositCopy, LedgerInvoiceCopy, LedgerPaymentCopy, LedgerRecordKind } from '../ledger-copy.ts';
import type { QboApi } from './api.ts';
import { currencyOf, isVoided, refValue } from './mapping.ts';

type Json = Record<string, unknown>;

const CDC_ENTITIES = ['Invoice', 'Payment', 'Deposit'] as const;
type CdcEntity = (typeof CDC_ENTITIES)[number];
const KIND: Readonly<Record<CdcEntity, LedgerRecordKind>> = { Invoice: 'invoice', Payment: 'payment', Deposit: 'deposit' };
/** QuickBooks' limits for CDC (docs: change-data-capture): 30 days back; 1,000 records an answer. */
const CDC_MAX_AGE_MS = 29 * 24 * 3600 * 1000;
const CDC_MAX_OBJECTS = 1000;
const OVERLAP_MS = 60_000;
const MARKER = /\[settle:([^\]]+)\]/;

interface Cursor {
  readonly since: string; // ISO date-time
}

function parseCursor(text: string | null): Cursor | null {
  if (!text) return null;
  try {
    const c = JSON.parse(text) as Partial<Cursor>;
    return typeof c.since === 'string' && !Number.isNaN(Date.parse(c.since)) ? { since: c.since } : null;
  } catch {
    return null;
  }
}

const updatedAt = (r: Json): Date | null => {
  const t = (r['MetaData'] as Json | undefined)?.['LastUpdatedTime'];
  const ms = typeof t === 'string' ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? null : new Date(ms);
};
const settleKeyOf = (r: Json): string | null => {
  const note = r['PrivateNote'];
  return typeof note === 'string' ? (MARKER.exec(note)?.[1] ?? null) : null;
};
const amount = (v: unknown, currency: Currency, field: string) => {
  if (typeof v !== 'number' && typeof v !== 'string') throw new MoneyError(`QuickBooks record without ${field}`);
  return parseDecimal(v, currency);
};

export function invoiceCopy(r: Json, home: Currency): LedgerInvoiceCopy {
  const currency = currencyOf(r, home);
  return {
    remoteId: String(r['Id']),
    number: String(r['DocNumber'] ?? ''),
    customerRemoteId: refValue(r['CustomerRef']),
    total: amount(r['TotalAmt'], currency, 'TotalAmt'),
    balance: amount(r['Balance'] ?? r['TotalAmt'], currency, 'Balance'),
    voided: isVoided(r),
    updatedAt: updatedAt(r),
  };
}

export function paymentCopy(r: Json, home: Currency): LedgerPaymentCopy {
  const currency = currencyOf(r, home);
  const applied: { invoiceRemoteId: string; amount: ReturnType<typeof amount> }[] = [];
  for (const line of (r['Line'] as Json[] | undefined) ?? []) {
    for (const linked of (line['LinkedTxn'] as Json[] | undefined) ?? []) {
      if (linked['TxnType'] !== 'Invoice') continue;
      applied.push({ invoiceRemoteId: String(linked['TxnId']), amount: amount(line['Amount'], currency, 'Line.Amount') });
    }
  }
  return {
    remoteId: String(r['Id']),
    total: amount(r['TotalAmt'], currency, 'TotalAmt'),
    paidOn: typeof r['TxnDate'] === 'string' ? r['TxnDate'] : null,
    customerRemoteId: refValue(r['CustomerRef']),
    settleKey: settleKeyOf(r),
    reference: typeof r['PaymentRefNum'] === 'string' ? r['PaymentRefNum'] : null,
    voided: isVoided(r),
    applied,
    updatedAt: updatedAt(r),
  };
}

export function depositCopy(r: Json, home: Currency): LedgerDepositCopy {
  const currency = currencyOf(r, home);
  return {
    remoteId: String(r['Id']),
    total: amount(r['TotalAmt'], currency, 'TotalAmt'),
    depositedOn: typeof r['TxnDate'] === 'string' ? r['TxnDate'] : null,
    settleKey: settleKeyOf(r),
    voided: isVoided(r),
    updatedAt: updatedAt(r),
  };
}

function collect(byEntity: Readonly<Record<CdcEntity, readonly Json[]>>, home: Currency) {
  const deleted: { kind: LedgerRecordKind; remoteId: string }[] = [];
  // The same record twice (pages that overlap by a second, a record changed while paging): the last one read.
  const latest = (rows: readonly Json[]): Json[] => [...new Map(rows.map((r) => [String(r['Id']), r])).values()];
  const live = (e: CdcEntity): Json[] =>
    latest(byEntity[e]).filter((r) => {
      if (r['status'] !== 'Deleted') return true;
      deleted.push({ kind: KIND[e], remoteId: String(r['Id']) });
      return false;
    });
  return {
    invoices: live('Invoice').map((r) => invoiceCopy(r, home)),
    payments: live('Payment').map((r) => paymentCopy(r, home)),
    deposits: live('Deposit').map((r) => depositCopy(r, home)),
    deleted,
  };
}

async function cdc(api: QboApi, entities: readonly CdcEntity[], since: string): Promise<Record<CdcEntity, Json[]>> {
  const res = await api.call({ method: 'GET', path: '/cdc', params: { entities: entities.join(','), changedSince: since } });
  const responses = (((res['CDCResponse'] as Json[] | undefined)?.[0]?.['QueryResponse'] as Json[] | undefined) ?? []) as Json[];
  return Object.fromEntries(CDC_ENTITIES.map((e) => [e, responses.flatMap((qr) => (Array.isArray(qr[e]) ? (qr[e] as Json[]) : []))])) as Record<
    CdcEntity,
    Json[]
  >;
}

/**
 * An answer that may have been cut short: each entity on its own, paged forward from the last change time
 * seen (QuickBooks sends the oldest first; records of that same second are asked for again, and the upsert
 * makes that harmless). Null when a page cannot move forward (1,000 changes in one second): read everything.
 */
async function pagedCdc(api: QboApi, since: string): Promise<Record<CdcEntity, Json[]> | null> {
  const byEntity = {} as Record<CdcEntity, Json[]>;
  for (const e of CDC_ENTITIES) {
    byEntity[e] = [];
    for (let from = since; ;) {
      const rows = (await cdc(api, [e], from))[e];
      byEntity[e].push(...rows);
      if (rows.length < CDC_MAX_OBJECTS) break;
      const last = Math.max(...rows.map((r) => updatedAt(r)?.getTime() ?? 0));
      if (Math.floor(last / 1000) <= Math.floor(Date.parse(from) / 1000)) return null;
      from = new Date(last).toISOString();
    }
  }
  return byEntity;
}

export async function readQboLedgerChanges(api: QboApi, home: Currency, cursorText: string | null, now: () => Date = () => new Date()): Promise<LedgerChanges> {
  const started = now();
  const next = JSON.stringify({ since: new Date(started.getTime() - OVERLAP_MS).toISOString() } satisfies Cursor);
  const cursor = parseCursor(cursorText);
  if (cursor && started.getTime() - Date.parse(cursor.since) < CDC_MAX_AGE_MS) {
    const all = await cdc(api, CDC_ENTITIES, cursor.since);
    const count = CDC_ENTITIES.reduce((n, e) => n + all[e].length, 0);
    const byEntity = count < CDC_MAX_OBJECTS ? all : await pagedCdc(api, cursor.since);
    if (byEntity) return { full: false, ...collect(byEntity, home), cursor: next, complete: true, asOf: started };
  }
  const byEntity = {} as Record<CdcEntity, Json[]>;
  for (const e of CDC_ENTITIES) byEntity[e] = await api.queryAll(e, null);
  return { full: true, ...collect(byEntity, home), cursor: next, complete: true, asOf: started };
}
