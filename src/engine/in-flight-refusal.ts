// The answer when a charge would collect money already in flight on an invoice (issue #6 item 12): a 409
// that names the payment in flight — id, state, amount — so a client that retried after a lost answer
// follows that payment instead of being charged twice. How much is in flight is checkout-guard.ts
// `inFlightMinor`; this only finds the payment to name.
import type { Tx } from '../db/tenant.ts';
import { sql } from 'kysely';
import { UseCaseError } from './context.ts';

interface Flying {
  id: string;
  state: string;
  source: string;
  amount_minor: string;
}

/** The newest unallocated payment that planned money for this invoice and may still take it. */
async function paymentInFlightOn(tx: Tx, invoiceId: string, except: readonly string[]): Promise<Flying | undefined> {
  const r = await sql<Flying>`
    SELECT p.id, p.state, p.source, a->>'amountMinor' AS amount_minor
      FROM payments p, jsonb_array_elements(p.planned_allocations) a
     WHERE a->>'invoiceId' = ${invoiceId} AND p.state IN ('pending', 'processing', 'unknown')
       AND NOT (p.id = ANY(${[...except]}::uuid[]))
       AND NOT EXISTS (SELECT 1 FROM allocations al WHERE al.payment_id = p.id)
     ORDER BY p.created_at DESC
     LIMIT 1`.execute(tx);
  return r.rows[0];
}

const WHAT: Record<string, string> = {
  processing: 'is processing at the processor (a bank debit can take up to 4 business days)',
  unknown: "is waiting for the processor's answer, which Settle is asking for",
  pending: 'is being sent to the processor or is open in the client portal',
};

export async function inFlightRefusal(tx: Tx, inv: { id: string; number: string }, open: bigint, except: readonly string[] = []): Promise<UseCaseError> {
  const p = await paymentInFlightOn(tx, inv.id, except);
  const besides = open > 0n ? ` At most ${open} minor units can be charged besides it.` : '';
  if (!p) return new UseCaseError('conflict', `invoice ${inv.number} already has a payment in progress;${besides} it can be paid again if that payment fails`);
  return new UseCaseError(
    'conflict',
    `invoice ${inv.number} already has payment ${p.id} in progress for ${p.amount_minor} minor units: it ${WHAT[p.state] ?? p.state}.${besides} ` +
      `Follow GET /api/v1/payments/${p.id}; the invoice can be charged again if that payment fails.`,
    { payment: { id: p.id, state: p.state, source: p.source, amount_minor: p.amount_minor } },
  );
}
