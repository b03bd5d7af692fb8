// After a payment fails: decide whether and when to retry it (failure-policy.ts over the rules in
// domain/rules), and in the same transaction schedule the retry job, tell the client (with a link to save a
// new method), open the staff exception and queue the note for the PSA. Runs as a job queued in the very
// transaction that recorded the failure, so it happens exactly once per failed payment (payment_failures
// is unique per payment) however often the job runs.
//
// Which failures: off-session charges (autopay, staff "charge card on file", installments) and portal
// bank debits that failed after the client left (ACH fails days later). A card declined in the portal was
// seen by the client on the spot and is left alone. Bank-ACH (NACHA) debits are reinitiated by their own
// connector's return handling, so they are left alone too.
import { classifyDecline, utcDateOf } from '../domain/rules/index.ts';
import { decideBankFailure, decideCardFailure, type FailureDecision } from '../domain/failure-policy.ts';
import { format, money, parseCurrency } from '../domain/money.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { Payment } from '../db/schema.ts';
import { queueEmail } from '../notify/queue-email.ts';
import { paymentFailedEmail } from '../notify/payment-failed-email.ts';
import { templateOf } from '../notify/templates/compose.ts';
import { updateMethodLinkFor } from '../notify/update-method-link.ts';
import { boxOf, type EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { enqueue } from './enqueue.ts';
import { raiseException } from './exceptions.ts';
import { cardHistory, cardOf, chainRootOf, laterPaymentOn, methodLabel, plannedInvoices, stillOwed } from './failure-store.ts';
import { loadRetryPolicy, type RetryPolicy } from './retry-settings.ts';

const ACTOR = 'system:payment-failures' as const;
const AUTOPAY_FALLBACK_GRACE_MS = 60_000;

async function inScope(tx: Tx, p: Payment): Promise<string | null> {
  if (p.state !== 'failed') return `payment is ${p.state}, not failed`;
  if (p.processor === 'bank-ach') return 'bank-ACH returns are handled by the bank-ACH connector';
  // A bank debit fails after the client left (even when its failure arrived before its processing event).
  if (p.source === 'portal' && p.method_kind !== 'us_bank_account') {
    const wentProcessing = await tx
      .selectFrom('payment_events')
      .select('id')
      .where('payment_id', '=', p.id)
      .where('to_state', '=', 'processing')
      .executeTakeFirst();
    if (!wentProcessing) return 'declined in the portal while the client was there';
  }
  return null;
}

async function decide(tx: Tx, p: Payment, root: Payment, policy: RetryPolicy, now: Date, mspName: string): Promise<FailureDecision> {
  if (p.failure_code === 'not_sent') {
    return {
      retry: false,
      failureClass: 'technical',
      returnCode: null,
      reason: 'not_sent',
      detail: p.failure_message ?? 'the charge never reached the processor',
      rulesApplied: [],
    };
  }
  const bank = p.method_kind === 'us_bank_account' || (p.source === 'portal' && p.method_kind === null);
  if (bank) {
    const earlier = await tx
      .selectFrom('payment_failures')
      .select(['return_code', 'created_at'])
      .where('root_payment_id', '=', root.id)
      .where('return_code', 'is not', null)
      .execute();
    const decision = decideBankFailure({
      failureCode: p.failure_code,
      previousReturns: earlier.map((f) => ({ code: f.return_code!, returnedOn: utcDateOf(new Date(f.created_at)) })),
      originalOn: utcDateOf(new Date(root.created_at)),
      amount: money(p.amount_minor, parseCurrency(p.currency)),
      companyName: mspName,
      companyId: p.processor,
      now,
    });
    // A bank debit can be presented again only off-session, with the saved account's mandate.
    if (decision.retry && p.source === 'portal') {
      return {
        retry: false,
        failureClass: decision.failureClass,
        returnCode: decision.returnCode,
        reason: 'no_saved_mandate',
        detail: `${decision.detail}; but the account was not saved for later debits, so the client has to pay again`,
        rulesApplied: decision.rulesApplied,
      };
    }
    return decision;
  }
  if (p.source === 'installment') {
    // A part of an installment plan is charged again by the plan itself, on this same retry policy
    // (collect-installments); a second retry from here could collect the part twice.
    return {
      retry: false,
      failureClass: classifyDecline({ declineCode: p.failure_code }).class,
      returnCode: null,
      reason: 'installment_plan_retries',
      detail: 'the installment plan charges this part again on the retry schedule (collect-installments)',
      rulesApplied: [],
    };
  }
  const card = cardOf(p);
  if (!card)
    return { retry: false, failureClass: 'hard', returnCode: null, reason: 'no_method', detail: 'the failed payment names no saved method', rulesApplied: [] };
  return decideCardFailure({ brand: card.brand ?? 'unknown', chainRef: root.id, history: await cardHistory(tx, card, now), schedule: policy.schedule, now });
}

/** What the client may be told about why (generic for lost/stolen/fraud, §3.1). */
function reasonForClient(p: Payment): string | null {
  if (p.method_kind === 'us_bank_account') return p.failure_message;
  return classifyDecline({ declineCode: p.failure_code }).customerMessage === 'generic' ? null : p.failure_message;
}

export async function handlePaymentFailure(ctx: EngineContext, tenantId: string, paymentId: string): Promise<string> {
  const now = ctx.now();
  return withTenant(ctx.db, tenantId, async (tx) => {
    const p = await tx.selectFrom('payments').selectAll().where('id', '=', paymentId).forUpdate().executeTakeFirst();
    if (!p) return 'no such payment';
    const skip = await inScope(tx, p);
    if (skip) return `not handled: ${skip}`;
    const seen = await tx.selectFrom('payment_failures').select('id').where('payment_id', '=', p.id).executeTakeFirst();
    if (seen) return 'already handled';

    // Autopay tries the client's fallback method right after a declined default; give it a minute so the
    // client is not told of a failure the fallback has already made good.
    const failedAt = new Date(p.updated_at).getTime();
    if (p.source === 'autopay' && now.getTime() - failedAt < AUTOPAY_FALLBACK_GRACE_MS) {
      const runAt = new Date(failedAt + AUTOPAY_FALLBACK_GRACE_MS);
      await enqueue(tx, 'handle-payment-failure', { tenantId, paymentId: p.id }, { jobKey: `payment-failure:${p.id}`, runAt });
      return `waiting until ${runAt.toISOString()} for autopay's fallback method`;
    }
    // Parts of one installment plan are several payments on one invoice by design: none supersedes another.
    const later =
      p.source === 'installment'
        ? null
        : await laterPaymentOn(
            tx,
            plannedInvoices(p).map((x) => x.invoiceId),
            p,
          );
    const owed = await stillOwed(tx, plannedInvoices(p));
    if (later || owed.length === 0) {
      const reason = later ? 'superseded' : 'paid_meanwhile';
      const detail = later
        ? `payment ${later} on the same invoices came after this one and carries the collection on`
        : 'the invoices were paid or closed meanwhile';
      const f = await tx
        .insertInto('payment_failures')
        .values({
          tenant_id: tenantId,
          payment_id: p.id,
          root_payment_id: await chainRootOf(tx, p.id),
          client_id: p.client_id,
          invoice_ids: plannedInvoices(p).map((x) => x.invoiceId),
          method_kind: p.method_kind,
          method_label: p.method_kind ? methodLabel(p.method_kind, p.method_brand, p.method_last4) : null,
          failure_code: p.failure_code,
          failure_class: classifyDecline({ declineCode: p.failure_code }).class,
          return_code: null,
          decision: 'no_retry',
          reason,
          detail,
          status: 'resolved',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await audit(tx, tenantId, ACTOR, 'payment.retry_not_scheduled', { type: 'payment', id: p.id }, { failure_id: f.id, reason, detail });
      return `no action: ${detail}`;
    }

    const tenant = await tx.selectFrom('tenants').select(['name']).where('id', '=', tenantId).executeTakeFirstOrThrow();
    const client = await tx.selectFrom('clients').select(['name', 'billing_email']).where('id', '=', p.client_id).executeTakeFirstOrThrow();
    const rootId = await chainRootOf(tx, p.id);
    const root = rootId === p.id ? p : await tx.selectFrom('payments').selectAll().where('id', '=', rootId).executeTakeFirstOrThrow();
    const policy = await loadRetryPolicy(tx);
    const decision = await decide(tx, p, root, policy, now, tenant.name);
    const planned = plannedInvoices(p);
    const invoiceIds = planned.map((x) => x.invoiceId);
    const label = methodLabel(p.method_kind, p.method_brand, p.method_last4);

    const failure = await tx
      .insertInto('payment_failures')
      .values({
        tenant_id: tenantId,
        payment_id: p.id,
        root_payment_id: root.id,
        client_id: p.client_id,
        invoice_ids: invoiceIds,
        method_kind: p.method_kind,
        method_label: p.method_kind ? label : null,
        failure_code: p.failure_code,
        failure_class: decision.failureClass,
        return_code: decision.returnCode,
        decision: decision.retry ? 'retry' : 'no_retry',
        reason: decision.reason,
        detail: decision.detail,
        rules_applied: JSON.stringify(decision.rulesApplied),
        retry_number: decision.retry ? decision.retryNumber : null,
        retry_at: decision.retry ? decision.at : null,
        status: decision.retry ? 'scheduled' : 'stopped',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (decision.retry) {
      await enqueue(
        tx,
        'retry-payment',
        { tenantId, failureId: failure.id },
        { jobKey: `payment-retry:${failure.id}`, runAt: decision.at, queueName: `retries:${tenantId}` },
      );
    }
    await audit(
      tx,
      tenantId,
      ACTOR,
      decision.retry ? 'payment.retry_scheduled' : 'payment.retry_not_scheduled',
      { type: 'payment', id: p.id },
      {
        failure_id: failure.id,
        chain: root.id,
        code: p.failure_code,
        class: decision.failureClass,
        return_code: decision.returnCode,
        reason: decision.reason,
        detail: decision.detail,
        retry_at: decision.retry ? decision.at.toISOString() : null,
        rules_applied: decision.rulesApplied,
      },
    );

    const numbers = (
      await tx
        .selectFrom('invoices')
        .select(['id', 'number'])
        .where('id', 'in', invoiceIds.length ? invoiceIds : ['00000000-0000-0000-0000-000000000000'])
        .execute()
    )
      .map((i) => i.number)
      .sort();
    const amount = format(money(p.amount_minor, parseCurrency(p.currency)));
    const ourFault = decision.reason === 'not_sent';
    const next = decision.retry
      ? `retry ${decision.retryNumber} on ${decision.at.toISOString().slice(0, 16).replace('T', ' ')} UTC`
      : `not retried (${decision.reason})`;
    await raiseException(tx, tenantId, ACTOR, {
      kind: ourFault ? 'payment_not_sent' : 'payment_failed',
      dedupeKey: `payment_failed:${root.id}`,
      clientId: p.client_id,
      invoiceIds,
      paymentId: p.id,
      title: `${ourFault ? 'Payment not sent' : 'Payment failed'}: ${client.name} — ${amount} (${numbers.join(', ')})`,
      detail: `${label}: ${p.failure_code ?? 'no code'} — ${decision.detail}; ${next}`,
      data: {
        failure_id: failure.id,
        chain: root.id,
        code: p.failure_code,
        class: decision.failureClass,
        reason: decision.reason,
        retry_at: decision.retry ? decision.at.toISOString() : null,
      },
    });
    if (ourFault) return `not sent: exception for staff (${decision.detail})`;

    // The client hears about the first failure of a chain and about the last one (no more retries); the
    // retries in between fail quietly (the first email already said when the next try is).
    const tellClient = root.id === p.id || !decision.retry;
    let emailed = 'no email';
    if (tellClient && client.billing_email) {
      const link = await updateMethodLinkFor(
        tx,
        ctx.publicUrl,
        { tenantId, clientId: p.client_id, failureId: failure.id },
        policy.updateLinkTtlHours * 3600,
        boxOf(ctx),
        now.getTime(),
      );
      const email = paymentFailedEmail(
        {
          mspName: tenant.name,
          clientName: client.name,
          invoiceNumbers: numbers,
          currency: parseCurrency(p.currency),
          amountMinor: p.amount_minor,
          method: label,
          reason: reasonForClient(p),
          retryAt: decision.retry ? decision.at : null,
          planRetries: decision.reason === 'installment_plan_retries',
          link: link.url,
          linkExpiresAt: link.expiresAt,
        },
        await templateOf(tx, 'payment_failed'),
      );
      await queueEmail(tx, tenantId, {
        kind: 'payment_failed',
        clientId: p.client_id,
        to: client.billing_email,
        ...email,
        idempotencyKey: `payment-failed:${failure.id}`,
      });
      emailed = `emailed ${client.billing_email}`;
    }
    const psa = await tx.selectFrom('connections').select('vendor').where('role', '=', 'psa').where('status', '!=', 'disabled').executeTakeFirst();
    if (psa)
      await enqueue(tx, 'record-psa-failure', { tenantId, failureId: failure.id }, { jobKey: `psa-failure:${failure.id}`, queueName: `psa:${tenantId}` });
    return `${decision.retry ? `retry at ${decision.at.toISOString()}` : `no retry (${decision.reason})`}; ${emailed}`;
  });
}
