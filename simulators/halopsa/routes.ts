// The vendor-facing resource routes under /api: Bearer tokens from auth.ts, the tenant's rate limit,
// lists with Halo's paging envelope (query.ts), one invoice, and the writes in writes.ts. Errors are
// ASP.NET Core problem details (`{ type, title, status, errors: { field: [message] } }`); 401 carries no
// body and `WWW-Authenticate: Bearer error="invalid_token"`; a route the API does not have is a bare 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimiter } from '../kit.ts';
import type { TokenStore } from './auth.ts';
import { CLIENT_LIST_PARAMS, INVOICE_LIST_PARAMS, MODELLED, ONE_RECORD_PARAMS, ORDER_FIELDS, PAYMENT_LIST_PARAMS, USER_LIST_PARAMS } from './fields.ts';
import { clientJson, invoiceJson, paymentJson, userJson } from './model.ts';
import { BadRequest, boolParam, dateParam, intParam, ordered, page, problem, readQuery, type Query } from './query.ts';
import type { HaloState } from './store.ts';
import { registerWrites } from './writes.ts';
import { customFieldsJson, registerCustomFieldControl, registerInvoiceUpdates } from './custom-fields.ts';
import { registerInvoicePdf } from './invoice-pdf.ts';

export const API_PATH = '/api';

export interface RouteContext {
  readonly state: HaloState;
  readonly tokens: TokenStore;
  readonly rateLimiter: () => RateLimiter | null;
}

function idOf(value: string | undefined, field = 'id'): number {
  if (!value || !/^\d+$/.test(value)) throw new BadRequest(`The value '${value ?? ''}' is not valid.`, field);
  return Number(value);
}

function checkBearer(req: FastifyRequest, reply: FastifyReply, tokens: TokenStore): string | FastifyReply {
  const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
  const client = m ? tokens.check(m[1]!) : null;
  if (client) return client;
  const header = m ? 'Bearer error="invalid_token", error_description="The access token is not valid or has expired"' : 'Bearer';
  return reply.code(401).header('www-authenticate', header).send();
}

