// Autopay rules (CRUD, ordered) and the workspace's autopay settings. Shapes are checked here; what needs the
// database is checked by the use cases in engine/manage-autopay.ts, which also audit every change.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { SUPPORTED_CURRENCIES } from '../../domain/money.ts';
import { COVERABLE_KINDS, type CoveredKind } from '../../domain/contracts.ts';
import { loadAutopaySettings } from '../../engine/autopay-store.ts';
import { createRule, deleteRule, getRule, saveSettings, updateRule, type RuleInput } from '../../engine/manage-autopay.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody } from './schemas.ts';

// Client rules are tried first: list them first.
const sqlNullsFirstClient = sql<boolean>`client_id IS NULL`;

const nonNegativeMinor = z.string().regex(/^\d{1,15}$/, 'a whole number of minor units (cents) as a string, e.g. "250000" for 2,500.00');

const ruleFields = {
  client_id: z.string().uuid().nullable().describe("null: a workspace rule; else this client's own rule (tried before workspace rules)"),
  name: z.string().trim().min(1).max(200),
  position: z.number().int().min(0).max(1_000_000).describe('order within its group (client rules first, then workspace rules); lower first'),
  enabled: z.boolean(),
  // Credit memos are never charged, so they are not a type a rule can select.
  invoice_types: z
    .array(z.enum(['standard', 'agreement', 'down_payment', 'miscellaneous', 'progress']))
    .min(1)
    .nullable()
    .describe('PSA invoice types; null = any'),
  line_kinds: z
    .array(z.enum(['product', 'time', 'expense', 'other']))
    .min(1)
    .nullable()
    .describe('every line must be one of these kinds; null = any'),
  contract_kinds: z
    .array(z.enum(COVERABLE_KINDS as [CoveredKind, ...CoveredKind[]]))
    .min(1)
    .nullable()
    .describe(
      'contract kinds charged automatically (none = lines under no contract); an invoice with a line of another kind waits for approval (contract_not_covered); null = any',
    ),
  currency: z.enum(SUPPORTED_CURRENCIES as [string, ...string[]]).nullable(),
  approval_cap_minor: nonNegativeMinor.nullable().describe('above this the charge waits for staff approval; null = no cap'),
  anchor: z.enum(['due_date', 'invoice_date']),
  offset_days: z.number().int().min(-90).max(90).describe('days after the anchor date (negative: before)'),
  method_kinds: z.array(z.enum(['card', 'us_bank_account'])).min(1),
  notice_days: z.number().int().min(0).max(30).nullable().describe('days of pre-debit notice; null = the workspace setting'),
};
const createBody = z.object(ruleFields).partial().required({ name: true }).strict();
const patchBody = z.object(ruleFields).partial().strict();

