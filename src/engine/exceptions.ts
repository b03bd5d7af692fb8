// Exceptions: things a person at the MSP must look at (a failed payment that needs the client, …). One row
// per `dedupeKey`, so raising the same problem again updates it instead of piling up rows. An exception about
// invoices closes itself when they are paid (a database trigger, migrations/0006_retries.sql, so that every
// path that pays an invoice closes it); staff can dismiss one. Both are audited in the same transaction.
import type { Tx } from '../db/tenant.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError } from './context.ts';

export interface RaiseException {
  readonly kind: string;
  readonly dedupeKey: string;
  readonly clientId: string | null;
  readonly invoiceIds: readonly string[];
  readonly paymentId: string | null;
  readonly title: string;
  readonly detail: string;
  readonly data?: Record<string, unknown>;
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

/** Open (or re-open and refresh) the exception named by `dedupeKey`. Returns its id. */
export async function raiseException(tx: Tx, tenantId: string, actor: Actor, e: RaiseException): Promise<string> {
  const before = await tx.selectFrom('exceptions').select(['id', 'status']).where('dedupe_key', '=', e.dedupeKey).forUpdate().executeTakeFirst();
  const values = {
    kind: e.kind,
    client_id: e.clientId,
    invoice_ids: [...e.invoiceIds],
    payment_id: e.paymentId,
    title: e.title,
    detail: e.detail,
    data: json(e.data ?? {}),
  };
  if (!before) {
    const row = await tx
      .insertInto('exceptions')
      .values({ tenant_id: tenantId, dedupe_key: e.dedupeKey, ...values })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(tx, tenantId, actor, 'exception.opened', { type: 'exception', id: row.id }, { kind: e.kind, title: e.title });
    return row.id;
  }
  await tx
    .updateTable('exceptions')
    .set({ ...values, status: 'open', updated_at: new Date(), resolved_at: null, resolved_by: null, resolution: null })
    .where('id', '=', before.id)
    .execute();
  if (before.status !== 'open') await audit(tx, tenantId, actor, 'exception.reopened', { type: 'exception', id: before.id }, { kind: e.kind, title: e.title });
  return before.id;
}

export async function dismissException(tx: Tx, tenantId: string, id: string, actor: Actor, note: string | null): Promise<void> {
  const row = await tx.selectFrom('exceptions').select(['id', 'status', 'kind']).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new UseCaseError('not_found', `no exception ${id} in this workspace`);
  if (row.status !== 'open') throw new UseCaseError('conflict', `exception ${id} is already resolved; nothing to dismiss`);
  await tx
    .updateTable('exceptions')
    .set({ status: 'resolved', resolved_at: new Date(), resolved_by: actor, resolution: 'dismissed', updated_at: new Date() })
    .where('id', '=', id)
    .execute();
  await audit(tx, tenantId, actor, 'exception.dismissed', { type: 'exception', id }, { kind: row.kind, note });
}
