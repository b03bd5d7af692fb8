// Writes a balanced journal from domain/ledger.ts into ledger_entries. The database checks the balance
// again at commit (deferred constraint trigger), so a bug here cannot leave half a journal.
import crypto from 'node:crypto';
import { assertBalanced, type Journal } from '../domain/ledger.ts';
import type { Tx } from '../db/tenant.ts';

export async function writeJournal(
  tx: Tx,
  tenantId: string,
  kind: string,
  entries: Journal,
  links: { paymentId?: string; payoutId?: string; invoiceId?: string } = {},
): Promise<string> {
  assertBalanced(entries);
  const journalId = crypto.randomUUID();
  const rows = entries
    .filter((e) => e.amount.amountMinor !== 0n)
    .map((e) => ({
      tenant_id: tenantId,
      journal_id: journalId,
      journal_kind: kind,
      account: e.account,
      direction: e.direction,
      amount_minor: e.amount.amountMinor,
      currency: e.amount.currency,
      memo: e.memo,
      payment_id: links.paymentId ?? null,
      payout_id: links.payoutId ?? null,
      invoice_id: links.invoiceId ?? null,
    }));
  if (rows.length > 0) await tx.insertInto('ledger_entries').values(rows).execute();
  return journalId;
}
