// What the three-way reconciliation compares for bank ACH (NACHA) money, where the bank line is the bank's own
// BAI2 statement (engine/ach-bank-statement.ts keeps its lines and matches them when the amount agrees):
//   settlement → books deposit → the statement's credit line;  return → its books debit and the reversal of the
//   returned payment → the statement's debit line.
// A statement line the matcher left unmatched because its amount differs is still the bank's line for that
// settlement or return: found here by what the matcher keys on (the file name in the customer reference, and
// for a settlement its effective date), so the report says "the bank line differs" rather than "missing".
import { sql } from 'kysely';
import type { Tx } from '../tenant.ts';
import { parseCurrency } from '../../domain/money.ts';
import type { AchReturnFacts } from '../../domain/reconciliation.ts';
import { postingFact, type PostingRow } from './reconciliation-facts.ts';

export interface AchReturnRow extends AchReturnFacts {
  readonly payoutId: string;
}

interface UnmatchedLine {
  customer_reference: string;
  as_of_date: string;
  direction: 'credit' | 'debit';
  amount_minor: bigint;
}

async function unmatchedLines(tx: Tx): Promise<UnmatchedLine[]> {
  return (
    await sql<UnmatchedLine>`
      SELECT customer_reference, as_of_date::text AS as_of_date, direction, amount_minor FROM bank_statement_lines
       WHERE payout_id IS NULL AND customer_reference IS NOT NULL ORDER BY as_of_date, line`.execute(tx)
  ).rows;
}

/** Settlement reference "<file>:<effective date>" → the unmatched credit line of that file and date, by amount. */
export async function unmatchedSettlementLines(tx: Tx): Promise<Map<string, bigint>> {
  const m = new Map<string, bigint>();
  for (const l of await unmatchedLines(tx)) if (l.direction === 'credit') m.set(`${l.customer_reference}:${l.as_of_date}`, l.amount_minor);
  return m;
}

/** Every bank ACH return's facts (negative 'bank-ach' payouts "return:<file>:<trace>"). */
export async function achReturnFacts(tx: Tx, booksVendor: string | null, booksAsOf: Date | null, now: Date): Promise<AchReturnRow[]> {
  const returns = (
    await sql<{
      id: string;
      reference: string;
      currency: string;
      amount_minor: bigint;
      arrival_date: string;
      payment_id: string | null;
      line_minor: bigint | null;
    }>`
      SELECT p.id, p.processor_payout_id AS reference, p.currency, -p.amount_minor AS amount_minor, p.arrival_date::text AS arrival_date,
             (SELECT it.payment_id FROM payout_items it WHERE it.payout_id = p.id AND it.type = 'ach_return' LIMIT 1) AS payment_id,
             (SELECT l.amount_minor FROM bank_statement_lines l WHERE l.payout_id = p.id) AS line_minor
        FROM payouts p
       WHERE p.processor = 'bank-ach' AND p.amount_minor < 0 AND p.processor_payout_id LIKE 'return:%'
       ORDER BY p.arrival_date, p.created_at`.execute(tx)
  ).rows;
  if (returns.length === 0) return [];
  const postings = (
    await sql<PostingRow>`
      SELECT id, target, kind, invoice_id, payout_id, payment_id, amount_minor, status, remote_id, posted_at, last_error FROM postings
       WHERE target = 'accounting' AND vendor = ${booksVendor ?? ''}
         AND (kind = 'bank_withdrawal' OR (kind = 'payment_reversal' AND payment_id IN
              (SELECT it.payment_id FROM payout_items it WHERE it.type = 'ach_return' AND it.payment_id IS NOT NULL)))`.execute(tx)
  ).rows;
  const reflected = (p: PostingRow) => p.posted_at !== null && booksAsOf !== null && p.posted_at.getTime() <= booksAsOf.getTime();
  // The statement's debit lines of a file not matched to anything, oldest first, paired with that file's
  // returns that have no line, oldest first — as the matcher would have paired them had the amounts agreed.
  const spare = new Map<string, bigint[]>();
  for (const l of await unmatchedLines(tx))
    if (l.direction === 'debit') spare.set(l.customer_reference, [...(spare.get(l.customer_reference) ?? []), l.amount_minor]);
  const weekAgo = new Date(now.getTime() - 7 * 86_400_000).toISOString().slice(0, 10);
  return returns.map((r) => {
    const file = r.reference.slice('return:'.length, r.reference.lastIndexOf(':'));
    const line = r.line_minor ?? spare.get(file)?.shift() ?? null;
    const withdrawal = postings.find((p) => p.kind === 'bank_withdrawal' && p.payout_id === r.id);
    return {
      payoutId: r.id,
      reference: r.reference,
      currency: parseCurrency(r.currency),
      amount: r.amount_minor,
      reversals: booksVendor
        ? postings
            .filter((p) => p.kind === 'payment_reversal' && r.payment_id !== null && p.payment_id === r.payment_id)
            .map((p) => postingFact(p, reflected(p)))
        : [],
      withdrawal: withdrawal && booksVendor ? postingFact(withdrawal, reflected(withdrawal)) : null,
      bank: { amount: line, overdue: line === null && r.arrival_date < weekAgo },
    };
  });
}
