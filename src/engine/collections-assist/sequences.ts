// A workspace's Collections Assist set-up: the switch and sending window, the sequences with their steps, and
// which clients or segments follow which sequence. Staff change them on Collections → Sequences; every change
// is checked first (nothing stored on a refusal, UseCaseError with what to fix) and audited in the same
// transaction (collections.*). The default sequence is made from the reference cadence on first use.
import type { Tx } from '../../db/tenant.ts';
import { DEFAULT_SENDING_WINDOW, sendingNow, type ReminderTone, type SendingNow } from '../../domain/rules/dunning.ts';
import { isWeekend, type IsoDate } from '../../domain/rules/calendar-date.ts';
import { BankingCalendarError, isBankingDay } from '../../domain/rules/us-banking-calendar.ts';
import { workspaceTimezone } from '../../domain/timezone.ts';
import type { EngineContext } from '../context.ts';
import { audit, type Actor } from '../audit.ts';
import { UseCaseError } from '../context.ts';
import { defaultSteps, draftFor, reminderProblems, type StepDraft } from './templates.ts';

export const TONES: readonly ReminderTone[] = ['friendly', 'neutral', 'firm', 'formal'];

export interface CollectionSettings {
  readonly enabled: boolean;
  readonly businessDaysOnly: boolean;
  readonly sendFrom: number;
  readonly sendUntil: number;
}

export async function readCollectionSettings(tx: Tx): Promise<CollectionSettings> {
  const r = await tx.selectFrom('collection_settings').selectAll().executeTakeFirst();
  return r
    ? { enabled: r.enabled, businessDaysOnly: r.business_days_only, sendFrom: r.send_from, sendUntil: r.send_until }
    : { enabled: false, ...DEFAULT_SENDING_WINDOW };
}

/** Weekends and Federal Reserve holidays; past the years the holiday table covers, weekends only (logged). */
function businessDay(ctx: EngineContext): (d: IsoDate) => boolean {
  return (d) => {
    try {
      return isBankingDay(d);
    } catch (e) {
      if (!(e instanceof BankingCalendarError)) throw e;
      ctx.log.warn({ day: d }, `collections: ${e.message}; counting weekends only`);
      return !isWeekend(d);
    }
  };
}

/** Whether reminders may go out at `now` (sending hours, business days, in the workspace's timezone). */
export async function sendingWindow(ctx: EngineContext, tx: Tx, tenantId: string, settings: CollectionSettings, now: Date): Promise<SendingNow> {
  const tenant = await tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirstOrThrow();
  return sendingNow(now, workspaceTimezone(tenant.settings as Record<string, unknown>), settings, businessDay(ctx));
}

export async function saveCollectionSettings(tx: Tx, tenantId: string, s: CollectionSettings, actor: Actor): Promise<void> {
  if (!Number.isInteger(s.sendFrom) || !Number.isInteger(s.sendUntil) || s.sendFrom < 0 || s.sendUntil > 24 || s.sendFrom >= s.sendUntil)
    throw new UseCaseError('invalid', `Sending hours must be whole hours with “from” before “until” (0–24); got ${s.sendFrom} to ${s.sendUntil}`, {
      field: 'send_from',
    });
  const before = await readCollectionSettings(tx);
  const row = { enabled: s.enabled, business_days_only: s.businessDaysOnly, send_from: s.sendFrom, send_until: s.sendUntil, updated_by: actor };
  await tx
    .insertInto('collection_settings')
    .values({ tenant_id: tenantId, ...row })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ ...row, updated_at: new Date() }))
    .execute();
  if (s.enabled) await ensureDefaultSequence(tx, tenantId);
  await audit(tx, tenantId, actor, 'collections.settings_changed', { type: 'collection_settings', id: null }, { before, after: s });
}

