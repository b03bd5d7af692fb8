// Exceptions raised by the payment lifecycle (returned payments, disputes), on top of exceptions.ts.
// A returned payment's exception closes itself when its invoices are paid again (the 0006 trigger);
// a dispute's closes when the dispute is decided.
import type { Tx } from '../db/tenant.ts';
import type { Payment } from '../db/schema.ts';
import { audit } from './audit.ts';
import { raiseException } from './exceptions.ts';

export async function openException(
  tx: Tx,
  p: Pick<Payment, 'id' | 'tenant_id' | 'client_id'>,
  e: { kind: string; dedupeKey: string; invoiceIds: readonly string[]; title: string; detail: string; data?: Record<string, unknown> },
): Promise<string> {
  return raiseException(tx, p.tenant_id, 'system:lifecycle', { ...e, clientId: p.client_id, paymentId: p.id });
}

export async function resolveException(tx: Tx, tenantId: string, dedupeKey: string, resolution: string): Promise<void> {
  const row = await tx.selectFrom('exceptions').select(['id', 'status', 'kind']).where('dedupe_key', '=', dedupeKey).forUpdate().executeTakeFirst();
  if (!row || row.status !== 'open') return;
  await tx
    .updateTable('exceptions')
    .set({ status: 'resolved', resolved_at: new Date(), resolved_by: 'system:lifecycle', resolution, updated_at: new Date() })
    .where('id', '=', row.id)
    .execute();
  await audit(tx, tenantId, 'system:lifecycle', 'exception.resolved', { type: 'exception', id: row.id }, { kind: row.kind, resolution });
}
