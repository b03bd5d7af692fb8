// What stops a sequence besides the facts Settle reads elsewhere (paid, autopay, a plan, money in flight, a
// chargeback): a client's promise to pay by a date, a dispute of an invoice, and a pause by staff. Each is a
// collection_holds row; it is released, never deleted, so the results page can count promises kept and
// missed. The client records a promise or a dispute from the portal (http/portal/promise-to-pay.ts), staff
// from the client's collections page; each is audited in the same transaction.
import { sql } from 'kysely';
import type { Tx } from '../../db/tenant.ts';
import { addDays, daysBetween, type IsoDate } from '../../domain/rules/calendar-date.ts';
import { audit, type Actor } from '../audit.ts';
import { UseCaseError } from '../context.ts';
import type { Db } from '../../db/pool.ts';
import { localDayAndHour } from '../../domain/rules/dunning.ts';
import { workspaceTimezone } from '../../domain/timezone.ts';

export type HoldKind = 'promise' | 'dispute' | 'pause';

export interface HoldInput {
  readonly clientId: string;
  /** One invoice, or null for every invoice of the client (a pause). */
  readonly invoiceId: string | null;
  readonly kind: HoldKind;
  /** A promise's date; chasing resumes the day after it if the invoice is still unpaid. */
  readonly untilOn?: IsoDate;
  readonly note: string;
  readonly source: 'portal' | 'staff';
}

/** Longest promise accepted from the portal: a longer one is a conversation with staff, not a click. */
export const MAX_PROMISE_DAYS = 60;

