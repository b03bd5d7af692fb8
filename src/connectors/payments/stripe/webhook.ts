// Inbound Stripe webhooks: verify `Stripe-Signature` (t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>,
// docs.stripe.com/webhooks/signatures) in constant time with a 300 s tolerance, then map the event onto
// Settle's ProcessorEvent. Types Settle does not act on are acknowledged as `ignored`.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { MoneyError } from '../../../domain/money.ts';
import { WebhookRejected } from '../../webhook-rejected.ts';
import type { MethodKind, ProcessorEvent } from '../types.ts';
import { STRIPE } from './catalogue.ts';
import { fromStripeAmount, isoDate } from './mapping.ts';

export interface VerifyOptions {
  /** Endpoint signing secrets (whsec_…); two while a rolled secret is still valid. */
  readonly secrets: readonly string[];
  readonly toleranceSeconds?: number;
  readonly nowSeconds?: number;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const direct = headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(direct) ? direct[0] : direct;
}

/** Throws WebhookRejected unless one v1 signature matches one secret and the timestamp is fresh. */
export function verifyStripeSignature(headers: Record<string, string | string[] | undefined>, rawBody: Buffer, opts: VerifyOptions): void {
  const value = header(headers, 'stripe-signature');
  if (!value) throw new WebhookRejected('bad_signature', 'no Stripe-Signature header');
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d+$/.test(v)) timestamp = Number(v);
    // v0 (legacy test-mode scheme) and unknown schemes are ignored, as the official libraries do.
    if (k === 'v1' && /^[0-9a-f]{64}$/i.test(v)) signatures.push(Buffer.from(v, 'hex'));
  }
  if (timestamp === null || signatures.length === 0) throw new WebhookRejected('bad_signature', 'Stripe-Signature has no timestamp or no v1 signature');
  const signedPayload = Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), rawBody]);
  const genuine = opts.secrets.some((secret) => {
    const expected = createHmac('sha256', secret).update(signedPayload).digest();
    return signatures.some((sig) => sig.length === expected.length && timingSafeEqual(sig, expected));
  });
  if (!genuine) throw new WebhookRejected('bad_signature', 'no Stripe-Signature v1 matches the endpoint secret');
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = opts.toleranceSeconds ?? STRIPE.webhookToleranceSeconds;
  // Checked after the signature (a forged push is bad_signature, a genuine old one is stale, i.e. a replay).
  // Stripe's libraries only reject old timestamps; a far-future one is as suspect, so both are refused.
  if (Math.abs(now - timestamp) > tolerance) {
    throw new WebhookRejected('stale_timestamp', `Stripe-Signature timestamp is ${now - timestamp} s from now (tolerance ${tolerance} s)`);
  }
}

// ---- payload schemas (only what the mapping reads; Stripe adds fields freely)
const metadata = z.record(z.string()).default({});
const idOrObject = z
  .union([z.string(), z.object({ id: z.string() }).passthrough()])
  .nullable()
  .optional();
/** `payment_intent.requires_action` for a bank account typed by its numbers: next_action verify_with_microdeposits. */
const awaitingMicrodeposits = z.object({
  id: z.string(),
  metadata,
  next_action: z
    .object({
      type: z.string(),
      verify_with_microdeposits: z.object({ hosted_verification_url: z.string().url(), arrival_date: z.number().int().nullish() }).passthrough().nullish(),
    })
    .passthrough()
    .nullish(),
});

const paymentIntent = z.object({
  id: z.string(),
  amount: z.number().int(),
  amount_received: z.number().int().optional(),
  currency: z.string(),
  latest_charge: idOrObject,
  payment_method: idOrObject.optional(),
  metadata,
  last_payment_error: z
    .object({
      code: z.string().nullish(),
      decline_code: z.string().nullish(),
      message: z.string().nullish(),
      payment_method_type: z.string().nullish(),
      payment_method: z.object({ type: z.string() }).passthrough().nullish(),
    })
    .passthrough()
    .nullish(),
});
const refund = z.object({
  id: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  payment_intent: idOrObject,
  status: z.string().nullable(),
  metadata,
});
const dispute = z.object({
  id: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  payment_intent: idOrObject,
  reason: z.string(),
  status: z.string(),
  // The withdrawal (and, when won, the reinstatement) as balance transactions; the first carries the fee.
  balance_transactions: z.array(z.object({ fee: z.number().int(), currency: z.string() }).passthrough()).default([]),
});
const payout = z.object({ id: z.string(), amount: z.number().int(), currency: z.string(), arrival_date: z.number().int() });
const envelope = z.object({ id: z.string(), object: z.literal('event'), type: z.string(), data: z.object({ object: z.record(z.unknown()) }) });

const methodKindOf = (t: string | null): MethodKind | null => (t === 'card' || t === 'us_bank_account' ? t : null);
const idOf = (v: z.infer<typeof idOrObject>): string | null => (v == null ? null : typeof v === 'string' ? v : v.id);

