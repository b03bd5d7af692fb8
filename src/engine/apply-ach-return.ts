// A bank ACH return (addenda 99) for an entry we sent, mapped by its R-code through the rules in
// domain/rules (payments-rules.md §2.4 actions, §2.5 reinitiation):
// - R01/R09 on a debit not yet settled: presented again ("RETRY PYMT", same company name, ID and amount)
//   on the day achReinitiation suggests, at most twice within 180 days; after that the payment fails.
// - unauthorized codes (R05, R07, R10, R29, R51): the mandate is revoked, nothing for that account is ever
//   sent again, the payment fails, and the debit is never retried.
// - account codes (R02, R03, R04, R20…): the account is disabled; other codes: the payment fails.
// - a return of a prenote: the account fails validation (§2.7) and is disabled (or revoked).
// - a return after the payment succeeded (late unauthorized returns on consumer accounts, 60 days):
//   `returnAfterSuccess` — the payment lifecycle's reversal, in the same transaction.
// Each return is stored once (ach_entry_notices is unique per file line and per returned entry), so
// reading the same return file again changes nothing.
import { achReinitiation, achReturnCode, type IsoDate } from '../domain/rules/index.ts';
import { money } from '../domain/money.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { recordAchReturnedBeforeSuccess } from './record-payment-outcome.ts';
import { queueReturnEmail, stopAccount } from './ach-entry-outcomes.ts';
import { ACH_ACTOR } from './ach-store.ts';
import { raiseException } from './exceptions.ts';
import { reverseSucceededPaymentInTx } from './reverse-succeeded-payment.ts';
import { recordAchBankDebit } from './ach-bank-money.ts';
import type { Payment } from '../db/schema.ts';

export interface AchReturnNotice {
  readonly inboundFileId: string;
  readonly addendaLine: number;
  /** The entry whose trace the return quotes; null when it matches nothing we sent. */
  readonly entryId: string | null;
  readonly code: string;
  /**
   * The code is not a Nacha return code (nor one this bank documented): the entry is still returned — the
   * money came back — but what the code asks for is unknown, so nothing is presented again and staff get an
   * exception naming the file, line, trace and code.
   */
  readonly unknownCode?: boolean;
  /** Bank business day the return reached us. */
  readonly returnedOn: IsoDate;
  readonly detail: Record<string, unknown>;
}

const AFTER_SUCCESS: ReadonlySet<string> = new Set(['succeeded', 'partially_refunded', 'disputed']);

export async function applyAchReturn(ctx: EngineContext, tenantId: string, n: AchReturnNotice): Promise<string> {
  const code = n.code.trim().toUpperCase();
  return withTenant(ctx.db, tenantId, async (tx) => {
    const outcome = n.entryId === null ? await applyUnmatched(ctx, tx, tenantId, n, code) : await applyToEntry(tx, tenantId, n, n.entryId, code);
    if (n.unknownCode && outcome !== 'already applied') await raiseUnknownCode(tx, tenantId, n, code, outcome);
    return outcome;
  });
}

async function applyUnmatched(ctx: EngineContext, tx: Tx, tenantId: string, n: AchReturnNotice, code: string): Promise<string> {
  const stored = await storeNotice(tx, tenantId, n, code, 'unmatched');
  if (stored) {
    ctx.log.error({ tenantId, code, detail: n.detail }, 'bank ACH return matches no entry Settle sent');
    await raiseException(tx, tenantId, ACH_ACTOR, {
      kind: 'ach_return_unmatched',
      dedupeKey: `ach-unmatched:${n.inboundFileId}:${n.addendaLine}`,
      clientId: null,
      invoiceIds: [],
      paymentId: null,
      title: `A bank return (${code}) matches no debit Settle sent`,
      detail: `Original trace ${String(n.detail['original_trace'] ?? '?')}. Check with the bank.`,
      data: n.detail,
    });
  }
  return stored ? 'unmatched' : 'already applied';
}

