// ACH debit authorisation. Stripe will not debit a us_bank_account without a mandate: collected
// on-session through `mandate_data[customer_acceptance]`, or an earlier multi-use mandate (from a
// SetupIntent or a payment with setup_future_usage) reused for later off-session debits.
import { missingParam, paramError, stateError } from './errors.ts';
import type { FormObject } from './form.ts';
import type { Mandate, PaymentIntent, PaymentMethod } from './objects.ts';
import type { StripeStore } from './store.ts';

/** Create a mandate from `mandate_data`; returns its id, or undefined when none was given. */
export function createBankMethodMandate(
  store: StripeStore,
  pm: PaymentMethod,
  mandateData: FormObject | undefined,
  type: 'multi_use' | 'single_use',
  pi: PaymentIntent | null,
): string | undefined {
  if (!mandateData) return undefined;
  const acceptance = mandateData['customer_acceptance'];
  if (!acceptance || typeof acceptance !== 'object' || Array.isArray(acceptance)) throw missingParam('mandate_data[customer_acceptance]');
  const kind = acceptance['type'];
  if (kind !== 'online' && kind !== 'offline') {
    throw paramError('Invalid customer_acceptance type: must be one of online, offline', 'mandate_data[customer_acceptance][type]');
  }
  const online = acceptance['online'];
  const onlineObj = online && typeof online === 'object' && !Array.isArray(online) ? online : undefined;
  if (kind === 'online' && !onlineObj) throw missingParam('mandate_data[customer_acceptance][online]');
  const acceptedAt = typeof acceptance['accepted_at'] === 'string' ? Number(acceptance['accepted_at']) : store.now();
  const mandate: Mandate = {
    id: store.newId('mandate'),
    object: 'mandate',
    customer_acceptance: {
      accepted_at: acceptedAt,
      ...(kind === 'online'
        ? {
            online: {
              ip_address: typeof onlineObj?.['ip_address'] === 'string' ? onlineObj['ip_address'] : null,
              user_agent: typeof onlineObj?.['user_agent'] === 'string' ? onlineObj['user_agent'] : null,
            },
          }
        : { offline: {} }),
      type: kind,
    },
    livemode: false,
    ...(type === 'multi_use' ? { multi_use: {} } : { single_use: { amount: pi?.amount ?? 0, currency: pi?.currency ?? 'usd' } }),
    payment_method: pm.id,
    payment_method_details: { type: 'us_bank_account', us_bank_account: {} },
    status: 'active',
    type,
  };
  store.mandates.set(mandate.id, mandate);
  if (type === 'multi_use') store.mandateOf.set(pm.id, mandate.id);
  return mandate.id;
}

export function requireMandate(store: StripeStore, mandateId: string | undefined, pm: PaymentMethod): Mandate {
  if (!mandateId) {
    throw paramError(
      'A mandate is required to debit a us_bank_account PaymentMethod: pass mandate_data[customer_acceptance] or use a PaymentMethod set up with a mandate.',
      'mandate_data',
      'parameter_missing',
    );
  }
  const mandate = store.mandates.get(mandateId);
  if (!mandate || mandate.payment_method !== pm.id) throw paramError(`No such mandate: '${mandateId}' for this PaymentMethod`, 'mandate', 'resource_missing');
  if (mandate.status !== 'active') {
    throw stateError(`The mandate ${mandate.id} is ${mandate.status} and cannot be used for new debits.`, 'payment_method_unexpected_state', 'mandate');
  }
  return mandate;
}
