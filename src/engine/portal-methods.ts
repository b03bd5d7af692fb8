// A client's saved payment methods, managed by the client in the portal (issue #12): add one through the
// processor's hosted fields (a setup session — Settle never sees the numbers), remove one (detached at the
// processor, kept here with removed_at as history), and choose the default autopay charges. Every change is
// audited with the client as the actor.
import crypto from 'node:crypto';
import { withTenant } from '../db/tenant.ts';
import { audit } from './audit.ts';
import { methodLabel } from './autopay-store.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { setDefaultMethod } from './manage-autopay.ts';
import { ensureProcessorCustomer } from './start-portal-payment.ts';
import { syncSavedMethods } from './sync-saved-methods.ts';

export interface PortalMethod {
  readonly id: string;
  readonly label: string;
  readonly kind: string;
  readonly expires: string | null;
  readonly isDefault: boolean;
}

/** The client's methods as the portal lists them (removed ones left out). */
export async function listPortalMethods(ctx: EngineContext, tenantId: string, clientId: string): Promise<PortalMethod[]> {
  const rows = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('payment_methods')
      .select(['id', 'kind', 'brand', 'last4', 'exp_month', 'exp_year', 'is_default'])
      .where('client_id', '=', clientId)
      .where('removed_at', 'is', null)
      .orderBy('created_at')
      .execute(),
  );
  return rows.map((m) => ({
    id: m.id,
    label: methodLabel(m),
    kind: m.kind,
    expires: m.exp_month && m.exp_year ? `${String(m.exp_month).padStart(2, '0')}/${m.exp_year}` : null,
    isDefault: m.is_default,
  }));
}

function setupOf(processor: Awaited<ReturnType<EngineContext['connectors']['payments']>>) {
  const setup = processor?.methodSetup;
  if (!processor || !setup)
    throw new UseCaseError('not_configured', 'Saving a card or bank account is not available here yet. Please contact your IT provider.');
  return { processor, setup };
}

/** Open a setup session for the hosted fields. ACH by the processor is USD only (payments-rules.md §2.8). */
export async function startPortalSetup(ctx: EngineContext, tenantId: string, clientId: string): Promise<{ setupId: string; clientSecret: string }> {
  const { setup } = setupOf(await ctx.connectors.payments(tenantId));
  const currency = await withTenant(
    ctx.db,
    tenantId,
    async (tx) => (await tx.selectFrom('tenants').select('currency').where('id', '=', tenantId).executeTakeFirstOrThrow()).currency,
  );
  const customerId = await ensureProcessorCustomer(ctx, tenantId, clientId);
  return setup.createSetupSession({
    customerId,
    methodKinds: currency === 'USD' ? ['card', 'us_bank_account'] : ['card'],
    metadata: { settle_tenant: tenantId, settle_client: clientId, settle_source: 'portal_methods' },
    // Each press opens a fresh session; the key only guards the SDK's resend of this one request.
    idempotencyKey: `portal-methods:${clientId}:setup:${crypto.randomUUID()}`,
  });
}

