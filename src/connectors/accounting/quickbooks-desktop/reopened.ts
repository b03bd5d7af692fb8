// Paying again an invoice whose payment was reversed. Settle reverses a refund / ACH return / lost dispute in
// QuickBooks Desktop with a JournalEntryAdd: Dr Accounts Receivable for the customer (work-steps.ts). The
// invoice stays paid in QuickBooks — the customer owes on the journal entry instead, which QuickBooks lists
// among the customer's open transactions. So when the client pays the invoice again, a ReceivePayment applied
// to the invoice is refused (3180: more than its open balance) and the payment would never post. As a person
// does in Receive Payments, Settle applies it to the open reversal entries of that invoice first (oldest first),
// and to the invoice for the rest (AppliedToTxnAdd takes a JournalEntry's TxnID as well as an invoice's).
//
// The entries and what is open on them are Settle's own: the reversal items done (their TxnID) less what other
// payment items applied to them, so the split needs no extra query. It is decided once, when the payment's add
// is first handed over, and kept in the item's context: a re-send after an error (checked first) sends the same
// split, and two payments handed over in one document never both take the same open amount. A payment whose
// invoice has a reversal still on its way waits for it (the entry's TxnID is not known yet). A payment that
// reached the books after its own reversal (applied < amount: PostPaymentInput.appliedAmount) already leaves
// the reversed part unapplied, so it applies to the invoice only, as before.
import { sql } from 'kysely';
import type { Tx } from '../../../db/tenant.ts';
import type { Application, PaymentIntent, WorkContext } from './work-intent.ts';

interface Reversal {
  readonly remote_id: string | null;
  readonly state: string;
  readonly amount_minor: string;
}

/** The split of a payment's applied amount (kept in context.applyTo), or 'wait' while a reversal of its invoice is unsent. */
export async function applicationsFor(
  tx: Tx,
  item: { readonly id: string; readonly intent: Record<string, unknown>; readonly context: WorkContext },
): Promise<readonly Application[] | 'wait'> {
  if (item.context.applyTo) return item.context.applyTo;
  const p = item.intent as unknown as PaymentIntent;
  const invoice = item.context.invoice!;
  const applied = BigInt(p.appliedMinor);
  if (applied <= 0n) return [];
  const onInvoice = (minor: bigint): Application[] => (minor > 0n ? [{ txnId: invoice.txnId, amountMinor: minor.toString(), to: 'invoice' }] : []);
  if (applied < BigInt(p.amountMinor)) return onInvoice(applied);
  const reversals = (
    await sql<Reversal>`SELECT remote_id, state, intent->>'amountMinor' AS amount_minor FROM qbd_work
      WHERE kind = 'reversal' AND intent->>'invoiceNumber' = ${p.invoiceNumber} AND state <> 'refused' ORDER BY id`.execute(tx)
  ).rows;
  if (reversals.some((r) => r.state !== 'done')) return 'wait';
  if (reversals.length === 0) return onInvoice(applied);
  const used = await usedOn(
    tx,
    item.id,
    reversals.map((r) => r.remote_id!),
  );
  const out: Application[] = [];
  let left = applied;
  for (const r of reversals) {
    const open = BigInt(r.amount_minor) - (used.get(r.remote_id!) ?? 0n);
    const take = open < left ? open : left;
    if (take <= 0n) continue;
    out.push({ txnId: r.remote_id!, amountMinor: take.toString(), to: 'journal' });
    left -= take;
  }
  return [...out, ...onInvoice(left)];
}

/** What other payment items (not refused) have applied to each of these entries. */
async function usedOn(tx: Tx, itemId: string, txnIds: readonly string[]): Promise<Map<string, bigint>> {
  const rows = (
    await sql<{ txn_id: string; minor: string }>`SELECT a->>'txnId' AS txn_id, sum((a->>'amountMinor')::bigint)::text AS minor
      FROM qbd_work, jsonb_array_elements(context->'applyTo') a
     WHERE kind = 'payment' AND state <> 'refused' AND id <> ${itemId} AND a->>'txnId' = ANY(${[...txnIds]}::text[])
     GROUP BY 1`.execute(tx)
  ).rows;
  return new Map(rows.map((r) => [r.txn_id, BigInt(r.minor)]));
}
