// Staff "charge the saved method" (POST /api/v1/payments) under an Idempotency-Key (issue #6 item 12).
// A client that lost our answer and retries with the same key gets the first answer again — never a second
// payment. The key is claimed in the transaction that creates the payment (onPlanned), so it and the
// payment exist together or not at all; a request refused before that (bad input, nothing to pay) leaves
// no key behind and can simply be retried, as with Stripe.
import { withTenant } from '../db/tenant.ts';
import type { InvoiceChoice } from './plan-payment.ts';
import { chargeSavedMethod } from './charge-saved-method.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import type { Actor } from './audit.ts';
import { claimKey, completeKey, findRequest, keyInUse, keyReused, type KeyScope } from './idempotent-request.ts';

export interface ChargeAnswer {
  readonly status: number;
  readonly body: { payment_id: string; outcome: string };
  /** True when this is the stored answer to an earlier request with the same key. */
  readonly replayed: boolean;
}

const ENDPOINT = 'POST /api/v1/payments';

/** The key was claimed by a concurrent request with the same key between our look-up and our claim. */
class KeyTaken extends Error {}

export async function chargeWithKey(
  ctx: EngineContext,
  tenantId: string,
  input: { choices: readonly InvoiceChoice[]; paymentMethodId: string; actor: Actor },
  key: { key: string; requestHash: string } | null,
): Promise<ChargeAnswer> {
  const scope: KeyScope | null = key ? { tenantId, caller: input.actor, key: key.key, endpoint: ENDPOINT } : null;
  if (scope && key) {
    const earlier = await answerOf(ctx, scope, key.requestHash);
    if (earlier) return earlier;
  }
  let r: { paymentId: string; outcome: string };
  try {
    r = await chargeSavedMethod(
      ctx,
      tenantId,
      { choices: input.choices, paymentMethodId: input.paymentMethodId, actor: input.actor, source: 'manual' },
      scope && key
        ? {
            onPlanned: async (tx, plan) => {
              if (!(await claimKey(tx, scope, key.requestHash, plan.paymentId))) throw new KeyTaken();
            },
          }
        : {},
    );
  } catch (e) {
    // A concurrent request with the same key got there first (its payment is in flight on these invoices,
    // or it holds the key): answer as that request's retry would be answered.
    if (scope && key && (e instanceof KeyTaken || (e instanceof UseCaseError && e.code === 'conflict'))) {
      const earlier = await answerOf(ctx, scope, key.requestHash);
      if (earlier) return earlier;
    }
    if (e instanceof KeyTaken) throw keyInUse(key!.key);
    throw e;
  }
  const body = { payment_id: r.paymentId, outcome: r.outcome };
  if (scope) await withTenant(ctx.db, tenantId, (tx) => completeKey(tx, scope, 201, body));
  return { status: 201, body, replayed: false };
}

/**
 * The answer already given under this key, or null when the key is new. Refused when the key came with
 * another request; "in progress" while the first request's charge has not been answered by the processor.
 * A request whose process died before storing its answer is answered from its payment once that is known.
 */
async function answerOf(ctx: EngineContext, scope: KeyScope, requestHash: string): Promise<ChargeAnswer | null> {
  return withTenant(ctx.db, scope.tenantId, async (tx) => {
    const row = await findRequest(tx, scope);
    if (!row) return null;
    if (row.requestHash !== requestHash) throw keyReused(scope.key);
    if (row.status === 'done') return { status: row.responseStatus ?? 201, body: row.responseBody as ChargeAnswer['body'], replayed: true };
    const attempt = row.paymentId
      ? await tx.selectFrom('payment_attempts').select('outcome').where('payment_id', '=', row.paymentId).orderBy('attempt_no', 'desc').executeTakeFirst()
      : undefined;
    if (!row.paymentId || !attempt || attempt.outcome === 'sending') throw keyInUse(scope.key);
    const body = { payment_id: row.paymentId, outcome: attempt.outcome };
    await completeKey(tx, scope, 201, body);
    return { status: 201, body, replayed: true };
  });
}
