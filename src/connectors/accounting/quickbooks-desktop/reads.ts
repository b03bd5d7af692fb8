// The queue's two reads, which exist for their answer rather than to write: the chart of accounts
// ('chart-read', chart.ts) and Settle's copy of the books ('ledger-read', ledger-read.ts). One step each
// ('read'); the answer is stored in the same transaction that settles the item (web-connector.ts).
import type { Tx } from '../../../db/tenant.ts';
import type { Currency } from '../../../domain/money.ts';
import { chartFromResponse, storeChart } from './chart.ts';
import { applyLedgerPage, ledgerReadHandedOver, ledgerReadRequest, type LedgerReadContext } from './ledger-read.ts';
import { accountQuery } from './qbxml/requests.ts';
import { describeStatus, statusKind, type QbResponse } from './qbxml/responses.ts';
import type { InvoiceCopy, Outcome, WorkItem } from './work-steps.ts';
import type { WorkContext } from './work-intent.ts';

export const isRead = (item: Pick<WorkItem, 'kind'>): boolean => item.kind === 'chart-read' || item.kind === 'ledger-read';

export function readRequest(item: WorkItem, requestID: string): string {
  return item.kind === 'chart-read' ? accountQuery(requestID) : ledgerReadRequest(item.context as LedgerReadContext, requestID);
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
  if (kind === 'refused') return { outcome: { state: 'refused', error: describeStatus(rs), statusCode: rs.statusCode }, context, invoices: [] };
  const accounts = chartFromResponse(rs);
  await storeChart(tx, tenantId, accounts);
  return { outcome: { state: 'done', remoteId: `${accounts.length} accounts` }, context, invoices: [] };
}
