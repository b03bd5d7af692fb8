// Collects installment parts when they fall due, each like an autopay charge: off-session with the plan's
// saved method, one payment per part created (with its idempotency key) in the same transaction that
// marks the part as collecting. Running twice, or dying between the commit and the processor call, can
// never charge a part twice: a part with a payment is never given a second one unless that payment failed,
// and an attempt whose answer was lost is resolved by asking the processor (resolve-unknown-payments.ts).
import { sql } from 'kysely';
import { partRetryAt } from '../domain/installments.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import { openBalanceMinor } from '../db/queries/invoice-balance.ts';
import { UseCaseError, today, type EngineContext } from './context.ts';
import { audit, type Actor } from './audit.ts';
import { applyClientCredit } from './client-credit.ts';
import { chargeSavedMethod } from './charge-saved-method.ts';
import { loadRetryPolicy } from './retry-settings.ts';

export interface CollectSummary {
  charged: number;
  paid: number;
  failed: number;
  cancelled: number;
}

/** Parts whose payment has an answer take that answer; a plan whose parts are all settled completes. */
export async function refreshInstallmentParts(tx: Tx): Promise<{ paid: number; failed: number }> {
  const parts = await tx
    .selectFrom('installment_parts as x')
    .innerJoin('payments as p', 'p.id', 'x.payment_id')
    .select(['x.id', 'x.plan_id', 'x.part_no', 'p.state'])
    .where('x.status', '=', 'collecting')
    .execute();
  let paid = 0;
  let failed = 0;
  for (const part of parts) {
    const status =
      part.state === 'succeeded' || part.state === 'partially_refunded' || part.state === 'refunded' ? 'paid' : part.state === 'failed' ? 'failed' : null;
    if (!status) continue;
    await tx.updateTable('installment_parts').set({ status, updated_at: new Date() }).where('id', '=', part.id).where('status', '=', 'collecting').execute();
    if (status === 'paid') paid++;
    else failed++;
  }
  await completePlans(tx);
  return { paid, failed };
}

async function completePlans(tx: Tx): Promise<void> {
  const done = await tx
    .selectFrom('installment_plans as p')
    .select('p.id')
    .where('p.status', '=', 'active')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('installment_parts as x')
            .select('x.id')
            .whereRef('x.plan_id', '=', 'p.id')
            .where('x.status', 'in', ['scheduled', 'collecting', 'failed']),
        ),
      ),
    )
    .execute();
  for (const p of done) {
    await tx.updateTable('installment_plans').set({ status: 'completed', updated_at: new Date() }).where('id', '=', p.id).execute();
    const plan = await tx.selectFrom('installment_plans').select('tenant_id').where('id', '=', p.id).executeTakeFirstOrThrow();
    await audit(tx, plan.tenant_id, 'system:collect-installments', 'installment_plan.completed', { type: 'installment_plan', id: p.id });
  }
}

/** Failed parts whose retry time on the tenant's schedule has come (collected again from the plan). */
async function partsToRetry(tx: Tx, now: Date): Promise<{ id: string }[]> {
  const failed = await sql<{ id: string; failure_code: string | null; charges: string; first: Date; last: Date }>`
    SELECT x.id, p.failure_code, count(a.id)::text AS charges, min(a.created_at) AS first, max(a.created_at) AS last
      FROM installment_parts x
      JOIN installment_plans pl ON pl.id = x.plan_id AND pl.status = 'active'
      JOIN payments p ON p.id = x.payment_id
      JOIN payment_attempts a ON a.idempotency_key LIKE 'installment:' || x.id || ':%'
     WHERE x.status = 'failed'
     GROUP BY x.id, p.failure_code`.execute(tx);
  if (failed.rows.length === 0) return [];
  const { schedule } = await loadRetryPolicy(tx);
  return failed.rows.filter((f) => {
    const at = partRetryAt({
      declineCode: f.failure_code,
      charges: Number(f.charges),
      firstChargedAt: new Date(f.first),
      lastChargedAt: new Date(f.last),
      schedule,
    });
    return at !== null && at.getTime() <= now.getTime();
  });
}

