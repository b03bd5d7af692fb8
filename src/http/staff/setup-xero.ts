// The set-up wizard's accounts step when the books are Xero: the account codes the Xero connection chose from
// the organisation's chart when it connected (engine/xero-connect.ts), shown with Xero's names, read live.
import { chartOfAccounts } from '../../engine/books-accounts.ts';
import { readConnection } from '../../engine/connections.ts';
import { advice } from '../../engine/connection-checks.ts';
import type { HttpDeps } from '../deps.ts';
import { boxOf } from './connections.ts';

const XERO_ACCOUNTS: readonly { key: string; label: string }[] = [
  { key: 'bankAccountCode', label: 'Bank account (payouts land here)' },
  { key: 'clearingAccountCode', label: 'Clearing account (payments go in, payouts go out)' },
  { key: 'feeAccountCode', label: 'Processing fees' },
  { key: 'surchargeAccountCode', label: 'Card surcharges' },
  { key: 'planFeeAccountCode', label: 'Installment-plan fees' },
  { key: 'clientCreditAccountCode', label: 'Client credit' },
];

export async function xeroAccountRows(deps: HttpDeps, tenantId: string): Promise<{ rows: { label: string; name: string }[]; chartProblem: string | null }> {
  const conn = await readConnection(deps.ctx.db, boxOf(deps), tenantId, 'accounting');
  let chart: { id: string; name: string }[] = [];
  let chartProblem: string | null = null;
  try {
    chart = (await chartOfAccounts(deps.ctx.connectors, tenantId)) ?? [];
  } catch (e) {
    chartProblem = `Settle could not read the chart of accounts from Xero: ${advice(e, 'Xero')}`;
  }
  const rows = XERO_ACCOUNTS.flatMap((a) => {
    const code = conn?.config[a.key];
    if (typeof code !== 'string' || code === '') return [];
    return [{ label: a.label, name: chart.find((c) => c.id === code)?.name ?? code }];
  });
  return { rows, chartProblem };
}
