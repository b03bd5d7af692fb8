// Reminder cadence for B2B invoices (payments-rules.md §4.1). Steps are "N days relative to the due
// date", negative before it — the Odoo follow-up-level shape the reference recommends. Calendar days:
// reminders are emails, not bank movements.
import { addDays, daysBetween, type IsoDate } from './calendar-date.ts';
import type { RuleRow } from './rule-row.ts';

export type ReminderTone = 'friendly' | 'neutral' | 'firm' | 'formal';
export type DunningAction = 'email' | 'state_late_fee' | 'offer_payment_plan' | 'suggest_work_pause' | 'escalation_review';

export interface DunningStep extends RuleRow {
  readonly key: string;
  readonly offsetDays: number;
  readonly tone: ReminderTone;
  readonly actions: readonly DunningAction[];
}

const CANYOU = 'https://canyoupaythat.com/blog/best-invoice-reminder-schedule-when-to-send';
const COLLECT = 'https://collect.ac/guides/payment-reminder-timing';
const SMB = 'https://smbhelper.com/guides/when-to-chase-an-unpaid-invoice';
const FROM: IsoDate = '2026-01-01'; // the cadence as published in the reference's sources (mid-2026)

const step = (key: string, offsetDays: number, tone: ReminderTone, actions: readonly DunningAction[], source: string): DunningStep => ({
  id: `dunning:${key}`,
  source,
  ref: '§4.1',
  effectiveFrom: FROM,
  key,
  offsetDays,
  tone,
  actions,
});

/** §4.1 default: T−7, T−3, T0, +3, +7, +14 (late fee if the contract allows, work pause +14…+21), +30 final, +60 review. */
export const DEFAULT_DUNNING_CADENCE: readonly DunningStep[] = [
  step('pre_due_7', -7, 'friendly', ['email'], CANYOU),
  step('pre_due_3', -3, 'friendly', ['email'], CANYOU),
  step('due', 0, 'friendly', ['email'], COLLECT),
  step('overdue_3', 3, 'neutral', ['email'], COLLECT),
  step('overdue_7', 7, 'firm', ['email'], COLLECT),
  step('escalated_14', 14, 'firm', ['email', 'state_late_fee', 'offer_payment_plan', 'suggest_work_pause'], SMB),
  step('final_30', 30, 'formal', ['email'], COLLECT),
  step('review_60', 60, 'formal', ['escalation_review'], 'https://www.creditpulse.com/blog/overdue-invoice-guide'),
];

export interface DueRemindersInput {
  readonly dueOn: IsoDate;
  /** Day the invoice reached the client: pre-due steps before it are not sent. */
  readonly issuedOn?: IsoDate;
  /** Steps already sent for this invoice. */
  readonly sent: readonly { readonly key: string; readonly sentOn: IsoDate }[];
  readonly now: IsoDate;
  readonly cadence?: readonly DunningStep[];
}

export type DunningDecision =
  /** Send `step` today; `skipped` are earlier steps whose day passed unsent (never sent late in a burst). */
  | { readonly kind: 'send'; readonly step: DunningStep; readonly skipped: readonly string[] }
  /** Nothing today; the next step is due on `on`. */
  | { readonly kind: 'wait'; readonly step: DunningStep; readonly on: IsoDate }
  | { readonly kind: 'done' };

/**
 * The reminder to send today for an unpaid invoice, if any. Only steps after the last one sent are
 * considered; when several are overdue (the invoice was imported late, the worker was down) only the
 * latest is sent, so a client never gets a burst of reminders; at most one reminder per day.
 */
export function dueReminders(input: DueRemindersInput): DunningDecision {
  const cadence = [...(input.cadence ?? DEFAULT_DUNNING_CADENCE)].sort((a, b) => a.offsetDays - b.offsetDays);
  const offsetOf = new Map(cadence.map((s) => [s.key, s.offsetDays]));
  const lastSentOffset = Math.max(-Infinity, ...input.sent.map((s) => offsetOf.get(s.key) ?? -Infinity));
  const sentToday = input.sent.some((s) => s.sentOn === input.now);
  const today = daysBetween(input.dueOn, input.now);
  const issuedOffset = input.issuedOn ? daysBetween(input.dueOn, input.issuedOn) : -Infinity;

  // Once the due date has come, unsent pre-due steps are dropped ("due in 3 days" would be wrong).
  const stale = (s: DunningStep): boolean => s.offsetDays < 0 && today >= 0;
  const open = cadence.filter((s) => s.offsetDays > lastSentOffset && s.offsetDays >= issuedOffset);
  const ahead = open.filter((s) => !stale(s));
  const skippedPreDue = open.filter(stale).map((s) => s.key);
  const ready = ahead.filter((s) => s.offsetDays <= today);
  const next = ahead.find((s) => s.offsetDays > today);

  const latest = ready[ready.length - 1];
  if (latest && !sentToday) {
    return { kind: 'send', step: latest, skipped: [...skippedPreDue, ...ready.slice(0, -1).map((s) => s.key)] };
  }
  const upcoming = latest ?? next;
  if (!upcoming) return { kind: 'done' };
  const on = latest ? addDays(input.now, 1) : addDays(input.dueOn, upcoming.offsetDays);
  return { kind: 'wait', step: upcoming, on };
}

// ---- When reminders may go out (Collections Assist, engine/collections-assist/run.ts) ----

export interface SendingWindow {
  /** Send only on US banking days (weekends and Federal Reserve holidays are quiet). */
  readonly businessDaysOnly: boolean;
  /** Local hours [sendFrom, sendUntil) in the workspace's timezone; outside them is quiet. */
  readonly sendFrom: number;
  readonly sendUntil: number;
}

export const DEFAULT_SENDING_WINDOW: SendingWindow = { businessDaysOnly: true, sendFrom: 8, sendUntil: 18 };

/** The workspace's local calendar day and hour at `now`. */
export function localDayAndHour(now: Date, timeZone: string): { readonly day: IsoDate; readonly hour: number } {
  const f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' });
  const p = Object.fromEntries(f.formatToParts(now).map((x) => [x.type, x.value]));
  return { day: `${p['year']}-${p['month']}-${p['day']}`, hour: Number(p['hour']) };
}

export type SendingNow = { readonly open: true; readonly day: IsoDate } | { readonly open: false; readonly day: IsoDate; readonly why: string };

/**
 * Whether reminders may be sent at `now`, and the local day they count as sent on. A step whose date falls on
 * a quiet day goes out on the next open one (the run finds it ready then: its date has passed, unsent).
 * `isBusinessDay` is the banking calendar (us-banking-calendar.ts isBankingDay), given so this stays pure.
 */
export function sendingNow(now: Date, timeZone: string, w: SendingWindow, isBusinessDay: (d: IsoDate) => boolean): SendingNow {
  const { day, hour } = localDayAndHour(now, timeZone);
  if (w.businessDaysOnly && !isBusinessDay(day)) return { open: false, day, why: `${day} is not a business day` };
  if (hour < w.sendFrom || hour >= w.sendUntil) return { open: false, day, why: `${hour}:00 is outside the sending hours ${w.sendFrom}:00–${w.sendUntil}:00` };
  return { open: true, day };
}