const ruleOut = z.object({
  id: z.string().uuid(),
  client_id: z.string().uuid().nullable(),
  name: z.string(),
  position: z.number().int(),
  enabled: z.boolean(),
  invoice_types: z.array(z.string()).nullable(),
  line_kinds: z.array(z.string()).nullable(),
  contract_kinds: z.array(z.string()).nullable(),
  currency: z.string().nullable(),
  approval_cap_minor: z.string().nullable(),
  anchor: z.string(),
  offset_days: z.number().int(),
  method_kinds: z.array(z.string()),
  notice_days: z.number().int().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

type RuleRow = Awaited<ReturnType<typeof getRule>>;
const present = (r: RuleRow): z.infer<typeof ruleOut> => ({
  id: r.id,
  client_id: r.client_id,
  name: r.name,
  position: r.position,
  enabled: r.enabled,
  invoice_types: r.invoice_types,
  line_kinds: r.line_kinds,
  contract_kinds: r.contract_kinds,
  currency: r.currency,
  approval_cap_minor: r.approval_cap_minor === null ? null : r.approval_cap_minor.toString(),
  anchor: r.anchor,
  offset_days: r.offset_days,
  method_kinds: r.method_kinds,
  notice_days: r.notice_days,
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

function toInput(body: z.infer<typeof patchBody>): RuleInput {
  const { approval_cap_minor, ...rest } = body;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) out[k] = v;
  if (approval_cap_minor !== undefined) out['approval_cap_minor'] = approval_cap_minor === null ? null : BigInt(approval_cap_minor);
  return out as RuleInput;
}

const settingsShape = z.object({
  notice_days: z.number().int().min(0).max(30).describe('days of pre-debit notice before a charge'),
  jump_percent: z.number().int().min(0).max(10_000).nullable().describe('a charge more than this % above the previous invoice waits for approval; null = off'),
  requests_per_second: z.number().int().min(1).max(1000).describe('pacing of processor calls in a run (Stripe: 100/s live, 25/s test mode)'),
  concurrency: z.number().int().min(1).max(64),
});

export function registerAutopayRuleRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = deps.ctx.db;
  r.get(
    '/autopay/rules',
    {
      schema: {
        tags: ['autopay'],
        summary: 'Autopay rules in the order they are tried (client rules first, then workspace rules)',
        querystring: z.object({ client_id: z.string().uuid().optional() }),
        response: { 200: z.object({ data: z.array(ruleOut) }) },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(db, caller.tenantId, (tx) => {
        let q = tx.selectFrom('autopay_rules').selectAll().where('deleted_at', 'is', null);
        if (req.query.client_id) q = q.where((eb) => eb.or([eb('client_id', '=', req.query.client_id!), eb('client_id', 'is', null)]));
        return q.orderBy(sqlNullsFirstClient).orderBy('position').orderBy('id').execute();
      });
      return { data: rows.map(present) };
    },
  );
  r.post(
    '/autopay/rules',
    {
      schema: { tags: ['autopay'], summary: 'Create an autopay rule', body: createBody, response: { 201: ruleOut, 400: errorBody, 404: errorBody } },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const row = await withTenant(db, caller.tenantId, (tx) => createRule(tx, caller.tenantId, { ...toInput(req.body), name: req.body.name }, caller.actor));
      return reply.code(201).send(present(row));
    },
  );
  r.get(
    '/autopay/rules/:id',
    {
      schema: { tags: ['autopay'], summary: 'One autopay rule', params: z.object({ id: z.string().uuid() }), response: { 200: ruleOut, 404: errorBody } },
    },
    async (req) => {
      const caller = callerOf(req);
      return present(await withTenant(db, caller.tenantId, (tx) => getRule(tx, req.params.id)));
    },
  );
  r.patch(
    '/autopay/rules/:id',
    {
      schema: {
        tags: ['autopay'],
        summary: 'Change an autopay rule (open schedules follow it until their first notice)',
        params: z.object({ id: z.string().uuid() }),
        body: patchBody,
        response: { 200: ruleOut, 400: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      return present(await withTenant(db, caller.tenantId, (tx) => updateRule(tx, caller.tenantId, req.params.id, toInput(req.body), caller.actor)));
    },
  );
  r.delete(
    '/autopay/rules/:id',
    {
      schema: {
        tags: ['autopay'],
        summary: 'Delete an autopay rule (refused while a client is locked to it)',
        params: z.object({ id: z.string().uuid() }),
        response: { 204: z.null(), 404: errorBody, 409: errorBody },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      await withTenant(db, caller.tenantId, (tx) => deleteRule(tx, caller.tenantId, req.params.id, caller.actor));
      return reply.code(204).send(null);
    },
  );
  r.get(
    '/autopay/settings',
    {
      schema: { tags: ['autopay'], summary: "The workspace's autopay settings", response: { 200: settingsShape } },
    },
    async (req) => {
      const caller = callerOf(req);
      return toSettingsOut(await withTenant(db, caller.tenantId, (tx) => loadAutopaySettings(tx)));
    },
  );
  r.put(
    '/autopay/settings',
    {
      schema: {
        tags: ['autopay'],
        summary: "Change the workspace's autopay settings (fields left out keep their value)",
        body: settingsShape.partial().strict(),
        response: { 200: settingsShape, 400: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const b = req.body;
      const input = {
        ...(b.notice_days !== undefined ? { noticeDays: b.notice_days } : {}),
        ...(b.jump_percent !== undefined ? { jumpPercent: b.jump_percent } : {}),
        ...(b.requests_per_second !== undefined ? { requestsPerSecond: b.requests_per_second } : {}),
        ...(b.concurrency !== undefined ? { concurrency: b.concurrency } : {}),
      };
      return toSettingsOut(await withTenant(db, caller.tenantId, (tx) => saveSettings(tx, caller.tenantId, input, caller.actor)));
    },
  );
}

const toSettingsOut = (s: Awaited<ReturnType<typeof loadAutopaySettings>>): z.infer<typeof settingsShape> => ({
  notice_days: s.noticeDays,
  jump_percent: s.jumpPercent,
  requests_per_second: s.requestsPerSecond,
  concurrency: s.concurrency,
});
