// The look-ups and writes behind QuickBooksOnlineConnector.postPayments: look-ups packed into as few
// requests as Intuit allows, and the choice between separate POST /payment calls and one /batch.
//
// That choice follows the arrival of payments (issue #11): a payment that succeeds while the books queue is
// idle is posted alone at once, and only payments that arrive faster than QuickBooks takes them meet in one
// flush (engine/wake-books-flush.ts). A handful of those go as separate calls side by side — the /batch
// allowance (40 a minute) is scarcer than plain calls (500 a minute, 10 a second), so spending one batch on
// two payments would exhaust it within a busy minute and then hold every posting back up to a minute;
// a backlog still goes 30 to a batch, the fewest calls the API allows.
import { VendorError } from '../../http.ts';
import { MoneyError } from '../../../domain/money.ts';
import type { PostPaymentInput, PostResult } from '../types.ts';
import type { QboApi } from './api.ts';
import { QBO_CATALOGUE } from './catalogue.ts';
import { batchRequestIdFor, faultKind, isRetryableKind, paymentRequestKey, queryLiteral, readFault, requestIdFor } from './mapping.ts';

type Json = Record<string, unknown>;

/** Up to this many payments ready at once are sent as separate POST /payment calls, in parallel. */
export const SEPARATE_WRITES_MAX = 4;

export function failure(e: unknown): Extract<PostResult, { ok: false }> {
  if (e instanceof VendorError) return { ok: false, retryable: isRetryableKind(e.kind), error: e.message };
  if (e instanceof MoneyError) return { ok: false, retryable: false, error: e.message };
  return { ok: false, retryable: false, error: e instanceof Error ? e.message : String(e) };
}

/**
 * `SELECT * FROM entity WHERE field IN (…)` for many values: one plain query when it fits, otherwise
 * up to `batchSize` queries per batch request (a batch item may be a Query).
 */
export async function lookupIn(api: QboApi, batchSize: number, entity: string, field: string, values: readonly string[], perQuery: number): Promise<Json[]> {
  const wheres: string[] = [];
  for (let s = 0; s < values.length; s += perQuery)
    wheres.push(
      `${field} IN (${values
        .slice(s, s + perQuery)
        .map(queryLiteral)
        .join(', ')})`,
    );
  if (wheres.length === 1) return api.queryAll(entity, wheres[0]!);
  const max = QBO_CATALOGUE.limits.queryMaxResults;
  const out: Json[] = [];
  for (let s = 0; s < wheres.length; s += batchSize) {
    const items = wheres.slice(s, s + batchSize).map((w, n) => ({ bId: `q${n}`, query: `SELECT * FROM ${entity} WHERE ${w} MAXRESULTS ${max}` }));
    // A read must never be answered from QuickBooks' requestid replay store: the id is unique per call.
    const answers = await api.batch(items, batchRequestIdFor([...items.map((i) => i.query), `read:${Date.now()}:${Math.random()}`]));
    for (const item of items) {
      const a = answers.get(item.bId);
      const fault = readFault(a);
      if (fault || !a) throw new VendorError(QBO_CATALOGUE.vendor, 'server', `look-up in a batch failed: ${fault?.message ?? 'no answer'}`);
      const rows = ((a['QueryResponse'] as Json | undefined)?.[entity] as Json[] | undefined) ?? [];
      out.push(...rows);
    }
  }
  return out;
}

/**
 * Writes the ready Payment bodies (by input position) and puts each outcome in `results`: a few as separate
 * POST /payment calls side by side, more as one POST /batch (≤ 30 items, bIds ≤ 10 chars with a requestid).
 * A separate call carries the payment's own requestid, a batch one for its composition; check-before-write
 * (the marker look-up before every attempt) is what finds an earlier write across the two.
 */
export async function writePayments(
  api: QboApi,
  inputs: readonly PostPaymentInput[],
  bodies: ReadonlyMap<number, Json>,
  results: (PostResult | undefined)[],
): Promise<void> {
  const ready = [...bodies.keys()];
  if (ready.length <= SEPARATE_WRITES_MAX) {
    await Promise.all(
      ready.map(async (i) => {
        try {
          const payment = await api.create('Payment', bodies.get(i)!, requestIdFor(paymentRequestKey(inputs[i]!)));
          results[i] = { ok: true, remoteId: String(payment['Id']) };
        } catch (e) {
          results[i] = failure(e);
        }
      }),
    );
    return;
  }
  const items = ready.map((i, n) => ({ bId: `p${n}`, operation: 'create' as const, entity: 'Payment', body: bodies.get(i)! }));
  const answers = await api.batch(items, batchRequestIdFor(ready.map((i) => paymentRequestKey(inputs[i]!))));
  ready.forEach((i, n) => {
    const a = answers.get(`p${n}`);
    const payment = a?.['Payment'] as Json | undefined;
    if (payment) {
      results[i] = { ok: true, remoteId: String(payment['Id']) };
      return;
    }
    const fault = readFault(a);
    if (!fault) {
      results[i] = { ok: false, retryable: true, error: 'QuickBooks returned no answer for this batch item; outcome unknown' };
      return;
    }
    const kind = faultKind(fault, null);
    results[i] = { ok: false, retryable: isRetryableKind(kind), error: `QuickBooks ${fault.code ?? ''} ${fault.message ?? ''}`.trim() };
  });
}
