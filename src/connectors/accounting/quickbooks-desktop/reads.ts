// The queue's two reads, which exist for their answer rather than to write: the chart of accounts and then
// the classes ('chart-read', chart.ts: AccountQuery, then ClassQuery) and Settle's copy of the books ('ledger-read', ledger-read.ts). One step each
// ('read'); the answer is stored in the same transaction that settles the item (web-connector.ts).
import type { Tx } from '../../../db/tenant.ts';
import type { Currency } from '../../../domain/money.ts';
import { chartFromResponse, classesFromResponse, storeChart, storeClasses } from './chart.ts';
import { applyLedgerPage, ledgerReadHandedOver, ledgerReadRequest, type LedgerReadContext } from './ledger-read.ts';
import { accountQuery, classQuery } from './qbxml/requests.ts';
import { describeStatus, statusKind, type QbResponse } from './qbxml/responses.ts';
import type { InvoiceCopy, Outcome, WorkItem } from './work-steps.ts';
import type { WorkContext } from './work-intent.ts';

export const isRead = (item: Pick<WorkItem, 'kind'>): boolean => item.kind === 'chart-read' || item.kind === 'ledger-read';

/** The chart read's progress: the accounts are stored, the classes come next. */
interface ChartReadContext {
  readonly accountsRead?: boolean;
}

export function readRequest(item: WorkItem, requestID: string): string {
  if (item.kind === 'chart-read') return (item.context as ChartReadContext).accountsRead ? classQuery(requestID) : accountQuery(requestID);
  return ledgerReadRequest(item.context as LedgerReadContext, requestID);
}

/** The item's context as its request is handed over (a books-copy walk notes when it began). */
export function readHandedOver(item: WorkItem, now: Date): Record<string, unknown> {
  return item.kind === 'ledger-read' ? { ...ledgerReadHandedOver(item.context as LedgerReadContext, now) } : { ...item.context };
}

/** Store the answer; the outcome carries the item's next context (a read item's progress lives there). */
export async function applyRead(
  tx: Tx,
  tenantId: string,
  item: WorkItem,
  rs: QbResponse,
  home: Currency,
): Promise<{ outcome: Outcome; context: Record<string, unknown>; invoices: InvoiceCopy[] }> {
  if (item.kind === 'ledger-read') {
    const { outcome, invoices } = await applyLedgerPage(tx, tenantId, item.context as LedgerReadContext, rs, home);
    const context = { ...outcome.context };
    if (outcome.state === 'refused') return { outcome: { state: 'refused', error: outcome.error, statusCode: outcome.statusCode }, context, invoices };
    if (outcome.state === 'done') return { outcome: { state: 'done', remoteId: String(outcome.context.asOf) }, context, invoices };
    return {
      outcome: {
        state: 'queued',
        context: context as WorkContext,
        ...(outcome.error ? { error: outcome.error } : {}),
        ...(outcome.statusCode ? { statusCode: outcome.statusCode } : {}),
      },
      context,
      invoices,
    };
  }
  const kind = statusKind(rs);
  const context = { ...item.context };
  if (kind === 'retry') return { outcome: { state: 'queued', context, error: describeStatus(rs), statusCode: rs.statusCode }, context, invoices: [] };
  if ((item.context as ChartReadContext).accountsRead) {
    // Classes: none, or a company file that refuses the list, is a chart without class tracking — not a failed read.
    const classes = kind === 'refused' ? [] : classesFromResponse(rs);
    await storeClasses(tx, classes);
    const why = kind === 'refused' ? ` (classes: ${describeStatus(rs)})` : '';
    return { outcome: { state: 'done', remoteId: `${classes.length} classes${why}`.slice(0, 200) }, context: {}, invoices: [] };
  }
  if (kind === 'refused') return { outcome: { state: 'refused', error: describeStatus(rs), statusCode: rs.statusCode }, context, invoices: [] };
  const accounts = chartFromResponse(rs);
  await storeChart(tx, tenantId, accounts);
  const next = { ...context, accountsRead: true };
  return { outcome: { state: 'queued', context: next as WorkContext }, context: next, invoices: [] };
}