/** Every part due today or earlier, and failed parts due a retry (or one named part, collected early by staff). */
export async function collectInstallments(ctx: EngineContext, tenantId: string, opts: { partId?: string; actor?: Actor } = {}): Promise<CollectSummary> {
  const summary: CollectSummary = { charged: 0, paid: 0, failed: 0, cancelled: 0 };
  const due = await withTenant(ctx.db, tenantId, async (tx) => {
    const r = await refreshInstallmentParts(tx);
    summary.paid += r.paid;
    summary.failed += r.failed;
    let q = tx
      .selectFrom('installment_parts as x')
      .innerJoin('installment_plans as p', 'p.id', 'x.plan_id')
      .select('x.id')
      .where('p.status', '=', 'active')
      .orderBy('x.due_on')
      .orderBy('x.part_no');
    // A part claimed by a collector that died before creating its payment is claimable again after a while.
    const abandoned = new Date(ctx.now().getTime() - CLAIM_STALE_MS);
    q = opts.partId
      ? q.where('x.id', '=', opts.partId).where('x.status', 'in', ['scheduled', 'failed'])
      : q.where((eb) =>
          eb.or([
            eb.and([eb('x.status', '=', 'scheduled'), eb('x.due_on', '<=', today(ctx.now()))]),
            eb.and([eb('x.status', '=', 'collecting'), eb('x.payment_id', 'is', null), eb('x.updated_at', '<', abandoned)]),
          ]),
        );
    const due = await q.limit(500).execute();
    return opts.partId ? due : [...due, ...(await partsToRetry(tx, ctx.now()))];
  });
  for (const part of due) {
    const r = await collectPart(ctx, tenantId, part.id, opts.actor ?? 'system:collect-installments');
    summary[r]++;
  }
  return summary;
}

type PartResult = 'charged' | 'paid' | 'failed' | 'cancelled';

/** How long a claimed part may wait for its payment before another collector may claim it. */
const CLAIM_STALE_MS = 5 * 60_000;

