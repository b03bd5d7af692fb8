// Invoice payments: `GET|POST /finance/invoices/{parentId}/payments` and
// `GET|PUT|PATCH|DELETE /finance/invoices/{parentId}/payments/{id}` (the vendor's path list, specs
// README §1). PATCH takes ConnectWise's JSON Patch list (`[{op:"replace", path:"amount", value}]`);
// `amount` and `paymentDate` are changeable (by PATCH or PUT), nothing else: a payment's invoice,
// credit and appliedBy are ConnectWise's to set. Amount rules are the same everywhere: more than
// zero and within what the invoice still owes (README.md: assumptions).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseDecimal, MoneyError } from '../../src/domain/money.ts';
import { ENTITIES } from './fields.ts';
import { cwTimestamp, type CwError } from './model.ts';
import { BadRequest, listRecords, normalizeQuery } from './query.ts';
import { PaymentRejected, type ConnectWiseState } from './store.ts';

const err = (code: string, message: string, errors?: CwError['errors']): CwError => ({ code, message, ...(errors ? { errors } : {}) });

function idParam(value: string | undefined): number {
  if (!value || !/^\d+$/.test(value)) throw new BadRequest(`"${value ?? ''}" is not a valid id`, 'id');
  return Number(value);
}

/** A decimal amount in minor units, or the reason it is not one. */
function amountOf(value: unknown): bigint | string {
  if (typeof value !== 'number' && typeof value !== 'string') return 'Amount is required.';
  try {
    return parseDecimal(value, 'USD').amountMinor;
  } catch (e) {
    if (e instanceof MoneyError) return e.message;
    throw e;
  }
}

/** A `paymentDate` as ConnectWise stores it (UTC, whole seconds), or null when it is not a date. */
function dateOf(value: unknown): string | null {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return null;
  return cwTimestamp(new Date(Date.parse(value)));
}