/** The default sequence's id, made from the reference cadence the first time. */
export async function ensureDefaultSequence(tx: Tx, tenantId: string): Promise<string> {
  const found = await tx.selectFrom('collection_sequences').select('id').where('is_default', '=', true).executeTakeFirst();
  if (found) return found.id;
  const seq = await tx
    .insertInto('collection_sequences')
    .values({ tenant_id: tenantId, name: 'Standard reminders', is_default: true })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!seq) return (await tx.selectFrom('collection_sequences').select('id').where('is_default', '=', true).executeTakeFirstOrThrow()).id;
  await insertSteps(tx, tenantId, seq.id, defaultSteps());
  return seq.id;
}

async function insertSteps(tx: Tx, tenantId: string, sequenceId: string, steps: readonly StepDraft[]): Promise<void> {
  if (!steps.length) return;
  await tx
    .insertInto('collection_steps')
    .values(
      steps.map((s) => ({
        tenant_id: tenantId,
        sequence_id: sequenceId,
        key: s.key,
        offset_days: s.offsetDays,
        tone: s.tone,
        subject: s.subject,
        body: s.body,
        attach_statement: s.attachStatement || s.statementAttached,
        statement_attached: s.statementAttached,
        notify_staff: s.notifyStaff,
        psa_note: s.psaNote,
        escalate: s.escalate,
      })),
    )
    .execute();
}

export interface SequenceView {
  readonly id: string;
  readonly name: string;
  readonly isDefault: boolean;
  readonly steps: readonly (StepDraft & { readonly id: string })[];
  readonly assignments: readonly {
    readonly id: string;
    readonly clientId: string | null;
    readonly clientName: string | null;
    readonly segment: string | null;
  }[];
}

export async function listSequences(tx: Tx): Promise<SequenceView[]> {
  const seqs = await tx.selectFrom('collection_sequences').selectAll().orderBy('is_default', 'desc').orderBy('name').execute();
  const steps = await tx.selectFrom('collection_steps').selectAll().orderBy('offset_days').execute();
  const assigned = await tx
    .selectFrom('collection_assignments as a')
    .leftJoin('clients as c', 'c.id', 'a.client_id')
    .select(['a.id', 'a.sequence_id', 'a.client_id', 'a.segment', 'c.name'])
    .orderBy('c.name')
    .orderBy('a.segment')
    .execute();
  return seqs.map((q) => ({
    id: q.id,
    name: q.name,
    isDefault: q.is_default,
    steps: steps
      .filter((s) => s.sequence_id === q.id)
      .map((s) => ({
        id: s.id,
        key: s.key,
        offsetDays: s.offset_days,
        tone: s.tone as ReminderTone,
        subject: s.subject,
        body: s.body,
        attachStatement: s.attach_statement,
        statementAttached: s.statement_attached,
        notifyStaff: s.notify_staff,
        psaNote: s.psa_note,
        escalate: s.escalate,
      })),
    assignments: assigned.filter((a) => a.sequence_id === q.id).map((a) => ({ id: a.id, clientId: a.client_id, clientName: a.name, segment: a.segment })),
  }));
}

/** Every problem of a step as staff typed it, by field; empty when it can be saved. */
export function stepProblems(
  s: StepDraft,
  siblings: readonly { id: string; key: string; offsetDays: number; escalate: boolean }[],
  selfId: string | null,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!/^[a-z0-9_]{1,40}$/.test(s.key)) out['key'] = 'The step’s name must be 1–40 lower-case letters, digits or underscores, e.g. overdue_10';
  if (!Number.isInteger(s.offsetDays) || s.offsetDays < -60 || s.offsetDays > 365)
    out['offset_days'] = 'Days must be a whole number from -60 (before the due date) to 365 (after it)';
  if (!TONES.includes(s.tone)) out['tone'] = `Tone must be one of ${TONES.join(', ')}`;
  const others = siblings.filter((o) => o.id !== selfId);
  if (others.some((o) => o.key === s.key)) out['key'] ??= `This sequence already has a step named ${s.key}`;
  if (others.some((o) => o.offsetDays === s.offsetDays)) out['offset_days'] ??= `This sequence already has a step ${s.offsetDays} days from the due date`;
  // The escalation hands the invoice to staff: nothing can follow it.
  const last = Math.max(s.offsetDays, ...others.map((o) => o.offsetDays));
  if (s.escalate && s.offsetDays !== last) out['escalate'] = 'Only the last step of a sequence can escalate to staff';
  const escalating = others.find((o) => o.escalate);
  if (escalating && s.offsetDays > escalating.offsetDays)
    out['offset_days'] ??= `The step ${escalating.key} escalates to staff and ends the sequence; a step after it would never be sent`;
  for (const p of reminderProblems(s.subject, s.body)) out[p.field] ??= p.message;
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function sequenceSteps(tx: Tx, sequenceId: string) {
  if (!UUID.test(sequenceId)) throw new UseCaseError('not_found', 'There is no such sequence in this workspace');
  const seq = await tx.selectFrom('collection_sequences').select(['id', 'name']).where('id', '=', sequenceId).executeTakeFirst();
  if (!seq) throw new UseCaseError('not_found', 'There is no such sequence in this workspace');
  const steps = await tx.selectFrom('collection_steps').selectAll().where('sequence_id', '=', sequenceId).forUpdate().execute();
  return { seq, steps: steps.map((s) => ({ ...s, offsetDays: s.offset_days })) };
}

