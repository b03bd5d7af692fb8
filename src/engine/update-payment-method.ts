// Re-enrollment: the client opens the link from a failed-payment email, saves a new card or bank account in
// the processor's hosted fields (a setup session — no money moves), and Settle records it, makes it the
// client's default, and — by the tenant's policy — retries the client's failed payments on it at once.
import crypto from 'node:crypto';
import { withTenant } from '../db/tenant.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { enqueue } from './enqueue.ts';
import { ensureProcessorCustomer } from './start-portal-payment.ts';
import { syncSavedMethods } from './sync-saved-methods.ts';
import { loadRetryPolicy } from './retry-settings.ts';

export async function startMethodUpdate(
  ctx: EngineContext,
  tenantId: string,
  clientId: string,
  failureId: string,
): Promise<{ setupId: string; clientSecret: string }> {
  const processor = await ctx.connectors.payments(tenantId);
  const setup = processor?.methodSetup;
  if (!processor || !setup)
    throw new UseCaseError('not_configured', 'this workspace has no processor that can save a payment method; please contact your IT provider');
  const currency = await withTenant(ctx.db, tenantId, async (tx) => {
    const f = await tx.selectFrom('payment_failures').select(['client_id', 'payment_id']).where('id', '=', failureId).executeTakeFirst();
    if (!f || f.client_id !== clientId) throw new UseCaseError('not_found', 'this link does not belong to a payment of yours');
    return (await tx.selectFrom('payments').select('currency').where('id', '=', f.payment_id).executeTakeFirstOrThrow()).currency;
  });
  const customerId = await ensureProcessorCustomer(ctx, tenantId, clientId);
  // No money moves in a setup session; each press of "continue" opens a fresh one (the key only guards the
  // SDK's own resend of this one request).
  const session = await setup.createSetupSession({
    customerId,
    // ACH Direct Debit is USD only (payments-rules.md §2.8).
    methodKinds: currency === 'USD' ? ['card', 'us_bank_account'] : ['card'],
    metadata: { settle_tenant: tenantId, settle_client: clientId, settle_failure: failureId },
    idempotencyKey: `failure:${failureId}:setup:${crypto.randomUUID()}`,
  });
  await withTenant(ctx.db, tenantId, (tx) =>
    audit(
      tx,
      tenantId,
      `client:${clientId}`,
      'payment_method.setup_started',
      { type: 'client', id: clientId },
      { failure_id: failureId, setup_id: session.setupId },
    ),
  );
  return session;
}

export interface MethodUpdated {
  readonly methodId: string;
  readonly label: string;
  readonly retriesScheduled: number;
}

export async function completeMethodUpdate(ctx: EngineContext, tenantId: string, clientId: string, setupId: string): Promise<MethodUpdated> {
  const processor = await ctx.connectors.payments(tenantId);
  const setup = processor?.methodSetup;
  if (!processor || !setup) throw new UseCaseError('not_configured', 'this workspace has no processor that can save a payment method');
  const customerId = await withTenant(
    ctx.db,
    tenantId,
    async (tx) => (await tx.selectFrom('clients').select('processor_customer_id').where('id', '=', clientId).executeTakeFirst())?.processor_customer_id ?? null,
  );
  const result = await setup.getSetupSession(setupId);
  // The session must be this client's: same processor customer and our own metadata on it.
  if (!customerId || result.customerId !== customerId || result.metadata['settle_client'] !== clientId) {
    throw new UseCaseError('not_found', `setup ${setupId} does not belong to this link`);
  }
  if (result.status === 'failed')
    throw new UseCaseError('invalid', `the payment method was not saved: ${result.failureMessage ?? 'it was declined'}; please try another card or account`);
  if (result.status !== 'succeeded' || !result.processorMethodId)
    throw new UseCaseError('conflict', `the payment method is not saved yet (the setup is ${result.status}); finish entering it in the secure form first`);

  const actor = `client:${clientId}` as const;
  const methods = await syncSavedMethods(ctx, tenantId, clientId, actor);
  const saved = methods.find((m) => m.processorMethodId === result.processorMethodId);
  if (!saved) throw new UseCaseError('conflict', 'the processor has not listed the new method yet; please try again in a moment');

  const now = ctx.now();
  return withTenant(ctx.db, tenantId, async (tx) => {
    const previous = await tx.selectFrom('payment_methods').select(['id']).where('client_id', '=', clientId).where('is_default', '=', true).execute();
    await tx.updateTable('payment_methods').set({ is_default: false }).where('client_id', '=', clientId).where('id', '!=', saved.id).execute();
    await tx.updateTable('payment_methods').set({ is_default: true }).where('id', '=', saved.id).execute();
    const label = `${saved.kind === 'card' ? (saved.brand ?? 'card') : 'bank account'} ending ${saved.last4}`;
    await audit(
      tx,
      tenantId,
      actor,
      'payment_method.default_changed',
      { type: 'client', id: clientId },
      { method_id: saved.id, method: label, previous_default: previous.map((p) => p.id), setup_id: setupId },
    );

    const policy = await loadRetryPolicy(tx);
    let retries = 0;
    if (policy.retryOnMethodUpdate) {
      // The last failure of each of the client's chains that is waiting (scheduled) or gave up on the old
      // method (stopped) is tried again now, on the new default.
      const open = await tx
        .selectFrom('payment_failures')
        .select(['id', 'payment_id', 'status'])
        .where('client_id', '=', clientId)
        .where('retry_payment_id', 'is', null)
        .where('status', 'in', ['scheduled', 'stopped'])
        .forUpdate()
        .execute();
      for (const f of open) {
        await tx.updateTable('payment_failures').set({ status: 'scheduled', retry_at: now, updated_at: new Date() }).where('id', '=', f.id).execute();
        await enqueue(tx, 'retry-payment', { tenantId, failureId: f.id }, { jobKey: `payment-retry:${f.id}`, runAt: now, queueName: `retries:${tenantId}` });
        await audit(
          tx,
          tenantId,
          actor,
          'payment.retry_scheduled',
          { type: 'payment', id: f.payment_id },
          { failure_id: f.id, reason: 'payment method updated', was: f.status, retry_at: now.toISOString() },
        );
        retries++;
      }
    }
    return { methodId: saved.id, label, retriesScheduled: retries };
  });
}
