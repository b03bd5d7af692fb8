// One entry per graphile-worker task: validate the payload, then call the use case. The tasks hold no
// logic of their own. A thrown error makes graphile-worker retry the job with exponential back-off — except
// in a run whose job was replaced meanwhile (superseded.ts).
import type { JobHelpers, Task, TaskList } from 'graphile-worker';
import type { EngineContext } from '../engine/context.ts';
import { unlessSuperseded } from './superseded.ts';
import { processInboxEvent } from '../engine/process-inbox-event.ts';
import { syncPsa } from '../engine/sync-psa.ts';
import { postPsaPayment } from '../engine/post-psa-payment.ts';
import { flushAccounting } from '../engine/post-to-accounting.ts';
import { watchBooksInvoices } from '../engine/watch-books-invoices.ts';
import { checkBooksRecords } from '../engine/check-books-records.ts';
import { checkCreditMemos } from '../engine/credit-memos.ts';
import { syncBooksCopy } from '../engine/sync-books-copy.ts';
import { nightlyOf, runReconciliation } from '../engine/three-way-reconciliation.ts';
import { queueBooksCopySyncs, queueNightlyReconciliations } from '../engine/reconciliation-schedule.ts';
import { reconcilePayoutWithRetry } from '../engine/reconcile-payout-retry.ts';
import { resolveUnknownPayments } from '../engine/resolve-unknown-payments.ts';
import { expirePortalCheckouts } from '../engine/expire-portal-checkouts.ts';
import { pollPayouts } from '../engine/poll-payouts.ts';
import { cancelFailedCheckout } from '../engine/cancel-failed-checkout.ts';
import { sweep } from '../engine/sweep.ts';
import { sendEmail } from '../engine/send-email.ts';
import { queueReceiptOfPayment } from '../engine/receipt-job.ts';
import { postPsaReversal } from '../engine/post-psa-reversal.ts';
import { writePayLink } from '../engine/write-pay-link.ts';
import { submitRefund } from '../engine/refund-payment.ts';
import { refundDuplicateCharge } from '../engine/refund-duplicate-charge.ts';
import { collectInstallments } from '../engine/collect-installments.ts';
import { runAutopay } from '../engine/run-autopay.ts';
import { handlePaymentFailure } from '../engine/handle-payment-failure.ts';
import { retryFailedPayment } from '../engine/retry-failed-payment.ts';
import { recordPsaFailure } from '../engine/record-psa-failure.ts';
import { runAchCutoff } from '../engine/ach-run-cutoff.ts';
import { pollAchBank } from '../engine/ach-poll-bank.ts';
import { tenantsOnAchSchedule } from '../engine/ach-schedule.ts';
import { refreshDashboardFigures } from '../engine/dashboard-figures.ts';
import { deliverWebhooks } from '../engine/webhooks-out/deliver.ts';
import { runCollections } from '../engine/collections-assist/run.ts';
import { writeCollectionsPsaNote } from '../engine/collections-assist/psa-note.ts';
import { queueCollectionRuns } from '../engine/collections-assist/tick.ts';
import { sendReminders } from '../engine/collections-assist/send.ts';
import { payloadSchemas, type TaskName, type TaskPayloads } from './payloads.ts';

type Handler<T extends TaskName> = (ctx: EngineContext, payload: TaskPayloads[T], helpers: JobHelpers) => Promise<unknown>;

