// The charge of one noticed schedule, and what a crash mid-charge leaves behind. The charge goes through
// chargeSavedMethod with the key `keys.charge(invoice, version, attempt)`: the payment, its attempt and the
// schedule's move to `charging` commit together before the processor is called, so a second run (or the same
// run after a restart) either finds the schedule already charging or fails on the unique key — never a second
// charge. A charge whose answer a crash lost is sent again with the same key and the same parameters; the
// processor answers with the first charge instead of making another.
import { sql } from 'kysely';
import { withTenant, type Tx } from '../db/tenant.ts';
import { keys } from '../domain/idempotency.ts';
import type { ChargeOutcome } from '../connectors/payments/types.ts';
import { applyChargeOutcome } from './apply-charge-outcome.ts';
import { audit } from './audit.ts';
import { chargeSavedMethod, offSessionRequest } from './charge-saved-method.ts';
import { chooseMethod, inProgressExpr, lockedRuleOf } from './autopay-store.ts';
import type { ReadyCharge } from './advance-autopay-schedule.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { crashPoint } from './crash-points.ts';
import type { TokenBucket } from './token-bucket.ts';

const ACTOR = 'system:autopay' as const;
/**
 * Re-send (same key, same request) a charge a crash left `sending` only while it is young. The janitor
 * (resolve-unknown-payments) may meanwhile find it at the processor or prove it never arrived; once it has
 * an outcome it is no longer `sending` and is not re-sent.
 */
const RESEND_WITHIN_MS = 10 * 60_000;

export type ChargeResult = 'charged' | 'failed' | 'retry_with_fallback' | 'pending' | 'skipped';

export async function chargeAutopaySchedule(ctx: EngineContext, tenantId: string, c: ReadyCharge, bucket: TokenBucket): Promise<ChargeResult> {
  const attempt = c.attempt + 1;
  let paymentId: string | null = null;
  let charged = false;
  try {
    await chargeSavedMethod(
      ctx,
      tenantId,
      { choices: [{ invoiceId: c.invoiceId, amountMinor: c.amountMinor }], paymentMethodId: c.methodId, actor: ACTOR, source: 'autopay' },
      {
        idempotencyKey: keys.charge(c.invoiceId, c.version, attempt),
        ...(c.customerId ? { customerId: c.customerId } : {}),
        onPlanned: async (tx, plan) => {
          paymentId = plan.paymentId;
          // The claim, in one statement: only one run moves this schedule from this attempt to the next, and
          // only while the invoice is still the version the client was told about (planPayment holds the
          // invoice row, so it cannot change under us; it also refused an amount above what is owed) and no
          // other payment on it may still take money.
          const claimed = await tx
            .updateTable('autopay_schedules')
            .set({ state: 'charging', payment_id: plan.paymentId, attempt, updated_at: new Date() })
            .where('id', '=', c.scheduleId)
            .where('state', '=', 'noticed')
            .where('attempt', '=', c.attempt)
            .where('noticed_version', '=', c.version)
            .where((eb) => eb(eb.selectFrom('invoices').select('current_version').where('id', '=', c.invoiceId), '=', c.version))
            .where((eb) => eb.not(inProgressExpr(c.invoiceId, plan.paymentId)))
            // still in autopay (pilot switches), under a rule that is still on
            .where(sql<boolean>`EXISTS (SELECT 1 FROM clients k WHERE k.id = autopay_schedules.client_id AND k.collection_enabled AND k.autopay_enabled)`)
            .where(sql<boolean>`EXISTS (SELECT 1 FROM autopay_rules r WHERE r.id = autopay_schedules.rule_id AND r.enabled AND r.deleted_at IS NULL)`)
            .executeTakeFirst();
          if (claimed.numUpdatedRows !== 1n)
            throw new UseCaseError(
              'conflict',
              'the schedule, the invoice, the client or the rule changed since the notice, or another payment on the invoice is in progress',
            );
        },
        beforeCall: async () => {
          crashPoint('autopay-after-charge-planned');
          await bucket.take();
        },
        afterCall: () => crashPoint('autopay-after-charge-sent'),
        // The processor took the money (or the bank debit is on its way): the schedule is charged in the same
        // transaction that records it, so no crash can leave one without the other.
        onOutcome: async (tx, outcome) => {
          if (outcome.kind !== 'succeeded' && outcome.kind !== 'processing') return;
          await tx
            .updateTable('autopay_schedules')
            .set({ state: 'charged', reason: null, updated_at: new Date() })
            .where('id', '=', c.scheduleId)
            .where('state', '=', 'charging')
            .execute();
          await audit(
            tx,
            tenantId,
            ACTOR,
            'autopay.charged',
            { type: 'invoice', id: c.invoiceId },
            { schedule: c.scheduleId, payment_id: paymentId, amount_minor: c.amountMinor, state: outcome.kind },
          );
          charged = true;
        },
      },
    );
  } catch (e) {
    // Refused before anything was sent (changed meanwhile, paid, another run): the next run looks again.
    if (e instanceof UseCaseError || isSameChargeKey(e)) {
      ctx.log.info({ schedule: c.scheduleId, reason: (e as Error).message }, 'autopay charge not started');
      return 'skipped';
    }
    throw e;
  }
  return charged ? 'charged' : settleAutopaySchedule(ctx, tenantId, c.scheduleId);
}

