// Collections Assist API (issue #12): the same use cases as the staff pages (engine/collections-assist/) —
// the switch and sending hours, sequences and their steps, which clients or segments follow which sequence,
// the holds that stop chasing (a promise to pay, a dispute, a pause) and the results; a run on demand (queued,
// as the cron queues it). Every change is checked by the use case (422 with `fields`) and audited there.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { UseCaseError } from '../../engine/context.ts';
import { enqueue } from '../../engine/enqueue.ts';
import { placeHold, releaseHold, workspaceToday } from '../../engine/collections-assist/holds.ts';
import { collectionResults } from '../../engine/collections-assist/results.ts';
import {
  assignSequence,
  createSequence,
  listSequences,
  readCollectionSettings,
  removeStep,
  saveCollectionSettings,
  saveStep,
  unassign,
} from '../../engine/collections-assist/sequences.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody, minor } from './schemas.ts';

import { activeHoldRows, draftOf, hold, id, isoDay, sequence, sequenceJson, settings, step, stepBody } from './collections-assist-json.ts';

const TAG = ['collections-assist'];
const P = '/collections-assist';

export function registerCollectionsAssistRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const inTenant = <T>(tenantId: string, fn: Parameters<typeof withTenant<T>>[2]) => withTenant(deps.ctx.db, tenantId, fn);
  const oneSequence = async (tenantId: string, sequenceId: string) => {
    const s = (await inTenant(tenantId, listSequences)).find((x) => x.id === sequenceId);
    if (!s) throw new UseCaseError('not_found', `no sequence ${sequenceId} in this workspace`);
    return sequenceJson(s);
  };

  r.get(`${P}/settings`, { schema: { tags: TAG, summary: 'The switch and sending hours', response: { 200: settings } } }, async (req) => {
    const s = await inTenant(callerOf(req).tenantId, readCollectionSettings);
    return { enabled: s.enabled, business_days_only: s.businessDaysOnly, send_from: s.sendFrom, send_until: s.sendUntil };
  });

  r.put(
    `${P}/settings`,
    {
      schema: {
        tags: TAG,
        summary: 'Turn reminders on or off and set the sending hours',
        body: settings.strict(),
        response: { 200: settings, 422: errorBody },
      },
    },
    async (req) => {
      const c = callerOf(req);
      const b = req.body;
      await inTenant(c.tenantId, (tx) =>
        saveCollectionSettings(
          tx,
          c.tenantId,
          { enabled: b.enabled, businessDaysOnly: b.business_days_only, sendFrom: b.send_from, sendUntil: b.send_until },
          c.actor,
        ),
      );
      return b;
    },
  );

  r.get(
    `${P}/sequences`,
    { schema: { tags: TAG, summary: 'Every sequence with its steps and assignments', response: { 200: z.object({ data: z.array(sequence) }) } } },
    async (req) => ({
      data: (await inTenant(callerOf(req).tenantId, listSequences)).map(sequenceJson),
    }),
  );

  r.post(
    `${P}/sequences`,
    {
      schema: {
        tags: TAG,
        summary: 'A new sequence, started from the default cadence',
        body: z.object({ name: z.string() }).strict(),
        response: { 201: sequence, 422: errorBody },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const sid = await inTenant(c.tenantId, (tx) => createSequence(tx, c.tenantId, req.body.name, c.actor));
      return reply.code(201).send(await oneSequence(c.tenantId, sid));
    },
  );

  r.get(`${P}/sequences/:id`, { schema: { tags: TAG, summary: 'One sequence', params: id, response: { 200: sequence, 404: errorBody } } }, async (req) =>
    oneSequence(callerOf(req).tenantId, req.params.id),
  );

  r.post(
    `${P}/sequences/:id/steps`,
    { schema: { tags: TAG, summary: 'Add a step', params: id, body: stepBody, response: { 201: sequence, 404: errorBody, 422: errorBody } } },
    async (req, reply) => {
      const c = callerOf(req);
      await inTenant(c.tenantId, (tx) => saveStep(tx, c.tenantId, req.params.id, null, draftOf(req.body), c.actor));
      return reply.code(201).send(await oneSequence(c.tenantId, req.params.id));
    },
  );

  const stepParams = z.object({ id: z.string().uuid(), step_id: z.string().uuid() });
  r.put(
    `${P}/sequences/:id/steps/:step_id`,
    {
      schema: {
        tags: TAG,
        summary: 'Change a step (all its fields)',
        params: stepParams,
        body: stepBody,
        response: { 200: sequence, 404: errorBody, 422: errorBody },
      },
    },
    async (req) => {
      const c = callerOf(req);
      await inTenant(c.tenantId, (tx) => saveStep(tx, c.tenantId, req.params.id, req.params.step_id, draftOf(req.body), c.actor));
      return oneSequence(c.tenantId, req.params.id);
    },
  );

  r.delete(
    `${P}/sequences/:id/steps/:step_id`,
    {
      schema: {
        tags: TAG,
        summary: 'Remove a step (its sends stay in the history)',
        params: stepParams,
        response: { 200: sequence, 404: errorBody, 422: errorBody },
      },
    },
    async (req) => {
      const c = callerOf(req);
      await inTenant(c.tenantId, (tx) => removeStep(tx, c.tenantId, req.params.id, req.params.step_id, c.actor));
      return oneSequence(c.tenantId, req.params.id);
    },
  );

  r.post(
    `${P}/sequences/:id/assignments`,
    {
      schema: {
        tags: TAG,
        summary: 'Assign a client or a segment (region:NY, country:CA) to the sequence; replaces its earlier assignment',
        params: id,
        body: z.object({ client_id: z.string().uuid().optional(), segment: z.string().optional() }).strict(),
        response: { 201: sequence, 404: errorBody, 422: errorBody },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const b = req.body;
      if (b.client_id && b.segment) throw new UseCaseError('invalid', 'give client_id or segment, not both');
      await inTenant(c.tenantId, (tx) =>
        assignSequence(
          tx,
          c.tenantId,
          req.params.id,
          { ...(b.client_id ? { clientId: b.client_id } : {}), ...(b.segment ? { segment: b.segment } : {}) },
          c.actor,
        ),
      );
      return reply.code(201).send(await oneSequence(c.tenantId, req.params.id));
    },
  );

  r.delete(
    `${P}/assignments/:id`,
    {
      schema: {
        tags: TAG,
        summary: 'Remove an assignment (the client or segment follows the default again)',
        params: id,
        response: { 204: z.null(), 404: errorBody },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      await inTenant(c.tenantId, (tx) => unassign(tx, c.tenantId, req.params.id, c.actor));
      return reply.code(204).send(null);
    },
  );

  r.get(
    `${P}/holds`,
    { schema: { tags: TAG, summary: 'Active promises, disputes and pauses', response: { 200: z.object({ data: z.array(hold) }) } } },
    async (req) => ({ data: await inTenant(callerOf(req).tenantId, activeHoldRows) }),
  );

  r.post(
    `${P}/holds`,
    {
      schema: {
        tags: TAG,
        summary: 'Record a promise to pay by a date, a dispute of an invoice, or a pause (an invoice, or every invoice of a client)',
        body: z
          .object({
            kind: z.enum(['promise', 'dispute', 'pause']),
            client_id: z.string().uuid().optional().describe('a pause of every invoice of the client'),
            invoice_id: z.string().uuid().optional(),
            until_on: isoDay.optional().describe('a promise: the day the client will pay by'),
            note: z.string().max(2000).default(''),
          })
          .strict(),
        response: { 201: hold, 404: errorBody, 422: errorBody },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const b = req.body;
      if (!b.invoice_id && !b.client_id) throw new UseCaseError('invalid', 'give invoice_id (or client_id for a pause of every invoice of a client)');
      const today = await workspaceToday(deps.ctx.db, c.tenantId, deps.ctx.now());
      const holdId = await inTenant(c.tenantId, async (tx) => {
        const inv = b.invoice_id ? await tx.selectFrom('invoices').select('client_id').where('id', '=', b.invoice_id).executeTakeFirst() : null;
        if (b.invoice_id && !inv) throw new UseCaseError('not_found', `no invoice ${b.invoice_id} in this workspace`);
        if (inv && b.client_id && inv.client_id !== b.client_id)
          throw new UseCaseError('invalid', `invoice ${b.invoice_id} is not one of client ${b.client_id}'s`);
        const clientId = inv?.client_id ?? b.client_id!;
        if (!inv && !(await tx.selectFrom('clients').select('id').where('id', '=', clientId).executeTakeFirst()))
          throw new UseCaseError('not_found', `no client ${clientId} in this workspace`);
        return placeHold(
          tx,
          c.tenantId,
          { clientId, invoiceId: b.invoice_id ?? null, kind: b.kind, note: b.note, source: 'staff', ...(b.until_on ? { untilOn: b.until_on } : {}) },
          today,
          c.actor,
        );
      });
      const row = (await inTenant(c.tenantId, activeHoldRows)).find((h) => h.id === holdId)!;
      return reply.code(201).send(row);
    },
  );

  r.post(
    `${P}/holds/:id/release`,
    {
      schema: {
        tags: TAG,
        summary: 'Release a hold: chasing resumes (resumed), or the dispute is settled (resolved)',
        params: id,
        body: z.object({ reason: z.enum(['resumed', 'resolved']).default('resumed') }).strict(),
        response: { 204: z.null(), 404: errorBody, 422: errorBody },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      await inTenant(c.tenantId, (tx) => releaseHold(tx, c.tenantId, req.params.id, req.body.reason, c.actor));
      return reply.code(204).send(null);
    },
  );

  r.get(
    `${P}/results`,
    {
      schema: {
        tags: TAG,
        summary: 'Recovered amount and days to pay per sequence and step; promises kept and missed',
        response: {
          200: z.object({
            steps: z.array(
              z.object({
                sequence_id: z.string().uuid(),
                sequence_name: z.string(),
                step_key: z.string(),
                offset_days: z.number().int(),
                currency: z.string(),
                sent: z.number().int(),
                paid: z.number().int(),
                recovered_minor: minor,
                mean_days_to_pay: z.number().nullable(),
              }),
            ),
            promises: z.object({ kept: z.number().int(), missed: z.number().int(), open: z.number().int() }),
            disputes_open: z.number().int(),
          }),
        },
      },
    },
    async (req) => {
      const c = callerOf(req);
      const res = await inTenant(c.tenantId, (tx) => collectionResults(tx, c.tenantId));
      return {
        steps: res.steps.map((s) => ({
          sequence_id: s.sequenceId,
          sequence_name: s.sequenceName,
          step_key: s.stepKey,
          offset_days: s.offsetDays,
          currency: s.currency,
          sent: s.sent,
          paid: s.paid,
          recovered_minor: s.recoveredMinor.toString(),
          mean_days_to_pay: s.meanDaysToPay,
        })),
        promises: res.promises,
        disputes_open: res.disputesOpen,
      };
    },
  );

  r.post(
    `${P}/runs`,
    {
      schema: {
        tags: TAG,
        summary: 'Run Collections Assist for the workspace now (queued as the 15-minute cron queues it; safe twice: each step is claimed once)',
        response: { 202: z.object({ queued: z.literal(true) }) },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      await enqueue(
        deps.ctx.db,
        'collections-run',
        { tenantId: c.tenantId },
        { jobKey: `collections-run:${c.tenantId}`, queueName: `collections:${c.tenantId}`, maxAttempts: 5 },
      );
      return reply.code(202).send({ queued: true as const });
    },
  );
}
