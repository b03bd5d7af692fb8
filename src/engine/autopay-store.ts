// Reads the autopay run needs, in the tenant's transaction: settings with their defaults, rules as domain
// values, what an invoice still owes for autopay, the client's previous invoice, and the method to charge.
import { sql } from 'kysely';
import type { Tx } from '../db/tenant.ts';
import type { AutopayRule, AutopayMethodKind } from '../domain/autopay.ts';
import { openBalanceMinor, unreflectedAllocationsMinor } from '../db/queries/invoice-balance.ts';

export interface AutopaySettings {
  readonly noticeDays: number;
  readonly jumpPercent: number | null;
  readonly requestsPerSecond: number;
  readonly concurrency: number;
}

/** Also the column defaults of 0003_autopay.sql: a workspace that never saved settings gets these. */
export const AUTOPAY_DEFAULTS: AutopaySettings = { noticeDays: 3, jumpPercent: 50, requestsPerSecond: 95, concurrency: 8 };

export async function loadAutopaySettings(tx: Tx): Promise<AutopaySettings> {
  const row = await tx.selectFrom('autopay_settings').selectAll().executeTakeFirst();
  if (!row) return AUTOPAY_DEFAULTS;
  return { noticeDays: row.notice_days, jumpPercent: row.jump_percent, requestsPerSecond: row.requests_per_second, concurrency: row.concurrency };
}

type RuleRow = Awaited<ReturnType<typeof ruleRows>>[number];
const ruleRows = (tx: Tx) => tx.selectFrom('autopay_rules').selectAll().where('deleted_at', 'is', null).execute();

export function toRule(r: RuleRow): AutopayRule {
  return {
    id: r.id,
    clientId: r.client_id,
    position: r.position,
    enabled: r.enabled,
    invoiceTypes: r.invoice_types,
    lineKinds: r.line_kinds,
    contractKinds: r.contract_kinds,
    currency: r.currency,
    approvalCapMinor: r.approval_cap_minor,
    anchor: r.anchor,
    offsetDays: r.offset_days,
    methodKinds: r.method_kinds as AutopayMethodKind[],
    noticeDays: r.notice_days,
  };
}

export async function loadRules(tx: Tx): Promise<AutopayRule[]> {
  return (await ruleRows(tx)).map(toRule);
}

export async function lockedRuleOf(tx: Tx, clientId: string): Promise<{ lockedRuleId: string | null; fallbackMethodId: string | null }> {
  const s = await tx
    .selectFrom('autopay_client_settings')
    .select(['locked_rule_id', 'fallback_method_id'])
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  return { lockedRuleId: s?.locked_rule_id ?? null, fallbackMethodId: s?.fallback_method_id ?? null };
}

/** Kinds of the lines of the invoice's current version. */
export async function lineKindsOf(tx: Tx, invoiceId: string, version: number): Promise<string[]> {
  const rows = await tx.selectFrom('invoice_lines').select('kind').distinct().where('invoice_id', '=', invoiceId).where('version', '=', version).execute();
  return rows.map((r) => r.kind);
}

/**
 * Another payment on this invoice that may still take money: an unknown outcome, a bank debit in flight, a
 * staff or retry charge being made, or a client in the portal right now (a portal payment stays pending when
 * the client walks away, so only a recent one counts). Autopay waits rather than risk taking the money twice.
 */
export async function paymentInProgress(tx: Tx, invoiceId: string, exceptPaymentId: string | null = null): Promise<boolean> {
  const r = await sql<{ busy: boolean }>`SELECT ${IN_PROGRESS(invoiceId, exceptPaymentId)} AS busy`.execute(tx);
  return r.rows[0]?.busy === true;
}

/** The condition of paymentInProgress as an SQL expression, for use inside a conditional update. */
export const inProgressExpr = (invoiceId: unknown, exceptPaymentId: string | null) => IN_PROGRESS(invoiceId, exceptPaymentId);

const IN_PROGRESS = (invoiceId: unknown, except: unknown) => sql<boolean>`EXISTS (
    SELECT 1 FROM payments p, jsonb_array_elements(p.planned_allocations) a
     WHERE a->>'invoiceId' = ${invoiceId}::text
       AND (p.state IN ('unknown', 'processing')
            OR (p.state = 'pending' AND (p.source <> 'portal' OR p.created_at > now() - interval '1 hour')))
       AND p.id IS DISTINCT FROM ${except}::uuid)`;

