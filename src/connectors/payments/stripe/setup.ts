// Saving a payment method without a payment: a SetupIntent for the client's customer, confirmed by the
// client in Stripe's hosted fields (stripe.confirmSetup), which attaches the method to the customer for
// later off-session charges (and, for a bank account, stores the multi-use mandate). Settle only creates
// the intent and reads its result; card and account numbers never reach it.
import type Stripe from 'stripe';
import type { MethodSetupCapability, SetupResult, SetupSession } from '../types.ts';

export type StripeSetupStatus = 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'canceled' | 'succeeded';

const idOf = (v: string | { id: string } | null | undefined): string | null => (v == null ? null : typeof v === 'string' ? v : v.id);

export function setupResult(si: Pick<Stripe.SetupIntent, 'id' | 'status' | 'customer' | 'payment_method' | 'metadata' | 'last_setup_error'>): SetupResult {
  const status = si.status as StripeSetupStatus;
  const base = { setupId: si.id, customerId: idOf(si.customer), processorMethodId: idOf(si.payment_method), metadata: { ...(si.metadata ?? {}) } };
  switch (status) {
    case 'succeeded':
      return { ...base, status: 'succeeded', failureMessage: null };
    case 'requires_payment_method':
      // After a declined confirmation Stripe returns the intent here with last_setup_error set.
      return si.last_setup_error
        ? { ...base, status: 'failed', processorMethodId: null, failureMessage: si.last_setup_error.message ?? 'The payment method could not be saved.' }
        : { ...base, status: 'pending', failureMessage: null };
    case 'requires_confirmation':
    case 'requires_action':
    case 'processing':
      return { ...base, status: 'pending', failureMessage: null };
    case 'canceled':
      return { ...base, status: 'canceled', failureMessage: null };
    default: {
      const _: never = status;
      throw new Error(`unknown SetupIntent status ${String(_)}`);
    }
  }
}

export function stripeMethodSetup(stripe: Stripe, safe: <T>(fn: () => Promise<T>) => Promise<T>): MethodSetupCapability {
  return {
    async createSetupSession(input): Promise<SetupSession> {
      const si = await safe(() =>
        stripe.setupIntents.create(
          { customer: input.customerId, payment_method_types: [...input.methodKinds], usage: 'off_session', metadata: { ...input.metadata } },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      if (!si.client_secret) throw new Error(`Stripe returned SetupIntent ${si.id} without a client secret`);
      return { setupId: si.id, clientSecret: si.client_secret };
    },
    async getSetupSession(setupId: string): Promise<SetupResult> {
      return setupResult(await safe(() => stripe.setupIntents.retrieve(setupId)));
    },
    async removeSavedMethod(processorMethodId: string): Promise<void> {
      // Detaching twice is harmless for the client: the second answer says it is no longer attached.
      try {
        await safe(() => stripe.paymentMethods.detach(processorMethodId));
      } catch (e) {
        if (!/not attached to a customer/i.test((e as Error).message)) throw e;
      }
    },
  };
}
