// For connectors that answer each write as it lands (AccountingConnector.answersEachWrite, types.ts): a batch
// may carry one idempotency key at several positions; only the first is sent, and every position carrying
// that key gets its answer. QuickBooks Online and Xero report their answers this way.
import type { PostPaymentInput, PostResult } from './types.ts';

/** The results of `firsts` (first positions of their idempotency keys) for every position carrying one of those keys. */
export function byPosition(
  inputs: readonly PostPaymentInput[],
  firsts: readonly number[],
  results: readonly (PostResult | undefined)[],
  firstByKey: ReadonlyMap<string, number>,
): Map<number, PostResult> {
  const done = new Set(firsts.filter((i) => results[i] !== undefined));
  const out = new Map<number, PostResult>();
  inputs.forEach((p, i) => {
    const first = firstByKey.get(p.idempotencyKey)!;
    if (done.has(first)) out.set(i, results[first]!);
  });
  return out;
}
