// Settle's copy of the Xero ledger for the three-way reconciliation (connectors/accounting/ledger-copy.ts):
// GET /Invoices, /Payments and /BankTransfers with If-Modified-Since (components › parameters ›
// ifModifiedSince), page by page where the operation pages (BankTransfers does not). A deleted payment comes back with Status DELETED (voided in the copy);
// the payout's deposit is its BankTransfer. The cursor is the moment of the previous read on Xero's clock.
import { parseDecimal, type Currency } from '../../../domain/money.ts';
import type { LedgerChanges, LedgerDepositCopy, LedgerInvoiceCopy, LedgerPaymentCopy } from '../ledger-copy.ts';
import type { Json, XeroApi } from './api.ts';
import { xeroDateMs } from './mapping.ts';

const PAGE = 100;

async function changed(
  api: XeroApi,
  path: string,
  key: string,
  since: string | null,
  params: Record<string, string> = {},
  paged = true,
): Promise<{ rows: Json[]; at: number }> {
  const rows: Json[] = [];
  let at = 0;
  for (let page = 1; ; page++) {
    const res = await api.call({
      method: 'GET',
      path,
      params: { ...params, ...(paged ? { page: String(page) } : {}) },
      ...(since ? { ifModifiedSince: since } : {}),
    });
    at ||= xeroDateMs(res['DateTimeUTC']);
    const got = (res[key] as Json[] | undefined) ?? [];
    rows.push(...got);
    if (!paged || got.length < PAGE) return { rows, at };
  }
}

const day = (v: unknown): string | null => {
  const ms = xeroDateMs(v);
  return ms ? new Date(ms).toISOString().slice(0, 10) : null;
};
const when = (v: unknown): Date | null => (xeroDateMs(v) ? new Date(xeroDateMs(v)) : null);
const settleKeyOf = (reference: unknown): string | null => /\[settle:([0-9a-f]+)\]/.exec(String(reference ?? ''))?.[1] ?? null;

export async function readXeroLedgerChanges(api: XeroApi, currency: Currency, clearingAccountCode: string, cursor: string | null): Promise<LedgerChanges> {
  const started = Date.now();
  const inv = await changed(api, '/Invoices', 'Invoices', cursor, { includeArchived: 'true' });
  const pay = await changed(api, '/Payments', 'Payments', cursor);
  // GET /BankTransfers takes no `page` (xero_accounting.yaml): it answers every match at once. Paging it
  // anyway would read the same full answer again and again once there are 100 transfers.
  const tr = await changed(api, '/BankTransfers', 'BankTransfers', cursor, {}, false);
  const money = (v: unknown) => parseDecimal(typeof v === 'number' || typeof v === 'string' ? v : 0, currency);
  const invoices: LedgerInvoiceCopy[] = inv.rows
    .filter((r) => r['Type'] === 'ACCREC')
    .map((r) => ({
      remoteId: String(r['InvoiceID']),
      number: String(r['InvoiceNumber'] ?? ''),
      customerRemoteId: ((r['Contact'] as Json | undefined)?.['ContactID'] as string | undefined) ?? null,
      total: money(r['Total']),
      balance: money(r['AmountDue']),
      voided: r['Status'] === 'VOIDED' || r['Status'] === 'DELETED',
      updatedAt: when(r['UpdatedDateUTC']),
    }));
  const payments: LedgerPaymentCopy[] = pay.rows.map((r) => ({
    remoteId: String(r['PaymentID']),
    total: money(r['Amount']),
    paidOn: day(r['Date']),
    customerRemoteId: (((r['Invoice'] as Json | undefined)?.['Contact'] as Json | undefined)?.['ContactID'] as string | undefined) ?? null,
    settleKey: settleKeyOf(r['Reference']),
    reference: typeof r['Reference'] === 'string' ? r['Reference'] : null,
    voided: r['Status'] === 'DELETED',
    applied: [{ invoiceRemoteId: String((r['Invoice'] as Json | undefined)?.['InvoiceID'] ?? ''), amount: money(r['Amount']) }],
    updatedAt: when(r['UpdatedDateUTC']),
  }));
  // A payout's deposit in Xero is its transfer out of the clearing account (deposit.ts).
  const deposits: LedgerDepositCopy[] = tr.rows
    .filter((r) => (r['FromBankAccount'] as Json | undefined)?.['Code'] === clearingAccountCode)
    .map((r) => ({
      remoteId: String(r['BankTransferID']),
      total: money(r['Amount']),
      depositedOn: day(r['Date']),
      settleKey: settleKeyOf(r['Reference']),
      voided: false,
      updatedAt: when(r['CreatedDateUTC']),
    }));
  const asOf = new Date(inv.at || started);
  return { full: cursor === null, invoices, payments, deposits, deleted: [], cursor: asOf.toISOString(), complete: true, asOf };
}