/**
 * Another run planned this very charge first: its attempt holds the key (unique per tenant), so ours could not
 * be stored. Told by PostgreSQL's error code and constraint name, not by the message.
 */
function isSameChargeKey(e: unknown): boolean {
  const pg = e as { code?: unknown; constraint?: unknown };
  return pg.code === '23505' && pg.constraint === 'payment_attempts_tenant_id_idempotency_key_key';
}

/** Bring a charging schedule in line with its payment: charged, failed, or back to noticed with the fallback. */
export async function settleAutopaySchedule(ctx: EngineContext, tenantId: string, scheduleId: string): Promise<ChargeResult> {
  return withTenant(ctx.db, tenantId, async (tx) => {
    // The common case in one statement: the processor took the money (or the bank debit is on its way).
    const ok = await tx
      .updateTable('autopay_schedules as s')
      .from('payments as p')
      .set({ state: 'charged', reason: null, updated_at: new Date() })
      .whereRef('p.id', '=', 's.payment_id')
      .where('s.id', '=', scheduleId)
      .where('s.state', '=', 'charging')
      .where('p.state', 'in', ['succeeded', 'processing'])
      .returning(['s.invoice_id', 's.payment_id', 'p.amount_minor', 'p.state'])
      .executeTakeFirst();
    if (ok) {
      await audit(
        tx,
        tenantId,
        ACTOR,
        'autopay.charged',
        { type: 'invoice', id: ok.invoice_id },
        { schedule: scheduleId, payment_id: ok.payment_id, amount_minor: ok.amount_minor, state: ok.state },
      );
      return 'charged';
    }
    const s = await tx.selectFrom('autopay_schedules').selectAll().where('id', '=', scheduleId).where('state', '=', 'charging').forUpdate().executeTakeFirst();
    if (!s || !s.payment_id) return 'skipped';
    const p = await tx
      .selectFrom('payments')
      .select(['state', 'failure_code', 'failure_message', 'amount_minor'])
      .where('id', '=', s.payment_id)
      .executeTakeFirstOrThrow();
    const attempt = await tx
      .selectFrom('payment_attempts')
      .select(['outcome'])
      .where('payment_id', '=', s.payment_id)
      .orderBy('attempt_no', 'desc')
      .executeTakeFirstOrThrow();
    if (p.state === 'succeeded' || p.state === 'processing') {
      await done(tx, tenantId, s.id, 'charged', null, { payment_id: s.payment_id, amount_minor: p.amount_minor, state: p.state });
      return 'charged';
    }
    if (p.state === 'failed') {
      if (p.failure_code !== 'not_sent') {
        // The default was declined: the client's fallback method, once, in this same run (rule "default, then fallback").
        const { fallbackMethodId } = await lockedRuleOf(tx, s.client_id);
        const rule = await tx.selectFrom('autopay_rules').select('method_kinds').where('id', '=', s.rule_id).executeTakeFirstOrThrow();
        const fb = await chooseMethod(tx, s.client_id, rule.method_kinds, fallbackMethodId, true);
        if (fb && fb.id !== s.method_id) {
          await tx
            .updateTable('autopay_schedules')
            .set({ state: 'noticed', method_id: fb.id, reason: 'default_declined', updated_at: new Date() })
            .where('id', '=', s.id)
            .execute();
          await audit(
            tx,
            tenantId,
            ACTOR,
            'autopay.fallback_method',
            { type: 'invoice', id: s.invoice_id },
            { schedule: s.id, declined_payment: s.payment_id, code: p.failure_code, method: fb.label },
          );
          return 'retry_with_fallback';
        }
      }
      // Later tries follow the failed-payments policy (retry rules by decline class), not the autopay run.
      await done(tx, tenantId, s.id, 'failed', p.failure_code ?? 'declined', { payment_id: s.payment_id, code: p.failure_code, message: p.failure_message });
      return 'failed';
    }
    if (p.state === 'pending' && attempt.outcome === 'requires_action') {
      // Off-session, nobody can authenticate: the client has to pay or re-authorise the method themselves.
      await done(tx, tenantId, s.id, 'failed', 'requires_action', { payment_id: s.payment_id });
      return 'failed';
    }
    return 'pending'; // unknown or still sending: the janitor asks the processor; a later run settles it
  });
}

