// Staff → Autopay → Installment plans: an invoice's open balance split into parts charged on set dates to one
// of the client's saved methods. One question per screen: which invoice; then parts, dates and method; then a
// confirmation listing every part (domain/installments.ts installmentSchedule, the split the engine makes);
// created and cancelled through engine/installment-plans.ts, as POST /api/v1/invoices/:id/installment-plans.
//   GET  /app/autopay/installments                   plans (viewer)
//   GET  /app/autopay/installments/new[?invoice=N]   which invoice, then the plan form (finance)
//   POST /app/autopay/installments/preview           the parts, to confirm (finance)
//   POST /app/autopay/installments                   create (finance)
//   POST /app/autopay/installments/:id/cancel        cancel with a reason (finance)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { openBalanceMinor } from '../../db/queries/invoice-balance.ts';
import { InstallmentError, installmentSchedule, MAX_INSTALLMENTS, type ScheduleRequest } from '../../domain/installments.ts';
import { CalendarDateError } from '../../domain/rules/calendar-date.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { UseCaseError, today } from '../../engine/context.ts';
import { cancelInstallmentPlan, createInstallmentPlan, describePlans } from '../../engine/installment-plans.ts';
import { methodLabel } from '../../engine/refund-preview.ts';
import type { Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { notFound } from './payments.ts';
import { renderStaff } from './view.ts';

type Form = Record<string, string | undefined>;
type Err = { field?: string; message: string };
const DONE: Record<string, string> = {
  created: 'Plan created.',
  cancelled: 'Plan cancelled.',
  exists: 'The invoice already has an active plan (below); cancel it first to make another.',
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const callerOf = (req: FastifyRequest): Caller => {
  if (!req.caller) throw new Error('staff route reached without a caller (authorize.ts runs first)');
  return req.caller;
};

async function invoiceFor(tx: Tx, number: string) {
  const inv = await tx
    .selectFrom('invoices as i')
    .innerJoin('clients as c', 'c.id', 'i.client_id')
    .select(['i.id', 'i.number', 'i.currency', 'i.status', 'i.client_id', 'c.name as client_name'])
    .where('i.number', '=', number)
    .executeTakeFirst();
  if (!inv) return null;
  const methods = await tx
    .selectFrom('payment_methods')
    .select(['id', 'kind', 'brand', 'last4', 'is_default'])
    .where('client_id', '=', inv.client_id)
    .orderBy('is_default', 'desc')
    .orderBy('created_at', 'desc')
    .execute();
  return {
    ...inv,
    owed: await openBalanceMinor(tx, inv.id),
    methods: methods.map((m) => ({ id: m.id, label: methodLabel({ method_kind: m.kind, method_brand: m.brand, method_last4: m.last4 }) })),
  };
}

export function registerInstallmentRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const db = deps.ctx.db;

  /** The newest 100 plans with their client's name. */
  const loadPlans = (tenantId: string) =>
    withTenant(db, tenantId, async (tx) => {
      const list = (await describePlans(tx, {})).slice(0, 100);
      const ids = [...new Set(list.map((p) => p.clientId))];
      const rows = ids.length ? await tx.selectFrom('clients').select(['id', 'name']).where('id', 'in', ids).execute() : [];
      const names = new Map(rows.map((c) => [c.id, c.name] as const));
      return list.map((p) => ({ ...p, clientName: names.get(p.clientId) ?? '' }));
    });

  app.get<{ Querystring: Form }>('/app/autopay/installments', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const plans = await loadPlans(caller.tenantId);
    return renderStaff(req, reply, 'autopay-installments', {
      title: 'Installment plans',
      plans,
      canEdit: roleAtLeast(caller.role, 'finance'),
      notice: req.query.done ? { text: DONE[req.query.done] ?? 'Done.', kind: 'ok' } : null,
      errors: [],
    });
  });

  async function planForm(req: FastifyRequest, reply: FastifyReply, number: string, values: Form, errors: Err[]) {
    const caller = callerOf(req);
    const inv = number ? await withTenant(db, caller.tenantId, (tx) => invoiceFor(tx, number)) : null;
    const allErrors = [...errors];
    if (number && !inv) allErrors.push({ field: 'invoice', message: `No invoice #${number} in this workspace` });
    else if (inv && inv.owed <= 0n) allErrors.push({ field: 'invoice', message: `Invoice #${number} owes nothing` });
    else if (inv && inv.methods.length === 0)
      allErrors.push({ field: 'invoice', message: `${inv.client_name} has no saved payment method; they can save one in the portal` });
    const ready = inv !== null && inv.owed > 0n && inv.methods.length > 0;
    return renderStaff(
      req,
      reply,
      'autopay-installment-new',
      {
        title: 'New installment plan',
        narrow: true,
        number,
        inv: ready ? { ...inv, owedText: format(money(inv.owed, parseCurrency(inv.currency))) } : null,
        v: {
          parts: values.parts ?? '3',
          first_due_on: values.first_due_on ?? today(deps.ctx.now()),
          every_days: values.every_days ?? '30',
          method: values.method ?? '',
        },
        errors: allErrors,
        max: MAX_INSTALLMENTS,
      },
      { status: allErrors.length ? 422 : 200 },
    );
  }

  app.get<{ Querystring: Form }>('/app/autopay/installments/new', { schema: { hide: true } }, (req, reply) =>
    planForm(req, reply, (req.query.invoice ?? '').trim().replace(/^#/, ''), {}, []),
  );

  /** The schedule from the form, or what is wrong with it. */
  function scheduleOf(b: Form): { schedule: ScheduleRequest | null; errors: Err[] } {
    const errors: Err[] = [];
    const parts = Number(b.parts);
    const every = Number(b.every_days);
    if (!Number.isInteger(parts) || parts < 2 || parts > MAX_INSTALLMENTS)
      errors.push({ field: 'parts', message: `Enter a number of parts from 2 to ${MAX_INSTALLMENTS}` });
    if (!/^\d{4}-\d{2}-\d{2}$/.test(b.first_due_on ?? '')) errors.push({ field: 'first_due_on', message: 'Enter the first date, for example 2026-04-01' });
    if (!Number.isInteger(every) || every < 1 || every > 366) errors.push({ field: 'every_days', message: 'Enter the days between parts, from 1 to 366' });
    return { schedule: errors.length ? null : { kind: 'every', parts, firstDueOn: b.first_due_on!, everyDays: every }, errors };
  }

  app.post<{ Body: Form }>('/app/autopay/installments/preview', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const b = req.body ?? {};
    const number = (b.invoice ?? '').trim();
    const { schedule, errors } = scheduleOf(b);
    const inv = await withTenant(db, caller.tenantId, (tx) => invoiceFor(tx, number));
    if (!inv) return planForm(req, reply, number, b, errors);
    const method = inv.methods.find((m) => m.id === b.method);
    if (!method) errors.push({ field: 'method', message: 'Choose the saved method to charge' });
    let parts: ReturnType<typeof installmentSchedule> = [];
    if (schedule) {
      try {
        parts = installmentSchedule(money(inv.owed, parseCurrency(inv.currency)), schedule, today(deps.ctx.now()));
      } catch (e) {
        if (!(e instanceof InstallmentError || e instanceof CalendarDateError)) throw e;
        errors.push({ field: 'first_due_on', message: e.message });
      }
    }
    if (errors.length || !method) return planForm(req, reply, number, b, errors);
    return renderStaff(req, reply, 'autopay-installment-confirm', {
      title: 'Confirm the installment plan',
      narrow: true,
      inv: { ...inv, owedText: format(money(inv.owed, parseCurrency(inv.currency))) },
      method,
      parts: parts.map((p) => ({ partNo: p.partNo, dueOn: p.dueOn, amount: format(p.amount) })),
      b,
    });
  });

  app.post<{ Body: Form }>('/app/autopay/installments', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const b = req.body ?? {};
    const number = (b.invoice ?? '').trim();
    const { schedule, errors } = scheduleOf(b);
    if (!schedule || !UUID.test(b.method ?? '')) return planForm(req, reply, number, b, errors);
    try {
      await withTenant(db, caller.tenantId, async (tx) => {
        const inv = await tx.selectFrom('invoices').select('id').where('number', '=', number).executeTakeFirst();
        if (!inv) throw new UseCaseError('not_found', `No invoice #${number} in this workspace`);
        await createInstallmentPlan(tx, caller.tenantId, { invoiceId: inv.id, schedule, paymentMethodId: b.method!, actor: caller.actor, now: deps.ctx.now() });
      });
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      // A double submit (or an earlier plan) finds an active plan on the invoice: show the list, where it is.
      if (e.code === 'conflict') return reply.redirect('/app/autopay/installments?done=exists', 303);
      return planForm(req, reply, number, b, [{ message: e.message }]);
    }
    return reply.redirect('/app/autopay/installments?done=created', 303);
  });

  app.post<{ Params: { id: string }; Body: Form }>('/app/autopay/installments/:id/cancel', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply);
    const reason = (req.body?.reason ?? '').trim();
    try {
      await withTenant(db, caller.tenantId, (tx) => cancelInstallmentPlan(tx, caller.tenantId, { planId: req.params.id, reason, actor: caller.actor }));
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      if (e.code === 'not_found') return notFound(req, reply);
      const plans = await loadPlans(caller.tenantId);
      return renderStaff(
        req,
        reply,
        'autopay-installments',
        {
          title: 'Installment plans',
          plans,
          canEdit: true,
          notice: null,
          errors: [{ field: `reason-${req.params.id}`, message: e.code === 'invalid' ? 'Enter why you are cancelling the plan' : e.message }],
        },
        { status: e.code === 'invalid' ? 422 : 409 },
      );
    }
    return reply.redirect('/app/autopay/installments?done=cancelled', 303);
  });
}
