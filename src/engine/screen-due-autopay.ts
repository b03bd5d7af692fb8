// The charge day's fast path. Most schedules due today are exactly as their notice left them: same invoice
// version, same amount owed, nothing paid or posted on the invoice since, client still in autopay, rule still
// on, method still the one named, no approval needed (or one that covers the amount). One query reads those
// facts for every due schedule, the domain's approvalReasons judges them, and each one that passes goes
// straight to its charge — whose claim re-checks, in the charge's own transaction, everything that could
// have moved since (state, attempt, invoice version, other payments). Anything else takes the full step
// (advance-autopay-schedule.ts): cancel, ask staff, or notice again.
import { sql } from 'kysely';
import type { Tx } from '../db/tenant.ts';
import { approvalCovers, approvalReasons } from '../domain/autopay.ts';
import type { ReadyCharge, RunEnv } from './advance-autopay-schedule.ts';
import { inProgressExpr, previousTotalOf } from './autopay-store.ts';
import { contractTotalsFor } from './autopay-contract-store.ts';

interface DueRow {
  id: string;
  invoice_id: string;
  rule_id: string;
  attempt: number;
  method_id: string | null;
  noticed_version: number;
  noticed_amount_minor: bigint;
  status: string;
  current_version: number;
  psa_balance_minor: bigint;
  total_minor: bigint;
  collection_enabled: boolean;
  autopay_enabled: boolean;
  processor_customer_id: string | null;
  method_ok: boolean;
  has_history: boolean;
  in_progress: boolean;
  approved_max: bigint | null;
  previous_total: bigint | null;
}

export async function screenDueSchedules(tx: Tx, env: RunEnv): Promise<ReadyCharge[]> {
  const jump = env.settings.jumpPercent !== null;
  const rows = await sql<DueRow>`
    SELECT s.id, s.invoice_id, s.rule_id, s.attempt, s.method_id, s.noticed_version, s.noticed_amount_minor,
           i.status, i.current_version, i.psa_balance_minor, i.total_minor,
           c.collection_enabled, c.autopay_enabled, c.processor_customer_id,
           (m.id IS NOT NULL AND (m.is_default OR s.attempt > 0)) AS method_ok,
           -- with no allocation and no PSA posting on the invoice, what is owed is exactly the PSA's balance
           (EXISTS (SELECT 1 FROM allocations a WHERE a.invoice_id = i.id)
              OR EXISTS (SELECT 1 FROM postings p WHERE p.invoice_id = i.id AND p.target = 'psa')) AS has_history,
           ${inProgressExpr(sql.ref('i.id'), null)} AS in_progress,
           (SELECT max(a.amount_minor) FROM autopay_approvals a WHERE a.schedule_id = s.id AND a.status = 'approved') AS approved_max,
           ${jump ? previousTotalOf('i') : sql<null>`NULL::bigint`} AS previous_total
      FROM autopay_schedules s
      JOIN invoices i ON i.id = s.invoice_id
      JOIN clients c ON c.id = s.client_id
      LEFT JOIN payment_methods m ON m.id = s.method_id
     WHERE s.state = 'noticed' AND s.not_before <= ${env.today}::date
     ORDER BY s.not_before, s.id`.execute(tx);
  const rules = new Map(env.rules.map((r) => [r.id, r]));
  const ready: ReadyCharge[] = [];
  // Each due invoice's lines by contract, in one statement (the jump is judged per contract; rules may cover
  // only some contract kinds) — only where either applies.
  const needsContracts = (r: DueRow): boolean => {
    const rule = rules.get(r.rule_id);
    return rule?.enabled === true && (jump || (rule.contractKinds ?? null) !== null);
  };
  const contracts = await contractTotalsFor(
    tx,
    rows.rows.filter(needsContracts).map((r) => r.invoice_id),
  );
  for (const r of rows.rows) {
    const rule = rules.get(r.rule_id);
    const unchanged =
      rule?.enabled === true &&
      (r.status === 'open' || r.status === 'partially_paid') &&
      r.current_version === r.noticed_version &&
      !r.has_history &&
      r.psa_balance_minor === r.noticed_amount_minor &&
      r.collection_enabled &&
      r.autopay_enabled &&
      r.method_ok &&
      r.method_id !== null &&
      !r.in_progress;
    if (!unchanged) continue;
    const reasons = approvalReasons({
      amountMinor: r.noticed_amount_minor,
      capMinor: rule.approvalCapMinor,
      totalMinor: r.total_minor,
      previousTotalMinor: r.previous_total,
      jumpPercent: env.settings.jumpPercent,
      contracts: contracts.get(r.invoice_id) ?? [],
      coveredKinds: rule.contractKinds ?? null,
    });
    if (reasons.length > 0 && !(r.approved_max !== null && approvalCovers(r.approved_max, r.noticed_amount_minor))) continue;
    ready.push({
      scheduleId: r.id,
      invoiceId: r.invoice_id,
      version: r.noticed_version,
      amountMinor: r.noticed_amount_minor,
      attempt: r.attempt,
      methodId: r.method_id!,
      customerId: r.processor_customer_id,
    });
  }
  return ready;
}
