// Reads what the bank left in its SFTP outbox and acts on it: acknowledgements of our files, return files
// (addenda 99) and notifications of change (addenda 98). Every file is stored first — sealed, with its hash
// — in ach_inbound_files (the inbox for bank files), then acted on; a file is recognised again by name and
// size (not fetched twice) and by name and hash (not stored twice), and the actions are idempotent per
// addenda line, so a crash anywhere means only that the next poll finishes the work.
// Statements (BAI2) are kept line by line. Then: debits whose return window for funds and account problems
// has passed are settled, each file's settlement per effective date becomes a deposit (ach-bank-money.ts),
// and the statement's lines are matched to those deposits and to the returns' debits (ach-bank-statement.ts).
import { listNocs, listReturns, parseAch } from '../connectors/payments/bank-ach/nacha/index.ts';
import type { BankAchConnector } from '../connectors/payments/bank-ach/connector.ts';
import { withTenant } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { applyAchReturn } from './apply-ach-return.ts';
import { applyAchNoc } from './apply-ach-noc.ts';
import { recordPaymentSucceeded } from './record-payment-outcome.ts';
import { ACH_ACTOR, bankToday, settlesAfter, sha256Hex } from './ach-store.ts';
import { raiseException } from './exceptions.ts';
import { recordAchSettlements } from './ach-bank-money.ts';
import { applyStatementFile, matchBankStatement } from './ach-bank-statement.ts';

export interface PollResult {
  readonly fetched: number;
  readonly processed: readonly { readonly name: string; readonly outcome: string }[];
  readonly settled: number;
}

export async function pollAchBank(ctx: EngineContext, tenantId: string): Promise<PollResult> {
  const c = await ctx.connectors.bankAch(tenantId);
  if (!c) return { fetched: 0, processed: [], settled: 0 };
  const fetched = await fetchNewFiles(ctx, tenantId, c);
  const processed = await processInbox(ctx, tenantId, c);
  const settled = await confirmAchSettlements(ctx, tenantId);
  // The bank's statement lines against the settlements (deposits) and returns booked so far.
  await matchBankStatement(ctx, tenantId, bankToday(ctx, c));
  return { fetched, processed, settled };
}

async function fetchNewFiles(ctx: EngineContext, tenantId: string, c: BankAchConnector): Promise<number> {
  const remote = await c.listBankFiles();
  const known = await withTenant(ctx.db, tenantId, (tx) => tx.selectFrom('ach_inbound_files').select(['remote_name', 'byte_size']).execute());
  const seen = new Set(known.map((k) => `${k.remote_name}|${k.byte_size}`));
  let n = 0;
  for (const f of remote) {
    if (seen.has(`${f.name}|${f.size}`)) continue;
    const content = await c.fetchBankFile(f.name);
    const text = content.toString('latin1');
    const stored = await withTenant(ctx.db, tenantId, (tx) =>
      tx
        .insertInto('ach_inbound_files')
        .values({
          tenant_id: tenantId,
          remote_name: f.name,
          sha256: sha256Hex(content),
          byte_size: content.length,
          content_sealed: c.sealFile(text),
          kind: f.kind,
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'remote_name', 'sha256']).doNothing())
        .returning('id')
        .executeTakeFirst(),
    );
    if (stored) n++;
  }
  return n;
}

async function processInbox(ctx: EngineContext, tenantId: string, c: BankAchConnector): Promise<{ name: string; outcome: string }[]> {
  const waiting = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('ach_inbound_files')
      .select(['id', 'remote_name', 'kind', 'content_sealed'])
      .where('processed_at', 'is', null)
      .orderBy('received_at')
      .execute(),
  );
  const out: { name: string; outcome: string }[] = [];
  for (const f of waiting) {
    let outcome: string;
    let error: string | null = null;
    try {
      const text = c.openFile(f.content_sealed);
      outcome =
        f.kind === 'ack'
          ? await applyAck(ctx, tenantId, c, f.remote_name, text)
          : f.kind === 'statement'
            ? await applyStatementFile(ctx, tenantId, { id: f.id, name: f.remote_name }, text)
            : await applyReturnsFile(ctx, tenantId, c, { id: f.id, name: f.remote_name }, text);
      if (outcome.startsWith('unreadable')) error = outcome;
    } catch (e) {
      // Left unprocessed: the next poll tries again (every action above is idempotent).
      await withTenant(ctx.db, tenantId, (tx) =>
        tx
          .updateTable('ach_inbound_files')
          .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: (e as Error).message.slice(0, 1000) }))
          .where('id', '=', f.id)
          .execute(),
      );
      ctx.log.error({ err: e, tenantId, file: f.remote_name }, 'bank ACH file could not be processed; will retry');
      out.push({ name: f.remote_name, outcome: 'error' });
      continue;
    }
    await withTenant(ctx.db, tenantId, (tx) =>
      tx
        .updateTable('ach_inbound_files')
        .set((eb) => ({ processed_at: ctx.now(), attempts: eb('attempts', '+', 1), last_error: error }))
        .where('id', '=', f.id)
        .execute(),
    );
    out.push({ name: f.remote_name, outcome });
  }
  return out;
}

