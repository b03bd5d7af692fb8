// Idempotency-Key for API requests, Stripe's way (docs.stripe.com/api/idempotent_requests): the same key
// with the same request returns the first answer again; the same key with a different request is refused;
// a request still running under the key is answered "in progress, retry". Refunds keep their key on the
// refund row (refund-payment.ts); requests that create a payment keep it in `api_idempotency_keys`
// (0015), written in the transaction that creates the payment. Both use the key check, the fingerprint
// and the wording here.
import { createHash } from 'node:crypto';
import type { Tx } from '../db/tenant.ts';
import { UseCaseError } from './context.ts';

/** Printable ASCII without spaces, at most 200 characters (Stripe allows 255; we keep room for prefixes). */
const KEY = /^[\x21-\x7e]{1,200}$/;

/** The header's value, checked; undefined when the client sent none. */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || !KEY.test(v)) throw new UseCaseError('invalid', 'Idempotency-Key must be 1–200 printable characters without spaces');
  return v;
}

/** sha256 of a request's canonical JSON (bigints as strings): the same request, the same fingerprint. */
export function fingerprint(request: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(request, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
    .digest('hex');
}

/** Stripe's wording for a key reused with other parameters; `what` names the first request ("refund request"). */
export function keyReused(key: string, what = 'request'): UseCaseError {
  return new UseCaseError(
    'conflict',
    `Keys for idempotent requests can only be used with the same parameters they were first used with: Idempotency-Key '${key}' was already used for a different ${what}. Try using a key other than '${key}' if you meant to execute a different request.`,
    { type: 'idempotency_error', reason: 'idempotency_key_reused' },
  );
}

/** Stripe's answer while the first request under a key is still running. */
export function keyInUse(key: string): UseCaseError {
  return new UseCaseError(
    'conflict',
    `There is currently another in-progress request using the Idempotency-Key '${key}'. Retry this request later (the first one's outcome is being settled; nothing was charged twice).`,
    { type: 'idempotency_error', reason: 'idempotency_key_in_use' },
  );
}

export interface StoredRequest {
  readonly id: string;
  readonly requestHash: string;
  readonly paymentId: string | null;
  readonly status: 'in_progress' | 'done';
  readonly responseStatus: number | null;
  readonly responseBody: unknown;
}

export interface KeyScope {
  readonly tenantId: string;
  /** The caller as the audit log names it (api_key:<id>, user:<id>): keys are scoped to it. */
  readonly caller: string;
  readonly key: string;
  readonly endpoint: string;
}

export async function findRequest(tx: Tx, s: KeyScope): Promise<StoredRequest | null> {
  const row = await tx.selectFrom('api_idempotency_keys').selectAll().where('caller', '=', s.caller).where('idempotency_key', '=', s.key).executeTakeFirst();
  if (!row) return null;
  if (row.endpoint !== s.endpoint) throw keyReused(s.key, `request (${row.endpoint})`);
  return {
    id: row.id,
    requestHash: row.request_hash,
    paymentId: row.payment_id,
    status: row.status,
    responseStatus: row.response_status,
    responseBody: row.response_body,
  };
}

/**
 * Claim the key for a request, in the transaction that creates its payment. False when another request
 * holds it (a concurrent one under the same key waits here for the first to commit, then finds it taken).
 */
export async function claimKey(tx: Tx, s: KeyScope, requestHash: string, paymentId: string): Promise<boolean> {
  const r = await tx
    .insertInto('api_idempotency_keys')
    .values({ tenant_id: s.tenantId, caller: s.caller, idempotency_key: s.key, endpoint: s.endpoint, request_hash: requestHash, payment_id: paymentId })
    .onConflict((oc) => oc.columns(['tenant_id', 'caller', 'idempotency_key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return r !== undefined;
}

/** Store the answer given, so that a retry gets it again. */
export async function completeKey(tx: Tx, s: KeyScope, responseStatus: number, responseBody: unknown): Promise<void> {
  await tx
    .updateTable('api_idempotency_keys')
    .set({ status: 'done', response_status: responseStatus, response_body: JSON.stringify(responseBody), completed_at: new Date() })
    .where('caller', '=', s.caller)
    .where('idempotency_key', '=', s.key)
    .where('status', '=', 'in_progress')
    .execute();
}
