// A scheduled retry of a failed payment. A failed payment is final in the state machine, so the retry is
// a NEW payment for what the invoices still owe, with its own idempotency key derived from the failure
// (`failure:<id>:retry`). "Never charge twice" rests on three things, all checked under row locks in the
// transaction that creates the new payment: the failure is still `scheduled` (and becomes `retrying` with
// the new payment's id in that same transaction, so a second run finds it taken), no other payment on those
// invoices may still take money, and the key is unique per failure. A crash after that commit leaves an
// attempt `sending`, which the janitor (resolve-unknown-payments) settles by asking the processor; nothing
// here ever re-charges an unknown.
//
// Which method: the client's default method now (a client who saved a new one is charged on it), else the
// method that failed. Just before charging a card, the per-card limits are checked again (other invoices'
// retries may have used the room since the retry was planned) and the retry moves later if needed.
import { checkCardRetryNow } from '../domain/failure-policy.ts';
import { money, parseCurrency } from '../domain/money.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { enqueue } from './enqueue.ts';
import { chargeSavedMethod } from './charge-saved-method.ts';
import { cardHistory, otherPaymentInProgress, plannedInvoices, stillOwed } from './failure-store.ts';

const ACTOR = 'system:payment-retry' as const;

type Prepared =
  | { readonly go: false; readonly result: string }
  | { readonly go: true; readonly methodId: string; readonly choices: { invoiceId: string; amountMinor: bigint }[]; readonly source: 'manual' | 'autopay' };

async function stop(tx: Tx, tenantId: string, failureId: string, paymentId: string, status: 'stopped' | 'resolved', reason: string): Promise<Prepared> {
  await tx.updateTable('payment_failures').set({ status, updated_at: new Date() }).where('id', '=', failureId).execute();
  await audit(
    tx,
    tenantId,
    ACTOR,
    status === 'resolved' ? 'payment.retry_cancelled' : 'payment.retry_stopped',
    { type: 'payment', id: paymentId },
    { failure_id: failureId, reason },
  );
  return { go: false, result: `${status}: ${reason}` };
}

/** Everything that can be decided before the charge; refusals and deferrals are recorded here. */
async function prepare(ctx: EngineContext, tenantId: string, failureId: string): Promise<Prepared> {
  const now = ctx.now();
  return withTenant(ctx.db, tenantId, async (tx) => {
    const f = await tx.selectFrom('payment_failures').selectAll().where('id', '=', failureId).forUpdate().executeTakeFirst();
    if (!f || f.status !== 'scheduled') return { go: false, result: `nothing to do (${f?.status ?? 'no such failure'})` };
    const failed = await tx.selectFrom('payments').selectAll().where('id', '=', f.payment_id).executeTakeFirstOrThrow();
    if (failed.source !== 'manual' && failed.source !== 'autopay')
      return stop(tx, tenantId, f.id, f.payment_id, 'stopped', `${failed.source} payments are not retried here`);
    const planned = plannedInvoices(failed);
    const choices = await stillOwed(tx, planned);
    if (choices.length === 0) return stop(tx, tenantId, f.id, f.payment_id, 'resolved', 'the invoices are paid or closed');
    const methods = await tx
      .selectFrom('payment_methods')
      .selectAll()
      .where('client_id', '=', failed.client_id)
      .where('processor', '=', failed.processor)
      .where('removed_at', 'is', null) // removed by the client in the portal (engine/portal-methods.ts)
      .execute();
    const chosen =
      methods.find((m) => m.is_default) ??
      methods
        .filter((m) => m.kind === failed.method_kind && m.last4 === failed.method_last4 && m.brand === failed.method_brand)
        .sort((a, b) => +new Date(b.created_at) - +new Date(a.created_at))[0];
    if (!chosen) return stop(tx, tenantId, f.id, f.payment_id, 'stopped', 'the client has no saved method to charge');
    // Presenting a returned debit again to the same account is a reinitiation (§2.5): identical amount or
    // nothing. Charging a method the client chose since is a new payment for what is owed now.
    const reinitiation = f.failure_class === 'ach_return' && chosen.kind === failed.method_kind && chosen.last4 === failed.method_last4;
    const same = choices.length === planned.length && choices.every((c, i) => c.amountMinor === planned[i]!.amountMinor);
    if (reinitiation && !same)
      return stop(tx, tenantId, f.id, f.payment_id, 'stopped', 'the amount owed changed since the return; a reinitiation must carry the identical amount');

    if (chosen.kind === 'card') {
      const total = choices.reduce((s, c) => s + c.amountMinor, 0n);
      const check = checkCardRetryNow({
        brand: chosen.brand ?? 'unknown',
        history: await cardHistory(tx, { clientId: failed.client_id, kind: chosen.kind, brand: chosen.brand, last4: chosen.last4 }, now),
        amount: money(total, parseCurrency(failed.currency)),
        now,
      });
      if (!check.ok && check.stop) return stop(tx, tenantId, f.id, f.payment_id, 'stopped', check.detail);
      if (!check.ok) {
        await tx.updateTable('payment_failures').set({ retry_at: check.until, updated_at: new Date() }).where('id', '=', f.id).execute();
        await enqueue(
          tx,
          'retry-payment',
          { tenantId, failureId: f.id },
          { jobKey: `payment-retry:${f.id}`, runAt: check.until, queueName: `retries:${tenantId}` },
        );
        await audit(
          tx,
          tenantId,
          ACTOR,
          'payment.retry_deferred',
          { type: 'payment', id: f.payment_id },
          { failure_id: f.id, until: check.until.toISOString(), deferred_by: check.deferredBy },
        );
        return { go: false, result: `deferred to ${check.until.toISOString()} by ${check.deferredBy.join(', ')}` };
      }
    }
    return { go: true, methodId: chosen.id, choices, source: failed.source };
  });
}

