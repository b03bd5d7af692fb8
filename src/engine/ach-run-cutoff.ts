// One bank cut-off: collect the entries that are ready into one NACHA file, archive it, and deliver it to
// the bank by SFTP (payments-rules.md §2.1, §2.3).
//
// Nothing twice, nothing lost:
// - Building is one transaction under a per-tenant lock: the file row (sealed bytes, hash, controls) and
//   every entry's file_id/trace commit together, and an entry is taken only while it has no file, so an
//   entry is in exactly one file. The scheduled run builds at most one file per (day, cut-off).
// - The file's name and header identity (date + File ID Modifier, §2.1) are fixed when it is built. Delivery
//   holds the file row locked, checks the bank's directories for that name (and the bank's acknowledgement
//   of it) before uploading, and records "sent" afterwards. A crash between the upload and the record
//   leaves the file `built`; the next run finds it at the bank and only records it. Should the check ever
//   miss, the bank refuses a second file with the same origin, date and modifier as a duplicate.
import { withTenant, type Tx } from '../db/tenant.ts';
import { FILE_ID_MODIFIERS, achFileName, BANK_ACH } from '../connectors/payments/bank-ach/catalogue.ts';
import { buildAchFile, type EntryToSend } from '../connectors/payments/bank-ach/build-file.ts';
import { currentWindow, isDue, localClock, type FileWindow } from '../connectors/payments/bank-ach/windows.ts';
import type { BankAchConnector } from '../connectors/payments/bank-ach/connector.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { crashPoint } from './crash-points.ts';
import { ACH_ACTOR, lockTenantAch, sha256Hex } from './ach-store.ts';
import { cancelEntry } from './ach-entry-outcomes.ts';

const MAX_TRACE_SEQUENCE = 9_999_999;

export interface CutoffResult {
  readonly built: { readonly fileId: string; readonly fileName: string; readonly entries: number } | null;
  readonly delivered: readonly { readonly fileName: string; readonly delivery: 'uploaded' | 'already_at_bank' }[];
  readonly note: string | null;
}

/**
 * `force`: build now for the next cut-off whether or not it is due (staff "send now", tests); the
 * scheduled run builds only within BANK_ACH.buildLeadMinutes of a cut-off, once per cut-off.
 */
export async function runAchCutoff(ctx: EngineContext, tenantId: string, opts: { force?: boolean } = {}): Promise<CutoffResult> {
  const c = await ctx.connectors.bankAch(tenantId);
  if (!c) return { built: null, delivered: [], note: 'no bank ACH connection' };
  const window = currentWindow(ctx.now(), c.config.cutoffs, c.config.timeZone);
  let built: CutoffResult['built'] = null;
  let note: string | null = null;
  if (opts.force || isDue(window, BANK_ACH.buildLeadMinutes)) {
    built = await buildFile(ctx, tenantId, c, window, opts.force === true);
    if (!built) note = 'no entries ready';
  } else {
    note = `next cut-off ${window.cutoffId} at ${window.cutoffAt} on ${window.windowDate} is not due yet`;
  }
  const delivered = await deliverBuiltFiles(ctx, tenantId, c);
  return { built, delivered, note };
}

