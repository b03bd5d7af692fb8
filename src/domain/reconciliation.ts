// Three-way reconciliation (issue #11), the pure part: given what each system shows for one invoice (the PSA,
// Settle, the books) or one payout (the processor, the books, the bank), list every drift with its likely
// cause and, where Settle can make one, a fix. No I/O; engine/three-way-reconciliation.ts reads the facts.
//
// The invoice rule. Payments come from two places: Settle (its own postings) and elsewhere (a cheque the
// MSP records in both systems, a credit memo). What was paid *outside Settle* must be the same in the PSA and
// the books; what Settle wrote must still be in each. So, with only what each copy has already seen:
//   psaOutside   = (PSA total − PSA balance)     − Settle's PSA payments the PSA copy reflects (net of reversals)
//   booksOutside = (books total − books balance) − what Settle's own records in the books copy apply to it
// and psaOutside must equal booksOutside. Postings not yet reflected (pending, or posted after the copy was
// read) are in flight and count on neither side, so timing never shows as drift. A negative psaOutside means
// the PSA shows less paid than Settle wrote there: a PSA payment of Settle's was deleted.
import type { Currency } from './money.ts';

export type DriftKind =
  | 'invoice_amount_differs'
  | 'psa_payment_deleted'
  | 'psa_posting_failed'
  | 'books_payment_removed'
  | 'books_payment_changed'
  | 'books_payment_by_hand'
  | 'psa_payment_not_in_books'
  | 'books_balance_unexplained'
  | 'payout_items_differ'
  | 'deposit_removed'
  | 'deposit_edited'
  | 'bank_line_differs'
  | 'bank_line_missing'
  | 'bank_debit_not_in_books';

/**
 * repost: post again a record Settle posted that a person removed (or the system refused).
 * restore_deposit: put a deposit edited by hand back to what Settle posted — the payout's amount and lines —
 * in place (same record, see engine/reconciliation-deposit-restore.ts for why not void-and-repost).
 */
export interface Fix {
  readonly action: 'repost' | 'restore_deposit';
  readonly postingId: string;
}

export interface Drift {
  readonly kind: DriftKind;
  /** What the books / PSA / bank are off by, in minor units (positive: that side shows more paid or deposited). */
  readonly difference: bigint;
  readonly cause: string;
  readonly advice: string;
  readonly fix: Fix | null;
}

/** A posting of Settle's on the invoice, to the PSA or the books. */
export interface PostingFact {
  readonly id: string;
  readonly kind: 'payment' | 'reversal';
  readonly amount: bigint;
  readonly status: 'pending' | 'posted' | 'failed';
  /** Whether the system's copy was read after this was posted (so it must show in it). */
  readonly reflected: boolean;
  readonly remoteId: string | null;
  readonly lastError: string | null;
}

/** One of Settle's payment records as the books copy has it; `applied` is what it applies to this invoice. */
export interface BooksRecordFact {
  readonly remoteId: string;
  readonly state: 'present' | 'voided' | 'deleted' | 'missing';
  readonly applied: bigint;
}

export interface InvoiceFacts {
  readonly number: string;
  readonly currency: Currency;
  readonly psaTotal: bigint;
  readonly psaBalance: bigint;
  /** What Settle collected on the invoice, net of refunds and returns (allocations). */
  readonly settleNet: bigint;
  readonly psaPostings: readonly PostingFact[];
  /** Absent: the invoice is not in the books (not exported yet) — no books comparison. */
  readonly books: {
    readonly total: bigint;
    readonly balance: bigint;
    readonly postings: readonly PostingFact[];
    /** By remote id: Settle's payment records in the copy. */
    readonly settleRecords: ReadonlyMap<string, BooksRecordFact>;
    /** Payments in the copy applied to this invoice that Settle did not post. */
    readonly byHand: readonly { readonly remoteId: string; readonly applied: bigint }[];
    /**
     * PSA credit memos applied to this invoice that Settle is still applying in the books (pending, or applied
     * after the copy was read): the PSA shows them, the books copy not yet — in flight, not drift. Absent: 0.
     */
    readonly creditsInFlight?: bigint;
  } | null;
}

const sum = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);
const net = (ps: readonly PostingFact[]): bigint => sum(ps.map((p) => (p.kind === 'payment' ? p.amount : -p.amount)));

const settleAppliedOf = (b: NonNullable<InvoiceFacts['books']>): bigint =>
  sum([...b.settleRecords.values()].map((r) => (r.state === 'present' ? r.applied : 0n)));

/**
 * What the PSA shows paid outside Settle. Postings in flight (pending, or posted after the PSA copy was last
 * read) may or may not be in the PSA balance already — our own write-back's callback can be read before we
 * recorded it as posted — so every combination of the posted ones is a possible reading: the one that agrees with the
 * books (or, without books, that is not negative) is taken; none agreeing, the likeliest (all posted ones in).
 */