const handlers: { [K in TaskName]: Handler<K> } = {
  'process-inbox-event': (ctx, p) => processInboxEvent(ctx, p.tenantId, p.inboxEventId),
  'sync-psa': (ctx, p) => syncPsa(ctx, p.tenantId),
  'post-psa-payment': (ctx, p) => postPsaPayment(ctx, p.tenantId, p.postingId),
  'flush-accounting': (ctx, p) => flushAccounting(ctx, p.tenantId),
  'watch-books-invoices': (ctx, p) => watchBooksInvoices(ctx, p.tenantId),
  'check-books-records': (ctx, p) => checkBooksRecords(ctx, p.tenantId),
  'check-credit-memos': async (ctx, p) => `${await checkCreditMemos(ctx, p.tenantId)} credit memo application(s) queued for the books`,
  'sync-books-copy': (ctx, p) => syncBooksCopy(ctx, p.tenantId),
  'reconcile-three-way': (ctx, p) =>
    runReconciliation(ctx, p.tenantId, p.trigger, (p.actor as `user:${string}` | undefined) ?? 'system:reconciliation', nightlyOf(p)),
  // cron: every five minutes the books copy of each workspace with books; nightly the reconciliation
  'books-copy-tick': (ctx, _p, helpers) => queueBooksCopySyncs(ctx, helpers),
  'reconcile-tick': (ctx, _p, helpers) => queueNightlyReconciliations(ctx, helpers),
  'reconcile-payout': (ctx, p) => reconcilePayoutWithRetry(ctx, p.tenantId, p.processorPayoutId, p.retry ?? 0),
  'resolve-unknown-payments': (ctx, p) => resolveUnknownPayments(ctx, p.tenantId),
  'expire-portal-checkouts': (ctx, p) => expirePortalCheckouts(ctx, p.tenantId),
  'poll-payouts': (ctx, p) => pollPayouts(ctx, p.tenantId),
  'cancel-failed-checkout': (ctx, p) => cancelFailedCheckout(ctx, p.tenantId, p.paymentId, p.processorPaymentId),
  'send-email': (ctx, p) => sendEmail(ctx, p.tenantId, p.notificationId),
  'queue-payment-receipt': (ctx, p) => queueReceiptOfPayment(ctx, p.tenantId, p.paymentId, p.processorMethodId),
  'post-psa-reversal': (ctx, p) => postPsaReversal(ctx, p.tenantId, p.postingId),
  'write-pay-link': (ctx, p) => writePayLink(ctx, p.tenantId, p.invoiceId, { bulk: p.bulk === true }),
  'submit-refund': (ctx, p) => submitRefund(ctx, p.tenantId, p.refundId, true),
  'refund-duplicate-charge': (ctx, p) => refundDuplicateCharge(ctx, p.tenantId, p.creditRefundId),
  'refresh-dashboard-figures': (ctx, p) =>
    refreshDashboardFigures(ctx, p.tenantId, { preset: p.preset, ...(p.from ? { from: p.from } : {}), ...(p.lastDay ? { lastDay: p.lastDay } : {}) }),
  'autopay-run': (ctx, p) => runAutopay(ctx, p.tenantId),
  'deliver-webhooks': (ctx, p) => deliverWebhooks(ctx, p.tenantId, p.subscriptionId),
  'collections-run': (ctx, p) => runCollections(ctx, p.tenantId),
  'collections-tick': (ctx, _p, helpers) => queueCollectionRuns(ctx, helpers),
  'collections-psa-note': (ctx, p) => writeCollectionsPsaNote(ctx, p.tenantId, p.sendId),
  'collections-send': (ctx, p) => sendReminders(ctx, p.tenantId),
  // cron: one autopay run per workspace, in a queue of its own so a workspace never has two runs at once
  'autopay-tick': async (ctx, _p, helpers) => {
    const tenants = await ctx.db.selectFrom('tenants').select('id').execute();
    for (const t of tenants)
      await helpers.addJob('autopay-run', { tenantId: t.id }, { jobKey: `autopay-run:${t.id}`, queueName: `autopay:${t.id}`, maxAttempts: 5 });
    return tenants.length;
  },
  'collect-installments': (ctx, p) => collectInstallments(ctx, p.tenantId),
  // cron: installment parts falling due, per workspace in its own queue (one collector at a time)
  'installments-tick': async (ctx, _p, helpers) => {
    const tenants = await ctx.db.selectFrom('tenants').select('id').execute();
    for (const t of tenants)
      await helpers.addJob(
        'collect-installments',
        { tenantId: t.id },
        { jobKey: `collect-installments:${t.id}`, queueName: `installments:${t.id}`, maxAttempts: 5 },
      );
    return tenants.length;
  },
  'handle-payment-failure': (ctx, p) => handlePaymentFailure(ctx, p.tenantId, p.paymentId),
  'retry-payment': (ctx, p) => retryFailedPayment(ctx, p.tenantId, p.failureId),
  'record-psa-failure': (ctx, p, helpers) => recordPsaFailure(ctx, p.tenantId, p.failureId, helpers.job.attempts),
  'ach-run-cutoff': (ctx, p) => runAchCutoff(ctx, p.tenantId, { force: p.force === true }),
  'ach-poll-bank': (ctx, p) => pollAchBank(ctx, p.tenantId),
  // cron: bank ACH cut-offs and the bank's outbox, per workspace in one queue (one file at a time)
  'ach-tick': async (ctx, _p, helpers) => {
    const tenants = await tenantsOnAchSchedule(ctx);
    for (const t of tenants) {
      await helpers.addJob('ach-run-cutoff', { tenantId: t }, { jobKey: `ach-run-cutoff:${t}`, queueName: `bank-ach:${t}`, maxAttempts: 10 });
      await helpers.addJob('ach-poll-bank', { tenantId: t }, { jobKey: `ach-poll-bank:${t}`, queueName: `bank-ach:${t}`, maxAttempts: 10 });
    }
    return tenants.length;
  },
  sweep: async (ctx, _p, helpers) => {
    // cron: the sweep also fans out a PSA poll per tenant (the fallback when push notifications are lost)
    const r = await sweep(ctx);
    const tenants = await ctx.db.selectFrom('tenants').select('id').execute();
    for (const t of tenants) await helpers.addJob('sync-psa', { tenantId: t.id }, { jobKey: `sync-psa:${t.id}`, queueName: `psa-sync:${t.id}` });
    return r;
  },
};

export function taskList(ctx: EngineContext): TaskList {
  const list: TaskList = {};
  for (const name of Object.keys(handlers) as TaskName[]) {
    const task: Task = async (raw, helpers) => {
      const parsed = payloadSchemas[name].safeParse(raw);
      if (!parsed.success) {
        // A malformed payload will never become valid: log and drop rather than retry 25 times.
        helpers.logger.error(`task ${name}: invalid payload: ${parsed.error.message}`);
        return;
      }
      const started = performance.now();
      const result = await unlessSuperseded(ctx.db, helpers, () => (handlers[name] as Handler<TaskName>)(ctx, parsed.data as never, helpers));
      ctx.log.debug({ task: name, ms: Math.round(performance.now() - started), result }, 'job done');
    };
    list[name] = task;
  }
  return list;
}

/** Every minute: the safety-net sweep (and PSA poll fan-out); every five minutes: the autopay runs and due installment parts. */
export const crontab =
  '* * * * * sweep ?max=1&id=sweep\n' +
  '*/5 * * * * autopay-tick ?max=1&id=autopay-tick\n' +
  '*/5 * * * * installments-tick ?max=1&id=installments-tick\n' +
  '*/5 * * * * ach-tick ?max=1&id=ach-tick\n' +
  '*/5 * * * * books-copy-tick ?max=1&id=books-copy-tick\n' +
  '*/15 * * * * collections-tick ?max=1&id=collections-tick\n' +
  // every 15 minutes: each workspace's nightly report runs at 02:30 in its own timezone (reconciliation-schedule.ts)
  '*/15 * * * * reconcile-tick ?max=1&id=reconcile-tick\n';
