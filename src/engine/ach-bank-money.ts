// Bank ACH money in and out of the bank account, the way the bank books it (issue #6 item 5):
//
// - a settlement: the bank credits the originator once per NACHA file and effective date with the total of
//   that file's debits for the date. When every debit of the group has settled or come back, the group
//   becomes a `payouts` row (processor 'bank-ach', reference "<file name>:<effective date>") whose items
//   are its settled payments — and so one books deposit equal to the bank's credit, through the processor
//   payouts' deposit machinery (payout-deposit-plan.ts, books-deposit.ts: payments not in the books yet
//   ride on a clearing line). A debit returned before it settled is still in the bank's credit; the
//   deposit carries it on its adjustments line, and its return's debit (below) takes it out again.
// - a return: the bank takes the money of a returned debit back — a debit line of its own. It is a
//   negative 'bank-ach' payout ("return:<file name>:<trace>") booked against clearing: the ledger moves it
//   from the bank back to processor clearing, and a 'bank_withdrawal' posting books it in the books
//   (Dr the payout-adjustment account the return's reversal credited, Cr the bank).
//
// Both are matched to the bank's own lines in its BAI2 statement by ach-bank-statement.ts.
import { sql } from 'kysely';
import { journal } from '../domain/ledger.ts';
import { money } from '../domain/money.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { AccountingConnector } from '../connectors/accounting/types.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { enqueue } from './enqueue.ts';
import { writeJournal } from './ledger-writer.ts';
import { createPaymentPostings } from './payment-lifecycle.ts';
import { recordBooksAttempt } from './books-posting-outcome.ts';
import { ACH_ACTOR } from './ach-store.ts';

export const BANK_ACH_PROCESSOR = 'bank-ach';
/** Status of a bank-ACH payout until the bank's statement shows its line (then 'matched'). */
export const AWAITING_STATEMENT = 'awaiting_statement';

export const settlementReference = (fileName: string, effectiveDate: string): string => `${fileName}:${effectiveDate}`;
export const returnReference = (fileName: string, trace: string): string => `return:${fileName}:${trace}`;

async function booksVendor(tx: Tx): Promise<string | null> {
  const c = await tx.selectFrom('connections').select('vendor').where('role', '=', 'accounting').where('status', '!=', 'disabled').executeTakeFirst();
  return c?.vendor ?? null;
}

async function queueFlush(tx: Tx, tenantId: string): Promise<void> {
  await enqueue(
    tx,
    'flush-accounting',
    { tenantId },
    { queueName: `accounting:${tenantId}`, jobKey: `flush-accounting:${tenantId}`, jobKeyMode: 'preserve_run_at', runAt: new Date(Date.now() + 150) },
  );
}

/** Settlement groups (file × effective date) with nothing left in flight become deposits. Returns how many. */
export async function recordAchSettlements(ctx: EngineContext, tenantId: string): Promise<number> {
  const groups = await withTenant(ctx.db, tenantId, async (tx) => {
    const r = await sql<{ file_id: string; file_name: string; effective_date: string }>`
      SELECT f.id AS file_id, f.file_name, e.effective_date::text AS effective_date
        FROM ach_entries e JOIN ach_files f ON f.id = e.file_id
       WHERE e.kind = 'debit' AND e.amount_minor > 0 AND e.effective_date IS NOT NULL AND f.status IN ('sent', 'accepted')
         AND e.status <> 'cancelled'
       GROUP BY f.id, f.file_name, e.effective_date
      HAVING bool_and(e.status IN ('settled', 'returned'))
         AND NOT EXISTS (SELECT 1 FROM payouts p WHERE p.processor = ${BANK_ACH_PROCESSOR}
                            AND p.processor_payout_id = f.file_name || ':' || e.effective_date::text)`.execute(tx);
    return r.rows;
  });
  let n = 0;
  for (const g of groups) if (await depositGroup(ctx, tenantId, g)) n++;
  return n;
}

