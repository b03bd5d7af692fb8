// Settle's copy of a QuickBooks Online company's invoices, payments and deposits (ledger-copy.ts says why).
// Incremental reads use Change Data Capture: one `GET /cdc?entities=Invoice,Payment,Deposit&changedSince=…`
// answers every record changed since, created, updated, voided (an update with amounts zero) or deleted
// (only the id is left). CDC looks back at most 30 days and sends at most 1,000 records an answer, cutting
// the rest off without a continuation token — so a cursor older than 29 days, or an answer that may have been
// cut short, is followed by a full read (paged queries of the three entities) instead, which is always correct.
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
  const live = (e: CdcEntity): Json[] =>
    byEntity[e].filter((r) => {
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

export async function readQboLedgerChanges(api: QboApi, home: Currency, cursorText: string | null, now: () => Date = () => new Date()): Promise<LedgerChanges> {
  const started = now();
  const next = JSON.stringify({ since: new Date(started.getTime() - OVERLAP_MS).toISOString() } satisfies Cursor);
  const cursor = parseCursor(cursorText);
  if (cursor && started.getTime() - Date.parse(cursor.since) < CDC_MAX_AGE_MS) {
    const res = await api.call({ method: 'GET', path: '/cdc', params: { entities: CDC_ENTITIES.join(','), changedSince: cursor.since } });
    const responses = (((res['CDCResponse'] as Json[] | undefined)?.[0]?.['QueryResponse'] as Json[] | undefined) ?? []) as Json[];
    const byEntity = Object.fromEntries(CDC_ENTITIES.map((e) => [e, responses.flatMap((qr) => (Array.isArray(qr[e]) ? (qr[e] as Json[]) : []))])) as Record<
      CdcEntity,
      Json[]
    >;
    const count = CDC_ENTITIES.reduce((n, e) => n + byEntity[e].length, 0);
    // A full answer may have been cut short (QuickBooks sends no continuation): read everything instead.
    if (count < CDC_MAX_OBJECTS) return { full: false, ...collect(byEntity, home), cursor: next, complete: true, asOf: started };
  }
  const byEntity = {} as Record<CdcEntity, Json[]>;
  for (const e of CDC_ENTITIES) byEntity[e] = await api.queryAll(e, null);
  return { full: true, ...collect(byEntity, home), cursor: next, complete: true, asOf: started };
}
