// QuickBooks Desktop's chart of accounts for the GL mapping (AccountingConnector.readChart): Settle cannot ask
// QuickBooks Desktop anything, so readChart queues an AccountQuery for the Web Connector's next run and answers
// from the chart the last run brought (qbd_chart). Until one has been brought it says so — when the Web
// Connector is next expected — instead of offering an empty chart: Settings → Accounts and `settle doctor` show
// that sentence. A chart older than an hour is asked for again and served meanwhile. The same read brings the
// company file's classes (ClassQuery after AccountQuery), the Class dimension of the GL mapping's rules.
import { sql } from 'kysely';
import type { Db } from '../../../db/pool.ts';
import type { Tx } from '../../../db/tenant.ts';
import type { GlRole, LedgerAccount, LedgerChart, LedgerDimension } from '../types.ts';
import { text, type QbResponse } from './qbxml/responses.ts';

export const CHART_KEY = 'chart-read';
const REFRESH_AFTER_MS = 60 * 60_000;

/** The chart (or the books copy) has not come from QuickBooks yet: a state to show, not a fault. */
export class WaitingForWebConnector extends Error {
  override readonly name = 'WaitingForWebConnector';
}

/** The roles each QuickBooks Desktop AccountType may take (GlRole); types not listed take none. */
const FITS: Readonly<Record<string, readonly GlRole[]>> = {
  Bank: ['bank', 'clearing', 'adjustments'],
  OtherCurrentAsset: ['undeposited_funds', 'clearing', 'client_credit', 'adjustments'],
  OtherCurrentLiability: ['client_credit', 'clearing', 'adjustments'],
  Expense: ['processing_fees', 'ach_discounts', 'adjustments'],
  OtherExpense: ['processing_fees', 'ach_discounts', 'adjustments'],
  CostOfGoodsSold: ['processing_fees', 'adjustments'],
  Income: ['surcharge_income', 'plan_fee_income', 'ach_discounts', 'adjustments'],
  OtherIncome: ['surcharge_income', 'plan_fee_income', 'ach_discounts', 'adjustments'],
};

/** "OtherCurrentAsset" → "Other Current Asset", as QuickBooks shows the type. */
const words = (t: string): string => t.replace(/([a-z])([A-Z])/g, '$1 $2');

/** AccountQuery's answer as ledger-neutral accounts (active only; the query asked ActiveOnly). */
export function chartFromResponse(rs: QbResponse): LedgerAccount[] {
  const out: LedgerAccount[] = [];
  for (const r of rs.rets) {
    const id = text(r, 'ListID');
    const name = text(r, 'FullName') ?? text(r, 'Name');
    const type = text(r, 'AccountType') ?? '';
    if (!id || !name || text(r, 'IsActive') === 'false') continue;
    const special = text(r, 'SpecialAccountType') ?? '';
    // Undeposited Funds is where payments wait; it is never a clearing, credit or adjustments account.
    const fits = special === 'UndepositedFunds' ? (['undeposited_funds'] as const) : (FITS[type] ?? []).filter((f) => f !== 'undeposited_funds');
    out.push({ id, name, type: words(type), subType: special, fits: [...fits] });
  }
  return out;
}

/** The GL mapping's dimension QuickBooks Desktop offers: Class (the dimension key QuickBooks Online's chart uses too; option id = the class's ListID). */
export const CLASS_DIMENSION = 'class';
export interface QbdClass {
  readonly id: string;
  readonly name: string;
}

/** ClassQuery's answer (ActiveOnly): ListID and full name ("Parent:Child"). No class at all ⇒ an empty list. */
export function classesFromResponse(rs: QbResponse): QbdClass[] {
  const out: QbdClass[] = [];
  for (const r of rs.rets) {
    const id = text(r, 'ListID');
    const name = text(r, 'FullName') ?? text(r, 'Name');
    if (id && name && text(r, 'IsActive') !== 'false') out.push({ id, name });
  }
  return out;
}

