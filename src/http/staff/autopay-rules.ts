// Staff → Autopay → Rules: the ordered rules (each client's own rules first, then the workspace's), each with
// its conditions in words; a form to create or change one, delete, and move up/down. Through the engine
// functions of /api/v1/autopay/rules (engine/manage-autopay.ts), which audit every change with before/after.
//   GET  /app/autopay/rules                 the list (viewer)
//   GET  /app/autopay/rules/new             form (finance)        POST /app/autopay/rules            create (finance)
//   GET  /app/autopay/rules/:id             form (viewer reads)   POST /app/autopay/rules/:id        save   (finance)
//   POST /app/autopay/rules/:id/delete      (finance)             POST /app/autopay/rules/:id/move   up/down (finance)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { withTenant, type Tx } from '../../db/tenant.ts';
import type { Selectable } from 'kysely';
import type { AutopayRuleContractColumns, AutopayRulesTable } from '../../db/schema.ts';
import { format, money, parseCurrency, parseDecimal, SUPPORTED_CURRENCIES, toDecimalString } from '../../domain/money.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { CONTRACT_KIND_LABELS, COVERABLE_KINDS, isCoveredKind } from '../../domain/contracts.ts';
import { UseCaseError } from '../../engine/context.ts';
import { createRule, deleteRule, getRule, updateRule, type RuleInput } from '../../engine/manage-autopay.ts';
import type { Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { notFound } from './payments.ts';
import { renderStaff } from './view.ts';

type AutopayRule = Selectable<AutopayRulesTable & AutopayRuleContractColumns>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
type Form = Record<string, string | string[] | undefined>;
type Err = { field?: string; message: string };

export const INVOICE_TYPES = ['standard', 'agreement', 'down_payment', 'miscellaneous', 'progress'] as const;
export const LINE_KINDS = ['product', 'time', 'expense', 'other'] as const;
const METHOD_KINDS = [
  { value: 'card', label: 'Card' },
  { value: 'us_bank_account', label: 'Bank account (ACH)' },
] as const;

const callerOf = (req: FastifyRequest): Caller => {
  if (!req.caller) throw new Error('staff route reached without a caller (authorize.ts runs first)');
  return req.caller;
};
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim();

/** The form as a RuleInput, or what is wrong with it (GOV.UK: one message per field). */
async function parseRuleForm(tx: Tx, f: Form): Promise<{ input: RuleInput & { name: string }; errors: Err[] }> {
  const errors: Err[] = [];
  const name = one(f.name);
  if (!name) errors.push({ field: 'name', message: 'Enter a name for the rule' });
  if (name.length > 200) errors.push({ field: 'name', message: 'Keep the name to 200 characters or fewer' });
  let clientId: string | null = null;
  const client = one(f.client);
  if (client) {
    const found = await tx
      .selectFrom('clients')
      .select('id')
      .where(sql<boolean>`lower(name) = lower(${client})`)
      .limit(2)
      .execute();
    if (found.length !== 1)
      errors.push({ field: 'client', message: found.length ? `More than one client is called “${client}”` : `No client is called “${client}”` });
    else clientId = found[0]!.id;
  }
  const currency = one(f.currency) || null;
  if (currency && !(SUPPORTED_CURRENCIES as readonly string[]).includes(currency))
    errors.push({ field: 'currency', message: 'Choose a currency from the list' });
  const types = list(f.invoice_types).filter((t) => (INVOICE_TYPES as readonly string[]).includes(t));
  const kinds = list(f.line_kinds).filter((t) => (LINE_KINDS as readonly string[]).includes(t));
  const contractKinds = list(f.contract_kinds).filter(isCoveredKind);
  const methods = list(f.method_kinds).filter((t): t is 'card' | 'us_bank_account' => t === 'card' || t === 'us_bank_account');
  if (methods.length === 0) errors.push({ field: 'method_kinds', message: 'Choose at least one way to charge' });
  let cap: bigint | null = null;
  const capText = one(f.cap).replace(/[$,\s]/g, '');
  if (capText) {
    try {
      cap = parseDecimal(capText, parseCurrency(currency ?? 'USD')).amountMinor;
      if (cap < 0n) throw new Error('negative');
    } catch {
      errors.push({ field: 'cap', message: 'Enter the approval cap as an amount, for example 2500.00, or leave it empty for no cap' });
    }
  }
  const anchor = one(f.anchor) === 'invoice_date' ? 'invoice_date' : 'due_date';
  const offset = Number(one(f.offset_days) || '0');
  if (!Number.isInteger(offset) || offset < -90 || offset > 90) errors.push({ field: 'offset_days', message: 'Enter a whole number of days from -90 to 90' });
  const noticeText = one(f.notice_days);
  const notice = noticeText === '' ? null : Number(noticeText);
  if (notice !== null && (!Number.isInteger(notice) || notice < 0 || notice > 30))
    errors.push({ field: 'notice_days', message: 'Enter a whole number of days from 0 to 30, or leave it empty for the workspace setting' });
  return {
    input: {
      name,
      client_id: clientId,
      enabled: one(f.enabled) === 'on',
      invoice_types: types.length ? types : null,
      line_kinds: kinds.length ? kinds : null,
      contract_kinds: contractKinds.length ? contractKinds : null,
      currency,
      approval_cap_minor: cap,
      anchor,
      offset_days: offset,
      method_kinds: methods,
      notice_days: notice,
    },
    errors,
  };
}

/** A rule's conditions in one sentence. */
export function describeRule(r: AutopayRule): string {
  const parts: string[] = [];
  parts.push(r.invoice_types ? `${r.invoice_types.join(' or ').replace(/_/g, ' ')} invoices` : 'any invoice');
  if (r.line_kinds) parts.push(`with only ${r.line_kinds.join('/')} lines`);
  if (r.contract_kinds)
    parts.push(
      `automatic only for ${r.contract_kinds.map((k) => (isCoveredKind(k) ? CONTRACT_KIND_LABELS[k].toLowerCase() : k)).join(', ')} (other contracts wait for approval)`,
    );
  if (r.currency) parts.push(`in ${r.currency}`);
  const when =
    r.offset_days === 0 ? 'on' : `${Math.abs(r.offset_days)} day${Math.abs(r.offset_days) === 1 ? '' : 's'} ${r.offset_days > 0 ? 'after' : 'before'}`;
  parts.push(`charged ${when} the ${r.anchor === 'due_date' ? 'due date' : 'invoice date'}`);
  parts.push(`by ${r.method_kinds.map((k) => (k === 'card' ? 'card' : 'bank account')).join(' or ')}`);
  if (r.approval_cap_minor !== null) parts.push(`approval above ${format(money(r.approval_cap_minor, parseCurrency(r.currency ?? 'USD')))}`);
  parts.push(r.notice_days === null ? 'workspace notice period' : `${r.notice_days} days' notice`);
  return parts.join(', ');
}

async function orderedRules(tx: Tx) {
  return tx
    .selectFrom('autopay_rules as r')
    .leftJoin('clients as c', 'c.id', 'r.client_id')
    .selectAll('r')
    .select('c.name as client_name')
    .where('r.deleted_at', 'is', null)
    .orderBy(sql`r.client_id is null`)
    .orderBy('c.name')
    .orderBy('r.position')
    .orderBy('r.id')
    .execute();
}

export function registerAutopayRuleRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const db = deps.ctx.db;

  app.get<{ Querystring: { saved?: string } }>('/app/autopay/rules', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const rules = await withTenant(db, caller.tenantId, orderedRules);
    return renderStaff(req, reply, 'autopay-rules', {
      title: 'Autopay rules',
      rules: rules.map((r) => ({ ...r, text: describeRule(r) })),
      canEdit: roleAtLeast(caller.role, 'finance'),
      notice: req.query.saved ? { text: req.query.saved === 'deleted' ? 'Rule deleted.' : 'Rule saved.', kind: 'ok' } : null,
    });
  });

  async function showForm(
    req: FastifyRequest,
    reply: FastifyReply,
    rule: (AutopayRule & { client_name: string | null }) | null,
    form: Form | null,
    errors: Err[],
  ) {
    const caller = callerOf(req);
    const v = form
      ? {
          name: one(form.name),
          client: one(form.client),
          enabled: one(form.enabled) === 'on',
          invoice_types: list(form.invoice_types),
          line_kinds: list(form.line_kinds),
          contract_kinds: list(form.contract_kinds),
          currency: one(form.currency),
          cap: one(form.cap),
          anchor: one(form.anchor) || 'due_date',
          offset_days: one(form.offset_days),
          method_kinds: list(form.method_kinds),
          notice_days: one(form.notice_days),
        }
      : {
          name: rule?.name ?? '',
          client: rule?.client_name ?? '',
          enabled: rule?.enabled ?? true,
          invoice_types: rule?.invoice_types ?? [],
          line_kinds: rule?.line_kinds ?? [],
          contract_kinds: rule?.contract_kinds ?? [],
          currency: rule?.currency ?? '',
          cap: rule?.approval_cap_minor != null ? toDecimalString(money(rule.approval_cap_minor, parseCurrency(rule.currency ?? 'USD'))) : '',
          anchor: rule?.anchor ?? 'due_date',
          offset_days: String(rule?.offset_days ?? 0),
          method_kinds: rule?.method_kinds ?? ['card', 'us_bank_account'],
          notice_days: rule?.notice_days == null ? '' : String(rule.notice_days),
        };
    return renderStaff(
      req,
      reply,
      'autopay-rule',
      {
        title: rule ? `Autopay rule: ${rule.name}` : 'New autopay rule',
        narrow: true,
        rule,
        v,
        errors,
        canEdit: roleAtLeast(caller.role, 'finance'),
        invoiceTypes: INVOICE_TYPES,
        lineKinds: LINE_KINDS,
        contractKinds: COVERABLE_KINDS.map((k) => ({ value: k, label: CONTRACT_KIND_LABELS[k] })),
        methodKinds: METHOD_KINDS,
        currencies: SUPPORTED_CURRENCIES,
      },
      { status: errors.length ? 422 : 200 },
    );
  }

  const load = (tenantId: string, id: string) =>
    withTenant(db, tenantId, async (tx) => {
      const r = await tx
        .selectFrom('autopay_rules as r')
        .leftJoin('clients as c', 'c.id', 'r.client_id')
        .selectAll('r')
        .select('c.name as client_name')
        .where('r.id', '=', id)
        .where('r.deleted_at', 'is', null)
        .executeTakeFirst();
      return r ?? null;
    });

  app.get('/app/autopay/rules/new', { schema: { hide: true } }, (req, reply) => showForm(req, reply, null, null, []));

  app.post<{ Body: Form }>('/app/autopay/rules', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const r = await withTenant(db, caller.tenantId, async (tx) => {
      const { input, errors } = await parseRuleForm(tx, req.body ?? {});
      if (errors.length) return { errors };
      return { row: await createRule(tx, caller.tenantId, input, caller.actor) };
    }).catch((e: unknown) => {
      if (e instanceof UseCaseError) return { errors: [{ message: e.message }] };
      throw e;
    });
    if ('errors' in r) return showForm(req, reply, null, req.body ?? {}, r.errors);
    return reply.redirect('/app/autopay/rules?saved=1', 303);
  });

  app.get<{ Params: { id: string } }>('/app/autopay/rules/:id', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const rule = UUID.test(req.params.id) ? await load(caller.tenantId, req.params.id) : null;
    if (!rule) return notFound(req, reply);
    return showForm(req, reply, rule, null, []);
  });

  app.post<{ Params: { id: string }; Body: Form }>('/app/autopay/rules/:id', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const rule = UUID.test(req.params.id) ? await load(caller.tenantId, req.params.id) : null;
    if (!rule) return notFound(req, reply);
    const r = await withTenant(db, caller.tenantId, async (tx) => {
      const { input, errors } = await parseRuleForm(tx, req.body ?? {});
      if (errors.length) return { errors };
      return { row: await updateRule(tx, caller.tenantId, rule.id, input, caller.actor) };
    }).catch((e: unknown) => {
      if (e instanceof UseCaseError) return { errors: [{ message: e.message }] };
      throw e;
    });
    if ('errors' in r) return showForm(req, reply, rule, req.body ?? {}, r.errors);
    return reply.redirect('/app/autopay/rules?saved=1', 303);
  });

  app.post<{ Params: { id: string } }>('/app/autopay/rules/:id/delete', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const rule = UUID.test(req.params.id) ? await load(caller.tenantId, req.params.id) : null;
    if (!rule) return notFound(req, reply);
    try {
      await withTenant(db, caller.tenantId, (tx) => deleteRule(tx, caller.tenantId, rule.id, caller.actor));
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return showForm(req, reply, rule, null, [{ message: e.message }]);
    }
    return reply.redirect('/app/autopay/rules?saved=deleted', 303);
  });

  // Move a rule one place up or down within its group (the same client's rules, or the workspace's): the
  // group is renumbered 10, 20, 30 … through updateRule, so each change is audited.
  app.post<{ Params: { id: string }; Body: Form }>('/app/autopay/rules/:id/move', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply);
    const moved = await withTenant(db, caller.tenantId, async (tx) => {
      const rule = await getRule(tx, req.params.id).catch(() => null);
      if (!rule) return false;
      await tx.selectFrom('autopay_rules').select('id').where('deleted_at', 'is', null).forUpdate().execute();
      const group = (await orderedRules(tx)).filter((r) => r.client_id === rule.client_id);
      const i = group.findIndex((r) => r.id === rule.id);
      const j = one(req.body?.direction) === 'up' ? i - 1 : i + 1;
      if (j >= 0 && j < group.length) [group[i], group[j]] = [group[j]!, group[i]!];
      for (const [n, r] of group.entries())
        if (r.position !== (n + 1) * 10) await updateRule(tx, caller.tenantId, r.id, { position: (n + 1) * 10 }, caller.actor);
      return true;
    });
    if (!moved) return notFound(req, reply);
    return reply.redirect('/app/autopay/rules?saved=1', 303);
  });
}
