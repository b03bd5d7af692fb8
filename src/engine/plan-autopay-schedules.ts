// First step of an autopay run: give every open invoice of a client in autopay (pilot mode: the client's
// collection and autopay switches) that a rule matches its schedule row, with the rule's charge date. An
// invoice no rule matches gets none now; it is looked at again on every run, so a rule added later applies.
import { sql } from 'kysely';
import type { Tx } from '../db/tenant.ts';
import { matchRule, type AutopayRule } from '../domain/autopay.ts';
import type { AutopaySettings } from './autopay-store.ts';

interface Candidate {
  id: string;
  client_id: string;
  type: string;
  currency: string;
  issued_on: string;
  due_on: string | null;
  line_kinds: string[];
  locked_rule_id: string | null;
}

const CHUNK = 500;

export async function planAutopaySchedules(tx: Tx, tenantId: string, rules: readonly AutopayRule[], settings: AutopaySettings): Promise<number> {
  if (rules.length === 0) return 0;
  const candidates = await sql<Candidate>`
    SELECT i.id, i.client_id, i.type, i.currency, i.issued_on, i.due_on, s.locked_rule_id,
           coalesce((SELECT array_agg(DISTINCT l.kind) FROM invoice_lines l
                      WHERE l.invoice_id = i.id AND l.version = i.current_version), '{}') AS line_kinds
      FROM invoices i
      JOIN clients c ON c.id = i.client_id
      LEFT JOIN autopay_client_settings s ON s.client_id = i.client_id
     WHERE i.status IN ('open', 'partially_paid')
       AND c.collection_enabled AND c.autopay_enabled
       AND NOT EXISTS (SELECT 1 FROM autopay_schedules x WHERE x.invoice_id = i.id)`.execute(tx);
  const rows = [];
  for (const c of candidates.rows) {
    const m = matchRule(rules, c.client_id, c.locked_rule_id, {
      type: c.type,
      currency: c.currency,
      lineKinds: c.line_kinds,
      issuedOn: c.issued_on,
      dueOn: c.due_on,
    });
    if (!m) continue;
    rows.push({
      tenant_id: tenantId,
      invoice_id: c.id,
      client_id: c.client_id,
      rule_id: m.rule.id,
      state: 'pending_notice' as const,
      charge_on: m.chargeOn,
      notice_days: m.rule.noticeDays ?? settings.noticeDays,
    });
  }
  // In invoice id order: each insert's foreign-key check locks its invoice (FOR KEY SHARE), and invoices are
  // locked in id order everywhere (invoice-locks.ts), so this waits behind a payment instead of deadlocking.
  rows.sort((a, b) => (a.invoice_id < b.invoice_id ? -1 : a.invoice_id > b.invoice_id ? 1 : 0));
  let created = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    // A concurrent run may have planned the same invoice: the unique (tenant, invoice) keeps one row.
    const r = await tx
      .insertInto('autopay_schedules')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) => oc.columns(['tenant_id', 'invoice_id']).doNothing())
      .executeTakeFirst();
    created += Number(r.numInsertedOrUpdatedRows ?? 0n);
  }
  return created;
}
