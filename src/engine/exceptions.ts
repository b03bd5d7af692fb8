// Exceptions: things a person at the MSP must look at (a failed payment that needs the client, …). One row
// per `dedupeKey`, so raising the same problem again updates it instead of piling up rows. An exception about
// invoices closes itself when they are paid (a database trigger, migrations/0006_retries.sql, so that every
// path that pays an invoice closes it) — and is stored closed at once when they are paid already (a decline
// handled after the client paid another way must not wait for a trigger that has fired). Staff mark one
// resolved with a note or dismiss one with a reason (the Needs-attention page and the API, the same
// functions); the note is kept on the row (0024). All of it is audited in the same transaction.
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
  // The cause is gone already: every invoice it names is paid, voided or credited.
  const cleared = await invoicesClosed(tx, e.invoiceIds);
  if (!before) {
    const row = await tx
      .insertInto('exceptions')
      .values({ tenant_id: tenantId, dedupe_key: e.dedupeKey, ...values })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(tx, tenantId, actor, 'exception.opened', { type: 'exception', id: row.id }, { kind: e.kind, title: e.title });
    if (cleared) await closeAsPaid(tx, tenantId, row.id, e.kind, cleared);
    return row.id;
  }
  await tx
    .updateTable('exceptions')
    .set({ ...values, status: 'open', updated_at: new Date(), resolved_at: null, resolved_by: null, resolution: null, resolution_note: null })
    .where('id', '=', before.id)
    .execute();
  if (before.status !== 'open') await audit(tx, tenantId, actor, 'exception.reopened', { type: 'exception', id: before.id }, { kind: e.kind, title: e.title });
  if (cleared) await closeAsPaid(tx, tenantId, before.id, e.kind, cleared);
  return before.id;
}

/** 'paid' (or 'void' / 'credit') when every one of these invoices is closed; null when any is open or there are none. */
async function invoicesClosed(tx: Tx, invoiceIds: readonly string[]): Promise<string | null> {
  if (invoiceIds.length === 0) return null;
  const rows = await tx
    .selectFrom('invoices')
    .select('status')
    .where('id', 'in', [...invoiceIds])
    .execute();
  if (rows.length === 0 || rows.some((r) => !['paid', 'void', 'credit'].includes(r.status))) return null;
  return rows.some((r) => r.status === 'paid') ? 'paid' : rows[0]!.status;
}

/** As the 0006 trigger closes it, with the same actor and resolution. */
async function closeAsPaid(tx: Tx, tenantId: string, id: string, kind: string, status: string): Promise<void> {
  const actor = `system:invoice-${status}` as Actor;
  await tx
    .updateTable('exceptions')
    .set({ status: 'resolved', resolved_at: new Date(), resolved_by: actor, resolution: `invoice_${status}`, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
  await audit(tx, tenantId, actor, 'exception.resolved', { type: 'exception', id }, { kind, resolution: `invoice_${status}`, already: true });
}

const NOTE_MAX = 500;

/** The note a person gives, trimmed; a clear error when it is missing or too long. */
function noteOf(text: string | null | undefined, what: string): string {
  const note = (text ?? '').trim();
  if (!note) throw new UseCaseError('invalid', `${what}: say in a few words (it is kept with the item and in the audit log)`);
  if (note.length > NOTE_MAX) throw new UseCaseError('invalid', `${what}: at most ${NOTE_MAX} characters (this one has ${note.length})`);
  return note;
}

async function closeByPerson(
  tx: Tx,
  tenantId: string,
  id: string,
  actor: Actor,
  resolution: 'dismissed' | 'resolved',
  text: string | null | undefined,
): Promise<void> {
  const row = await tx.selectFrom('exceptions').select(['id', 'status', 'kind', 'resolution']).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new UseCaseError('not_found', `no exception ${id} in this workspace`);
  const verb = resolution === 'dismissed' ? 'dismiss' : 'mark resolved';
  if (row.status !== 'open') throw new UseCaseError('conflict', `exception ${id} is already closed (${row.resolution ?? 'resolved'}); nothing to ${verb}`);
  const note = noteOf(text, resolution === 'dismissed' ? 'The reason for dismissing it is missing' : 'The note on what was done is missing');
  await tx
    .updateTable('exceptions')
    .set({ status: 'resolved', resolved_at: new Date(), resolved_by: actor, resolution, resolution_note: note, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
  await audit(tx, tenantId, actor, `exception.${resolution}`, { type: 'exception', id }, { kind: row.kind, note });
}

/** A person dismisses an open exception (not Settle's business, or handled elsewhere), saying why. */
export async function dismissException(tx: Tx, tenantId: string, id: string, actor: Actor, reason: string | null): Promise<void> {
  return closeByPerson(tx, tenantId, id, actor, 'dismissed', reason);
}

/** A person marks an open exception resolved (they fixed its cause), saying what they did. */
export async function markExceptionResolved(tx: Tx, tenantId: string, id: string, actor: Actor, note: string | null): Promise<void> {
  return closeByPerson(tx, tenantId, id, actor, 'resolved', note);
}