export function registerPaymentRoutes(api: FastifyInstance, state: ConnectWiseState, origin: () => string): void {
  const invalid = (reply: FastifyReply, field: string, message: string): FastifyReply =>
    reply.code(400).send(err('InvalidObject', 'payment object is invalid', [{ code: 'InvalidField', message, resource: 'payment', field }]));
  const notFound = (reply: FastifyReply, id: string | undefined): FastifyReply => reply.code(404).send(err('NotFound', `Payment with id ${id} not found`));

  api.get('/finance/invoices/:parentId/payments', async (req, reply) => {
    const invoiceId = idParam((req.params as { parentId?: string }).parentId);
    if (!state.invoices.get(invoiceId)) return reply.code(404).send(err('NotFound', `Invoice with id ${invoiceId} not found`));
    const q = normalizeQuery(req.query as Record<string, unknown>);
    const scoped = q.conditions ? `invoice/id = ${invoiceId} and (${q.conditions})` : `invoice/id = ${invoiceId}`;
    const res = listRecords(
      state.payments,
      { ...q, conditions: scoped },
      { url: new URL(req.url, origin()), forwardOnly: false, entity: ENTITIES.payment, indexPaths: ['invoice/id'] },
    );
    if (res.link) void reply.header('link', res.link);
    return res.body;
  });

  api.get('/finance/invoices/:parentId/payments/:id', async (req, reply) => {
    const p = req.params as { parentId?: string; id?: string };
    const invoiceId = idParam(p.parentId);
    const payment = state.payments.get(idParam(p.id));
    if (!payment || payment.invoice.id !== invoiceId) return notFound(reply, p.id);
    return payment;
  });

  api.post('/finance/invoices/:parentId/payments', async (req, reply) => {
    const invoiceId = idParam((req.params as { parentId?: string }).parentId);
    if (!state.invoices.get(invoiceId)) return reply.code(404).send(err('NotFound', `Invoice with id ${invoiceId} not found`));
    const body = (req.body ?? {}) as Record<string, unknown>;
    const minor = amountOf(body.amount);
    if (typeof minor === 'string') return invalid(reply, 'amount', minor);
    const date = body.paymentDate === undefined ? cwTimestamp(state.clock()) : dateOf(body.paymentDate);
    if (date === null) return invalid(reply, 'paymentDate', 'paymentDate is not a date.');
    try {
      const payment = state.recordPayment(invoiceId, minor, date, { type: typeof body.type === 'string' ? body.type : null });
      return reply.code(201).send(payment);
    } catch (e) {
      if (e instanceof PaymentRejected) return invalid(reply, e.field, e.message);
      throw e;
    }
  });

  /** Apply a change of amount and/or payment date; 404 when the payment is not on the invoice. */
  const change = (reply: FastifyReply, p: { parentId?: string; id?: string }, to: { amount?: bigint; paymentDate?: string }): FastifyReply => {
    try {
      const payment = state.changePayment(idParam(p.parentId), idParam(p.id), to);
      if (!payment) return notFound(reply, p.id);
      return reply.send(payment);
    } catch (e) {
      if (e instanceof PaymentRejected) return invalid(reply, e.field, e.message);
      throw e;
    }
  };

  api.patch('/finance/invoices/:parentId/payments/:id', async (req, reply) => {
    const p = req.params as { parentId?: string; id?: string };
    const ops = req.body;
    if (!Array.isArray(ops) || ops.length === 0)
      return invalid(reply, 'body', 'A PATCH body is a list of operations, e.g. [{"op":"replace","path":"amount","value":10}].');
    const to: { amount?: bigint; paymentDate?: string } = {};
    for (const op of ops as Record<string, unknown>[]) {
      const path = String(op?.path ?? '').replace(/^\//, '');
      if (op?.op !== 'replace' || (path !== 'amount' && path !== 'paymentDate'))
        return invalid(reply, path || 'path', `Only "replace" of "amount" or "paymentDate" is supported, not ${String(op?.op)} of "${path}".`);
      if (path === 'amount') {
        const minor = amountOf(op.value);
        if (typeof minor === 'string') return invalid(reply, 'amount', minor);
        to.amount = minor;
      } else {
        const date = dateOf(op.value);
        if (date === null) return invalid(reply, 'paymentDate', 'paymentDate is not a date.');
        to.paymentDate = date;
      }
    }
    return change(reply, p, to);
  });

  // PUT replaces the payment: amount and paymentDate are required, as on POST; invoice, credit and
  // appliedBy, when sent, must be what the payment already has (they cannot be moved by an update).
  api.put('/finance/invoices/:parentId/payments/:id', async (req, reply) => {
    const p = req.params as { parentId?: string; id?: string };
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return invalid(reply, 'body', 'A PUT body is the whole payment object.');
    const b = body as Record<string, unknown>;
    const current = state.payments.get(idParam(p.id));
    if (!current || current.invoice.id !== idParam(p.parentId)) return notFound(reply, p.id);
    const minor = amountOf(b.amount);
    if (typeof minor === 'string') return invalid(reply, 'amount', minor);
    const date = dateOf(b.paymentDate);
    if (date === null) return invalid(reply, 'paymentDate', 'paymentDate is required and must be a date.');
    const invoiceRef = b.invoice as { id?: unknown } | undefined;
    if (invoiceRef !== undefined && invoiceRef?.id !== current.invoice.id) return invalid(reply, 'invoice', 'A payment cannot be moved to another invoice.');
    if (b.appliedBy !== undefined && b.appliedBy !== current.appliedBy) return invalid(reply, 'appliedBy', 'appliedBy is set by ConnectWise.');
    return change(reply, p, { amount: minor, paymentDate: date });
  });

  api.delete('/finance/invoices/:parentId/payments/:id', async (req, reply) => {
    const p = req.params as { parentId?: string; id?: string };
    if (!state.deletePayment(idParam(p.parentId), idParam(p.id))) return notFound(reply, p.id);
    return reply.code(204).send();
  });
}