async function applyAck(ctx: EngineContext, tenantId: string, c: BankAchConnector, name: string, text: string): Promise<string> {
  const ack = c.readAck(name, Buffer.from(text, 'latin1'));
  if (!ack) return 'unreadable acknowledgement';
  return withTenant(ctx.db, tenantId, async (tx) => {
    const f = await tx.selectFrom('ach_files').select(['id', 'status', 'file_name']).where('file_name', '=', ack.fileName).forUpdate().executeTakeFirst();
    if (!f) return `acknowledgement of ${ack.fileName}, which Settle did not send`;
    if (f.status === 'accepted' || f.status === 'rejected') return `already ${f.status}`;
    const now = ctx.now();
    await tx
      .updateTable('ach_files')
      .set({
        status: ack.status,
        ack_file_name: name,
        ack_text: text.slice(0, 4000),
        ack_at: now,
        ...(f.status === 'built' ? { sent_at: now, delivery: 'already_at_bank' as const } : {}),
      })
      .where('id', '=', f.id)
      .execute();
    // The bank has the file even if the crash after the upload kept us from recording it as sent.
    if (f.status === 'built')
      await tx.updateTable('ach_entries').set({ status: 'sent', updated_at: now }).where('file_id', '=', f.id).where('status', '=', 'batched').execute();
    await audit(tx, tenantId, 'vendor:bank-ach', `ach_file.${ack.status}`, { type: 'ach_file', id: f.id }, { file_name: f.file_name, reason: ack.reason });
    if (ack.status === 'rejected') {
      // Not re-sent automatically: a file refused as a duplicate is already at the bank, and sending its
      // entries again would debit the clients twice. A person decides.
      ctx.log.error({ tenantId, file: f.file_name, reason: ack.reason }, 'the bank rejected an ACH file');
      await raiseException(tx, tenantId, ACH_ACTOR, {
        kind: 'ach_file_rejected',
        dedupeKey: `ach-file-rejected:${f.id}`,
        clientId: null,
        invoiceIds: [],
        paymentId: null,
        title: `The bank rejected ACH file ${f.file_name}`,
        detail: `${ack.reason ?? 'no reason given'}. Its debits stay in progress and are not sent again automatically; check with the bank whether it holds the file.`,
        data: { file_id: f.id },
      });
    }
    return ack.status;
  });
}

