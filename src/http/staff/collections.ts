// Collections → Sequences (/app/collections): Collections Assist's switch and sending window, the sequences
// with their steps (each step's days from the due date, tone, subject and body with a preview, statement,
// staff item, PSA note, escalation) and which clients or segments follow which sequence. Everyone signed in
// reads; finance and owner change (http/permissions.ts), through engine/collections-assist/sequences.ts, which
// checks every change (a refused form re-renders with the GOV.UK error summary, 422, nothing stored) and audits
// it. Results and holds are in collections-results.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import type { ReminderTone } from '../../domain/rules/dunning.ts';
import { UseCaseError } from '../../engine/context.ts';
import {
  assignSequence,
  createSequence,
  draftFor,
  listSequences,
  readCollectionSettings,
  removeStep,
  saveCollectionSettings,
  saveStep,
  TONES,
  unassign,
} from '../../engine/collections-assist/sequences.ts';
import { composeReminder, REMINDER_VARIABLES, SAMPLE_REMINDER, type StepDraft } from '../../engine/collections-assist/templates.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf, one } from './settings-surcharge.ts';
import { renderStaff } from './view.ts';

const BASE = '/app/collections';
type Form = Record<string, string | string[] | undefined>;
type Errors = { field: string | null; message: string }[];

const fieldErrors = (e: UseCaseError, prefix = ''): Errors => {
  const fields = (e.detail?.['fields'] ?? {}) as Record<string, string>;
  return Object.keys(fields).length
    ? Object.entries(fields).map(([f, message]) => ({ field: `${prefix}${f.replace(/_/g, '-')}`, message }))
    : [{ field: null, message: e.message }];
};

async function overview(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps, errors: Errors = [], status = 200) {
  const caller = callerOf(req);
  const data = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => ({
    settings: await readCollectionSettings(tx),
    sequences: await listSequences(tx),
  }));
  const q = req.query as Record<string, string | undefined>;
  return renderStaff(
    req,
    reply,
    'collections',
    { title: 'Collections', ...data, canEdit: roleAtLeast(caller.role, 'finance'), errors, saved: q['saved'] ?? null },
    { status: errors.length ? status : 200 },
  );
}

async function sequencePage(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps, id: string, errors: Errors = []) {
  const caller = callerOf(req);
  const data = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => ({
    sequence: (await listSequences(tx)).find((s) => s.id === id) ?? null,
    clients: await tx.selectFrom('clients').select(['id', 'name']).orderBy('name').limit(2000).execute(),
  }));
  if (!data.sequence) return reply.code(404).send({ error: { code: 'not_found', message: 'There is no such sequence in this workspace' } });
  const q = req.query as Record<string, string | undefined>;
  return renderStaff(
    req,
    reply,
    'collections-sequence',
    { title: `Sequence: ${data.sequence.name}`, ...data, canEdit: roleAtLeast(caller.role, 'finance'), errors, saved: q['saved'] ?? null },
    { status: errors.length ? 422 : 200 },
  );
}

function stepFromForm(f: Form): StepDraft {
  const tone = one(f['tone']) as ReminderTone;
  const days = one(f['offset_days']);
  return {
    key: one(f['key']),
    offsetDays: /^-?\d{1,3}$/.test(days) ? Number(days) : Number.NaN,
    tone,
    subject: one(f['subject']),
    body: typeof f['body'] === 'string' ? f['body'] : '',
    attachStatement: one(f['attach_statement']) === 'on',
    statementAttached: one(f['statement_attached']) === 'on',
    notifyStaff: one(f['notify_staff']) === 'on',
    psaNote: one(f['psa_note']) === 'on',
    escalate: one(f['escalate']) === 'on',
  };
}

async function stepPage(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps, sequenceId: string, stepId: string, draft?: StepDraft, errors: Errors = []) {
  const caller = callerOf(req);
  const seq = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => (await listSequences(tx)).find((s) => s.id === sequenceId) ?? null);
  if (!seq) return reply.code(404).send({ error: { code: 'not_found', message: 'There is no such sequence in this workspace' } });
  const saved = stepId === 'new' ? null : (seq.steps.find((s) => s.id === stepId) ?? null);
  if (stepId !== 'new' && !saved) return reply.code(404).send({ error: { code: 'not_found', message: 'There is no such step in this sequence' } });
  const last = Math.max(0, ...seq.steps.map((s) => s.offsetDays));
  const step: StepDraft = draft ??
    saved ?? {
      key: '',
      offsetDays: last + 7,
      tone: 'firm',
      ...draftFor('firm', last + 7),
      attachStatement: true,
      statementAttached: false,
      notifyStaff: false,
      psaNote: false,
      escalate: false,
    };
  const preview = errors.length ? null : composeReminder(step, SAMPLE_REMINDER);
  return renderStaff(
    req,
    reply,
    'collections-step',
    {
      title: saved ? `Step ${saved.key} of ${seq.name}` : `New step of ${seq.name}`,
      sequence: seq,
      stepId,
      step,
      tones: TONES,
      variables: REMINDER_VARIABLES,
      preview,
      canEdit: roleAtLeast(caller.role, 'finance'),
      errors,
    },
    { status: errors.length ? 422 : 200 },
  );
}

