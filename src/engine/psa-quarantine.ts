// PSA records Settle cannot take. One bad record (a value the database refuses, a type Settle does not
// know) must never stop a workspace's import: it is set aside as an exception that names the record and the
// reason, and the rest goes on. The exception closes itself when the record is stored later (the PSA record
// was corrected, which changes its last-updated stamp, so the next sync or callback brings it again).
import { sql } from 'kysely';
import type { Tx } from '../db/tenant.ts';
import type { PsaRejectedRecord } from '../connectors/psa/types.ts';
import type { EngineContext } from './context.ts';
import { raiseException } from './exceptions.ts';
import { audit } from './audit.ts';

export const quarantineKey = (vendor: string, entity: PsaRejectedRecord['entity'], externalId: string): string =>
  `psa-record:${vendor}:${entity}:${externalId}`;

/**
 * Errors that belong to one record's data rather than to the database or the connection: SQLSTATE class 22
 * (data exception: NUL or an unencodable character, a number out of range, text too long) and class 23
 * (integrity: a check or not-null constraint). Anything else (deadlock, outage) is retried as a whole.
 */
export function isRecordDataError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/** Run `fn` under a savepoint: if it throws, the transaction is rolled back to before it and stays usable. */
export async function inSavepoint<T>(tx: Tx, fn: () => Promise<T>): Promise<T> {
  await sql`SAVEPOINT psa_record`.execute(tx);
  try {
    const r = await fn();
    await sql`RELEASE SAVEPOINT psa_record`.execute(tx);
    return r;
  } catch (e) {
    await sql`ROLLBACK TO SAVEPOINT psa_record`.execute(tx);
    throw e;
  }
}

export async function quarantinePsaRecord(ctx: EngineContext, tx: Tx, tenantId: string, vendor: string, rec: PsaRejectedRecord): Promise<void> {
  ctx.log.warn({ tenantId, vendor, record: rec.label, reason: rec.reason }, 'PSA record set aside: it cannot be stored; the rest of the import goes on');
  await raiseException(tx, tenantId, `system:psa-sync`, {
    kind: 'psa_record_rejected',
    dedupeKey: quarantineKey(vendor, rec.entity, rec.externalId),
    clientId: null,
    invoiceIds: [],
    paymentId: null,
    title: `${vendor} ${rec.label} could not be imported`,
    detail:
      `Settle could not store ${rec.label} from ${vendor}: ${rec.reason}. Everything else was imported. ` +
      `Correct the record in ${vendor}; Settle imports it at its next change and closes this by itself.`,
    data: { vendor, entity: rec.entity, external_id: rec.externalId, reason: rec.reason },
  });
}

/** Close the quarantine exceptions of records that have now been stored (one statement per page). */
export async function releasePsaRecords(
  tx: Tx,
  tenantId: string,
  vendor: string,
  entity: PsaRejectedRecord['entity'],
  externalIds: readonly string[],
): Promise<void> {
  if (externalIds.length === 0) return;
  const released = await tx
    .updateTable('exceptions')
    .set({ status: 'resolved', resolved_at: new Date(), resolved_by: 'system:psa-sync', resolution: 'record_imported', updated_at: new Date() })
    .where('status', '=', 'open')
    .where(
      'dedupe_key',
      'in',
      externalIds.map((id) => quarantineKey(vendor, entity, id)),
    )
    .returning(['id', 'title'])
    .execute();
  for (const r of released)
    await audit(tx, tenantId, 'system:psa-sync', 'exception.resolved', { type: 'exception', id: r.id }, { resolution: 'record_imported' });
}

/** Say which fields of which record had characters removed to be storable (connectors/storable-text.ts). */
export function logTextRepairs(
  ctx: EngineContext,
  tenantId: string,
  vendor: string,
  records: readonly { readonly textRepairs?: readonly string[]; readonly externalId: string }[],
  entity: PsaRejectedRecord['entity'],
): void {
  for (const r of records) {
    if (r.textRepairs?.length)
      ctx.log.warn(
        { tenantId, vendor, entity, externalId: r.externalId, fields: r.textRepairs },
        'removed characters PostgreSQL cannot store from PSA text fields',
      );
  }
}