/** Classes follow the accounts in the same read (reads.ts); the chart row exists by then. */
export async function storeClasses(tx: Tx, classes: readonly QbdClass[]): Promise<void> {
  await sql`UPDATE qbd_chart SET classes = ${JSON.stringify(classes)}::jsonb, read_at = now()`.execute(tx);
}

/** Class tracking as the GL mapping's rules see it: on when the company file has active classes. */
function classDimension(classes: readonly QbdClass[]): LedgerDimension {
  return { key: CLASS_DIMENSION, label: 'Class', on: classes.length > 0, options: classes };
}

export async function storeChart(tx: Tx, tenantId: string, accounts: readonly LedgerAccount[]): Promise<void> {
  await sql`INSERT INTO qbd_chart (tenant_id, accounts, read_at) VALUES (${tenantId}, ${JSON.stringify(accounts)}::jsonb, now())
    ON CONFLICT (tenant_id) DO UPDATE SET accounts = EXCLUDED.accounts, read_at = EXCLUDED.read_at`.execute(tx);
}

/** Queue a read for the next run unless one is queued already (done or refused reads are asked again). */
export async function queueRead(tx: Tx, tenantId: string, key: string, kind: 'chart-read' | 'ledger-read'): Promise<void> {
  await sql`INSERT INTO qbd_work (tenant_id, key, kind, intent) VALUES (${tenantId}, ${key}, ${kind}, '{}'::jsonb)
    ON CONFLICT (tenant_id, key) DO UPDATE SET state = 'queued', status_code = NULL, updated_at = now()
    WHERE qbd_work.state IN ('done', 'refused')`.execute(tx);
}

/**
 * The stored chart, queuing a read when there is none or it is old. Without one, the reason: QuickBooks refused
 * the AccountQuery (its words), or the Web Connector has not polled since (when it is expected). The queueing
 * commits with the caller's transaction, so the caller throws only after it (connector.ts).
 */
export async function loadChart(tx: Tx, tenantId: string): Promise<LedgerChart | { readonly refused: string | null }> {
  const rows = await sql<{ accounts: LedgerAccount[]; classes: QbdClass[]; read_at: Date }>`SELECT accounts, classes, read_at FROM qbd_chart`.execute(tx);
  const stored = rows.rows[0];
  if (!stored || Date.now() - stored.read_at.getTime() > REFRESH_AFTER_MS) await queueRead(tx, tenantId, CHART_KEY, 'chart-read');
  if (stored) return { accounts: stored.accounts, dimensions: [classDimension(stored.classes)] };
  const item = await tx.selectFrom('qbd_work').select(['state', 'last_error']).where('key', '=', CHART_KEY).executeTakeFirst();
  return { refused: item?.state === 'refused' ? (item.last_error ?? 'no reason given') : null };
}

export async function chartOrWhyNot(
  db: Db,
  tenantId: string,
  runEveryMinutes: number,
  loaded: LedgerChart | { readonly refused: string | null },
): Promise<LedgerChart> {
  if ('accounts' in loaded) return loaded;
  if (loaded.refused !== null) throw new Error(`QuickBooks refused to list its chart of accounts: ${loaded.refused}`);
  throw new WaitingForWebConnector(
    `QuickBooks Desktop's chart of accounts has not been read yet: Settle asked for it and is waiting for the Web Connector's next poll (${await nextPoll(db, tenantId, runEveryMinutes)})`,
  );
}

/** When the Web Connector should next run, by its last run and the .qwc schedule — in words for a person. */
export async function nextPoll(db: Db, tenantId: string, runEveryMinutes: number): Promise<string> {
  const last = await db.selectFrom('qbd_sessions').select('created_at').where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').executeTakeFirst();
  if (!last) return 'it has never called Settle: open the .qwc file from Connections → Books in the QuickBooks Web Connector';
  const due = new Date(Math.max(Date.now(), last.created_at.getTime() + runEveryMinutes * 60_000));
  return `at about ${due.toISOString().slice(0, 16).replace('T', ' ')} UTC, every ${runEveryMinutes} min`;
}