export function registerCollectionsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const db = deps.ctx.db;
  app.get(BASE, async (req, reply) => overview(req, reply, deps));

  app.post(`${BASE}/settings`, async (req, reply) => {
    const caller = callerOf(req);
    const f = (req.body ?? {}) as Form;
    const hour = (k: string): number => (/^\d{1,2}$/.test(one(f[k])) ? Number(one(f[k])) : Number.NaN);
    try {
      await withTenant(db, caller.tenantId, (tx) =>
        saveCollectionSettings(
          tx,
          caller.tenantId,
          {
            enabled: one(f['enabled']) === 'on',
            businessDaysOnly: one(f['business_days_only']) === 'on',
            sendFrom: hour('send_from'),
            sendUntil: hour('send_until'),
          },
          caller.actor,
        ),
      );
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return overview(req, reply, deps, fieldErrors(e), 422);
    }
    return reply.redirect(`${BASE}?saved=settings`, 303);
  });

  app.post(`${BASE}/sequences`, async (req, reply) => {
    const caller = callerOf(req);
    const f = (req.body ?? {}) as Form;
    let id: string;
    try {
      id = await withTenant(db, caller.tenantId, (tx) => createSequence(tx, caller.tenantId, one(f['name']), caller.actor));
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return overview(req, reply, deps, fieldErrors(e, 'sequence-'), 422);
    }
    return reply.redirect(`${BASE}/sequences/${id}?saved=created`, 303);
  });

  app.get<{ Params: { id: string } }>(`${BASE}/sequences/:id`, async (req, reply) => sequencePage(req, reply, deps, req.params.id));

  app.post<{ Params: { id: string } }>(`${BASE}/sequences/:id/assign`, async (req, reply) => {
    const caller = callerOf(req);
    const f = (req.body ?? {}) as Form;
    const clientId = one(f['client_id']);
    const segment = one(f['segment']);
    try {
      await withTenant(db, caller.tenantId, (tx) =>
        assignSequence(tx, caller.tenantId, req.params.id, clientId ? { clientId } : segment ? { segment } : {}, caller.actor),
      );
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return sequencePage(req, reply, deps, req.params.id, fieldErrors(e, 'assign-'));
    }
    return reply.redirect(`${BASE}/sequences/${req.params.id}?saved=assigned`, 303);
  });

  app.post<{ Params: { id: string; assignmentId: string } }>(`${BASE}/sequences/:id/assignments/:assignmentId/remove`, async (req, reply) => {
    const caller = callerOf(req);
    try {
      await withTenant(db, caller.tenantId, (tx) => unassign(tx, caller.tenantId, req.params.assignmentId, caller.actor));
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return sequencePage(req, reply, deps, req.params.id, fieldErrors(e));
    }
    return reply.redirect(`${BASE}/sequences/${req.params.id}?saved=unassigned`, 303);
  });

  app.get<{ Params: { id: string; stepId: string } }>(`${BASE}/sequences/:id/steps/:stepId`, async (req, reply) =>
    stepPage(req, reply, deps, req.params.id, req.params.stepId),
  );

  app.post<{ Params: { id: string; stepId: string } }>(`${BASE}/sequences/:id/steps/:stepId`, async (req, reply) => {
    const caller = callerOf(req);
    const f = (req.body ?? {}) as Form;
    const draft = stepFromForm(f);
    // "Preview" shows the draft with sample values and stores nothing.
    if (one(f['action']) === 'preview') return stepPage(req, reply, deps, req.params.id, req.params.stepId, draft);
    try {
      await withTenant(db, caller.tenantId, (tx) =>
        saveStep(tx, caller.tenantId, req.params.id, req.params.stepId === 'new' ? null : req.params.stepId, draft, caller.actor),
      );
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return stepPage(req, reply, deps, req.params.id, req.params.stepId, draft, fieldErrors(e, 'step-'));
    }
    return reply.redirect(`${BASE}/sequences/${req.params.id}?saved=step`, 303);
  });

  app.post<{ Params: { id: string; stepId: string } }>(`${BASE}/sequences/:id/steps/:stepId/remove`, async (req, reply) => {
    const caller = callerOf(req);
    try {
      await withTenant(db, caller.tenantId, (tx) => removeStep(tx, caller.tenantId, req.params.id, req.params.stepId, caller.actor));
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return sequencePage(req, reply, deps, req.params.id, fieldErrors(e));
    }
    return reply.redirect(`${BASE}/sequences/${req.params.id}?saved=removed`, 303);
  });
}
