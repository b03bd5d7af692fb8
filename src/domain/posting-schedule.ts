// When a posting to the PSA or the books is tried again, and when a person must be told. Pure: the
// flush, the PSA posting job and their tests all ask this one function.
//
// Three outcomes of an attempt that did not post:
//   - waiting: the vendor is fine but something outside Settle is missing — the invoice is not in the books
//     yet because the PSA's accounting export has not run (ConnectWise exports in manual batches, often days
//     later). Never a failure: the posting backs off from a minute up to once a day and waits for weeks; a
//     look-up for the invoice brings it forward the moment it appears. A person is told at once (the
//     exception says which invoice to export), since the fix is theirs.
//   - transient: 429, 5xx, timeouts. Backs off 2 s, 4 s, … up to hourly and never gives up; after about an
//     hour of failures (12 attempts) a person is told, and the exception closes when it posts.
//   - final: the vendor refused the request as it is (validation, authorisation, a duplicate invoice
//     number). Trying again unchanged cannot help: the posting is marked failed and a person is told at
//     once, with the fix; after fixing they retry it (POST /api/v1/postings/:id/retry).

export type PostingOutcome = 'waiting' | 'transient' | 'final';

export interface PostingSchedule {
  /** Keep the posting pending (true) or mark it failed (false). */
  readonly retry: boolean;
  /** Until the next attempt. */
  readonly delayMs: number;
  /** Open (or keep open) an exception for a person now. */
  readonly tellPerson: boolean;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Transient failures: the first ~68 minutes of 2 s … 2048 s back-off go by before anyone is told. */
export const TRANSIENT_TELL_AFTER_ATTEMPTS = 12;
export const TRANSIENT_MAX_DELAY_MS = HOUR;
/** Waiting for the invoice: 1, 2, 4 … minutes, at most once a day. */
export const WAITING_FIRST_DELAY_MS = MINUTE;
export const WAITING_MAX_DELAY_MS = DAY;

/** `attempts` counts the attempts made so far, including the one that just failed (≥ 1). */
export function postingSchedule(outcome: PostingOutcome, attempts: number): PostingSchedule {
  const n = Math.max(1, Math.floor(attempts));
  switch (outcome) {
    case 'waiting':
      // 2^(n-1) minutes; exponents past 11 (1,024 min ≈ 17 h) are already over the daily cap.
      return { retry: true, delayMs: Math.min(WAITING_MAX_DELAY_MS, WAITING_FIRST_DELAY_MS * 2 ** Math.min(n - 1, 11)), tellPerson: true };
    case 'transient':
      return {
        retry: true,
        delayMs: Math.min(TRANSIENT_MAX_DELAY_MS, SECOND * 2 ** Math.min(n, 12)),
        tellPerson: n >= TRANSIENT_TELL_AFTER_ATTEMPTS,
      };
    case 'final':
      return { retry: false, delayMs: 0, tellPerson: true };
    default: {
      const _: never = outcome;
      return _;
    }
  }
}
