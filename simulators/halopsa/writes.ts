// Writes: `POST /InvoicePayment` and `POST /Webhook` take a JSON **array** (Halo's convention for every
// POST; an item carrying an existing `id` updates that record — a convention the spec does not state,
// modelled as such and listed in README), `DELETE /InvoicePayment/{id}`, `GET|DELETE /Webhook/{id}`.
// Every field of an item must be a property of the vendor's schema (fields.ts); the checks on values are
// the strictest plausible reading (README).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  AUTH_TYPES,
  INVOICE_EVENTS,
  INVOICE_PAYMENT_FIELDS,
  NOTIFICATION_FIELDS,
  ONE_RECORD_PARAMS,
  WEBHOOK_FIELDS,
  WEBHOOK_LIST_PARAMS,
  MODELLED,
} from './fields.ts';
import { paymentJson, webhookJson } from './model.ts';
import { BadRequest, dateParam, intParam, problem, readQuery } from './query.ts';
import type { HaloState, Webhook } from './store.ts';

function items(body: unknown, schema: string): Record<string, unknown>[] {
  if (!Array.isArray(body)) throw new BadRequest(`The JSON value could not be converted to List<${schema}>. Send an array of objects.`, '$');
  if (body.length === 0) throw new BadRequest('The array is empty.', '$');
  body.forEach((b, i) => {
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw new BadRequest(`Item ${i} is not an object.`, `$[${i}]`);
  });
  return body as Record<string, unknown>[];
}

function onlyKnown(item: Record<string, unknown>, known: readonly string[], schema: string, at: string): void {
  for (const k of Object.keys(item)) {
    if (!known.includes(k)) throw new BadRequest(`'${k}' is not a property of ${schema}.`, `${at}.${k}`);
  }
}

/** Cents of a JSON amount with at most two decimals (the currency's minor unit); else BadRequest. */
function amountCents(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadRequest('amount must be a number.', at);
  const text = String(v);
  if (!/^-?\d+(\.\d{1,2})?$/.test(text)) throw new BadRequest(`amount ${text} has more than two decimal places.`, at);
  const [w = '0', f = ''] = text.replace('-', '').split('.');
  const cents = Number(w) * 100 + Number(f.padEnd(2, '0'));
  return text.startsWith('-') ? -cents : cents;
}

function dateMs(v: unknown, at: string): number {
  if (typeof v !== 'string') throw new BadRequest('date must be a date-time string.', at);
  return dateParam({ date: v }, 'date')!;
}

const one = (list: unknown[]): unknown => (list.length === 1 ? list[0] : list);

export function registerWrites(api: FastifyInstance, state: HaloState): void {
  api.post('/InvoicePayment', async (req) => {
    const list = items(req.body, 'InvoicePayment_List');
    // Validate every item before writing any: one bad item changes nothing. Items of one batch on the same
    // invoice count together (two halves that each fit but not both are refused).
    const planned = new Map<number, number>();
    const plans = list.map((item, i) => {
      const at = `$[${i}]`;
      onlyKnown(item, INVOICE_PAYMENT_FIELDS, 'InvoicePayment_List', at);
      const existing = item.id === undefined || item.id === 0 ? null : state.payments.get(Number(item.id));
      if (item.id !== undefined && item.id !== 0 && !existing) throw new BadRequest(`Invoice payment ${String(item.id)} does not exist.`, `${at}.id`);
      const invoiceId = existing ? existing.invoice_id : Number(item.invoice_id);
      if (existing && item.invoice_id !== undefined && Number(item.invoice_id) !== existing.invoice_id)
        throw new BadRequest('A payment cannot be moved to another invoice.', `${at}.invoice_id`);
      const inv = state.invoices.get(invoiceId);
      if (!inv) throw new BadRequest(`Invoice ${String(item.invoice_id)} does not exist.`, `${at}.invoice_id`);
      if (inv.voided) throw new BadRequest(`Invoice ${inv.invoicenumber} is void.`, `${at}.invoice_id`);
      const cents = item.amount === undefined && existing ? existing.amountCents : amountCents(item.amount, `${at}.amount`);
      if (cents <= 0) throw new BadRequest('amount must be more than zero.', `${at}.amount`);
      const room = state.dueCents(inv) + (existing?.amountCents ?? 0) - (planned.get(inv.id) ?? 0);
      if (cents > room) throw new BadRequest(`amount ${cents / 100} is more than the ${room / 100} invoice ${inv.invoicenumber} still owes.`, `${at}.amount`);
      if (item.thirdpartyid !== undefined && (typeof item.thirdpartyid !== 'string' || item.thirdpartyid.length > 100))
        throw new BadRequest('thirdpartyid must be text of at most 100 characters.', `${at}.thirdpartyid`);
      const when = item.date === undefined ? undefined : dateMs(item.date, `${at}.date`);
      planned.set(inv.id, (planned.get(inv.id) ?? 0) + cents - (existing?.amountCents ?? 0));
      return { existing, inv, cents, when, item };
    });
    const written = plans.map(({ existing, inv, cents, when, item }) =>
      existing
        ? state.updatePayment(existing.id, {
            amountCents: cents,
            ...(when === undefined ? {} : { dateMs: when }),
            ...(typeof item.thirdpartyid === 'string' ? { thirdpartyid: item.thirdpartyid } : {}),
          })
        : state.addPayment({
            invoice_id: inv.id,
            client_id: inv.client_id,
            amountCents: cents,
            dateMs: when ?? state.nowMs(),
            method: typeof item.method === 'number' ? item.method : 0,
            status: typeof item.status === 'number' ? item.status : 0,
            thirdpartyid: typeof item.thirdpartyid === 'string' ? item.thirdpartyid : '',
            intent_id: typeof item.intent_id === 'string' ? item.intent_id : '',
          }),
    );
    return one(written.map((p) => paymentJson(state, p)));
  });

  api.delete('/InvoicePayment/:id', async (req, reply) => {
    readQuery(req.query as Record<string, unknown>, [], [], 'DELETE /InvoicePayment/{id}');
    const raw = (req.params as { id?: string }).id ?? '';
    if (!/^\d+$/.test(raw)) throw new BadRequest(`The value '${raw}' is not valid.`, 'id');
    if (!state.removePayment(Number(raw))) return reply.code(404).send(problem(404, 'Invoice payment not found.'));
    return reply.code(200).send();
  });

  api.get('/Webhook', async (req) => {
    const q = readQuery(req.query as Record<string, unknown>, WEBHOOK_LIST_PARAMS, MODELLED.webhooks, 'GET /Webhook');
    const type = intParam(q, 'type');
    return [...state.webhooks.values()].filter(() => type === undefined || type === 0).map(webhookJson);
  });

  api.get('/Webhook/:id', async (req, reply) => {
    readQuery(req.query as Record<string, unknown>, ONE_RECORD_PARAMS, ONE_RECORD_PARAMS, 'GET /Webhook/{id}');
    const w = state.webhooks.get((req.params as { id: string }).id);
    if (!w) return reply.code(404).send(problem(404, 'Webhook not found.'));
    return webhookJson(w);
  });

  api.delete('/Webhook/:id', async (req, reply) => {
    if (!state.webhooks.delete((req.params as { id: string }).id)) return reply.code(404).send(problem(404, 'Webhook not found.'));
    return reply.code(200).send();
  });

  api.post('/Webhook', async (req) => {
    const list = items(req.body, 'Webhook');
    const plans = list.map((item, i) => webhookPlan(state, item, `$[${i}]`));
    for (const w of plans) state.webhooks.set(w.id, w);
    return one(plans.map(webhookJson));
  });
}