/** Everything one step of a schedule reads, in one round trip (a run makes thousands of these). */
export async function loadScheduleFacts(tx: Tx, invoiceId: string, clientId: string) {
  const r = await sql<{
    id: string;
    client_id: string;
    number: string;
    type: string;
    currency: string;
    status: string;
    total_minor: bigint;
    psa_balance_minor: bigint;
    issued_on: string;
    due_on: string | null;
    current_version: number;
    client_name: string;
    billing_email: string | null;
    collection_enabled: boolean;
    autopay_enabled: boolean;
    processor_customer_id: string | null;
    locked_rule_id: string | null;
    fallback_method_id: string | null;
    in_progress: boolean;
  }>`
    SELECT i.id, i.client_id, i.number, i.type, i.currency, i.status, i.total_minor, i.psa_balance_minor, i.issued_on, i.due_on, i.current_version,
           c.name AS client_name, c.billing_email, c.collection_enabled, c.autopay_enabled, c.processor_customer_id,
           s.locked_rule_id, s.fallback_method_id, ${IN_PROGRESS(invoiceId, null)} AS in_progress
      FROM invoices i
      JOIN clients c ON c.id = ${clientId}::uuid
      LEFT JOIN autopay_client_settings s ON s.client_id = c.id
     WHERE i.id = ${invoiceId}::uuid`.execute(tx);
  const f = r.rows[0];
  if (!f) throw new Error(`invoice ${invoiceId} not found`);
  // The same definition as openBalanceMinor, without reading the invoice a second time.
  return { ...f, collectible: f.psa_balance_minor - (await unreflectedAllocationsMinor(tx, invoiceId)) };
}

/** What autopay would collect on the invoice now: the PSA's balance less what Settle has not yet written back. */
export async function collectibleMinor(tx: Tx, invoiceId: string): Promise<bigint> {
  return openBalanceMinor(tx, invoiceId);
}

/**
 * The total of the client's invoice before this one (by invoice date, then number), for the jump check; as an
 * SQL expression over an `invoices` row aliased `alias`, so a run can read it for many schedules at once.
 */
export function previousTotalOf(alias: string) {
  const col = (c: string) => sql.ref(`${alias}.${c}`);
  return sql<bigint | null>`(SELECT p.total_minor FROM invoices p
     WHERE p.client_id = ${col('client_id')} AND p.id <> ${col('id')}
       AND p.status NOT IN ('void', 'credit') AND p.type <> 'credit_memo'
       AND (p.issued_on < ${col('issued_on')} OR (p.issued_on = ${col('issued_on')} AND p.number < ${col('number')}))
     ORDER BY p.issued_on DESC, p.number DESC LIMIT 1)`;
}

export async function previousInvoiceTotal(tx: Tx, inv: { id: string }): Promise<bigint | null> {
  const r = await sql<{ t: bigint | null }>`SELECT ${previousTotalOf('i')} AS t FROM invoices i WHERE i.id = ${inv.id}::uuid`.execute(tx);
  return r.rows[0]?.t ?? null;
}

export interface ChosenMethod {
  readonly id: string;
  readonly label: string;
  readonly isFallback: boolean;
}

export function methodLabel(m: { kind: string; brand: string | null; last4: string }): string {
  if (m.kind === 'us_bank_account') return `bank account ending ${m.last4}`;
  const brand = m.brand ? m.brand.charAt(0).toUpperCase() + m.brand.slice(1) : 'Card';
  return `${brand} ending ${m.last4}`;
}

/**
 * The method to charge: the client's default, if the rule allows its kind; else the client's fallback.
 * `skipDefault` after the default was declined in this cycle.
 */
export async function chooseMethod(
  tx: Tx,
  clientId: string,
  kinds: readonly string[],
  fallbackMethodId: string | null,
  skipDefault = false,
): Promise<ChosenMethod | null> {
  const methods = await tx
    .selectFrom('payment_methods')
    .select(['id', 'kind', 'brand', 'last4', 'is_default'])
    .where('client_id', '=', clientId)
    .where('removed_at', 'is', null) // removed by the client in the portal (engine/portal-methods.ts)
    .execute();
  const def = methods.find((m) => m.is_default && kinds.includes(m.kind));
  if (def && !skipDefault) return { id: def.id, label: methodLabel(def), isFallback: false };
  const fb = methods.find((m) => m.id === fallbackMethodId && kinds.includes(m.kind) && m.id !== def?.id);
  return fb ? { id: fb.id, label: methodLabel(fb), isFallback: true } : null;
}