async function done(
  tx: Tx,
  tenantId: string,
  scheduleId: string,
  state: 'charged' | 'failed',
  reason: string | null,
  detail: Record<string, unknown>,
): Promise<void> {
  const s = await tx
    .updateTable('autopay_schedules')
    .set({ state, reason, updated_at: new Date() })
    .where('id', '=', scheduleId)
    .returning('invoice_id')
    .executeTakeFirstOrThrow();
  await audit(tx, tenantId, ACTOR, `autopay.${state}`, { type: 'invoice', id: s.invoice_id }, { schedule: scheduleId, ...detail });
}

/**
 * Schedules a crash left in `charging`: settle those whose payment has an answer; send again (same key, same
 * request) those whose attempt is still `sending` and young enough that the janitor has not given up on it.
 */
export async function resumeAutopayCharges(ctx: EngineContext, tenantId: string, bucket: TokenBucket): Promise<number> {
  const charging = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('autopay_schedules as s')
      .innerJoin('payments as p', 'p.id', 's.payment_id')
      .innerJoin('payment_attempts as a', (j) => j.onRef('a.payment_id', '=', 'p.id'))
      .innerJoin('clients as c', 'c.id', 's.client_id')
      .leftJoin('payment_methods as m', 'm.id', 's.method_id')
      .select([
        's.id',
        's.payment_id',
        'p.processor',
        'p.state',
        'p.amount_minor',
        'p.currency',
        'p.client_id',
        'a.id as attempt_id',
        'a.outcome',
        'a.idempotency_key',
        'a.created_at',
        'c.processor_customer_id',
        'm.processor_method_id',
      ])
      .where('s.state', '=', 'charging')
      .where('a.attempt_no', '=', 1)
      .execute(),
  );
  if (charging.length === 0) return 0;
  const processor = await ctx.connectors.payments(tenantId);
  let resumed = 0;
  for (const c of charging) {
    const young = ctx.now().getTime() - new Date(c.created_at).getTime() < RESEND_WITHIN_MS;
    // Only charges that went to this processor (a NACHA debit is the bank connector's: it has its own file trail).
    if (
      c.state === 'pending' &&
      c.outcome === 'sending' &&
      young &&
      processor &&
      c.processor === processor.vendor &&
      c.processor_customer_id &&
      c.processor_method_id
    ) {
      await bucket.take();
      const req = offSessionRequest(
        tenantId,
        { paymentId: c.payment_id!, attemptId: c.attempt_id, idempotencyKey: c.idempotency_key, amountMinor: c.amount_minor, currency: c.currency },
        c.processor_customer_id,
        c.processor_method_id,
      );
      const outcome: ChargeOutcome = await processor.chargeOffSession(req);
      await applyChargeOutcome(ctx, tenantId, c.payment_id!, c.attempt_id, outcome);
      ctx.log.warn({ schedule: c.id, payment: c.payment_id, outcome: outcome.kind }, 'autopay: re-sent a charge whose answer was lost (same idempotency key)');
    }
    if ((await settleAutopaySchedule(ctx, tenantId, c.id)) !== 'pending') resumed++;
  }
  return resumed;
}
