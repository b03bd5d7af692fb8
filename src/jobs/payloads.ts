// Typed payloads of every background task. Each payload names its tenant; the task runs the use case
// inside that tenant's row-level-security context.
import { z } from 'zod';
import { PERIOD_PRESETS } from '../domain/report-period.ts';

const tenant = { tenantId: z.string().uuid() };

export const payloadSchemas = {
  'process-inbox-event': z.object({ ...tenant, inboxEventId: z.string() }),
  'sync-psa': z.object({ ...tenant }),
  'post-psa-payment': z.object({ ...tenant, postingId: z.string().uuid() }),
  'flush-accounting': z.object({ ...tenant }),
  'watch-books-invoices': z.object({ ...tenant }),
  'check-books-records': z.object({ ...tenant }),
  'check-credit-memos': z.object({ ...tenant }),
  // 0042: Settle's copy of the books, and the three-way reconciliation over it (engine/three-way-reconciliation.ts)
  'sync-books-copy': z.object({ ...tenant }),
  'reconcile-three-way': z.object({
    ...tenant,
    trigger: z.enum(['nightly', 'on_demand']),
    actor: z.string().optional(),
    localDate: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional(),
    timezone: z.string().optional(),
  }),
  'books-copy-tick': z.object({}).passthrough(),
  'reconcile-tick': z.object({}).passthrough(),
  'reconcile-payout': z.object({ ...tenant, processorPayoutId: z.string(), retry: z.number().int().min(0).optional() }),
  'resolve-unknown-payments': z.object({ ...tenant }),
  'expire-portal-checkouts': z.object({ ...tenant }),
  'poll-payouts': z.object({ ...tenant }),
  'cancel-failed-checkout': z.object({ ...tenant, paymentId: z.string().uuid(), processorPaymentId: z.string().min(1) }),
  'send-email': z.object({ ...tenant, notificationId: z.string().uuid() }),
  'queue-payment-receipt': z.object({ ...tenant, paymentId: z.string().uuid(), processorMethodId: z.string().optional() }),
  sweep: z.object({}).passthrough(),
  'collect-installments': z.object({ ...tenant }),
  'installments-tick': z.object({}).passthrough(),
  'autopay-run': z.object({ ...tenant }),
  'autopay-tick': z.object({}).passthrough(),
  'handle-payment-failure': z.object({ ...tenant, paymentId: z.string().uuid() }),
  'retry-payment': z.object({ ...tenant, failureId: z.string().uuid() }),
  'record-psa-failure': z.object({ ...tenant, failureId: z.string().uuid() }),
  'ach-run-cutoff': z.object({ ...tenant, force: z.boolean().optional() }),
  'ach-poll-bank': z.object({ ...tenant }),
  'ach-tick': z.object({}).passthrough(),
  'post-psa-reversal': z.object({ ...tenant, postingId: z.string().uuid() }),
  // bulk: queued by "all open invoices" (engine/pay-links-open.ts), written at a lower Autotask priority.
  'write-pay-link': z.object({ ...tenant, invoiceId: z.string().uuid(), bulk: z.boolean().optional() }),
  'submit-refund': z.object({ ...tenant, refundId: z.string().uuid() }),
  // 0047: one subscription's outbound webhooks; since 0054 nothing adds it (the delivery runner sends them,
  // engine/webhooks-out/runner.ts) — kept so a job queued before 0054 still runs
  'deliver-webhooks': z.object({ ...tenant, subscriptionId: z.string().uuid() }),
  // 0048: Collections Assist (engine/collections-assist/): the run per workspace, its cron, a PSA note per send
  'collections-run': z.object({ ...tenant }),
  'collections-tick': z.object({}).passthrough(),
  'collections-psa-note': z.object({ ...tenant, sendId: z.string().uuid() }),
  // 0055: the workspace's reminders sent in batches over the pooled SMTP connections (collections-assist/send.ts)
  'collections-send': z.object({ ...tenant }),
  'refund-duplicate-charge': z.object({ ...tenant, creditRefundId: z.string().uuid() }),
  'refresh-dashboard-figures': z.object({
    ...tenant,
    preset: z.enum(PERIOD_PRESETS),
    from: z.string().optional(),
    lastDay: z.string().optional(),
  }),
} as const;

export type TaskName = keyof typeof payloadSchemas;
export type TaskPayloads = { [K in TaskName]: z.infer<(typeof payloadSchemas)[K]> };
