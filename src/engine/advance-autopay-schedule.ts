// One schedule, one step forward, under a row lock: stop it if the invoice no longer needs collecting, ask
// staff when the amount is over the rule's cap or jumped against the client's previous invoice, and send the
// pre-debit notice — again whenever what would be charged differs from what the client was last told (the
// PSA is the source of truth; docs/architecture.md "Autopay" gives the policy). Says whether it may be
// charged now. Every decision is audited in the same transaction.
import { withTenant, type Tx } from '../db/tenant.ts';
import { parseCurrency } from '../domain/money.ts';
import { approvalCovers, approvalReasons, holdAfterNotice, matchRule, noticeChange, noticeDueOn, type AutopayRule } from '../domain/autopay.ts';
import { maxDate } from '../domain/rules/calendar-date.ts';
import type { AutopayScheduleState } from '../db/schema.ts';
import { autopayCancelled, preDebitNotice, type CancelReason } from '../notify/autopay-emails.ts';
import { queueEmail } from '../notify/queue-email.ts';
import { templateOf } from '../notify/templates/compose.ts';
import { audit, type Actor } from './audit.ts';
import { chooseMethod, lineKindsOf, loadScheduleFacts, previousInvoiceTotal, type AutopaySettings } from './autopay-store.ts';
import { contractDetail, contractTotalsOf } from './autopay-contract-store.ts';
import type { EngineContext } from './context.ts';

export const ACTIVE_STATES: readonly AutopayScheduleState[] = ['pending_notice', 'awaiting_approval', 'blocked', 'noticed'];
const ACTOR: Actor = 'system:autopay';

export interface RunEnv {
  readonly rules: readonly AutopayRule[];
  readonly settings: AutopaySettings;
  readonly today: string;
  readonly mspName: string;
}

export type StepResult = 'waiting' | 'cancelled' | 'busy';

/** A schedule that may be charged now: what its notice said, and with which method. */
export interface ReadyCharge {
  readonly scheduleId: string;
  readonly invoiceId: string;
  readonly version: number;
  readonly amountMinor: bigint;
  /** Attempts made so far in this cycle (the charge is attempt + 1). */
  readonly attempt: number;
  readonly methodId: string;
  readonly customerId: string | null;
}

type Schedule = NonNullable<Awaited<ReturnType<typeof lockSchedule>>>;
const lockSchedule = (tx: Tx, id: string) =>
  tx
    .selectFrom('autopay_schedules')
    .selectAll()
    .where('id', '=', id)
    .where('state', 'in', [...ACTIVE_STATES])
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();

export async function advanceAutopaySchedule(ctx: EngineContext, tenantId: string, scheduleId: string, env: RunEnv): Promise<StepResult | ReadyCharge> {
  return withTenant(ctx.db, tenantId, async (tx) => {
    const s = await lockSchedule(tx, scheduleId);
    if (!s) return 'busy'; // another run holds it, or it left the active states
    return advanceLocked(tx, tenantId, s, env);
  });
}