const MAX_IN_FLIGHT = 10;

function likeliestPsaOutside(base: bigint, inFlight: readonly PostingFact[], booksOutside: bigint | null): bigint {
  const likeliest = base - net(inFlight.filter((p) => p.status === 'posted'));
  const fits = (v: bigint): boolean => v >= 0n && (booksOutside === null || v === booksOutside);
  if (fits(likeliest) || inFlight.length === 0) return likeliest;
  // Pending postings are not written yet (they would otherwise hide a deletion of the same amount); of the
  // posted ones at most 2^10 readings are tried.
  const open = inFlight.filter((p) => p.status === 'posted').slice(0, MAX_IN_FLIGHT);
  const settled = base - net(inFlight.filter((p) => p.status === 'posted' && !open.includes(p)));
  for (let mask = 0; mask < 1 << open.length; mask++) {
    const v = settled - net(open.filter((_, i) => (mask & (1 << i)) !== 0));
    if (fits(v)) return v;
  }
  return likeliest;
}

export function reconcileInvoice(f: InvoiceFacts, fmt: (minor: bigint) => string = String): Drift[] {
  const drifts: Drift[] = [];
  const inv = `invoice #${f.number}`;
  // Settle's own write-backs the PSA refused for good: money Settle holds that the PSA does not show.
  for (const p of f.psaPostings.filter((x) => x.status === 'failed')) {
    drifts.push({
      kind: 'psa_posting_failed',
      difference: p.kind === 'payment' ? -p.amount : p.amount,
      cause: `Settle's ${p.kind === 'payment' ? 'payment' : 'reversal'} of ${fmt(p.amount)} on ${inv} never reached the PSA (${p.lastError ?? 'refused'})`,
      advice: 'Post it to the PSA again once the cause is fixed.',
      fix: { action: 'repost', postingId: p.id },
    });
  }
  const psaReflected = f.psaPostings.filter((p) => p.status === 'posted' && p.reflected);
  const inFlight = f.psaPostings.filter((p) => p.status === 'pending' || (p.status === 'posted' && !p.reflected));
  const booksOutside = f.books ? f.books.total - f.books.balance - settleAppliedOf(f.books) + (f.books.creditsInFlight ?? 0n) : null;
  let psaOutside = likeliestPsaOutside(f.psaTotal - f.psaBalance - net(psaReflected), inFlight, booksOutside);
  if (psaOutside < 0n) {
    // The PSA shows less paid than Settle wrote: the likeliest is one of Settle's payments deleted there.
    const missing = -psaOutside;
    const candidate =
      psaReflected.find((p) => p.kind === 'payment' && p.amount === missing) ?? psaReflected.find((p) => p.kind === 'payment' && p.amount >= missing);
    drifts.push({
      kind: 'psa_payment_deleted',
      difference: psaOutside,
      cause: `the PSA shows ${fmt(missing)} less paid on ${inv} than Settle wrote there: a payment Settle posted was deleted in the PSA`,
      advice: candidate ? 'Settle can post the payment to the PSA again.' : 'Find the payment removed in the PSA and record it again there.',
      fix: candidate ? { action: 'repost', postingId: candidate.id } : null,
    });
    psaOutside = 0n;
  }
  const b = f.books;
  if (!b) return drifts;
  if (b.total !== f.psaTotal) {
    drifts.push({
      kind: 'invoice_amount_differs',
      difference: b.total - f.psaTotal,
      cause: `${inv} is ${fmt(f.psaTotal)} in the PSA but ${fmt(b.total)} in the books: it was edited in one after the export`,
      advice: 'Correct the invoice where it is wrong (the PSA is the source of truth) and export it again.',
      fix: null,
    });
  }
  // Each record Settle posted that the books copy should hold by now.
  for (const p of b.postings) {
    if (p.kind !== 'payment') continue;
    const rec = p.remoteId ? b.settleRecords.get(p.remoteId) : undefined;
    const state = rec?.state ?? 'missing';
    const reversed = net(b.postings.filter((r) => r.kind === 'reversal' && r.status === 'posted' && r.reflected && r.remoteId !== null)) * -1n;
    const inFlightReversal = b.postings.some((r) => r.kind === 'reversal' && !(r.status === 'posted' && r.reflected));
    if (p.status === 'failed' || (p.status === 'posted' && p.reflected && state !== 'present')) {
      // Posted before the copy was read but not in it: deleted there (a full read lists only what exists).
      const how =
        state === 'voided' || state === 'deleted' || (state === 'missing' && p.status === 'posted')
          ? `was ${state === 'voided' ? 'voided' : 'deleted'} in the books`
          : `is not in the books (${p.lastError ?? 'refused'})`;
      drifts.push({
        kind: 'books_payment_removed',
        difference: -p.amount,
        cause: `Settle's payment of ${fmt(p.amount)} on ${inv}${p.remoteId ? ` (books id ${p.remoteId})` : ''} ${how}`,
        advice: 'If that was a mistake, Settle can post the payment again; if the money was recorded another way, record that in Settle.',
        fix: { action: 'repost', postingId: p.id },
      });
    } else if (
      p.status === 'posted' &&
      p.reflected &&
      rec &&
      rec.applied !== p.amount - reversed &&
      !inFlightReversal &&
      b.postings.filter((x) => x.kind === 'payment').length === 1
    ) {
      drifts.push({
        kind: 'books_payment_changed',
        difference: rec.applied - (p.amount - reversed),
        cause: `Settle's payment on ${inv} (books id ${rec.remoteId}) applies ${fmt(rec.applied)} in the books, not ${fmt(p.amount - reversed)}: it was edited by hand`,
        advice: 'Restore the payment in the books to the amount Settle posted.',
        fix: null,
      });
    }
  }
  const residual = booksOutside! - psaOutside;
  if (residual > 0n) {
    const hand = sum(b.byHand.map((h) => h.applied));
    if (hand > 0n) {
      const ids = b.byHand.map((h) => h.remoteId).join(', ');
      drifts.push({
        kind: 'books_payment_by_hand',
        difference: residual,
        cause: `a payment of ${fmt(hand)} was entered by hand in the books on ${inv} (books id ${ids}) and is not in the PSA`,
        advice: 'If it duplicates a payment Settle posted, void it in the books. If the client really paid this way, record the payment in the PSA too.',
        fix: null,
      });
    } else {
      drifts.push({
        kind: 'books_balance_unexplained',
        difference: residual,
        cause: `the books show ${fmt(residual)} more paid on ${inv} than the PSA, with no payment to explain it (a credit or journal entry in the books?)`,
        advice: 'Look at what was applied to the invoice in the books.',
        fix: null,
      });
    }
  } else if (residual < 0n) {
    drifts.push({
      kind: 'psa_payment_not_in_books',
      difference: residual,
      cause: `the PSA shows ${fmt(-residual)} paid on ${inv} outside Settle that the books do not have`,
      advice: 'Record that payment in the books as well (or remove it from the PSA if it was a mistake).',
      fix: null,
    });
  }
  return drifts;
}

