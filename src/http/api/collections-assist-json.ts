// The Collections Assist API's request and response shapes (api/collections-assist.ts) and the JSON built
// from the use cases' views: kept apart from the routes so each file reads on its own.
import { z } from 'zod';
import type { withTenant } from '../../db/tenant.ts';
import { TONES, type SequenceView } from '../../engine/collections-assist/sequences.ts';
import type { StepDraft } from '../../engine/collections-assist/templates.ts';
import { minor } from './schemas.ts';

export const id = z.object({ id: z.string().uuid() });
export const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

export const settings = z.object({
  enabled: z.boolean(),
  business_days_only: z.boolean().describe('reminders only on US banking days'),
  send_from: z.number().int().min(0).max(23).describe('first local hour reminders go out (workspace timezone)'),
  send_until: z.number().int().min(1).max(24).describe('reminders stop at this local hour'),
});

export const stepBody = z
  .object({
    key: z.string().describe('lower-case name, e.g. overdue_10'),
    offset_days: z.number().int().describe('days from the due date, negative before it (-60 … 365)'),
    tone: z.enum(TONES as [string, ...string[]]),
    subject: z.string(),
    body: z.string().describe('{{variable}} template: invoices and portal_link are required'),
    attach_statement: z.boolean().default(false).describe('link the statement of account (PDF)'),
    statement_attached: z.boolean().default(false).describe('also attach the statement PDF to the e-mail'),
    notify_staff: z.boolean().default(false),
    psa_note: z.boolean().default(false),
    escalate: z.boolean().default(false).describe('final step: hands the invoice to staff'),
  })
  .strict();
export const step = stepBody.extend({ id: z.string().uuid() });

export const sequence = z.object({
  id: z.string().uuid(),
  name: z.string(),
  is_default: z.boolean(),
  steps: z.array(step),
  assignments: z.array(
    z.object({ id: z.string().uuid(), client_id: z.string().uuid().nullable(), client_name: z.string().nullable(), segment: z.string().nullable() }),
  ),
});

export const hold = z.object({
  id: z.string().uuid(),
  client_id: z.string().uuid(),
  client_name: z.string(),
  invoice_id: z.string().uuid().nullable(),
  invoice_number: z.string().nullable(),
  kind: z.enum(['promise', 'dispute', 'pause']),
  until_on: z.string().nullable(),
  note: z.string(),
  source: z.string(),
  created_by: z.string(),
  created_at: z.string(),
});

export function sequenceJson(s: SequenceView): z.infer<typeof sequence> {
  return {
    id: s.id,
    name: s.name,
    is_default: s.isDefault,
    steps: s.steps.map((x) => ({
      id: x.id,
      key: x.key,
      offset_days: x.offsetDays,
      tone: x.tone,
      subject: x.subject,
      body: x.body,
      attach_statement: x.attachStatement,
      statement_attached: x.statementAttached,
      notify_staff: x.notifyStaff,
      psa_note: x.psaNote,
      escalate: x.escalate,
    })),
    assignments: s.assignments.map((a) => ({ id: a.id, client_id: a.clientId, client_name: a.clientName, segment: a.segment })),
  };
}

export const draftOf = (b: z.infer<typeof stepBody>): StepDraft => ({
  key: b.key,
  offsetDays: b.offset_days,
  tone: b.tone as StepDraft['tone'],
  subject: b.subject,
  body: b.body,
  attachStatement: b.attach_statement,
  statementAttached: b.statement_attached,
  notifyStaff: b.notify_staff,
  psaNote: b.psa_note,
  escalate: b.escalate,
});

export async function activeHoldRows(tx: Parameters<Parameters<typeof withTenant>[2]>[0]): Promise<z.infer<typeof hold>[]> {
  const rows = await tx
    .selectFrom('collection_holds as h')
    .innerJoin('clients as c', 'c.id', 'h.client_id')
    .leftJoin('invoices as i', 'i.id', 'h.invoice_id')
    .select(['h.id', 'h.client_id', 'c.name', 'h.invoice_id', 'i.number', 'h.kind', 'h.until_on', 'h.note', 'h.source', 'h.created_by', 'h.created_at'])
    .where('h.released_at', 'is', null)
    .orderBy('h.created_at', 'desc')
    .execute();
  return rows.map((h) => ({
    id: h.id,
    client_id: h.client_id,
    client_name: h.name,
    invoice_id: h.invoice_id,
    invoice_number: h.number,
    kind: h.kind,
    until_on: h.until_on,
    note: h.note,
    source: h.source,
    created_by: h.created_by,
    created_at: new Date(h.created_at).toISOString(),
  }));
}