async function depositGroup(ctx: EngineContext, tenantId: string, g: { file_id: string; file_name: string; effective_date: string }): Promise<boolean> {
  return withTenant(ctx.db, tenantId, async (tx) => {
    const entries = await tx
      .selectFrom('ach_entries as e')
      .leftJoin('payments as p', 'p.id', 'e.payment_id')
      .select(['e.id', 'e.status', 'e.amount_minor', 'e.payment_id', 'p.processor_payment_id'])
      .where('e.file_id', '=', g.file_id)
      .where('e.effective_date', '=', g.effective_date)
      .where('e.kind', '=', 'debit')
      .where('e.amount_minor', '>', 0n)
      .where('e.status', '!=', 'cancelled')
      .forUpdate('e')
      .execute();
    if (entries.some((e) => e.status !== 'settled' && e.status !== 'returned')) return false;
    const total = entries.reduce((s, e) => s + e.amount_minor, 0n);
    const reference = settlementReference(g.file_name, g.effective_date);
    const inserted = await tx
      .insertInto('payouts')
      .values({
        tenant_id: tenantId,
        processor: BANK_ACH_PROCESSOR,
        processor_payout_id: reference,
        currency: 'USD',
        amount_minor: total,
        gross_minor: total,
        fees_minor: 0n,
        adjustments_minor: 0n,
        arrival_date: g.effective_date,
        status: AWAITING_STATEMENT,
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'processor', 'processor_payout_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return false;
    for (const e of entries) {
      const settled = e.status === 'settled' && e.payment_id !== null;
      await tx
        .insertInto('payout_items')
        .values({
          tenant_id: tenantId,
          payout_id: inserted.id,
          balance_transaction_id: e.id,
          // A debit returned before it settled is in the bank's credit but pays nothing: not a charge item.
          type: settled ? 'charge' : 'returned_debit',
          processor_payment_id: e.processor_payment_id,
          payment_id: e.payment_id,
          gross_minor: e.amount_minor,
          fee_minor: 0n,
          net_minor: e.amount_minor,
        })
        .execute();
      // "Mark paid on payout": the PSA and the books hear of the payment now; otherwise this adds nothing.
      if (settled) await createPaymentPostings(tx, e.payment_id!);
    }
    await writeJournal(tx, tenantId, 'payout', journal.payout({ amount: money(total, 'USD'), memo: `bank ACH settlement ${reference}` }), {
      payoutId: inserted.id,
    });
    await queueBooksPosting(tx, tenantId, { kind: 'deposit', payoutId: inserted.id, amountMinor: total });
    await audit(
      tx,
      tenantId,
      ACH_ACTOR,
      'ach_settlement.deposited',
      { type: 'payout', id: inserted.id },
      { reference, amount_minor: total, entries: entries.length, returned: entries.filter((e) => e.status === 'returned').length },
    );
    return true;
  });
}

/**
 * A returned debit: the bank takes its money back (a debit line on the statement). Called in the return's
 * transaction, once per returned entry (the notice is stored once per entry). Prenotes move no money.
 */
export async function recordAchBankDebit(
  tx: Tx,
  tenantId: string,
  e: { id: string; file_id: string | null; trace_number: string | null; amount_minor: bigint; payment_id: string | null; kind: string },
  code: string,
  returnedOn: string,
): Promise<void> {
  if (e.kind !== 'debit' || e.amount_minor <= 0n || !e.file_id || !e.trace_number) return;
  const file = await tx.selectFrom('ach_files').select(['file_name', 'status']).where('id', '=', e.file_id).executeTakeFirstOrThrow();
  if (file.status === 'rejected' || file.status === 'built') return; // the bank never credited it
  const reference = returnReference(file.file_name, e.trace_number);
  const inserted = await tx
    .insertInto('payouts')
    .values({
      tenant_id: tenantId,
      processor: BANK_ACH_PROCESSOR,
      processor_payout_id: reference,
      currency: 'USD',
      amount_minor: -e.amount_minor,
      gross_minor: -e.amount_minor,
      fees_minor: 0n,
      adjustments_minor: 0n,
      arrival_date: returnedOn,
      status: AWAITING_STATEMENT,
    })
    .onConflict((oc) => oc.columns(['tenant_id', 'processor', 'processor_payout_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return;
  await tx
    .insertInto('payout_items')
    .values({
      tenant_id: tenantId,
      payout_id: inserted.id,
      balance_transaction_id: e.id,
      type: 'ach_return',
      processor_payment_id: null,
      payment_id: e.payment_id,
      gross_minor: -e.amount_minor,
      fee_minor: 0n,
      net_minor: -e.amount_minor,
    })
    .execute();
  // Bank → processor clearing: the return's reversal (or the failed payment) left clearing short by this much.
  await writeJournal(tx, tenantId, 'ach_bank_debit', journal.payout({ amount: money(-e.amount_minor, 'USD'), memo: `bank ACH return ${code} ${reference}` }), {
    payoutId: inserted.id,
  });
  await queueBooksPosting(tx, tenantId, { kind: 'bank_withdrawal', payoutId: inserted.id, amountMinor: e.amount_minor, paymentId: e.payment_id });
  await audit(tx, tenantId, ACH_ACTOR, 'ach_return.bank_debit', { type: 'payout', id: inserted.id }, { reference, code, amount_minor: e.amount_minor });
}

/** Books the pending bank debits of returns (inside the tenant's accounting flush). Returns how many posted. */
export async function postBankWithdrawals(ctx: EngineContext, tenantId: string, books: AccountingConnector): Promise<number> {
  const rows = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('postings as po')
      .innerJoin('payouts as pa', 'pa.id', 'po.payout_id')
      .selectAll('po')
      .select(['pa.processor_payout_id', 'pa.arrival_date'])
      .where('po.target', '=', 'accounting')
      .where('po.kind', '=', 'bank_withdrawal')
      .where('po.status', '=', 'pending')
      .where('po.next_attempt_at', '<=', ctx.now())
      .orderBy('po.created_at')
      .execute(),
  );
  let posted = 0;
  for (const row of rows) {
    const r = books.postBankWithdrawal
      ? await books.postBankWithdrawal({
          idempotencyKey: row.idempotency_key,
          amount: money(row.amount_minor, 'USD'),
          withdrawnOn: row.arrival_date,
          reference: row.processor_payout_id,
          memo: `Bank ACH return ${row.processor_payout_id}: the bank took the returned debit back`,
          requestGeneration: row.request_generation,
        })
      : { ok: false as const, retryable: false, error: `the ${books.vendor} connector cannot book a bank withdrawal; book it by hand` };
    const outcome = await withTenant(ctx.db, tenantId, (tx) => recordBooksAttempt(ctx, tx, tenantId, books.vendor, row, r));
    if (outcome === 'posted') posted++;
  }
  return posted;
}

/**
 * The books posting of one bank line (a settlement's deposit or a return's withdrawal), queued for the tenant's
 * accounting flush; nothing when the workspace keeps no books connection.
 */
async function queueBooksPosting(
  tx: Parameters<typeof booksVendor>[0],
  tenantId: string,
  line: { kind: 'deposit' | 'bank_withdrawal'; payoutId: string; amountMinor: bigint; paymentId?: string | null },
): Promise<void> {
  const vendor = await booksVendor(tx);
  if (!vendor) return;
  await tx
    .insertInto('postings')
    .values({
      tenant_id: tenantId,
      target: 'accounting',
      vendor,
      kind: line.kind,
      payout_id: line.payoutId,
      ...(line.paymentId !== undefined ? { payment_id: line.paymentId } : {}),
      amount_minor: line.amountMinor,
      currency: 'USD',
      // The keys the bank lines have always had: a deposit's `…:deposit`, a return's `…:withdrawal`.
      idempotency_key: `payout:${line.payoutId}:${vendor}:${line.kind === 'deposit' ? 'deposit' : 'withdrawal'}`,
    })
    .execute();
  await queueFlush(tx, tenantId);
}