async function buildFile(ctx: EngineContext, tenantId: string, c: BankAchConnector, window: FileWindow, force: boolean): Promise<CutoffResult['built']> {
  const clock = localClock(ctx.now(), c.config.timeZone);
  return withTenant(ctx.db, tenantId, async (tx) => {
    await lockTenantAch(tx, tenantId);
    if (!force) {
      const done = await tx
        .selectFrom('ach_files')
        .select('id')
        .where('file_date', '=', clock.date)
        .where('window_id', '=', window.cutoffId)
        .executeTakeFirst();
      if (done) return null;
    }
    await cancelStale(tx, tenantId, clock.date);
    const rows = await tx
      .selectFrom('ach_entries as e')
      .innerJoin('ach_bank_accounts as a', 'a.id', 'e.bank_account_id')
      .leftJoin('payments as p', 'p.id', 'e.payment_id')
      .select([
        'e.id',
        'e.kind',
        'e.sec_code',
        'e.amount_minor',
        'e.company_name',
        'e.company_id',
        'e.entry_description',
        'e.same_day',
        'e.remittance',
        'a.routing_number',
        'a.account_sealed',
        'a.account_type',
        'a.holder_name',
        'a.receiver_id',
        'p.source',
      ])
      .where('e.status', '=', 'pending')
      .where('e.file_id', 'is', null)
      .where('e.not_before', '<=', clock.date)
      .where('a.status', '=', 'active')
      // §2.7: a WEB account's first live debit waits for its prenote to pass.
      .where((eb) => eb.or([eb('e.kind', '=', 'prenote'), eb('a.validation', 'in', ['not_required', 'validated'])]))
      .orderBy('e.created_at')
      .forUpdate('e')
      .execute();
    if (rows.length === 0) return null;
    const today = await tx.selectFrom('ach_files').select('id').where('file_date', '=', clock.date).execute();
    const modifier = FILE_ID_MODIFIERS[today.length];
    if (!modifier)
      throw new UseCaseError(
        'conflict',
        `36 files were already built for ${clock.date} (File ID Modifiers A-Z, 0-9 are used up); the rest waits for the next day`,
      );
    const last = await tx.selectFrom('ach_files').select('last_trace_seq').orderBy('created_at', 'desc').limit(1).executeTakeFirst();
    let firstSeq = (last?.last_trace_seq ?? 0) + 1;
    if (firstSeq + rows.length - 1 > MAX_TRACE_SEQUENCE) firstSeq = 1; // 7-digit trace sequence wraps (returns match the newest)
    const entries: EntryToSend[] = rows.map((r) => ({
      entryId: r.id,
      kind: r.kind,
      secCode: r.sec_code,
      amountCents: r.amount_minor,
      companyName: r.company_name,
      companyId: r.company_id,
      entryDescription: r.entry_description,
      sameDay: r.same_day,
      routingNumber: r.routing_number,
      accountNumber: c.openAccount(r.account_sealed),
      accountType: r.account_type,
      receiverName: r.holder_name,
      receiverId: r.receiver_id,
      remittance: r.remittance,
      webPaymentType: r.source === 'autopay' || r.source === 'installment' ? 'R' : 'S',
    }));
    const file = buildAchFile({
      originator: c.originator,
      fileDate: clock.date,
      fileTime: clock.time.replace(':', ''),
      fileIdModifier: modifier,
      window,
      sameDayEnabled: c.config.sameDayEnabled,
      firstTraceSequence: firstSeq,
      entries,
    });
    const fileName = achFileName(c.config.fileNamePrefix, clock.date, modifier);
    const row = await tx
      .insertInto('ach_files')
      .values({
        tenant_id: tenantId,
        file_name: fileName,
        file_date: clock.date,
        file_id_modifier: modifier,
        window_id: force ? `manual-${modifier}` : window.cutoffId,
        content_sealed: c.sealFile(file.text),
        sha256: sha256Hex(file.text),
        byte_size: Buffer.byteLength(file.text, 'latin1'),
        batch_count: file.batchCount,
        entry_count: file.entryCount,
        total_debit_minor: file.totalDebitCents,
        total_credit_minor: file.totalCreditCents,
        first_trace_seq: file.firstTraceSequence,
        last_trace_seq: file.lastTraceSequence,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const [entryId, p] of file.placed) {
      const r = await tx
        .updateTable('ach_entries')
        .set({ status: 'batched', file_id: row.id, trace_number: p.traceNumber, effective_date: p.effectiveDate, updated_at: new Date() })
        .where('id', '=', entryId)
        .where('status', '=', 'pending')
        .where('file_id', 'is', null)
        .executeTakeFirst();
      if (r.numUpdatedRows !== 1n) throw new Error(`entry ${entryId} was taken by another file; building again`);
    }
    await audit(
      tx,
      tenantId,
      ACH_ACTOR,
      'ach_file.built',
      { type: 'ach_file', id: row.id },
      {
        file_name: fileName,
        window: window.cutoffId,
        entries: file.entryCount,
        total_debit_minor: file.totalDebitCents,
        sha256: sha256Hex(file.text),
      },
    );
    return { fileId: row.id, fileName, entries: file.entryCount };
  });
}

/** Reinitiations whose 180-day window closed before they could go out (§2.5) are not sent late. */
async function cancelStale(tx: Tx, tenantId: string, today: string): Promise<void> {
  const stale = await tx.selectFrom('ach_entries').select('id').where('status', '=', 'pending').where('latest_on', '<', today).execute();
  for (const s of stale) await cancelEntry(tx, tenantId, s.id, 'reinitiation_window_passed', 'the 180-day window for presenting this debit again has passed');
}

async function deliverBuiltFiles(ctx: EngineContext, tenantId: string, c: BankAchConnector): Promise<CutoffResult['delivered']> {
  const pending = await withTenant(ctx.db, tenantId, (tx) =>
    tx.selectFrom('ach_files').select('id').where('status', '=', 'built').orderBy('created_at').execute(),
  );
  const out: { fileName: string; delivery: 'uploaded' | 'already_at_bank' }[] = [];
  for (const f of pending) {
    const r = await deliverFile(ctx, tenantId, c, f.id);
    if (r) out.push(r);
  }
  return out;
}

export async function deliverFile(
  ctx: EngineContext,
  tenantId: string,
  c: BankAchConnector,
  fileId: string,
): Promise<{ fileName: string; delivery: 'uploaded' | 'already_at_bank' } | null> {
  try {
    return await withTenant(ctx.db, tenantId, async (tx) => {
      // Locked for the whole delivery: a second runner waits, then sees `sent` and does nothing.
      const f = await tx.selectFrom('ach_files').selectAll().where('id', '=', fileId).forUpdate().executeTakeFirstOrThrow();
      if (f.status !== 'built') return null;
      const d = await c.deliverFile({ fileName: f.file_name, content: Buffer.from(c.openFile(f.content_sealed), 'latin1') });
      crashPoint('after-ach-file-delivered');
      const now = new Date();
      await tx
        .updateTable('ach_files')
        .set((eb) => ({
          status: 'sent',
          sent_at: now,
          delivery: d.delivery,
          remote_path: d.remotePath,
          upload_attempts: eb('upload_attempts', '+', 1),
          last_error: null,
        }))
        .where('id', '=', f.id)
        .execute();
      await tx.updateTable('ach_entries').set({ status: 'sent', updated_at: now }).where('file_id', '=', f.id).where('status', '=', 'batched').execute();
      await audit(
        tx,
        tenantId,
        ACH_ACTOR,
        'ach_file.sent',
        { type: 'ach_file', id: f.id },
        {
          file_name: f.file_name,
          delivery: d.delivery,
          entries: f.entry_count,
          total_debit_minor: f.total_debit_minor,
          sha256: f.sha256,
        },
      );
      return { fileName: f.file_name, delivery: d.delivery };
    });
  } catch (e) {
    await withTenant(ctx.db, tenantId, (tx) =>
      tx
        .updateTable('ach_files')
        .set((eb) => ({ upload_attempts: eb('upload_attempts', '+', 1), last_error: (e as Error).message.slice(0, 1000) }))
        .where('id', '=', fileId)
        .execute(),
    );
    throw e;
  }
}
