// Staff → Payments: the list (filters as removable chips, keyset paging), one payment (amount and state on top,
// its timeline, raw ids last), a refund in two steps — the amount and reason, then a confirmation that states
// the effect on the processor, the PSA and the books (engine/refund-preview.ts) — and "resend receipt".
// Both actions go through the engine functions the API uses (requestRefund, as POST /api/v1/payments/:id/refunds;
// the e-mail outbox), audited there. Each confirmation form carries its own idempotency key, made when the
// form was drawn: a double submit refunds (or e-mails) once.
//   GET  /app/payments                       list          (viewer)
//   GET  /app/payments/:id                   one payment   (viewer)
//   GET  /app/payments/:id/refund            step 1 form   (finance)
//   POST /app/payments/:id/refund            step 2: the effect, to confirm (finance)
//   POST /app/payments/:id/refund/confirm    the refund    (finance)
//   POST /app/payments/:id/receipt           resend        (finance)
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { listPayments, paymentDetail, PAYMENT_METHODS, PAYMENT_STATES, type PaymentFilters } from '../../db/queries/payments.ts';
import { format, money, MoneyError, parseCurrency, parseDecimal, toDecimalString } from '../../domain/money.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { workspaceTimezone } from '../../domain/timezone.ts';
import type { PaymentState } from '../../db/schema.ts';
import { UseCaseError } from '../../engine/context.ts';
import { methodLabel, previewRefund, refundableOf } from '../../engine/refund-preview.ts';
import { requestRefund } from '../../engine/refund-payment.ts';
import { resendReceipt } from '../../engine/resend-receipt.ts';
import { vendorName } from '../../engine/posting-exceptions.ts';
import type { Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { paymentTimeline } from './payment-timeline.ts';
import { renderStaff } from './view.ts';

type Query = Record<string, string | undefined>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const newKey = (): string => crypto.randomBytes(18).toString('base64url');

const callerOf = (req: FastifyRequest): Caller => {
  if (!req.caller) throw new Error('staff route reached without a caller (authorize.ts runs first)');
  return req.caller;
};

async function timezoneOf(deps: HttpDeps, tenantId: string): Promise<string> {
  const t = await withTenant(deps.ctx.db, tenantId, (tx) => tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirstOrThrow());
  return workspaceTimezone(t.settings as Record<string, unknown>);
}

/** The filters as given, the ones that are valid, and the chips that remove each one. */
function filtersOf(q: Query): { given: Record<string, string>; errors: { field: string; message: string }[] } {
  const given: Record<string, string> = {};
  const errors: { field: string; message: string }[] = [];
  if (q.state) {
    if ((PAYMENT_STATES as readonly string[]).includes(q.state)) given.state = q.state;
    else errors.push({ field: 'state', message: 'Choose a state from the list' });
  }
  if (q.method) {
    if ((PAYMENT_METHODS as readonly string[]).includes(q.method)) given.method = q.method;
    else errors.push({ field: 'method', message: 'Choose card or bank account' });
  }
  if (q.client?.trim()) given.client = q.client.trim().slice(0, 100);
  for (const f of ['from', 'to'] as const) {
    const v = q[f]?.trim();
    if (!v) continue;
    if (DATE.test(v) && !Number.isNaN(Date.parse(v))) given[f] = v;
    else errors.push({ field: f, message: `Enter the ${f === 'from' ? 'first' : 'last'} day as a date, for example 2026-03-01` });
  }
  if (given.from && given.to && given.from > given.to) errors.push({ field: 'to', message: 'The last day must be on or after the first day' });
  return { given, errors };
}

const LABELS: Record<string, string> = { state: 'State', method: 'Method', client: 'Client', from: 'From', to: 'To' };
const METHOD_WORDS: Record<string, string> = { card: 'Card', us_bank_account: 'Bank account (ACH)' };

function chips(given: Record<string, string>): { label: string; href: string }[] {
  return Object.entries(given).map(([k, v]) => {
    const rest = new URLSearchParams(Object.entries(given).filter(([x]) => x !== k));
    const shown = k === 'method' ? (METHOD_WORDS[v] ?? v) : k === 'state' ? v.replace(/_/g, ' ') : v;
    return { label: `${LABELS[k]}: ${shown}`, href: `/app/payments${rest.size ? `?${rest}` : ''}` };
  });
}

export function registerPaymentsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const db = deps.ctx.db;

  app.get<{ Querystring: Query }>('/app/payments', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const { given, errors } = filtersOf(req.query);
    const timezone = await timezoneOf(deps, caller.tenantId);
    const filters: PaymentFilters = {
      timezone,
      ...(given.state ? { state: given.state as PaymentState } : {}),
      ...(given.method ? { method: given.method as PaymentFilters['method'] & string } : {}),
      ...(given.client ? { client: given.client } : {}),
      ...(given.from ? { from: given.from } : {}),
      ...(given.to ? { to: given.to } : {}),
      ...(req.query.after ? { after: req.query.after } : {}),
    };
    const page = errors.length ? { rows: [], next: null } : await withTenant(db, caller.tenantId, (tx) => listPayments(tx, filters));
    const nextHref = page.next ? `/app/payments?${new URLSearchParams({ ...given, after: page.next })}` : null;
    return renderStaff(req, reply, 'payments', {
      title: 'Payments',
      errors,
      given,
      chips: chips(given),
      states: PAYMENT_STATES,
      methods: Object.entries(METHOD_WORDS).map(([value, label]) => ({ value, label })),
      rows: page.rows.map((r) => ({ ...r, methodText: r.method_kind ? methodLabel(r) : '—' })),
      nextHref,
      firstHref: req.query.after ? `/app/payments${Object.keys(given).length ? `?${new URLSearchParams(given)}` : ''}` : null,
    });
  });

  async function showPayment(
    req: FastifyRequest<{ Params: { id: string }; Querystring: Query }>,
    reply: FastifyReply,
    notice?: { text: string; kind: 'ok' | 'error' },
    status = 200,
  ) {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply);
    const data = await withTenant(db, caller.tenantId, async (tx) => {
      const d = await paymentDetail(tx, req.params.id);
      if (!d) return null;
      const refundable = await refundableOf(tx, d.payment);
      const refundNotice = req.query.refund && UUID.test(req.query.refund) ? d.refunds.find((r) => r.id === req.query.refund) : undefined;
      return { d, refundable, refundNotice };
    });
    if (!data) return notFound(req, reply);
    const { d, refundable, refundNotice } = data;
    const p = d.payment;
    const m = (n: bigint): string => format(money(n, parseCurrency(p.currency)));
    let shown = notice;
    if (!shown && refundNotice) {
      shown =
        refundNotice.status === 'succeeded'
          ? { text: `Refunded ${m(refundNotice.amount_minor)} to ${methodLabel(p)}.`, kind: 'ok' }
          : refundNotice.status === 'pending'
            ? { text: `Refund of ${m(refundNotice.amount_minor)} sent to ${vendorName(p.processor)}; it shows here when they confirm it.`, kind: 'ok' }
            : {
                text: `${vendorName(p.processor)} refused the refund of ${m(refundNotice.amount_minor)}: ${refundNotice.failure_message ?? 'no reason given'}.`,
                kind: 'error',
              };
    }
    if (!shown && req.query.receipt === 'sent') shown = { text: `Receipt queued to ${p.billing_email ?? 'the client'}.`, kind: 'ok' };
    const finance = roleAtLeast(caller.role, 'finance');
    const refundableNow = ['succeeded', 'partially_refunded'].includes(p.state) && refundable > 0n && p.processor_payment_id !== null;
    return renderStaff(
      req,
      reply,
      'payment',
      {
        title: `Payment ${m(p.amount_minor)} from ${p.client_name}`,
        p,
        amount: m(p.amount_minor),
        refunded: p.refunded_minor > 0n ? m(p.refunded_minor) : null,
        refundable: m(refundable),
        method: p.method_kind ? methodLabel(p) : '—',
        processor: vendorName(p.processor),
        allocations: d.allocations.map((a) => ({ ...a, amount: m(a.amount_minor), reversed: a.reversed_minor > 0n ? m(a.reversed_minor) : null })),
        timeline: paymentTimeline(d),
        notice: shown,
        canRefund: finance && refundableNow,
        canResend: finance && ['succeeded', 'partially_refunded', 'refunded'].includes(p.state) && p.billing_email !== null,
        receiptKey: newKey(),
      },
      { status },
    );
  }

  app.get<{ Params: { id: string }; Querystring: Query }>('/app/payments/:id', { schema: { hide: true } }, (req, reply) => showPayment(req, reply));

  // ---- refund, step 1: how much and why ----
  async function refundForm(
    req: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    values: { amount: string; reason: string },
    errors: { field?: string; message: string }[],
  ) {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply);
    const found = await withTenant(db, caller.tenantId, async (tx) => {
      const p = await tx
        .selectFrom('payments as p')
        .innerJoin('clients as c', 'c.id', 'p.client_id')
        .selectAll('p')
        .select('c.name as client_name')
        .where('p.id', '=', req.params.id)
        .executeTakeFirst();
      return p ? { p, refundable: await refundableOf(tx, p) } : null;
    });
    if (!found) return notFound(req, reply);
    const m = (n: bigint): string => format(money(n, parseCurrency(found.p.currency)));
    return renderStaff(
      req,
      reply,
      'payments-refund',
      {
        title: 'Refund a payment',
        narrow: true,
        p: found.p,
        amountText: m(found.p.amount_minor),
        refundable: m(found.refundable),
        method: methodLabel(found.p),
        values: {
          amount: values.amount || (found.refundable > 0n ? toDecimalString(money(found.refundable, parseCurrency(found.p.currency))) : ''),
          reason: values.reason,
        },
        errors,
      },
      { status: errors.length ? 422 : 200 },
    );
  }

  app.get<{ Params: { id: string } }>('/app/payments/:id/refund', { schema: { hide: true } }, (req, reply) =>
    refundForm(req, reply, { amount: '', reason: '' }, []),
  );

  // ---- refund, step 2: the effect, stated; nothing has happened yet ----
  app.post<{ Params: { id: string }; Body: Query }>('/app/payments/:id/refund', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const amountText = (req.body?.amount ?? '').trim();
    const reason = (req.body?.reason ?? '').trim();
    const errors: { field: string; message: string }[] = [];
    if (!UUID.test(req.params.id)) return notFound(req, reply);
    const p = await withTenant(db, caller.tenantId, (tx) => tx.selectFrom('payments').select(['currency']).where('id', '=', req.params.id).executeTakeFirst());
    if (!p) return notFound(req, reply);
    let amountMinor: bigint | null = null;
    try {
      if (!amountText) throw new MoneyError('empty');
      amountMinor = parseDecimal(amountText.replace(/[$£€,\s]|CA|A|NZ/g, ''), parseCurrency(p.currency)).amountMinor;
    } catch {
      errors.push({ field: 'amount', message: 'Enter the amount to refund as a number, for example 120.00' });
    }
    if (!reason) errors.push({ field: 'reason', message: 'Enter why you are refunding (kept in the audit log and sent to the processor)' });
    if (reason.length > 500) errors.push({ field: 'reason', message: 'Keep the reason to 500 characters or fewer' });
    if (errors.length || amountMinor === null) return refundForm(req, reply, { amount: amountText, reason }, errors);
    const preview = await withTenant(db, caller.tenantId, (tx) => previewRefund(tx, req.params.id, amountMinor));
    if (!preview) return notFound(req, reply);
    if (!preview.ok) return refundForm(req, reply, { amount: amountText, reason }, [{ field: 'amount', message: preview.problem }]);
    return renderStaff(req, reply, 'payments-refund-confirm', {
      title: 'Confirm the refund',
      narrow: true,
      paymentId: req.params.id,
      effect: preview.effect,
      amountText: format(preview.effect.amount),
      amountMinor: preview.effect.amount.amountMinor.toString(),
      reason,
      key: newKey(),
    });
  });

  // ---- refund, step 3: done through the engine, once per key ----
  app.post<{ Params: { id: string }; Body: Query }>('/app/payments/:id/refund/confirm', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply);
    const amount = req.body?.amount_minor ?? '';
    const reason = (req.body?.reason ?? '').trim();
    const key = req.body?.key ?? '';
    if (!/^\d{1,15}$/.test(amount) || !reason || !/^[A-Za-z0-9_-]{16,64}$/.test(key))
      return refundForm(req, reply, { amount: '', reason }, [{ message: 'The confirmation was incomplete. Enter the refund again.' }]);
    try {
      const r = await requestRefund(deps.ctx, caller.tenantId, {
        paymentId: req.params.id,
        amountMinor: BigInt(amount),
        reason,
        idempotencyKey: `key:staff-${key}`,
        actor: caller.actor,
      });
      return reply.redirect(`/app/payments/${req.params.id}?refund=${r.refund.id}`, 303);
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      if (e.code === 'not_found') return notFound(req, reply);
      return refundForm(req, reply, { amount: '', reason }, [{ field: 'amount', message: e.message }]);
    }
  });

  app.post<{ Params: { id: string }; Body: Query; Querystring: Query }>('/app/payments/:id/receipt', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply);
    try {
      await resendReceipt(deps.ctx, caller.tenantId, { paymentId: req.params.id, requestKey: req.body?.key ?? '', actor: caller.actor });
      return reply.redirect(`/app/payments/${req.params.id}?receipt=sent`, 303);
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      if (e.code === 'not_found') return notFound(req, reply);
      return showPayment(req, reply, { text: e.message, kind: 'error' }, 409);
    }
  });
}

export function notFound(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return renderStaff(req, reply, 'payments-not-found', { title: 'Not found', what: req.url.split('?')[0] }, { status: 404 });
}
