// The GL mapping's rules by PSA field, for every ledger (migration 0041_gl_tracking_rules): which option of a
// ledger's tracking dimension — QuickBooks Class or Location, a Xero tracking category, a QuickBooks Desktop
// Class — Settle puts on what it posts for an invoice, by the contract kind of the invoice's lines (the one
// PSA field Settle keeps per invoice; 0035). The dimensions and their options come from the ledger's own
// live lists (AccountingConnector.readChart), so any ledger whose connector reads its chart takes part. The
// accounts by role are books-accounts.ts; the workspace-wide class / location are books-tracking.ts, and a
// rule here beats them for the invoices it covers.
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { LedgerChart, LedgerDimension, PostingTracking } from '../connectors/accounting/types.ts';
import { COVERABLE_KINDS, CONTRACT_KIND_LABELS, type CoveredKind } from '../domain/contracts.ts';
import type { TenantConnectors } from './context.ts';
import { UseCaseError } from './context.ts';
import { audit, type Actor } from './audit.ts';

export interface TrackingRule {
  readonly psaValue: CoveredKind;
  readonly dimension: string;
  readonly optionId: string;
  readonly optionName: string;
}

/** Form field name of one rule: `rule.<contract kind>.<dimension>`. */
export const ruleField = (kind: string, dimension: string): string => `rule.${kind}.${dimension}`;

export async function readTrackingRules(tx: Tx): Promise<TrackingRule[]> {
  const rows = await tx
    .selectFrom('gl_tracking_rules')
    .select(['psa_value', 'dimension', 'option_id', 'option_name'])
    .where('psa_field', '=', 'contract_kind')
    .orderBy('psa_value')
    .orderBy('dimension')
    .execute();
  return rows.map((r) => ({ psaValue: r.psa_value as CoveredKind, dimension: r.dimension, optionId: r.option_id, optionName: r.option_name }));
}

/** The ledger's live chart, or null when its connector cannot read one (or no books are connected). */
export async function ledgerChart(connectors: TenantConnectors, tenantId: string): Promise<LedgerChart | null> {
  const books = await connectors.accounting(tenantId);
  return books?.readChart ? books.readChart() : null;
}

/** The dimensions a rule may name: those the ledger has turned on. */
export const mappableDimensions = (chart: LedgerChart | null): readonly LedgerDimension[] => (chart?.dimensions ?? []).filter((d) => d.on);

/**
 * Per invoice, the tracking its postings carry by the rules: the contract kind of the invoice is the kind
 * with the largest share of its current lines ('none' for lines under no contract; ties by name, so the
 * answer is stable). Invoices no rule covers are absent. One statement for a whole batch of postings.
 */
export async function trackingForInvoices(tx: Tx, invoiceIds: readonly string[]): Promise<ReadonlyMap<string, PostingTracking>> {
  const ids = [...new Set(invoiceIds)];
  if (ids.length === 0) return new Map();
  const rows = await sql<{ invoice_id: string; dimension: string; option_id: string }>`
    WITH kinds AS (
      SELECT l.invoice_id, coalesce(l.contract_kind, 'none') AS kind, sum(abs(l.amount_minor)) AS amount
        FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id AND l.version = i.current_version
       WHERE l.invoice_id = ANY(${ids}::uuid[])
       GROUP BY 1, 2),
    top AS (SELECT DISTINCT ON (invoice_id) invoice_id, kind FROM kinds ORDER BY invoice_id, amount DESC, kind)
    SELECT t.invoice_id, r.dimension, r.option_id
      FROM top t JOIN gl_tracking_rules r ON r.psa_field = 'contract_kind' AND r.psa_value = t.kind`.execute(tx);
  const out = new Map<string, Record<string, string>>();
  for (const r of rows.rows) out.set(r.invoice_id, { ...(out.get(r.invoice_id) ?? {}), [r.dimension]: r.option_id });
  return out;
}