async function applyToEntry(tx: Tx, tenantId: string, n: AchReturnNotice, entryId: string, code: string): Promise<string> {
  const rule = achReturnCode(code);
  const e = await tx.selectFrom('ach_entries').selectAll().where('id', '=', entryId).forUpdate().executeTakeFirstOrThrow();
  if (e.status === 'returned') {
    await storeNotice(tx, tenantId, n, code, 'duplicate_return');
    return 'already applied';
  }
  await tx.updateTable('ach_entries').set({ status: 'returned', status_reason: code, updated_at: new Date() }).where('id', '=', e.id).execute();
  await tx
    .updateTable('payment_attempts')
    .set({ outcome: 'declined', decline_code: code, message: rule.description, resolved_at: new Date() })
    .where('processor_payment_id', '=', e.id)
    .execute();
  await audit(
    tx,
    tenantId,
    'vendor:bank-ach',
    'ach_entry.returned',
    { type: 'ach_entry', id: e.id },
    { code, kind: e.kind, amount_minor: e.amount_minor, payment_id: e.payment_id, presentment: e.presentment },
  );
  // The bank takes the money back: a debit line of its own, booked against clearing (ach-bank-money.ts).
  await recordAchBankDebit(tx, tenantId, e, code, n.returnedOn);

  let stopped: 'revoked' | 'disabled' | null = null;
  if (rule.action === 'revoke_mandate') stopped = 'revoked';
  else if (rule.action === 'disable_method' || e.kind === 'prenote') stopped = 'disabled';
  if (e.kind === 'prenote') {
    await tx.updateTable('ach_bank_accounts').set({ validation: 'failed', updated_at: new Date() }).where('id', '=', e.bank_account_id).execute();
  }
  if (stopped) await stopAccount(tx, tenantId, e.bank_account_id, stopped, code, rule.description);
  if (e.kind === 'prenote' || !e.payment_id) {
    await storeNotice(tx, tenantId, n, code, 'prenote_returned', { account: stopped });
    return 'prenote_returned';
  }

  const p = await tx.selectFrom('payments').selectAll().where('id', '=', e.payment_id).forUpdate().executeTakeFirstOrThrow();
  if (p.state !== 'processing') {
    const outcome = AFTER_SUCCESS.has(p.state) ? await returnAfterSuccess(tx, tenantId, p, code, rule.description) : `recorded_on_${p.state}_payment`;
    await storeNotice(tx, tenantId, n, code, outcome, { account: stopped });
    return outcome;
  }

  // Before success: present again when the rules allow it (§2.5), else the payment failed.
  const decision = stopped ? null : await reinitiationDecision(tx, e, code, n.returnedOn);
  if (decision?.allowed) {
    const next = e.presentment + 1;
    const retry = await tx
      .insertInto('ach_entries')
      .values({
        tenant_id: tenantId,
        payment_id: p.id,
        bank_account_id: e.bank_account_id,
        kind: 'debit',
        presentment: next,
        original_entry_id: e.original_entry_id ?? e.id,
        sec_code: e.sec_code,
        // §2.5: identical company name, company ID and amount; "RETRY PYMT".
        amount_minor: decision.constraints.amount.amountMinor,
        company_name: decision.constraints.companyName,
        company_id: decision.constraints.companyId,
        entry_description: decision.description,
        remittance: e.remittance,
        not_before: decision.earliestOn,
        latest_on: decision.latestOn,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const attempts = await tx
      .selectFrom('payment_attempts')
      .select((eb) => eb.fn.max('attempt_no').as('n'))
      .where('payment_id', '=', p.id)
      .executeTakeFirstOrThrow();
    await tx
      .insertInto('payment_attempts')
      .values({
        tenant_id: tenantId,
        payment_id: p.id,
        attempt_no: (attempts.n ?? 0) + 1,
        idempotency_key: `bank-ach:payment:${p.id}:presentment:${next}`,
        outcome: 'processing',
        processor_payment_id: retry.id,
      })
      .execute();
    await tx
      .insertInto('payment_events')
      .values({
        tenant_id: tenantId,
        payment_id: p.id,
        from_state: 'processing',
        to_state: 'processing',
        event: 'ach_reinitiated',
        detail: JSON.stringify({ code, presentment: next, on: decision.earliestOn, rules: decision.rulesApplied }),
      })
      .execute();
    await audit(
      tx,
      tenantId,
      ACH_ACTOR,
      'payment.ach_reinitiated',
      { type: 'payment', id: p.id },
      { code, presentment: next, entry_id: retry.id, on: decision.earliestOn, latest_on: decision.latestOn, amount_minor: p.amount_minor },
    );
    await storeNotice(tx, tenantId, n, code, 'reinitiated', { retry_entry_id: retry.id, on: decision.earliestOn, rules: decision.rulesApplied });
    await queueReturnEmail(tx, tenantId, {
      paymentId: p.id,
      entryId: e.id,
      code,
      description: rule.description,
      retryOn: decision.earliestOn,
      accountStopped: null,
    });
    return 'reinitiated';
  }
  await recordAchReturnedBeforeSuccess(tx, p.id, code, rule.description);
  const why =
    decision && !decision.allowed ? { reason: decision.reason, detail: decision.detail } : { reason: stopped ? `account_${stopped}` : 'not_reinitiable' };
  await storeNotice(tx, tenantId, n, code, 'payment_failed', { ...why, account: stopped });
  await queueReturnEmail(tx, tenantId, { paymentId: p.id, entryId: e.id, code, description: rule.description, retryOn: null, accountStopped: stopped });
  // The failure handler of other payments leaves bank-ACH ones to us (handle-payment-failure.ts): staff see it here.
  await raiseException(tx, tenantId, ACH_ACTOR, {
    kind: 'ach_return',
    dedupeKey: `ach-return:${p.id}`,
    clientId: p.client_id,
    invoiceIds: p.planned_allocations.map((a) => a.invoiceId),
    paymentId: p.id,
    title: `Bank debit returned (${code})`,
    detail: `${rule.description}. ${decision && !decision.allowed ? decision.detail : stopped === 'revoked' ? 'The debit authorization was revoked; the client must authorize debits again.' : stopped === 'disabled' ? 'The account can no longer be debited; ask the client for another account.' : 'Not presented again.'}`,
    data: { code, account: stopped },
  });
  return 'payment_failed';
}

const UNKNOWN_CODE_OUTCOME: Record<string, string> = {
  payment_failed: 'The debit is treated as returned: the payment failed and its invoices are open again; it is not presented again automatically.',
  returned_after_success: 'The debit is treated as returned: the payment was reversed and its invoices are open again in Settle, the PSA and the books.',
  prenote_returned: 'The prenote is treated as returned: the account failed validation and is disabled.',
  unmatched: 'It matches no debit Settle sent.',
};

/**
 * A return whose code nobody documented (not Nacha's, not this bank's): the rest of the file was applied,
 * and this one is put in front of a person with everything needed to find it at the bank. For a payment
 * it replaces the ordinary return exception (same key), so there is one exception per returned payment;
 * with the payment's invoices it closes itself when they are paid again.
 */
async function raiseUnknownCode(tx: Tx, tenantId: string, n: AchReturnNotice, code: string, outcome: string): Promise<void> {
  const entry = n.entryId ? await tx.selectFrom('ach_entries').select(['payment_id']).where('id', '=', n.entryId).executeTakeFirst() : undefined;
  const payment = entry?.payment_id
    ? await tx.selectFrom('payments').select(['id', 'client_id', 'planned_allocations']).where('id', '=', entry.payment_id).executeTakeFirst()
    : undefined;
  const file = String(n.detail['file'] ?? n.inboundFileId);
  const trace = String(n.detail['original_trace'] ?? '?');
  const what = UNKNOWN_CODE_OUTCOME[outcome] ?? `Recorded as ${outcome.replaceAll('_', ' ')}.`;
  await raiseException(tx, tenantId, ACH_ACTOR, {
    kind: 'ach_return_unknown_code',
    dedupeKey: payment
      ? `ach-return:${payment.id}`
      : n.entryId
        ? `ach-return-unknown:${n.inboundFileId}:${n.addendaLine}`
        : `ach-unmatched:${n.inboundFileId}:${n.addendaLine}`,
    clientId: payment?.client_id ?? null,
    invoiceIds: payment ? payment.planned_allocations.map((a) => a.invoiceId) : [],
    paymentId: payment?.id ?? null,
    title: `A bank return has a code Settle does not know (${code})`,
    detail:
      `Bank file ${file}, line ${n.addendaLine}: the return of the debit with trace ${trace} carries return code "${code}", which is not a Nacha return code. ` +
      `The other returns in the file were applied. ${what} ` +
      'Ask the bank what the code means; if the account must not be debited again, ask the client for another account, otherwise collect the invoices again.',
    data: { file, line: n.addendaLine, original_trace: trace, code, outcome },
  });
}

async function reinitiationDecision(
  tx: Tx,
  e: {
    id: string;
    payment_id: string | null;
    presentment: number;
    original_entry_id: string | null;
    effective_date: string | null;
    company_name: string;
    company_id: string;
    amount_minor: bigint;
  },
  code: string,
  returnedOn: IsoDate,
) {
  const earlier = await tx
    .selectFrom('ach_entry_notices as n')
    .innerJoin('ach_entries as x', 'x.id', 'n.entry_id')
    .select(['n.code', 'n.detail', 'n.created_at'])
    .where('x.payment_id', '=', e.payment_id)
    .where('n.kind', '=', 'return')
    .where('x.id', '!=', e.id)
    .execute();
  const original = e.original_entry_id
    ? await tx
        .selectFrom('ach_entries')
        .select(['effective_date', 'company_name', 'company_id', 'amount_minor'])
        .where('id', '=', e.original_entry_id)
        .executeTakeFirstOrThrow()
    : e;
  return achReinitiation({
    code,
    returnedOn,
    previousReturns: earlier.map((x) => ({
      code: x.code,
      returnedOn: typeof x.detail['returned_on'] === 'string' ? x.detail['returned_on'] : new Date(x.created_at).toISOString().slice(0, 10),
    })),
    original: {
      settledOn: original.effective_date ?? returnedOn,
      companyName: original.company_name,
      companyId: original.company_id,
      amount: money(original.amount_minor, 'USD'),
    },
    now: returnedOn,
  });
}

async function storeNotice(tx: Tx, tenantId: string, n: AchReturnNotice, code: string, outcome: string, extra: Record<string, unknown> = {}): Promise<boolean> {
  const r = await tx
    .insertInto('ach_entry_notices')
    .values({
      tenant_id: tenantId,
      inbound_file_id: n.inboundFileId,
      addenda_line: n.addendaLine,
      entry_id: n.entryId,
      kind: 'return',
      code,
      outcome,
      detail: JSON.stringify({ ...n.detail, returned_on: n.returnedOn, ...extra }),
    })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  return r !== undefined;
}

/**
 * A return after the payment succeeded (late unauthorized returns on consumer accounts may come up to 60
 * days after settlement, §2.4): the money the books and the PSA were told about is gone. The payment
 * lifecycle's reversal does the rest in this same transaction — invoices reopened, PSA payment and
 * accounting postings reversed, ledger journal, staff exception, client email (reverse-succeeded-payment.ts).
 * A payment under an open dispute is left to staff: the dispute decides where that money is.
 */
async function returnAfterSuccess(tx: Tx, tenantId: string, p: Payment, code: string, description: string): Promise<string> {
  if (p.state === 'succeeded' || p.state === 'partially_refunded') {
    const r = await reverseSucceededPaymentInTx(tx, { paymentId: p.id, reason: description, code, actor: 'vendor:bank-ach' });
    return r.reversed ? 'returned_after_success' : `recorded_on_${r.state}_payment`;
  }
  await raiseException(tx, tenantId, ACH_ACTOR, {
    kind: 'ach_return',
    dedupeKey: `ach-return:${p.id}`,
    clientId: p.client_id,
    invoiceIds: p.planned_allocations.map((a) => a.invoiceId),
    paymentId: p.id,
    title: `Bank debit returned (${code}) while ${p.state}`,
    detail: `${description}. The payment is ${p.state}; decide by hand what the return means for it.`,
    data: { code },
  });
  return 'after_success_left_for_staff';
}