async function advanceLocked(tx: Tx, tenantId: string, s: Schedule, env: RunEnv): Promise<StepResult | ReadyCharge> {
  const f = await loadScheduleFacts(tx, s.invoice_id, s.client_id);
  const inv = f;
  if (inv.status === 'void' || inv.status === 'credit')
    return cancelLocked(tx, tenantId, s, inv.status === 'void' ? 'invoice_voided' : 'invoice_credit', env.mspName);
  if (!f.collection_enabled || !f.autopay_enabled) return cancelLocked(tx, tenantId, s, 'client_autopay_off', env.mspName);
  if (f.in_progress) return 'waiting';
  const amount = f.collectible;
  if (amount <= 0n) return cancelLocked(tx, tenantId, s, 'nothing_owed', env.mspName);

  // The rule is re-read until the first notice, and again whenever the PSA changed the invoice after one
  // (its type, lines or due date may have changed); a notice already sent is not undone by a rule edit alone.
  const lockedRuleId = f.locked_rule_id;
  const fallbackMethodId = f.fallback_method_id;
  let rule = env.rules.find((r) => r.id === s.rule_id);
  let chargeOn = s.charge_on;
  let noticeDays = s.notice_days;
  if (s.noticed_at === null || inv.current_version !== s.noticed_version || !rule) {
    const lineKinds = await lineKindsOf(tx, inv.id, inv.current_version);
    const m = matchRule(env.rules, s.client_id, lockedRuleId, {
      type: inv.type,
      currency: inv.currency,
      lineKinds,
      issuedOn: inv.issued_on,
      dueOn: inv.due_on,
    });
    if (!m) {
      const asked = await tx.selectFrom('autopay_approvals').select('id').where('schedule_id', '=', s.id).limit(1).execute();
      if (s.noticed_at === null && asked.length === 0) {
        // Nothing was ever said or asked about it: forget the schedule, a later rule may still pick it up.
        await tx.deleteFrom('autopay_schedules').where('id', '=', s.id).execute();
        return 'cancelled';
      }
      return cancelLocked(tx, tenantId, s, 'no_rule', env.mspName);
    }
    rule = m.rule;
    chargeOn = m.chargeOn;
    noticeDays = rule.noticeDays ?? env.settings.noticeDays;
    if (rule.id !== s.rule_id || chargeOn !== s.charge_on || noticeDays !== s.notice_days) {
      await tx
        .updateTable('autopay_schedules')
        .set({ rule_id: rule.id, charge_on: chargeOn, notice_days: noticeDays, updated_at: new Date() })
        .where('id', '=', s.id)
        .execute();
    }
  }
  if (s.noticed_at === null && env.today < noticeDueOn(chargeOn, noticeDays)) return setState(tx, s, 'pending_notice', null, 'waiting');

  // The invoice's lines by contract: the jump is judged per contract, and the rule may cover only some kinds.
  const contracts = await contractTotalsOf(tx, inv.id);
  const reasons = approvalReasons({
    amountMinor: amount,
    capMinor: rule.approvalCapMinor,
    totalMinor: inv.total_minor,
    previousTotalMinor: env.settings.jumpPercent === null ? null : await previousInvoiceTotal(tx, inv),
    jumpPercent: env.settings.jumpPercent,
    contracts,
    coveredKinds: rule.contractKinds ?? null,
  });
  if (reasons.length > 0) {
    const approved = await tx
      .selectFrom('autopay_approvals')
      .select('amount_minor')
      .where('schedule_id', '=', s.id)
      .where('status', '=', 'approved')
      .orderBy('decided_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!approved || !approvalCovers(approved.amount_minor, amount)) {
      const pending = await tx.selectFrom('autopay_approvals').selectAll().where('schedule_id', '=', s.id).where('status', '=', 'pending').executeTakeFirst();
      if (pending && pending.invoice_version === inv.current_version && pending.amount_minor === amount)
        return setState(tx, s, 'awaiting_approval', reasons.join(','), 'waiting');
      if (pending)
        await tx
          .updateTable('autopay_approvals')
          .set({ status: 'superseded', decided_at: new Date(), decided_by: ACTOR })
          .where('id', '=', pending.id)
          .execute();
      const previousTotal = await previousInvoiceTotal(tx, inv);
      const row = await tx
        .insertInto('autopay_approvals')
        .values({
          tenant_id: tenantId,
          schedule_id: s.id,
          invoice_id: inv.id,
          invoice_version: inv.current_version,
          amount_minor: amount,
          currency: inv.currency,
          reasons,
          detail: JSON.stringify({
            cap_minor: rule.approvalCapMinor?.toString() ?? null,
            previous_total_minor: previousTotal?.toString() ?? null,
            jump_percent: env.settings.jumpPercent,
            total_minor: inv.total_minor.toString(),
            ...contractDetail(contracts, env.settings.jumpPercent, rule.contractKinds ?? null),
          }),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await audit(
        tx,
        tenantId,
        ACTOR,
        'autopay.approval_requested',
        { type: 'autopay_approval', id: row.id },
        { invoice: inv.number, amount_minor: amount, reasons, version: inv.current_version },
      );
      return setState(tx, s, 'awaiting_approval', reasons.join(','), 'waiting');
    }
  }

  // After the default method was declined in this cycle (attempt > 0), only the fallback is left.
  const method = await chooseMethod(tx, s.client_id, rule.methodKinds, fallbackMethodId, s.attempt > 0);
  if (!method) return setState(tx, s, 'blocked', 'no_payment_method', 'waiting');
  if (!f.billing_email) return setState(tx, s, 'blocked', 'no_billing_email', 'waiting');

  const noticed =
    s.noticed_at && s.noticed_version !== null && s.noticed_amount_minor !== null && s.not_before !== null
      ? { version: s.noticed_version, amountMinor: s.noticed_amount_minor, notBefore: s.not_before }
      : null;
  let change = noticeChange(noticed, { version: inv.current_version, amountMinor: amount });
  // The PSA moved the due date later: the date the client was told changes, so they are told again.
  if (change === 'none' && noticed && maxDate(chargeOn, noticed.notBefore) !== noticed.notBefore) change = 'content_changed';
  let notBefore = noticed?.notBefore ?? chargeOn;
  if (change !== 'none') {
    notBefore = holdAfterNotice(change, chargeOn, env.today, noticeDays, noticed);
    const lines = await tx
      .selectFrom('invoice_lines')
      .select(['description', 'quantity', 'amount_minor'])
      .where('invoice_id', '=', inv.id)
      .where('version', '=', inv.current_version)
      .orderBy('line_no')
      .execute();
    const email = preDebitNotice(
      {
        mspName: env.mspName,
        clientName: f.client_name,
        invoiceNumber: inv.number,
        currency: parseCurrency(inv.currency),
        amountMinor: amount,
        totalMinor: inv.total_minor,
        chargeOn: notBefore,
        method: method.label,
        lines: lines.map((l) => ({ description: l.description, quantity: l.quantity, amountMinor: l.amount_minor })),
        change,
        previousAmountMinor: noticed?.amountMinor ?? null,
      },
      await templateOf(tx, 'autopay_notice'),
    );
    // Keyed by the notice's number under the row lock: a crash before commit sends nothing, a rerun the same.
    await queueEmail(tx, tenantId, {
      kind: 'autopay_notice',
      clientId: s.client_id,
      to: f.billing_email,
      ...email,
      idempotencyKey: `autopay:${s.id}:notice:${s.notices_sent + 1}`,
    });
    await tx
      .updateTable('autopay_schedules')
      .set({
        state: 'noticed',
        reason: null,
        noticed_version: inv.current_version,
        noticed_amount_minor: amount,
        noticed_at: new Date(),
        notices_sent: s.notices_sent + 1,
        not_before: notBefore,
        method_id: method.id,
        updated_at: new Date(),
      })
      .where('id', '=', s.id)
      .execute();
    await audit(
      tx,
      tenantId,
      ACTOR,
      'autopay.notice_sent',
      { type: 'invoice', id: inv.id },
      { schedule: s.id, change, version: inv.current_version, amount_minor: amount, charge_on: notBefore, method: method.label, notice: s.notices_sent + 1 },
    );
  } else if (s.state !== 'noticed' || s.method_id !== method.id) {
    await tx
      .updateTable('autopay_schedules')
      .set({ state: 'noticed', reason: null, method_id: method.id, updated_at: new Date() })
      .where('id', '=', s.id)
      .execute();
  }
  if (env.today < notBefore) return 'waiting';
  return {
    scheduleId: s.id,
    invoiceId: inv.id,
    version: inv.current_version,
    amountMinor: amount,
    attempt: s.attempt,
    methodId: method.id,
    customerId: f.processor_customer_id,
  };
}

async function setState(tx: Tx, s: Schedule, state: AutopayScheduleState, reason: string | null, result: StepResult): Promise<StepResult> {
  if (s.state !== state || s.reason !== reason)
    await tx.updateTable('autopay_schedules').set({ state, reason, updated_at: new Date() }).where('id', '=', s.id).execute();
  return result;
}

/** Stop a schedule before its charge; a client who was told of a debit is told it will not happen. */
export async function cancelLocked(tx: Tx, tenantId: string, s: Schedule, reason: CancelReason, mspName: string, actor: Actor = ACTOR): Promise<StepResult> {
  await tx.updateTable('autopay_schedules').set({ state: 'cancelled', reason, updated_at: new Date() }).where('id', '=', s.id).execute();
  await tx
    .updateTable('autopay_approvals')
    .set({ status: 'superseded', decided_at: new Date(), decided_by: actor })
    .where('schedule_id', '=', s.id)
    .where('status', '=', 'pending')
    .execute();
  const inv = await tx.selectFrom('invoices').select(['number', 'currency']).where('id', '=', s.invoice_id).executeTakeFirstOrThrow();
  if (s.noticed_at !== null && s.noticed_amount_minor !== null) {
    const client = await tx.selectFrom('clients').select(['name', 'billing_email']).where('id', '=', s.client_id).executeTakeFirstOrThrow();
    if (client.billing_email) {
      const email = autopayCancelled(
        {
          mspName,
          clientName: client.name,
          invoiceNumber: inv.number,
          currency: parseCurrency(inv.currency),
          amountMinor: s.noticed_amount_minor,
          reason,
        },
        await templateOf(tx, 'autopay_cancelled'),
      );
      await queueEmail(tx, tenantId, {
        kind: 'autopay_cancelled',
        clientId: s.client_id,
        to: client.billing_email,
        ...email,
        idempotencyKey: `autopay:${s.id}:cancelled`,
      });
    }
  }
  await audit(
    tx,
    tenantId,
    actor,
    'autopay.cancelled',
    { type: 'invoice', id: s.invoice_id },
    { schedule: s.id, reason, invoice: inv.number, client_told: s.noticed_at !== null },
  );
  return 'cancelled';
}

/** Lock a schedule in any pre-charge state (for staff decisions), waiting for a run that holds it. */
export async function lockActiveSchedule(tx: Tx, id: string): Promise<Schedule | undefined> {
  return tx
    .selectFrom('autopay_schedules')
    .selectAll()
    .where('id', '=', id)
    .where('state', 'in', [...ACTIVE_STATES])
    .forUpdate()
    .executeTakeFirst();
}