export interface PayoutFacts {
  readonly reference: string;
  readonly currency: Currency;
  readonly amount: bigint;
  /** Σ the processor's payout lines (net), when it sent them. */
  readonly itemsNet: bigint | null;
  readonly deposit: PostingFact | null;
  /** The deposit in the books copy, by the posting's remote id. */
  readonly booksDeposit: { readonly total: bigint; readonly state: 'present' | 'voided' | 'deleted' | 'missing' } | null;
  /** What reached the bank: the processor's payout data (paid / failed) or the bank statement line; null not yet known. */
  readonly bank: { readonly source: 'processor' | 'statement'; readonly amount: bigint | null; readonly overdue: boolean };
  /**
   * Whether Settle can restore a deposit edited by hand in this ledger (the connector's restoreDeposit);
   * otherwise the drift carries what a person does instead. Absent: false.
   */
  readonly canRestoreDeposit?: boolean;
}

/** What a person does with a deposit edited by hand when Settle cannot restore it in that ledger. */
const MANUAL_DEPOSIT_RESTORE =
  'Restore the deposit in the books to the payout: the same payments and the fee line as Settle posted them (the deposit must equal the bank line). ' +
  'Or delete it there and run the report again: it then shows the deposit removed, and Settle can post it again.';

export function reconcilePayout(f: PayoutFacts, fmt: (minor: bigint) => string = String): Drift[] {
  const drifts: Drift[] = [];
  const what = `payout ${f.reference}`;
  if (f.itemsNet !== null && f.itemsNet !== f.amount)
    drifts.push({
      kind: 'payout_items_differ',
      difference: f.itemsNet - f.amount,
      cause: `the processor's lines of ${what} add up to ${fmt(f.itemsNet)}, the payout is ${fmt(f.amount)}`,
      advice: "Ask the processor; Settle's deposit follows the payout amount.",
      fix: null,
    });
  const d = f.deposit;
  if (d && (d.status === 'failed' || (d.status === 'posted' && d.reflected))) {
    const state = f.booksDeposit?.state ?? 'missing';
    if (d.status === 'failed' || state !== 'present') {
      drifts.push({
        kind: 'deposit_removed',
        difference: -f.amount,
        cause:
          d.status === 'failed'
            ? `the deposit for ${what} is not in the books (${d.lastError ?? 'refused'})`
            : `the deposit for ${what}${d.remoteId ? ` (books id ${d.remoteId})` : ''} was ${state === 'missing' ? 'deleted' : state} in the books`,
        advice: 'Settle can post the deposit again, equal to the bank line.',
        fix: { action: 'repost', postingId: d.id },
      });
    } else if (f.booksDeposit && f.booksDeposit.total !== f.amount) {
      drifts.push({
        kind: 'deposit_edited',
        difference: f.booksDeposit.total - f.amount,
        cause: `the deposit for ${what} (books id ${d.remoteId}) totals ${fmt(f.booksDeposit.total)} but the payout is ${fmt(f.amount)}: it was edited by hand in the books`,
        advice: f.canRestoreDeposit
          ? `Settle can put the deposit back to ${fmt(f.amount)}, with the payments and fee line it posted (the deposit keeps its id and its bank-feed match).`
          : `${MANUAL_DEPOSIT_RESTORE} (${fmt(f.amount)})`,
        fix: f.canRestoreDeposit ? { action: 'restore_deposit', postingId: d.id } : null,
      });
    }
  }
  if (f.bank.amount !== null && f.bank.amount !== f.amount)
    drifts.push({
      kind: 'bank_line_differs',
      difference: f.bank.amount - f.amount,
      cause:
        f.bank.source === 'processor'
          ? `the processor reports ${what} ${f.bank.amount === 0n ? 'failed: the money never reached the bank' : `reached the bank as ${fmt(f.bank.amount)}`}, while the books show ${fmt(f.amount)}`
          : `the bank statement shows ${fmt(f.bank.amount)} for ${what}, not ${fmt(f.amount)}`,
      advice: 'Check the bank account; the books deposit must equal what the bank received.',
      fix: null,
    });
  else if (f.bank.amount === null && f.bank.overdue)
    drifts.push({
      kind: 'bank_line_missing',
      difference: -f.amount,
      cause: `no bank statement line has been found for ${what} a week after it was due`,
      advice: "Check the bank account and the bank's statement files.",
      fix: null,
    });
  return drifts;
}

