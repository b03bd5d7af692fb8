// A client's saved payment methods, mirrored from the processor. Methods are saved at the processor (the
// client ticks "save" in the hosted fields, or a SetupIntent); Settle keeps only the processor token and
// what staff need to recognise it (brand, last4), so "charge card on file" can name a method by our id.
import { withTenant } from '../db/tenant.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { ensureProcessorCustomer } from './start-portal-payment.ts';
import { audit, type Actor } from './audit.ts';

export interface StoredMethod {
  readonly id: string;
  readonly processorMethodId: string;
  readonly kind: string;
  readonly brand: string | null;
  readonly last4: string;
}

/** Ask the processor which methods the client's customer holds and record any new ones. Returns all of them. */
export async function syncSavedMethods(ctx: EngineContext, tenantId: string, clientId: string, actor: Actor): Promise<StoredMethod[]> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) throw new UseCaseError('not_configured', 'this workspace has no payment processor connected yet');
  const exists = await withTenant(ctx.db, tenantId, (tx) => tx.selectFrom('clients').select('id').where('id', '=', clientId).executeTakeFirst());
  if (!exists) throw new UseCaseError('not_found', `no client ${clientId} in this workspace`);
  const customerId = await ensureProcessorCustomer(ctx, tenantId, clientId);
  const methods = await processor.listSavedMethods(customerId);
  return withTenant(ctx.db, tenantId, async (tx) => {
    const out: StoredMethod[] = [];
    for (const m of methods) {
      // A bank account the processor reports without its last four digits cannot be shown to staff safely.
      if (!/^[0-9]{4}$/.test(m.last4)) continue;
      const inserted = await tx
        .insertInto('payment_methods')
        .values({
          tenant_id: tenantId,
          client_id: clientId,
          processor: processor.vendor,
          processor_method_id: m.processorMethodId,
          kind: m.kind,
          brand: m.brand,
          last4: m.last4,
          funding: m.funding,
          exp_month: m.expMonth,
          exp_year: m.expYear,
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'processor', 'processor_method_id']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted)
        await audit(
          tx,
          tenantId,
          actor,
          'payment_method.saved',
          { type: 'client', id: clientId },
          { method: `${m.kind} ${m.brand ?? ''} ${m.last4}`.replace(/\s+/g, ' ') },
        );
      const row = await tx
        .selectFrom('payment_methods')
        .select(['id', 'processor_method_id', 'kind', 'brand', 'last4'])
        .where('processor', '=', processor.vendor)
        .where('processor_method_id', '=', m.processorMethodId)
        .executeTakeFirstOrThrow();
      out.push({ id: row.id, processorMethodId: row.processor_method_id, kind: row.kind, brand: row.brand, last4: row.last4 });
    }
    return out;
  });
}