async function collectPart(ctx: EngineContext, tenantId: string, partId: string, actor: Actor): Promise<PartResult> {
  const prep = await withTenant(ctx.db, tenantId, async (tx) => {
    const part = await tx.selectFrom('installment_parts').selectAll().where('id', '=', partId).executeTakeFirstOrThrow();
    const plan = await tx.selectFrom('installment_plans').selectAll().where('id', '=', part.plan_id).executeTakeFirstOrThrow();
    if (plan.status !== 'active') return { done: 'cancelled' as const };
    // Claim the part first (one conditional update): of several collectors, exactly one goes on to charge it.
    const stale = new Date(ctx.now().getTime() - CLAIM_STALE_MS);
    const claimed = await tx
      .updateTable('installment_parts')
      .set({ status: 'collecting', payment_id: null, updated_at: new Date() })
      .where('id', '=', partId)
      .where((eb) =>
        eb.or([
          eb('status', 'in', ['scheduled', 'failed']),
          eb.and([eb('status', '=', 'collecting'), eb('payment_id', 'is', null), eb('updated_at', '<', stale)]),
        ]),
      )
      .returningAll()
      .executeTakeFirst();
    if (!claimed) return { done: 'charged' as const };
    // The client's credit is spent before the card (client-credit.ts: applied at the next payment).
    await applyClientCredit(tx, tenantId, { clientId: plan.client_id, invoiceIds: [plan.invoice_id], actor, source: 'installment' });
    const inv = await tx.selectFrom('invoices').select(['id', 'number', 'status']).where('id', '=', plan.invoice_id).executeTakeFirstOrThrow();
    const owed = inv.status === 'void' || inv.status === 'credit' ? 0n : await openBalanceMinor(tx, inv.id);
    // The PSA is the truth: a part never collects more than the invoice still owes (a credit memo or a
    // payment made elsewhere lowers it); nothing owed means there is nothing left to collect.
    const amount = part.amount_minor < owed ? part.amount_minor : owed;
    if (amount <= 0n) {
      await tx.updateTable('installment_parts').set({ status: 'cancelled', updated_at: new Date() }).where('id', '=', part.id).execute();
      await audit(
        tx,
        tenantId,
        actor,
        'installment.part_skipped',
        { type: 'installment_plan', id: plan.id },
        { part_no: part.part_no, reason: `invoice ${inv.number} owes nothing` },
      );
      await completePlans(tx);
      return { done: 'cancelled' as const };
    }
    // A retry charges the client's default method when it has one (a client who saved a new card after the
    // failure is charged on it), else the plan's.
    const retry = part.status !== 'scheduled';
    const fallback = retry
      ? await tx.selectFrom('payment_methods').select('id').where('client_id', '=', plan.client_id).where('is_default', '=', true).executeTakeFirst()
      : undefined;
    const charges = await tx
      .selectFrom('payment_attempts')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('idempotency_key', 'like', `installment:${part.id}:%`)
      .executeTakeFirstOrThrow();
    return {
      done: null,
      part,
      planId: plan.id,
      invoiceId: inv.id,
      amount,
      // The fee of a plan the client chose from an offer is charged with the first part, and with its
      // retries until that part is paid: on top of the part, never applied to the invoice (plan-payment.ts).
      planFee: part.part_no === 1 ? plan.fee_minor : 0n,
      methodId: fallback?.id ?? plan.payment_method_id,
      key: `installment:${part.id}:charge:${Number(charges.n) + 1}`,
    };
  });
  if (prep.done) return prep.done;
  const { part } = prep;
  try {
    // Like an autopay charge (chargeSavedMethod): a card off-session at the processor, a bank account
    // authorized for NACHA debits through the MSP's bank.
    await chargeSavedMethod(
      ctx,
      tenantId,
      {
        choices: [{ invoiceId: prep.invoiceId, amountMinor: prep.amount }],
        paymentMethodId: prep.methodId,
        actor,
        source: 'installment',
        ...(prep.planFee > 0n ? { planFeeMinor: prep.planFee } : {}),
      },
      {
        idempotencyKey: prep.key,
        onPlanned: async (tx, planned) => {
          // The claimed part takes its payment in the transaction that creates the payment and its key.
          const linked = await tx
            .updateTable('installment_parts')
            .set({ payment_id: planned.paymentId, updated_at: new Date() })
            .where('id', '=', part.id)
            .where('status', '=', 'collecting')
            .where('payment_id', 'is', null)
            .executeTakeFirst();
          if (linked.numUpdatedRows !== 1n) throw new UseCaseError('conflict', 'this installment part is no longer waiting for a payment');
          await audit(
            tx,
            tenantId,
            actor,
            'installment.charge_requested',
            { type: 'payment', id: planned.paymentId },
            {
              plan_id: prep.planId,
              part_no: part.part_no,
              amount_minor: prep.amount,
              ...(prep.planFee > 0n ? { plan_fee_minor: prep.planFee } : {}),
              retry_of: part.payment_id,
            },
          );
        },
      },
    );
  } catch (e) {
    if (!(e instanceof UseCaseError)) throw e;
    // Refused before anything was sent (e.g. a bank debit on the invoice is still in flight): the part goes
    // back to how it was and is looked at again on the next run.
    await withTenant(ctx.db, tenantId, (tx) =>
      tx
        .updateTable('installment_parts')
        .set({ status: part.status, payment_id: part.payment_id, updated_at: new Date() })
        .where('id', '=', part.id)
        .where('status', '=', 'collecting')
        .where('payment_id', 'is', null)
        .execute(),
    );
    ctx.log.info({ part: part.id, reason: e.message }, 'installment part not charged');
    return 'charged';
  }
  const r = await withTenant(ctx.db, tenantId, (tx) => refreshInstallmentParts(tx));
  return r.paid > 0 ? 'paid' : r.failed > 0 ? 'failed' : 'charged';
}