/**
 * A bank ACH return (engine/ach-bank-money.ts): the bank takes a returned debit back as a debit line of its own.
 * Three ways: what Settle took back (the return, and the books reversal of the returned payment), the books'
 * bank debit (a 'bank_withdrawal' posting; the books copy holds no withdrawals, so its posting outcome), and
 * the statement's debit line.
 */
export interface AchReturnFacts {
  readonly reference: string;
  readonly currency: Currency;
  /** What the bank took back (positive). */
  readonly amount: bigint;
  /** The books reversals of the returned payment, one per invoice it paid (none: it never reached the books). */
  readonly reversals: readonly PostingFact[];
  /** The books' bank debit of the return. */
  readonly withdrawal: PostingFact | null;
  /** The statement's debit line: null not seen yet; overdue a week after the return. */
  readonly bank: { readonly amount: bigint | null; readonly overdue: boolean };
}

export function reconcileAchReturn(f: AchReturnFacts, fmt: (minor: bigint) => string = String): Drift[] {
  const drifts: Drift[] = [];
  const what = `bank ACH return ${f.reference}`;
  const booked: [PostingFact | null, string][] = [
    [f.withdrawal, "the bank's debit"],
    ...f.reversals.map((r): [PostingFact, string] => [r, 'the reversal of the returned payment']),
  ];
  for (const [p, noun] of booked) {
    if (p?.status !== 'failed') continue;
    drifts.push({
      kind: 'bank_debit_not_in_books',
      difference: p.amount,
      cause: `${noun} of ${fmt(p.amount)} for ${what} is not in the books (${p.lastError ?? 'refused'}): the books show the money still in the bank`,
      advice: 'Settle can post it again once the cause is fixed.',
      fix: { action: 'repost', postingId: p.id },
    });
  }
  if (f.bank.amount !== null && f.bank.amount !== f.amount)
    drifts.push({
      kind: 'bank_line_differs',
      difference: f.amount - f.bank.amount,
      cause: `the bank statement shows a debit of ${fmt(f.bank.amount)} for ${what}, but the return took back ${fmt(f.amount)}`,
      advice: 'Ask the bank about the difference (a return fee, or a different entry); the books follow the return.',
      fix: null,
    });
  else if (f.bank.amount === null && f.bank.overdue)
    drifts.push({
      kind: 'bank_line_missing',
      difference: f.amount,
      cause: `no bank statement debit has been found for ${what} a week after it`,
      advice: "Check the bank account and the bank's statement files.",
      fix: null,
    });
  return drifts;
}