export async function retryFailedPayment(ctx: EngineContext, tenantId: string, failureId: string): Promise<string> {
  const prepared = await prepare(ctx, tenantId, failureId);
  if (!prepared.go) return prepared.result;
  try {
    const r = await chargeSavedMethod(
      ctx,
      tenantId,
      { choices: prepared.choices, paymentMethodId: prepared.methodId, actor: ACTOR, source: prepared.source },
      {
        idempotencyKey: `failure:${failureId}:retry`,
        onPlanned: async (tx, plan) => {
          // The claim, under the failure's row lock and the invoices' (planPayment holds them).
          const f = await tx
            .selectFrom('payment_failures')
            .select(['status', 'payment_id', 'invoice_ids'])
            .where('id', '=', failureId)
            .forUpdate()
            .executeTakeFirstOrThrow();
          if (f.status !== 'scheduled') throw new UseCaseError('conflict', `the retry is already ${f.status}`);
          const busy = await otherPaymentInProgress(
            tx,
            prepared.choices.map((c) => c.invoiceId),
            [plan.paymentId],
          );
          if (busy) throw new UseCaseError('conflict', `payment ${busy} on these invoices is still in progress`);
          await tx
            .updateTable('payment_failures')
            .set({ status: 'retrying', retry_payment_id: plan.paymentId, updated_at: new Date() })
            .where('id', '=', failureId)
            .execute();
          await audit(
            tx,
            tenantId,
            ACTOR,
            'payment.retry_started',
            { type: 'payment', id: plan.paymentId },
            { failure_id: failureId, failed_payment: f.payment_id, amount_minor: plan.amountMinor, key: plan.idempotencyKey },
          );
        },
      },
    );
    await withTenant(ctx.db, tenantId, (tx) =>
      tx
        .updateTable('payment_failures')
        .set({ status: 'retried', updated_at: new Date() })
        .where('id', '=', failureId)
        .where('status', '=', 'retrying')
        .execute(),
    );
    return `retried as payment ${r.paymentId}: ${r.outcome}`;
  } catch (e) {
    if (!(e instanceof UseCaseError)) throw e;
    // Refused before anything was sent: another payment is in progress, the invoice was paid meanwhile, …
    await withTenant(ctx.db, tenantId, async (tx) => {
      const f = await tx.selectFrom('payment_failures').select(['status', 'payment_id']).where('id', '=', failureId).forUpdate().executeTakeFirstOrThrow();
      if (f.status === 'scheduled') await stop(tx, tenantId, failureId, f.payment_id, 'stopped', e.message);
    });
    return `not retried: ${e.message}`;
  }
}