/** Add (stepId null) or change a step. Refused with every problem in `detail.fields`. */
export async function saveStep(tx: Tx, tenantId: string, sequenceId: string, stepId: string | null, s: StepDraft, actor: Actor): Promise<string> {
  const { seq, steps } = await sequenceSteps(tx, sequenceId);
  const before = stepId ? steps.find((x) => x.id === stepId) : undefined;
  if (stepId && !before) throw new UseCaseError('not_found', 'There is no such step in this sequence');
  const problems = stepProblems(s, steps, stepId);
  if (Object.keys(problems).length) throw new UseCaseError('invalid', Object.values(problems).join('. '), { fields: problems });
  const row = {
    key: s.key,
    offset_days: s.offsetDays,
    tone: s.tone,
    subject: s.subject.trim(),
    body: s.body.replace(/\r\n?/g, '\n').replace(/\s+$/, ''),
    // Attached implies included (the link stays beside the attachment).
    attach_statement: s.attachStatement || s.statementAttached,
    statement_attached: s.statementAttached,
    notify_staff: s.notifyStaff,
    psa_note: s.psaNote,
    escalate: s.escalate,
  };
  let id = stepId;
  if (stepId) await tx.updateTable('collection_steps').set(row).where('id', '=', stepId).execute();
  else
    id = (
      await tx
        .insertInto('collection_steps')
        .values({ tenant_id: tenantId, sequence_id: sequenceId, ...row })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  await tx.updateTable('collection_sequences').set({ updated_at: new Date() }).where('id', '=', sequenceId).execute();
  const b = before
    ? { key: before.key, offset_days: before.offset_days, tone: before.tone, subject: before.subject, body: before.body, escalate: before.escalate }
    : null;
  await audit(
    tx,
    tenantId,
    actor,
    stepId ? 'collections.step_changed' : 'collections.step_added',
    { type: 'collection_sequence', id: sequenceId },
    {
      sequence: seq.name,
      step_id: id,
      before: b,
      after: row,
    },
  );
  return id!;
}

export async function removeStep(tx: Tx, tenantId: string, sequenceId: string, stepId: string, actor: Actor): Promise<void> {
  const { seq, steps } = await sequenceSteps(tx, sequenceId);
  const step = steps.find((x) => x.id === stepId);
  if (!step) throw new UseCaseError('not_found', 'There is no such step in this sequence');
  if (steps.length === 1) throw new UseCaseError('invalid', 'A sequence needs at least one step; add another before removing this one');
  // Sends keep their history (step_key, offset; step_id becomes null): the results still count them, and
  // an invoice already past the removed step is not reminded of an earlier one again.
  await tx.deleteFrom('collection_steps').where('id', '=', stepId).execute();
  await audit(
    tx,
    tenantId,
    actor,
    'collections.step_removed',
    { type: 'collection_sequence', id: sequenceId },
    { sequence: seq.name, key: step.key, offset_days: step.offset_days },
  );
}

/** A new sequence, started from the default cadence (staff then change its steps). */
export async function createSequence(tx: Tx, tenantId: string, name: string, actor: Actor): Promise<string> {
  const n = name.trim();
  if (n.length < 1 || n.length > 80)
    throw new UseCaseError('invalid', 'Give the sequence a name of 1–80 characters', { fields: { name: 'Give the sequence a name of 1–80 characters' } });
  const taken = await tx.selectFrom('collection_sequences').select('id').where('name', '=', n).executeTakeFirst();
  if (taken) throw new UseCaseError('invalid', `A sequence named “${n}” exists already`, { fields: { name: `A sequence named “${n}” exists already` } });
  await ensureDefaultSequence(tx, tenantId);
  const seq = await tx.insertInto('collection_sequences').values({ tenant_id: tenantId, name: n }).returning('id').executeTakeFirstOrThrow();
  await insertSteps(tx, tenantId, seq.id, defaultSteps());
  await audit(tx, tenantId, actor, 'collections.sequence_created', { type: 'collection_sequence', id: seq.id }, { name: n });
  return seq.id;
}

const SEGMENT = /^(region|country):[A-Z0-9]{1,3}$/;

/** Assign a client (by id) or a segment ("region:NY", "country:CA") to a sequence; replaces an earlier assignment. */
export async function assignSequence(
  tx: Tx,
  tenantId: string,
  sequenceId: string,
  target: { clientId?: string; segment?: string },
  actor: Actor,
): Promise<void> {
  await sequenceSteps(tx, sequenceId);
  const raw = target.segment?.trim() ?? '';
  const m = /^(region|country):(.*)$/i.exec(raw);
  const segment = m ? `${m[1]!.toLowerCase()}:${m[2]!.trim().toUpperCase()}` : raw || undefined;
  if (!target.clientId && !segment)
    throw new UseCaseError('invalid', 'Choose a client, or type a segment such as region:NY or country:CA', {
      fields: { target: 'Choose a client or a segment' },
    });
  if (segment && !SEGMENT.test(segment))
    throw new UseCaseError('invalid', `“${target.segment}” is not a segment: write region:NY (billing state) or country:CA (billing country)`, {
      fields: { segment: 'Write region:NY (billing state) or country:CA (billing country)' },
    });
  if (target.clientId) {
    if (!UUID.test(target.clientId))
      throw new UseCaseError('not_found', 'There is no such client in this workspace', { fields: { client_id: 'Choose a client from the list' } });
    const c = await tx.selectFrom('clients').select('id').where('id', '=', target.clientId).executeTakeFirst();
    if (!c) throw new UseCaseError('not_found', 'There is no such client in this workspace', { fields: { client_id: 'Choose a client from the list' } });
    await tx.deleteFrom('collection_assignments').where('client_id', '=', target.clientId).execute();
  } else await tx.deleteFrom('collection_assignments').where('segment', '=', segment!).execute();
  await tx
    .insertInto('collection_assignments')
    .values({ tenant_id: tenantId, sequence_id: sequenceId, client_id: target.clientId ?? null, segment: target.clientId ? null : segment!, created_by: actor })
    .execute();
  await audit(
    tx,
    tenantId,
    actor,
    'collections.sequence_assigned',
    { type: 'collection_sequence', id: sequenceId },
    { client_id: target.clientId ?? null, segment: segment ?? null },
  );
}

export async function unassign(tx: Tx, tenantId: string, assignmentId: string, actor: Actor): Promise<void> {
  if (!UUID.test(assignmentId)) throw new UseCaseError('not_found', 'There is no such assignment');
  const gone = await tx
    .deleteFrom('collection_assignments')
    .where('id', '=', assignmentId)
    .returning(['sequence_id', 'client_id', 'segment'])
    .executeTakeFirst();
  if (!gone) throw new UseCaseError('not_found', 'There is no such assignment');
  await audit(
    tx,
    tenantId,
    actor,
    'collections.sequence_unassigned',
    { type: 'collection_sequence', id: gone.sequence_id },
    { client_id: gone.client_id, segment: gone.segment },
  );
}

export { draftFor };