function parse<T extends z.ZodTypeAny>(schema: T, value: unknown, type: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new WebhookRejected('malformed', `${type} payload: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** Map a verified Stripe event (parsed JSON) onto ProcessorEvent. */
export function mapStripeEvent(body: unknown): ProcessorEvent {
  const e = parse(envelope, body, 'event');
  try {
    return mapKnown(e);
  } catch (err) {
    // A currency Settle does not support cannot belong to one of our payments or payouts.
    if (err instanceof MoneyError) return { eventId: e.id, type: 'ignored', vendorType: e.type };
    throw err;
  }
}

function mapKnown(e: z.infer<typeof envelope>): ProcessorEvent {
  const obj = e.data.object;
  const eventId = e.id;
  switch (e.type) {
    case 'payment_intent.requires_action': {
      // Only the microdeposit wait matters to Settle; 3-D Secure is handled on the page that confirms.
      const pi = parse(awaitingMicrodeposits, obj, e.type);
      const v = pi.next_action?.type === 'verify_with_microdeposits' ? pi.next_action.verify_with_microdeposits : null;
      if (!v) return { eventId, type: 'ignored', vendorType: e.type };
      return {
        eventId,
        type: 'payment.awaiting_verification',
        processorPaymentId: pi.id,
        verification: { url: v.hosted_verification_url, arrivalDate: typeof v.arrival_date === 'number' ? new Date(v.arrival_date * 1000) : null },
        metadata: pi.metadata,
      };
    }
    case 'payment_intent.processing': {
      const pi = parse(paymentIntent, obj, e.type);
      return { eventId, type: 'payment.processing', processorPaymentId: pi.id, metadata: pi.metadata };
    }
    case 'payment_intent.succeeded': {
      const pi = parse(paymentIntent, obj, e.type);
      return {
        eventId,
        type: 'payment.succeeded',
        processorPaymentId: pi.id,
        chargeId: idOf(pi.latest_charge),
        amount: fromStripeAmount(pi.amount_received ?? pi.amount, pi.currency),
        // Event payloads carry the method's id only: brand and last 4 are asked for by the receipt job.
        method: null,
        processorMethodId: idOf(pi.payment_method ?? null),
        metadata: pi.metadata,
      };
    }
    case 'payment_intent.payment_failed': {
      const pi = parse(paymentIntent, obj, e.type);
      const err = pi.last_payment_error;
      return {
        eventId,
        type: 'payment.failed',
        processorPaymentId: pi.id,
        declineCode: err?.decline_code ?? err?.code ?? null,
        message: err?.message ?? 'The payment failed.',
        metadata: pi.metadata,
        methodKind: methodKindOf(err?.payment_method?.type ?? err?.payment_method_type ?? null),
      };
    }
    case 'refund.created':
    case 'refund.updated':
    case 'charge.refund.updated': {
      const re = parse(refund, obj, e.type);
      const pi = idOf(re.payment_intent);
      if (!pi) return { eventId, type: 'ignored', vendorType: e.type }; // a refund of a charge made without an intent
      return {
        eventId,
        type: 'refund.updated',
        processorPaymentId: pi,
        refundId: re.id,
        amount: fromStripeAmount(re.amount, re.currency),
        status: re.status ?? 'pending',
        metadata: re.metadata,
      };
    }
    case 'charge.dispute.created': {
      const dp = parse(dispute, obj, e.type);
      const pi = idOf(dp.payment_intent);
      // An inquiry (warning_*) withdraws no funds and may never become a dispute: nothing to book.
      if (!pi || dp.status.startsWith('warning_')) return { eventId, type: 'ignored', vendorType: e.type };
      const withdrawal = dp.balance_transactions[0];
      return {
        eventId,
        type: 'dispute.created',
        processorPaymentId: pi,
        disputeId: dp.id,
        amount: fromStripeAmount(dp.amount, dp.currency),
        fee: withdrawal ? fromStripeAmount(withdrawal.fee, withdrawal.currency) : null,
        reason: dp.reason,
      };
    }
    case 'charge.dispute.closed': {
      const dp = parse(dispute, obj, e.type);
      const pi = idOf(dp.payment_intent);
      if (!pi || dp.status === 'warning_closed') return { eventId, type: 'ignored', vendorType: e.type };
      const outcome = dp.status === 'won' || dp.status === 'lost' ? dp.status : null;
      // A closed dispute is won, lost or warning_closed (spec3.yaml › dispute › status); anything else is not a closing.
      if (!outcome) throw new WebhookRejected('malformed', `charge.dispute.closed with status ${dp.status}`);
      return { eventId, type: 'dispute.closed', processorPaymentId: pi, disputeId: dp.id, amount: fromStripeAmount(dp.amount, dp.currency), outcome };
    }
    case 'payout.paid': {
      const po = parse(payout, obj, e.type);
      return { eventId, type: 'payout.paid', payoutId: po.id, amount: fromStripeAmount(po.amount, po.currency), arrivalDate: isoDate(po.arrival_date) };
    }
    case 'payout.failed': {
      const po = parse(payout, obj, e.type);
      return { eventId, type: 'payout.failed', payoutId: po.id, amount: fromStripeAmount(po.amount, po.currency) };
    }
    default:
      return { eventId, type: 'ignored', vendorType: e.type };
  }
}

export function parseStripeWebhook(headers: Record<string, string | string[] | undefined>, rawBody: Buffer, opts: VerifyOptions): ProcessorEvent {
  verifyStripeSignature(headers, rawBody, opts);
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookRejected('malformed', 'body is not JSON');
  }
  return mapStripeEvent(body);
}