async function applyReturnsFile(
  ctx: EngineContext,
  tenantId: string,
  c: BankAchConnector,
  inbound: { readonly id: string; readonly name: string },
  text: string,
): Promise<string> {
  const inboundId = inbound.id;
  // A return code outside the Nacha list is a warning here, not a reason to leave the whole file unread:
  // every other return in it is applied, and the unknown one becomes an exception (apply-ach-return.ts).
  const parsed = parseAch(text, { unknownReturnCodesAsWarnings: true });
  if (!parsed.ok) {
    const e = parsed.errors[0]!;
    const what = `line ${e.line ?? '?'} ${e.field ?? ''} ${e.message}`;
    await withTenant(ctx.db, tenantId, async (tx) => {
      await audit(
        tx,
        tenantId,
        ACH_ACTOR,
        'ach_inbound_file.unreadable',
        { type: 'ach_inbound_file', id: inboundId },
        { line: e.line, field: e.field, message: e.message },
      );
      await raiseException(tx, tenantId, ACH_ACTOR, {
        kind: 'ach_bank_file_unreadable',
        dedupeKey: `ach-inbound:${inboundId}`,
        clientId: null,
        invoiceIds: [],
        paymentId: null,
        title: 'A file from the bank could not be read',
        detail: `${what}. Returns or notifications of change in it are not applied; get a corrected file from the bank.`,
        data: { inbound_file_id: inboundId },
      });
    });
    return `unreadable: ${what}`;
  }
  const today = bankToday(ctx, c);
  const entryFor = (trace: string) =>
    withTenant(ctx.db, tenantId, (tx) =>
      tx
        .selectFrom('ach_entries')
        .select('id')
        .where('trace_number', '=', trace)
        .where('file_id', 'is not', null)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst(),
    );
  const unknownCodeLines = new Set(parsed.file.warnings.filter((w) => w.code === 'return_code').map((w) => w.line));
  const counts = new Map<string, number>();
  for (const r of listReturns(parsed.file)) {
    const entry = await entryFor(r.originalEntryTraceNumber);
    const o = await applyAchReturn(ctx, tenantId, {
      inboundFileId: inboundId,
      addendaLine: r.addendaLine,
      entryId: entry?.id ?? null,
      code: r.returnReasonCode,
      unknownCode: unknownCodeLines.has(r.addendaLine),
      returnedOn: today,
      detail: {
        file: inbound.name,
        line: r.addendaLine,
        original_trace: r.originalEntryTraceNumber,
        return_trace: r.traceNumber,
        amount_minor: r.amountCents.toString(),
        addenda_information: r.addendaInformation,
      },
    });
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  for (const n of listNocs(parsed.file)) {
    const entry = await entryFor(n.originalEntryTraceNumber);
    const o = await applyAchNoc(ctx, tenantId, {
      inboundFileId: inboundId,
      addendaLine: n.addendaLine,
      entryId: entry?.id ?? null,
      code: n.changeCode,
      refused: n.refused,
      correction: n.correction,
      receivedOn: today,
    });
    counts.set(`noc_${o}`, (counts.get(`noc_${o}`) ?? 0) + 1);
  }
  return [...counts].map(([k, v]) => `${k}:${v}`).join(' ') || 'empty';
}

/**
 * Debits and prenotes whose return window for funds and account problems has passed (ach-store
 * settlesAfter) are settled: a debit's payment succeeds (allocations, ledger, PSA and books postings through
 * record-payment-outcome), a prenote validates its account (§2.7). Files the bank rejected never settle.
 */
export async function confirmAchSettlements(ctx: EngineContext, tenantId: string): Promise<number> {
  const c = await ctx.connectors.bankAch(tenantId);
  if (!c) return 0;
  const today = bankToday(ctx, c);
  const sent = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('ach_entries as e')
      .innerJoin('ach_files as f', 'f.id', 'e.file_id')
      .select(['e.id', 'e.effective_date'])
      .where('e.status', '=', 'sent')
      .where('f.status', 'in', ['sent', 'accepted'])
      .execute(),
  );
  let settled = 0;
  for (const s of sent) {
    if (!s.effective_date || settlesAfter(s.effective_date) >= today) continue;
    const done = await withTenant(ctx.db, tenantId, async (tx) => {
      const e = await tx.selectFrom('ach_entries').selectAll().where('id', '=', s.id).forUpdate().executeTakeFirstOrThrow();
      if (e.status !== 'sent') return false;
      await tx.updateTable('ach_entries').set({ status: 'settled', settled_at: ctx.now(), updated_at: new Date() }).where('id', '=', e.id).execute();
      if (e.kind === 'prenote') {
        await tx
          .updateTable('ach_bank_accounts')
          .set({ validation: 'validated', validated_at: ctx.now(), updated_at: new Date() })
          .where('id', '=', e.bank_account_id)
          .where('validation', '=', 'pending')
          .execute();
        await audit(
          tx,
          tenantId,
          ACH_ACTOR,
          'ach_bank_account.validated',
          { type: 'ach_bank_account', id: e.bank_account_id },
          { prenote_entry_id: e.id, effective_date: e.effective_date },
        );
        return true;
      }
      const p = await tx.selectFrom('payments').select(['id', 'processor_payment_id']).where('id', '=', e.payment_id!).executeTakeFirstOrThrow();
      await tx.updateTable('payment_attempts').set({ outcome: 'succeeded', resolved_at: new Date() }).where('processor_payment_id', '=', e.id).execute();
      await recordPaymentSucceeded(tx, p.id, { processorPaymentId: p.processor_payment_id ?? e.id, method: null, secCode: e.sec_code });
      return true;
    });
    if (done) settled++;
  }
  // A file's debits for one effective date, all settled or returned: one deposit equal to the bank's credit.
  await recordAchSettlements(ctx, tenantId);
  return settled;
}