/** What is wrong with the rules against the ledger's live lists, one sentence each with its fix. */
export function checkTrackingRules(rules: readonly TrackingRule[], chart: LedgerChart): string[] {
  const problems: string[] = [];
  for (const r of rules) {
    const kind = CONTRACT_KIND_LABELS[r.psaValue] ?? r.psaValue;
    const dim = chart.dimensions.find((d) => d.key === r.dimension);
    const fix = `choose another or “Workspace default” for “${kind}” in Settings → Accounts`;
    if (!dim) problems.push(`the rule for “${kind}” names a ${r.dimension}, which the books do not have: ${fix}`);
    else if (!dim.on)
      problems.push(`${dim.label} tracking is turned off in the books, but the rule for “${kind}” maps “${r.optionName}”: turn it on again, or ${fix}`);
    else if (!dim.options.some((o) => o.id === r.optionId))
      problems.push(
        `the ${dim.label.toLowerCase()} “${r.optionName}” (id ${r.optionId}) that the rule for “${kind}” maps is no longer active in the books: ${fix}`,
      );
  }
  return problems;
}

/**
 * Save the rules from the staff app (owner or finance): `chosen` maps ruleField(kind, dimension) → option id
 * ('' = none, the workspace-wide choice applies). Every pair the ledger offers is read; each option is
 * checked against the live list, nothing is changed when one does not fit (UseCaseError 'invalid' with
 * per-field errors), and the change is audited before → after.
 */
export async function saveTrackingRules(
  deps: { readonly db: Db; readonly connectors: TenantConnectors },
  tenantId: string,
  chosen: Readonly<Record<string, string>>,
  actor: Actor,
): Promise<{ changed: string[] }> {
  const chart = await ledgerChart(deps.connectors, tenantId);
  if (!chart) throw new UseCaseError('not_configured', 'Connect the books first: the classes and locations come from their lists.');
  const dims = mappableDimensions(chart);
  const wanted: TrackingRule[] = [];
  const errors: Record<string, string> = {};
  for (const kind of COVERABLE_KINDS)
    for (const d of dims) {
      const id = chosen[ruleField(kind, d.key)] ?? '';
      if (id === '') continue;
      const option = d.options.find((o) => o.id === id);
      if (!option)
        errors[ruleField(kind, d.key)] =
          `${CONTRACT_KIND_LABELS[kind]}: ${id} is not an active ${d.label.toLowerCase()} in the books; choose one from the list`;
      else wanted.push({ psaValue: kind, dimension: d.key, optionId: option.id, optionName: option.name });
    }
  if (Object.keys(errors).length > 0) throw new UseCaseError('invalid', Object.values(errors).join('; '), { fields: errors });
  return withTenant(deps.db, tenantId, async (tx) => {
    // Rules on a dimension the ledger no longer offers stay until a person clears them (doctor names them).
    const before = await readTrackingRules(tx);
    const key = (r: Pick<TrackingRule, 'psaValue' | 'dimension'>): string => ruleField(r.psaValue, r.dimension);
    const offered = new Set(COVERABLE_KINDS.flatMap((k) => dims.map((d) => ruleField(k, d.key))));
    const was = new Map(before.filter((r) => offered.has(key(r))).map((r) => [key(r), r]));
    const now = new Map(wanted.map((r) => [key(r), r]));
    const changed = [...offered].filter((k) => (was.get(k)?.optionId ?? null) !== (now.get(k)?.optionId ?? null));
    if (changed.length === 0) return { changed };
    for (const k of changed) {
      const [, kind, dimension] = k.split('.') as [string, string, string];
      const next = now.get(k);
      if (next)
        await tx
          .insertInto('gl_tracking_rules')
          .values({
            tenant_id: tenantId,
            psa_field: 'contract_kind',
            psa_value: kind,
            dimension,
            option_id: next.optionId,
            option_name: next.optionName,
            updated_at: new Date(),
            updated_by: actor,
          })
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'psa_field', 'psa_value', 'dimension']).doUpdateSet({
              option_id: next.optionId,
              option_name: next.optionName,
              updated_at: new Date(),
              updated_by: actor,
            }),
          )
          .execute();
      else
        await tx
          .deleteFrom('gl_tracking_rules')
          .where('psa_field', '=', 'contract_kind')
          .where('psa_value', '=', kind)
          .where('dimension', '=', dimension)
          .execute();
    }
    const name = (r: TrackingRule | undefined): string | null => r?.optionName ?? null;
    await audit(
      tx,
      tenantId,
      actor,
      'connection.tracking_rules_changed',
      { type: 'connection', id: 'accounting' },
      Object.fromEntries(
        changed.map((k) => [
          k,
          { from: was.get(k)?.optionId ?? null, to: now.get(k)?.optionId ?? null, from_name: name(was.get(k)), to_name: name(now.get(k)) },
        ]),
      ),
    );
    return { changed };
  });
}