/** After the client confirmed in the hosted fields: record the method; it becomes the default only if none is. */
export async function completePortalSetup(ctx: EngineContext, tenantId: string, clientId: string, setupId: string): Promise<PortalMethod> {
  const { setup } = setupOf(await ctx.connectors.payments(tenantId));
  const customerId = await withTenant(
    ctx.db,
    tenantId,
    async (tx) => (await tx.selectFrom('clients').select('processor_customer_id').where('id', '=', clientId).executeTakeFirst())?.processor_customer_id ?? null,
  );
  const result = await setup.getSetupSession(setupId);
  if (!customerId || result.customerId !== customerId || result.metadata['settle_client'] !== clientId)
    throw new UseCaseError('not_found', 'This card or bank account was not saved from this page. Please start again.');
  if (result.status === 'failed')
    throw new UseCaseError('invalid', `The card or bank account was not saved: ${result.failureMessage ?? 'it was declined'}. Please try another one.`);
  if (result.status !== 'succeeded' || !result.processorMethodId)
    throw new UseCaseError('conflict', 'The card or bank account is not saved yet. Finish entering it in the secure form first.');
  const actor = `client:${clientId}` as const;
  const saved = (await syncSavedMethods(ctx, tenantId, clientId, actor)).find((m) => m.processorMethodId === result.processorMethodId);
  if (!saved) throw new UseCaseError('conflict', 'The payment processor has not listed the new method yet. Please try again in a moment.');
  await withTenant(ctx.db, tenantId, async (tx) => {
    const current = await tx
      .selectFrom('payment_methods')
      .select('id')
      .where('client_id', '=', clientId)
      .where('is_default', '=', true)
      .where('removed_at', 'is', null)
      .executeTakeFirst();
    if (!current) await setDefaultMethod(tx, tenantId, clientId, saved.id, actor);
  });
  const all = await listPortalMethods(ctx, tenantId, clientId);
  return all.find((m) => m.id === saved.id)!;
}

/** The client's choice of default (the method autopay charges first). */
export async function choosePortalDefault(ctx: EngineContext, tenantId: string, clientId: string, methodId: string): Promise<void> {
  await withTenant(ctx.db, tenantId, async (tx) => {
    const m = await tx.selectFrom('payment_methods').select(['client_id', 'removed_at']).where('id', '=', methodId).executeTakeFirst();
    if (!m || m.client_id !== clientId || m.removed_at)
      throw new UseCaseError('not_found', 'That card or bank account is not saved any more. Reload the page.');
    await setDefaultMethod(tx, tenantId, clientId, methodId, `client:${clientId}`);
  });
}

/**
 * Remove a saved method: detached at the processor first (so nothing can charge it), then marked removed
 * here. The default passes to the newest remaining method; autopay with no method left charges nothing and
 * the pre-debit notice says so (the run finds no method) — the page warns before the last one goes.
 */
export async function removePortalMethod(ctx: EngineContext, tenantId: string, clientId: string, methodId: string): Promise<{ label: string }> {
  const { setup } = setupOf(await ctx.connectors.payments(tenantId));
  const m = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('payment_methods')
      .select(['id', 'client_id', 'processor_method_id', 'kind', 'brand', 'last4', 'removed_at'])
      .where('id', '=', methodId)
      .executeTakeFirst(),
  );
  if (!m || m.client_id !== clientId || m.removed_at) throw new UseCaseError('not_found', 'That card or bank account is not saved any more. Reload the page.');
  if (!setup.removeSavedMethod) throw new UseCaseError('not_configured', 'Removing a saved method is not available here. Please contact your IT provider.');
  await setup.removeSavedMethod(m.processor_method_id);
  const actor = `client:${clientId}` as const;
  await withTenant(ctx.db, tenantId, async (tx) => {
    await tx.updateTable('payment_methods').set({ removed_at: ctx.now(), is_default: false }).where('id', '=', m.id).execute();
    await tx
      .updateTable('autopay_client_settings')
      .set({ fallback_method_id: null, updated_at: new Date() })
      .where('client_id', '=', clientId)
      .where('fallback_method_id', '=', m.id)
      .execute();
    const hasDefault = await tx
      .selectFrom('payment_methods')
      .select('id')
      .where('client_id', '=', clientId)
      .where('is_default', '=', true)
      .where('removed_at', 'is', null)
      .executeTakeFirst();
    const next = hasDefault
      ? null
      : await tx
          .selectFrom('payment_methods')
          .select('id')
          .where('client_id', '=', clientId)
          .where('removed_at', 'is', null)
          .orderBy('created_at', 'desc')
          .executeTakeFirst();
    if (next) await setDefaultMethod(tx, tenantId, clientId, next.id, actor);
    await audit(tx, tenantId, actor, 'payment_method.removed', { type: 'client', id: clientId }, { method_id: m.id, method: methodLabel(m) });
  });
  return { label: methodLabel(m) };
}
