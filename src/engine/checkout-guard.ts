// Money in flight on an invoice, and the one open portal checkout it may have (issue #6 item 2).
//
// A portal payment the client confirms in the processor's hosted fields (client-side confirmation) can be
// confirmed for as long as its intent is not canceled, even after a decline. If two such intents existed
// for one invoice (two tabs, two links, a double click), both could be confirmed and the client charged
// twice. So every path that plans a payment does it under the invoices' row locks (planPayment) and:
//   - counts what other payments may still take from the invoice (pending, processing, unknown, not yet
//     allocated) as already covered, so it is never offered or charged again;
//   - refuses to plan while an open checkout (portal_checkouts, at most one per invoice by a partial unique
//     index) covers the invoice: the caller reuses it (the portal, same selection) or has it canceled at the
//     processor first (close-portal-checkouts.ts) and plans again.
import { sql } from 'kysely';
import type { Tx } from '../db/tenant.ts';
import { UseCaseError } from './context.ts';

/** Planning found an open checkout on an invoice: cancel it (close-portal-checkouts.ts) or reuse it, then plan again. */
export class OpenCheckoutError extends UseCaseError {
  constructor(
    readonly paymentIds: readonly string[],
    invoiceNumber: string,
  ) {
    super('conflict', `invoice ${invoiceNumber} has a payment open in the client portal; it must be closed before another payment is started`);
  }
}

export interface OpenCheckout {
  readonly paymentId: string;
  readonly invoiceId: string;
  readonly amountMinor: bigint;
  readonly methodKinds: readonly string[];
  readonly openedAt: Date;
}

/**
 * Checkouts whose payment the processor has taken (processing, succeeded, or later) are no longer open:
 * their money counts through the payment itself (in flight, or allocated). Closed here, lazily, under the
 * caller's invoice locks. A declined one stays open: its intent can still be confirmed with another card.
 */
export async function closeTakenCheckouts(tx: Tx, invoiceIds: readonly string[]): Promise<void> {
  if (invoiceIds.length === 0) return;
  await sql`
    UPDATE portal_checkouts c SET status = 'closed', closed_at = now(), close_reason = 'taken by the processor (' || p.state || ')'
      FROM payments p
     WHERE c.payment_id = p.id AND c.status = 'open' AND c.invoice_id = ANY(${[...invoiceIds]}::uuid[])
       AND p.state NOT IN ('pending', 'failed', 'unknown')`.execute(tx);
}

export async function openCheckoutsOn(tx: Tx, invoiceIds: readonly string[]): Promise<OpenCheckout[]> {
  if (invoiceIds.length === 0) return [];
  const rows = await tx
    .selectFrom('portal_checkouts')
    .select(['payment_id', 'invoice_id', 'amount_minor', 'method_kinds', 'opened_at'])
    .where('invoice_id', 'in', [...invoiceIds])
    .where('status', '=', 'open')
    .execute();
  return rows.map((r) => ({
    paymentId: r.payment_id,
    invoiceId: r.invoice_id,
    amountMinor: BigInt(r.amount_minor),
    methodKinds: r.method_kinds,
    openedAt: new Date(r.opened_at),
  }));
}

/** Refuse to plan while an open checkout covers one of these invoices (the caller closes or reuses it). */
export async function refuseOverOpenCheckouts(tx: Tx, invoices: readonly { id: string; number: string }[]): Promise<void> {
  const ids = invoices.map((i) => i.id);
  // One round trip when there is none (every charge plans through here, autopay runs included).
  if ((await openCheckoutsOn(tx, ids)).length === 0) return;
  await closeTakenCheckouts(tx, ids);
  const open = await openCheckoutsOn(tx, ids);
  if (open.length === 0) return;
  const first = invoices.find((i) => i.id === open[0]!.invoiceId)!;
  throw new OpenCheckoutError([...new Set(open.map((o) => o.paymentId))], first.number);
}

/**
 * What other payments may still put on this invoice: payments not yet allocated that are pending (planned,
 * at the processor or about to be), processing (a bank debit: not money until it settles, but it will be —
 * payments-rules §2.8) or unknown, and any payment with an open checkout (confirmable even after a decline).
 * A portal payment pending for over an hour without an open checkout is an old abandoned one (autopay's rule,
 * autopay-store.ts), not money in flight.
 */
export async function inFlightMinor(tx: Tx, invoiceId: string, exceptPaymentIds: readonly string[] = []): Promise<bigint> {
  // Two branches so that each can use its index (payments by state; checkouts by invoice): this runs for
  // every invoice of every charge planned, autopay runs included.
  const except = [...exceptPaymentIds];
  const r = await sql<{ n: string | null }>`
    SELECT sum(n)::text AS n FROM (
      SELECT (a->>'amountMinor')::bigint AS n
        FROM payments p, jsonb_array_elements(p.planned_allocations) a
       WHERE p.state IN ('pending', 'processing', 'unknown') AND a->>'invoiceId' = ${invoiceId}
         AND NOT (p.id = ANY(${except}::uuid[]))
         AND NOT EXISTS (SELECT 1 FROM allocations al WHERE al.payment_id = p.id)
         AND (p.state <> 'pending' OR p.source <> 'portal' OR p.created_at > now() - interval '1 hour'
              OR EXISTS (SELECT 1 FROM portal_checkouts c WHERE c.payment_id = p.id AND c.status = 'open'))
      UNION ALL
      SELECT c.amount_minor AS n
        FROM portal_checkouts c JOIN payments p ON p.id = c.payment_id
       WHERE c.invoice_id = ${invoiceId} AND c.status = 'open' AND p.state NOT IN ('pending', 'processing', 'unknown')
         AND NOT (p.id = ANY(${except}::uuid[]))
         AND NOT EXISTS (SELECT 1 FROM allocations al WHERE al.payment_id = p.id)
    ) x`.execute(tx);
  return BigInt(r.rows[0]?.n ?? 0);
}