export async function placeHold(tx: Tx, tenantId: string, h: HoldInput, today: IsoDate, actor: Actor): Promise<string> {
  const note = h.note.trim().slice(0, 2000);
  if (h.kind === 'promise') {
    if (!h.untilOn || !/^\d{4}-\d{2}-\d{2}$/.test(h.untilOn))
      throw new UseCaseError('invalid', 'Enter the date you will pay by, like 2026-04-30', { fields: { until_on: 'Enter a date, like 2026-04-30' } });
    const days = daysBetween(today, h.untilOn);
    if (days < 0)
      throw new UseCaseError('invalid', 'The date you will pay by must be today or later', { fields: { until_on: 'Choose today or a later date' } });
    if (h.source === 'portal' && days > MAX_PROMISE_DAYS)
      throw new UseCaseError(
        'invalid',
        `Choose a date within ${MAX_PROMISE_DAYS} days (by ${addDays(today, MAX_PROMISE_DAYS)}), or contact us to agree a later one`,
        {
          fields: { until_on: `Choose a date by ${addDays(today, MAX_PROMISE_DAYS)}` },
        },
      );
  }
  if (h.kind === 'dispute' && note.length < 3)
    throw new UseCaseError('invalid', 'Tell us what is wrong with the invoice, so we can put it right', {
      fields: { note: 'Say what is wrong with the invoice' },
    });
  if (h.kind !== 'pause' && !h.invoiceId) throw new UseCaseError('invalid', 'Choose the invoice', { fields: { invoice_id: 'Choose the invoice' } });
  if (h.invoiceId) {
    const inv = await tx.selectFrom('invoices').select(['client_id', 'status', 'number']).where('id', '=', h.invoiceId).executeTakeFirst();
    if (!inv || inv.client_id !== h.clientId) throw new UseCaseError('not_found', 'That invoice is not one of this client’s');
    if (inv.status !== 'open' && inv.status !== 'partially_paid')
      throw new UseCaseError('invalid', `Invoice ${inv.number} is not open (it is ${inv.status}); there is nothing to chase`);
  }
  // A new promise or dispute on the same invoice replaces the one before it (the latest word counts).
  await tx
    .updateTable('collection_holds')
    .set({ released_at: new Date(), released_by: actor, release_reason: 'replaced' })
    .where('client_id', '=', h.clientId)
    .where('kind', '=', h.kind)
    .where('released_at', 'is', null)
    .where((eb) => (h.invoiceId ? eb('invoice_id', '=', h.invoiceId) : eb('invoice_id', 'is', null)))
    .execute();
  const row = await tx
    .insertInto('collection_holds')
    .values({
      tenant_id: tenantId,
      client_id: h.clientId,
      invoice_id: h.invoiceId,
      kind: h.kind,
      until_on: h.kind === 'promise' ? h.untilOn! : null,
      note,
      source: h.source,
      created_by: actor,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await audit(
    tx,
    tenantId,
    actor,
    `collections.${h.kind}_recorded`,
    { type: 'client', id: h.clientId },
    {
      hold_id: row.id,
      invoice_id: h.invoiceId,
      until_on: h.untilOn ?? null,
      note,
      source: h.source,
    },
  );
  return row.id;
}

/** Staff end a hold: a dispute resolved, a pause lifted, a promise withdrawn. Chasing resumes on the next run. */
export async function releaseHold(tx: Tx, tenantId: string, holdId: string, reason: 'resolved' | 'resumed', actor: Actor): Promise<void> {
  const h = await tx
    .updateTable('collection_holds')
    .set({ released_at: new Date(), released_by: actor, release_reason: reason })
    .where('id', '=', holdId)
    .where('released_at', 'is', null)
    .returning(['client_id', 'kind', 'invoice_id'])
    .executeTakeFirst();
  if (!h) throw new UseCaseError('not_found', 'That hold is not active (released already, or not in this workspace)');
  await audit(
    tx,
    tenantId,
    actor,
    'collections.hold_released',
    { type: 'client', id: h.client_id },
    { hold_id: holdId, kind: h.kind, invoice_id: h.invoice_id, reason },
  );
}

/**
 * Close the promises the facts settled, in two statements for the whole workspace: kept (its invoice is
 * paid, or the client's invoices are) and missed (its date passed with the invoice still open — chasing
 * resumes from the step it had reached). Audited per promise.
 */
export async function settlePromises(tx: Tx, tenantId: string, today: IsoDate): Promise<{ kept: number; missed: number }> {
  const kept = await sql<{ id: string; client_id: string; invoice_id: string | null }>`
    UPDATE collection_holds h SET released_at = now(), released_by = 'system:collections', release_reason = 'kept'
     WHERE h.kind = 'promise' AND h.released_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.client_id = h.client_id AND (h.invoice_id IS NULL OR i.id = h.invoice_id)
                          AND i.status IN ('open', 'partially_paid'))
    RETURNING h.id, h.client_id, h.invoice_id`.execute(tx);
  const missed = await sql<{ id: string; client_id: string; invoice_id: string | null; until_on: string }>`
    UPDATE collection_holds h SET released_at = now(), released_by = 'system:collections', release_reason = 'missed'
     WHERE h.kind = 'promise' AND h.released_at IS NULL AND h.until_on < ${today}::date
    RETURNING h.id, h.client_id, h.invoice_id, h.until_on::text`.execute(tx);
  for (const r of kept.rows)
    await audit(
      tx,
      tenantId,
      'system:collections',
      'collections.promise_kept',
      { type: 'client', id: r.client_id },
      { hold_id: r.id, invoice_id: r.invoice_id },
    );
  for (const r of missed.rows)
    await audit(
      tx,
      tenantId,
      'system:collections',
      'collections.promise_missed',
      { type: 'client', id: r.client_id },
      {
        hold_id: r.id,
        invoice_id: r.invoice_id,
        until_on: r.until_on,
      },
    );
  return { kept: kept.rows.length, missed: missed.rows.length };
}

/** Today in the workspace's timezone: the day a promise is judged from (staff page, API, CLI). */
export async function workspaceToday(db: Db, tenantId: string, now: Date): Promise<IsoDate> {
  const t = await db.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirstOrThrow();
  return localDayAndHour(now, workspaceTimezone(t.settings as Record<string, unknown>)).day;
}

export interface HoldView {
  readonly id: string;
  readonly kind: HoldKind;
  readonly invoiceId: string | null;
  readonly invoiceNumber: string | null;
  readonly untilOn: string | null;
  readonly note: string;
  readonly source: string;
  readonly createdAt: Date;
}

export async function activeHolds(tx: Tx, clientId: string): Promise<HoldView[]> {
  const rows = await tx
    .selectFrom('collection_holds as h')
    .leftJoin('invoices as i', 'i.id', 'h.invoice_id')
    .select(['h.id', 'h.kind', 'h.invoice_id', 'i.number', 'h.until_on', 'h.note', 'h.source', 'h.created_at'])
    .where('h.client_id', '=', clientId)
    .where('h.released_at', 'is', null)
    .orderBy('h.created_at', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    invoiceId: r.invoice_id,
    invoiceNumber: r.number,
    untilOn: r.until_on,
    note: r.note,
    source: r.source,
    createdAt: r.created_at,
  }));
}