/** Changed-since filters as Halo's `lastupdatefromdate`/`lastupdatetodate` (inclusive). */
function changedBetween<T>(rows: T[], q: Query, stamp: (row: T) => number): T[] {
  const from = dateParam(q, 'lastupdatefromdate');
  const to = dateParam(q, 'lastupdatetodate');
  return rows.filter((r) => (from === undefined || stamp(r) >= from) && (to === undefined || stamp(r) <= to));
}

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { state } = ctx;
  app.setErrorHandler((e, _req, reply) => {
    if (e instanceof BadRequest) return reply.code(400).send(problem(400, 'One or more validation errors occurred.', { [e.field]: [e.message] }));
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 400 || status === 415) return reply.code(status).send(problem(status, (e as Error).message));
    return reply.code(500).send(problem(500, 'An error occurred while processing your request.'));
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send());
  registerCustomFieldControl(app, state);

  void app.register(
    async (api) => {
      api.addHook('preHandler', async (req, reply) => {
        const client = checkBearer(req, reply, ctx.tokens);
        if (typeof client !== 'string') return client;
        const limiter = ctx.rateLimiter();
        if (limiter) {
          const r = limiter.take(client);
          if (!r.ok) {
            return reply
              .code(429)
              .header('retry-after', String(Math.ceil(r.retryAfterMs / 1000)))
              .send(problem(429, 'Too Many Requests: the API request limit for this tenant was reached; retry after the Retry-After interval.'));
          }
        }
        return undefined;
      });

      api.get('/Invoice', async (req) => {
        const q = readQuery(req.query as Record<string, unknown>, INVOICE_LIST_PARAMS, MODELLED.invoices, 'GET /Invoice');
        const clientId = intParam(q, 'client_id');
        const lines = boolParam(q, 'includelines') ?? false;
        let rows = [...state.invoices.values()];
        if (clientId !== undefined) rows = rows.filter((i) => i.client_id === clientId);
        rows = ordered(rows, q, ORDER_FIELDS.invoices, (i, f) =>
          f === 'last_modified'
            ? i.updatedMs
            : f === 'invoice_date'
              ? i.invoiceDate
              : f === 'invoicenumber'
                ? i.invoicenumber
                : f === 'client_id'
                  ? i.client_id
                  : f === 'duedate'
                    ? (i.dueDate ?? '')
                    : i.id,
        );
        return page(rows, q, 'invoices', (i) => invoiceJson(state, i, { lines, payments: false }));
      });

      api.get('/Invoice/:id', async (req, reply) => {
        const q = readQuery(req.query as Record<string, unknown>, ONE_RECORD_PARAMS, ONE_RECORD_PARAMS, 'GET /Invoice/{id}');
        const id = idOf((req.params as { id?: string }).id);
        const inv = state.invoices.get(id);
        if (!inv) return reply.code(404).send(problem(404, `Invoice ${id} not found.`));
        return { ...invoiceJson(state, inv, { lines: true, payments: boolParam(q, 'includedetails') ?? false }), customfields: customFieldsJson(state, inv) };
      });

      api.get('/Client', async (req) => {
        const q = readQuery(req.query as Record<string, unknown>, CLIENT_LIST_PARAMS, MODELLED.clients, 'GET /Client');
        let rows = changedBetween([...state.clients.values()], q, (c) => c.updatedMs);
        if (!(boolParam(q, 'includeinactive') ?? false)) rows = rows.filter((c) => !c.inactive);
        if (q.search) rows = rows.filter((c) => c.name.toLowerCase().includes(q.search!.toLowerCase()));
        rows = ordered(rows, q, ORDER_FIELDS.clients, (c, f) => (f === 'name' ? c.name : f === 'alastupdate' ? c.updatedMs : c.id));
        return page(rows, q, 'clients', clientJson);
      });

      api.get('/Client/:id', async (req, reply) => {
        readQuery(req.query as Record<string, unknown>, ONE_RECORD_PARAMS, ONE_RECORD_PARAMS, 'GET /Client/{id}');
        const c = state.clients.get(idOf((req.params as { id?: string }).id));
        if (!c) return reply.code(404).send(problem(404, 'Client not found.'));
        return clientJson(c);
      });

      api.get('/Users', async (req) => {
        const q = readQuery(req.query as Record<string, unknown>, USER_LIST_PARAMS, MODELLED.users, 'GET /Users');
        let rows = changedBetween([...state.users.values()], q, (u) => u.updatedMs);
        const clientId = intParam(q, 'client_id');
        if (clientId !== undefined) rows = rows.filter((u) => u.client_id === clientId);
        if (!(boolParam(q, 'includeinactive') ?? false)) rows = rows.filter((u) => !u.inactive);
        rows = ordered(rows, q, ORDER_FIELDS.users, (u, f) => (f === 'name' ? `${u.firstname} ${u.surname}` : f === 'ulastupdate' ? u.updatedMs : u.id));
        return page(rows, q, 'users', (u) => userJson(state, u));
      });

      api.get('/InvoicePayment', async (req) => {
        const q = readQuery(req.query as Record<string, unknown>, PAYMENT_LIST_PARAMS, MODELLED.payments, 'GET /InvoicePayment');
        const invoiceId = intParam(q, 'invoice_id');
        const clientId = intParam(q, 'client_id');
        let rows = [...state.payments.values()];
        if (invoiceId !== undefined) rows = rows.filter((p) => p.invoice_id === invoiceId);
        if (clientId !== undefined) rows = rows.filter((p) => p.client_id === clientId);
        rows = ordered(rows, q, ORDER_FIELDS.payments, (p, f) => (f === 'date' ? p.dateMs : p.id));
        return page(rows, q, 'invoicepayments', (p) => paymentJson(state, p));
      });

      api.get('/InvoicePayment/:id', async (req, reply) => {
        readQuery(req.query as Record<string, unknown>, ONE_RECORD_PARAMS, ONE_RECORD_PARAMS, 'GET /InvoicePayment/{id}');
        const p = state.payments.get(idOf((req.params as { id?: string }).id));
        if (!p) return reply.code(404).send(problem(404, 'Invoice payment not found.'));
        return paymentJson(state, p);
      });

      registerWrites(api, state);
      registerInvoiceUpdates(api, state);
      registerInvoicePdf(api, state);
    },
    { prefix: API_PATH },
  );
}
