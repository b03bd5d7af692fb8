// Reads for the staff autopay page: charges waiting for a decision (with what the charge would be and why
// it waits), recent decisions, and the calendar of upcoming charges with the pre-debit notices sent.
import type { Tx } from '../tenant.ts';

export async function pendingApprovals(tx: Tx) {
  return tx
    .selectFrom('autopay_approvals as a')
    .innerJoin('invoices as i', 'i.id', 'a.invoice_id')
    .innerJoin('clients as c', 'c.id', 'i.client_id')
    .innerJoin('autopay_schedules as s', 's.id', 'a.schedule_id')
    .select([
      'a.id',
      'a.amount_minor',
      'a.currency',
      'a.reasons',
      'a.detail',
      'a.created_at',
      'i.id as invoice_id',
      'i.number',
      'c.name as client_name',
      's.charge_on',
    ])
    .where('a.status', '=', 'pending')
    .orderBy('s.charge_on')
    .orderBy('a.created_at')
    .limit(200)
    .execute();
}

export async function recentDecisions(tx: Tx, limit = 20) {
  return tx
    .selectFrom('autopay_approvals as a')
    .innerJoin('invoices as i', 'i.id', 'a.invoice_id')
    .innerJoin('clients as c', 'c.id', 'i.client_id')
    .select(['a.id', 'a.status', 'a.amount_minor', 'a.currency', 'a.decided_by', 'a.decided_at', 'a.note', 'i.number', 'c.name as client_name'])
    .where('a.status', 'in', ['approved', 'rejected'])
    .orderBy('a.decided_at', 'desc')
    .limit(limit)
    .execute();
}

/** Schedules still to be charged, soonest first: what will be charged, when, and whether the client was told. */
export async function upcomingCharges(tx: Tx, limit = 200) {
  return tx
    .selectFrom('autopay_schedules as s')
    .innerJoin('invoices as i', 'i.id', 's.invoice_id')
    .innerJoin('clients as c', 'c.id', 's.client_id')
    .leftJoin('payment_methods as m', 'm.id', 's.method_id')
    .select([
      's.id',
      's.state',
      's.reason',
      's.charge_on',
      's.not_before',
      's.notice_days',
      's.noticed_at',
      's.noticed_amount_minor',
      's.notices_sent',
      'i.id as invoice_id',
      'i.number',
      'i.currency',
      'i.total_minor',
      'i.paid_minor',
      'c.name as client_name',
      'm.kind as method_kind',
      'm.brand as method_brand',
      'm.last4 as method_last4',
    ])
    .where('s.state', 'in', ['pending_notice', 'noticed', 'awaiting_approval', 'blocked', 'charging'])
    .orderBy('s.charge_on')
    .orderBy('i.number')
    .limit(limit)
    .execute();
}

/** One approval with the invoice, client, schedule and the method autopay would charge (the client's default). */
export async function approvalDetail(tx: Tx, id: string) {
  const a = await tx
    .selectFrom('autopay_approvals as a')
    .innerJoin('invoices as i', 'i.id', 'a.invoice_id')
    .innerJoin('clients as c', 'c.id', 'i.client_id')
    .innerJoin('autopay_schedules as s', 's.id', 'a.schedule_id')
    .innerJoin('autopay_rules as r', 'r.id', 's.rule_id')
    .selectAll('a')
    .select([
      'i.number',
      'i.total_minor',
      'i.due_on',
      'c.id as client_id',
      'c.name as client_name',
      'c.billing_email',
      's.charge_on',
      's.notice_days',
      's.noticed_at',
      's.state as schedule_state',
      'r.name as rule_name',
    ])
    .where('a.id', '=', id)
    .executeTakeFirst();
  if (!a) return null;
  const method = await tx
    .selectFrom('payment_methods')
    .select(['kind', 'brand', 'last4'])
    .where('client_id', '=', a.client_id)
    .where('removed_at', 'is', null)
    .orderBy('is_default', 'desc')
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return { ...a, method: method ?? null };
}
