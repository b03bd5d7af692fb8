// Reads for autopay by contract: each invoice's current lines grouped by contract, with the same contract's
// lines on the client's latest earlier invoice that had that contract (domain/autopay-contracts.ts judges
// them). One statement for many invoices, so the charge day's screen of thousands of schedules stays one
// round trip more, not thousands.
import { sql } from 'kysely';
import type { Tx } from '../db/tenant.ts';
import { contractJumps, contractsOfKinds, hasContracts, uncoveredKinds, type ContractTotal } from '../domain/autopay-contracts.ts';

interface Row {
  invoice_id: string;
  ref: string | null;
  name: string | null;
  kind: string | null;
  total: bigint;
  previous: bigint | null;
  previous_number: string | null;
}

export async function contractTotalsFor(tx: Tx, invoiceIds: readonly string[]): Promise<Map<string, ContractTotal[]>> {
  const out = new Map<string, ContractTotal[]>();
  if (invoiceIds.length === 0) return out;
  // "Earlier" and "counts" as for the whole-invoice check (autopay-store.ts previousTotalOf): by invoice date,
  // then number; void, credit and credit memos never count.
  const rows = await sql<Row>`
    WITH cur AS (
      SELECT i.id AS invoice_id, i.client_id, i.issued_on, i.number, l.contract_ref AS ref,
             max(l.contract_name) AS name, max(l.contract_kind) AS kind, sum(l.amount_minor)::bigint AS total
        FROM invoices i
        JOIN invoice_lines l ON l.invoice_id = i.id AND l.version = i.current_version
       WHERE i.id = ANY(${[...invoiceIds]}::uuid[])
       GROUP BY i.id, i.client_id, i.issued_on, i.number, l.contract_ref)
    SELECT cur.invoice_id, cur.ref, cur.name, cur.kind, cur.total, prev.number AS previous_number,
           (SELECT sum(pl.amount_minor)::bigint FROM invoice_lines pl
             WHERE pl.invoice_id = prev.id AND pl.version = prev.current_version
               AND pl.contract_ref IS NOT DISTINCT FROM cur.ref) AS previous
      FROM cur
      LEFT JOIN LATERAL (
        SELECT p.id, p.current_version, p.number FROM invoices p
         WHERE p.client_id = cur.client_id AND p.id <> cur.invoice_id
           AND p.status NOT IN ('void', 'credit') AND p.type <> 'credit_memo'
           AND (p.issued_on < cur.issued_on OR (p.issued_on = cur.issued_on AND p.number < cur.number))
           AND EXISTS (SELECT 1 FROM invoice_lines x WHERE x.invoice_id = p.id AND x.version = p.current_version
                          AND x.contract_ref IS NOT DISTINCT FROM cur.ref)
         ORDER BY p.issued_on DESC, p.number DESC LIMIT 1) prev ON true
     ORDER BY cur.invoice_id, cur.ref NULLS LAST`.execute(tx);
  for (const r of rows.rows) {
    const list = out.get(r.invoice_id) ?? [];
    list.push({
      ref: r.ref,
      name: r.name,
      kind: r.kind,
      totalMinor: BigInt(r.total),
      previousMinor: r.previous === null ? null : BigInt(r.previous),
      previousNumber: r.previous_number,
    });
    out.set(r.invoice_id, list);
  }
  return out;
}

export async function contractTotalsOf(tx: Tx, invoiceId: string): Promise<ContractTotal[]> {
  return (await contractTotalsFor(tx, [invoiceId])).get(invoiceId) ?? [];
}

/**
 * What the approval row keeps for staff (autopay_approvals.detail): which contracts jumped and by how much, and
 * which kinds (and contracts) the rule does not cover. Amounts as text, like the rest of the detail.
 */
export function contractDetail(contracts: readonly ContractTotal[], jumpPercent: number | null, covered: readonly string[] | null) {
  const jumps = jumpPercent !== null && hasContracts(contracts) ? contractJumps(contracts, jumpPercent) : [];
  const uncovered = uncoveredKinds(contracts, covered);
  return {
    ...(jumps.length > 0
      ? {
          contract_jumps: jumps.map((j) => ({
            ref: j.ref,
            name: j.name,
            previous_minor: j.previousMinor.toString(),
            total_minor: j.totalMinor.toString(),
            increase_minor: j.increaseMinor.toString(),
            percent: j.percent,
            previous_number: j.previousNumber,
          })),
        }
      : {}),
    ...(uncovered.length > 0 ? { uncovered_kinds: uncovered, uncovered_contracts: contractsOfKinds(contracts, uncovered) } : {}),
  };
}
