// Queries the failed-payment use cases share: the attempts made on one card (for the per-card limits and
// the schedule), the chain a payment belongs to, and the invoices a payment was meant for.
import { sql } from 'kysely';
import { money, parseCurrency } from '../domain/money.ts';
import type { AttemptOutcome, CardAttempt } from '../domain/rules/index.ts';
import type { Tx } from '../db/tenant.ts';
import type { Payment } from '../db/schema.ts';
import { openBalanceMinor } from '../db/queries/invoice-balance.ts';

/**
 * A card is identified by client, kind, brand and last four digits rather than by the processor's token:
 * the networks count tries per card number, and the same card saved twice has two tokens (§3.2). Two
 * different cards of one client sharing brand and last four would be counted together — stricter, never
 * looser.
 */
export interface CardIdentity {
  readonly clientId: string;
  readonly kind: string;
  readonly brand: string | null;
  readonly last4: string;
}

export const cardOf = (p: Pick<Payment, 'client_id' | 'method_kind' | 'method_brand' | 'method_last4'>): CardIdentity | null =>
  p.method_kind && p.method_last4 ? { clientId: p.client_id, kind: p.method_kind, brand: p.method_brand, last4: p.method_last4 } : null;

export const OUTCOME: Record<string, AttemptOutcome> = {
  succeeded: 'succeeded',
  declined: 'declined',
  not_sent: 'not_sent',
  processing: 'processing',
  requires_action: 'requires_action',
  unknown: 'unknown',
  // still being sent: it may have reached the processor, so it counts as a try whose outcome is not known
  sending: 'unknown',
};

/** Attempts on this card in the last 60 days (the longest window any limit uses is 30), each named by its chain. */
export async function cardHistory(tx: Tx, card: CardIdentity, now: Date): Promise<CardAttempt[]> {
  const r = await sql<{ at: Date; outcome: string; decline_code: string | null; amount_minor: string; currency: string; chain: string }>`
    SELECT a.created_at AS at, a.outcome, a.decline_code, p.amount_minor::text AS amount_minor, p.currency,
           coalesce(f.root_payment_id, p.id)::text AS chain
      FROM payment_attempts a
      JOIN payments p ON p.id = a.payment_id
      LEFT JOIN payment_failures f ON f.retry_payment_id = p.id
     WHERE p.client_id = ${card.clientId} AND p.method_kind = ${card.kind} AND p.method_last4 = ${card.last4}
       AND p.method_brand IS NOT DISTINCT FROM ${card.brand}
       AND a.created_at > ${new Date(now.getTime() - 60 * 86_400_000)}
     ORDER BY a.created_at`.execute(tx);
  return r.rows.map((row) => ({
    at: new Date(row.at),
    paymentRef: row.chain,
    amount: money(BigInt(row.amount_minor), parseCurrency(row.currency)),
    outcome: OUTCOME[row.outcome] ?? 'unknown',
    declineCode: row.decline_code,
  }));
}

/** The first payment of the chain `paymentId` belongs to (itself unless it is a retry). */
export async function chainRootOf(tx: Tx, paymentId: string): Promise<string> {
  const f = await tx.selectFrom('payment_failures').select('root_payment_id').where('retry_payment_id', '=', paymentId).executeTakeFirst();
  return f?.root_payment_id ?? paymentId;
}

export function plannedInvoices(p: Pick<Payment, 'planned_allocations'>): { invoiceId: string; amountMinor: bigint }[] {
  return p.planned_allocations.map((a) => ({ invoiceId: a.invoiceId, amountMinor: BigInt(a.amountMinor) }));
}

/** What a retry may collect now: each planned part, capped at what the invoice still owes. */
export async function stillOwed(tx: Tx, planned: readonly { invoiceId: string; amountMinor: bigint }[]): Promise<{ invoiceId: string; amountMinor: bigint }[]> {
  const out: { invoiceId: string; amountMinor: bigint }[] = [];
  for (const part of planned) {
    const inv = await tx.selectFrom('invoices').select(['status']).where('id', '=', part.invoiceId).executeTakeFirst();
    if (!inv || inv.status === 'void' || inv.status === 'credit') continue;
    const owed = await openBalanceMinor(tx, part.invoiceId);
    const amount = owed < part.amountMinor ? owed : part.amountMinor;
    if (amount > 0n) out.push({ invoiceId: part.invoiceId, amountMinor: amount });
  }
  return out;
}

/**
 * Another payment on any of these invoices that may still take money (pending, processing, unknown): a
 * retry must not run beside it, or the client could pay twice.
 */
export async function otherPaymentInProgress(tx: Tx, invoiceIds: readonly string[], except: readonly string[]): Promise<string | null> {
  if (invoiceIds.length === 0) return null;
  const r = await sql<{ id: string }>`
    SELECT p.id FROM payments p, jsonb_array_elements(p.planned_allocations) a
     WHERE p.state IN ('pending', 'processing', 'unknown')
       -- a portal checkout the client left an hour ago is abandoned, not in progress
       AND NOT (p.source = 'portal' AND p.state = 'pending' AND p.created_at < now() - interval '1 hour')
       AND a->>'invoiceId' = ANY (${[...invoiceIds]}::text[])
       AND NOT (p.id = ANY (${[...except]}::uuid[]))
     LIMIT 1`.execute(tx);
  return r.rows[0]?.id ?? null;
}

export function methodLabel(kind: string | null, brand: string | null, last4: string | null): string {
  if (kind === 'us_bank_account') return `bank account ending ${last4 ?? '????'}`;
  const b = brand ? brand.charAt(0).toUpperCase() + brand.slice(1) : 'card';
  return `${b} ending ${last4 ?? '????'}`;
}

/**
 * A payment on any of these invoices started after `p` (autopay's fallback method, staff trying another
 * card, the client paying in the portal): the newer one carries the collection on — and, if it fails, its
 * own failure is handled — so the older failure needs no retry and no email.
 */
export async function laterPaymentOn(tx: Tx, invoiceIds: readonly string[], p: Pick<Payment, 'id' | 'created_at'>): Promise<string | null> {
  if (invoiceIds.length === 0) return null;
  const r = await sql<{ id: string }>`
    SELECT p.id FROM payments p, jsonb_array_elements(p.planned_allocations) a
     WHERE p.created_at > ${p.created_at} AND p.id <> ${p.id}
       -- a portal checkout only counts once money is on its way: an abandoned or declined one is handled by nobody
       AND (p.source <> 'portal' OR p.state IN ('processing', 'succeeded'))
       AND a->>'invoiceId' = ANY (${[...invoiceIds]}::text[])
     LIMIT 1`.execute(tx);
  return r.rows[0]?.id ?? null;
}