function webhookPlan(state: HaloState, item: Record<string, unknown>, at: string): Webhook {
  onlyKnown(item, WEBHOOK_FIELDS, 'Webhook', at);
  const existing = typeof item.id === 'string' && item.id ? state.webhooks.get(item.id) : undefined;
  if (typeof item.id === 'string' && item.id && !existing) throw new BadRequest(`Webhook ${item.id} does not exist.`, `${at}.id`);
  const str = (k: string): string | undefined => {
    const v = item[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new BadRequest(`${k} must be text.`, `${at}.${k}`);
    return v;
  };
  const url = str('url') ?? existing?.url;
  let urlOk = false;
  try {
    urlOk = !!url && /^https?:$/.test(new URL(url).protocol);
  } catch {
    urlOk = false;
  }
  if (!urlOk) throw new BadRequest('url must be an http(s) URL.', `${at}.url`);
  const authType = item.authentication_type === undefined ? (existing?.authentication_type ?? AUTH_TYPES.none) : item.authentication_type;
  if (authType !== AUTH_TYPES.none && authType !== AUTH_TYPES.basic && authType !== AUTH_TYPES.header)
    throw new BadRequest('authentication_type must be 0 (none), 1 (basic) or 2 (header).', `${at}.authentication_type`);
  const username = str('basic_username') ?? existing?.basic_username ?? '';
  const password = str('basic_password') ?? existing?.basic_password ?? '';
  const header = str('authentication_header') ?? existing?.authentication_header ?? '';
  if (authType === AUTH_TYPES.basic && (!username || !password || username.includes(':')))
    throw new BadRequest('Basic authentication needs basic_username (without ":") and basic_password.', `${at}.basic_username`);
  if (authType === AUTH_TYPES.header && !/^[A-Za-z0-9-]+:\s*\S.*$/.test(header))
    throw new BadRequest('Header authentication needs authentication_header as "Name: value".', `${at}.authentication_header`);
  let eventnos = existing?.eventnos ?? [];
  if (item.events !== undefined) {
    if (!Array.isArray(item.events)) throw new BadRequest('events must be an array.', `${at}.events`);
    const known = Object.values(INVOICE_EVENTS).map((e) => e.eventno as number);
    eventnos = item.events.map((e: unknown, j: number) => {
      if (!e || typeof e !== 'object') throw new BadRequest('an event is an object.', `${at}.events[${j}]`);
      onlyKnown(e as Record<string, unknown>, NOTIFICATION_FIELDS, 'UnameNotification', `${at}.events[${j}]`);
      const n = (e as { eventno?: unknown }).eventno;
      if (typeof n !== 'number' || !known.includes(n))
        throw new BadRequest(`eventno ${String(n)} is not an event this instance has.`, `${at}.events[${j}].eventno`);
      return n;
    });
  }
  return {
    id: existing?.id ?? randomUUID(),
    name: str('name') ?? existing?.name ?? '',
    url: url!,
    authentication_type: authType as number,
    basic_username: authType === AUTH_TYPES.basic ? username : '',
    basic_password: authType === AUTH_TYPES.basic ? password : '',
    authentication_header: authType === AUTH_TYPES.header ? header : '',
    active: item.active === undefined ? (existing?.active ?? true) : item.active === true,
    eventnos,
  };
}
