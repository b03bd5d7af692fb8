// The Accounting API paths Settle uses (specs/xero/xero_accounting.yaml › paths), under /api.xro/2.0:
// GET /Organisation, /Accounts, /Contacts, /Invoices (InvoiceNumbers, IDs, Statuses, where, page,
// pageSize, If-Modified-Since), /Invoices/{id}, /Payments, /Payments/{id}, /BankTransfers,
// /BankTransactions; PUT /Payments, /BankTransfers, /BankTransactions (many per call; summarizeErrors);
// POST /Payments (one) and POST /Payments/{id} (delete); GET /CreditNotes, /CreditNotes/{id} and PUT
// /CreditNotes/{id}/Allocations (credit-notes.ts); GET /TrackingCategories (tracking.ts). Each takes only the query parameters its operation lists (an
// unknown one, or a `where` / `order` on an unknown field, is refused in Xero's error shape), and unknown
// body fields — nested ones too — are refused.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_PREFIX, idempotent, type ApiState } from './api-hooks.ts';
import { notFound, sendException, validationBody, withErrors } from './errors.ts';
import { createBankTransaction, createPayment, createTransfer, deletePayment, type Created } from './writes.ts';
import { msDate, type Rec, type XeroStore } from './store.ts';
import { parseWhere } from './where.ts';
import { createAllocation, creditNoteJson, undoAllocation } from './credit-notes.ts';
import { trackingCategoryJson } from './tracking.ts';

type Q = Record<string, string | undefined>;

/** The query parameters of a paged list (xero_accounting.yaml › paths › …/get › parameters); others add to them. */
const PAGED = ['where', 'order', 'page', 'pageSize'];
const UNSORTED = ['where', 'order']; // /Accounts and /BankTransfers take no paging

function envelope(store: XeroStore, key: string, rows: unknown[], extra: Rec = {}): Rec {
  return { Id: randomUUID(), Status: 'OK', ProviderName: 'Settle', DateTimeUTC: msDate(store.now()), ...extra, [key]: rows };
}

/** Refuse query parameters the operation does not take (stricter than Xero, which ignores them). */
function badParams(q: Q, allowed: readonly string[]): string | null {
  const bad = Object.keys(q).filter((k) => !allowed.includes(k));
  return bad.length ? `Unknown query parameter(s): ${bad.join(', ')}` : null;
}

function since(req: FastifyRequest): number | null {
  const h = req.headers['if-modified-since'];
  if (typeof h !== 'string') return null;
  const t = Date.parse(h.endsWith('Z') || /GMT|[+-]\d\d:?\d\d$/.test(h) ? h : `${h}Z`);
  return Number.isNaN(t) ? null : t;
}

/** where, If-Modified-Since, paging (page of pageSize, default 100, at most 1000) over JSON rows. */
function listRows(req: FastifyRequest, reply: FastifyReply, rows: { json: Rec; updatedAt: number }[], fields: string[]): Rec[] | FastifyReply {
  const q = req.query as Q;
  let out = rows;
  const ims = since(req);
  if (ims !== null) out = out.filter((r) => r.updatedAt > ims);
  if (q['where']) {
    try {
      const pred = parseWhere(q['where'], new Set(fields));
      out = out.filter((r) => pred(r.json));
    } catch (e) {
      return sendException(reply, 16, 'QueryParseException', (e as Error).message);
    }
  }
  if (q['order']) {
    // "Field [ASC|DESC]" over the fields `where` may name; anything else is refused, as Xero does.
    const m = /^\s*([A-Za-z][A-Za-z.]*)(?:\s+(ASC|DESC))?\s*$/i.exec(q['order']);
    if (!m || !fields.includes(m[1]!)) return sendException(reply, 16, 'QueryParseException', `No property or field '${m?.[1] ?? q['order']}' exists`);
    const dir = m[2]?.toUpperCase() === 'DESC' ? -1 : 1;
    const key = (r: Rec): string => String(m[1]!.split('.').reduce<unknown>((v, k) => (v as Rec | undefined)?.[k], r) ?? '');
    out = [...out].sort((a, b) => dir * key(a.json).localeCompare(key(b.json)));
  }
  if (q['page'] !== undefined) {
    const page = Number(q['page']);
    const size = q['pageSize'] === undefined ? 100 : Number(q['pageSize']);
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 1000) {
      return sendException(reply, 14, 'PostDataInvalidException', 'page must be ≥ 1 and pageSize 1 to 1000');
    }
    out = out.slice((page - 1) * size, page * size);
  }
  return out.map((r) => r.json);
}

/** Many creates in one call: with summarizeErrors=false every item answers for itself (200). */
async function createMany(store: XeroStore, req: FastifyRequest, key: string, create: (b: Rec) => Created): Promise<{ status: number; body: unknown }> {
  const q = req.query as Q;
  const body = req.body as Rec | null;
  const items = body && Array.isArray(body[key]) ? (body[key] as Rec[]) : null;
  if (!items || Object.keys(body!).some((k) => k !== key) || items.some((i) => !i || typeof i !== 'object')) {
    return { status: 400, body: { ErrorNumber: 14, Type: 'PostDataInvalidException', Message: `The body must be {"${key}": [ … ]}` } };
  }
  const summarize = q['summarizeErrors'] !== 'false';
  const results = items.map((i) => ({ item: i, r: create(i) }));
  if (summarize && results.some((x) => !x.r.ok)) {
    // Nothing of the call is kept: undo what was created before the first failure (Xero saves all or none).
    undo(
      store,
      results.filter((x) => x.r.ok).map((x) => (x.r as { json: Rec }).json),
    );
    return {
      status: 400,
      body: validationBody(results.filter((x) => !x.r.ok).map((x) => withErrors(x.item, (x.r as { messages: string[] }).messages, key))),
    };
  }
  // A BankTransfer has no StatusAttributeString (components › schemas › BankTransfer).
  const ok = key === 'BankTransfers' ? {} : { StatusAttributeString: 'OK' };
  const rows = results.map((x) => (x.r.ok ? { ...x.r.json, ...ok } : withErrors(x.item, x.r.messages, key)));
  return { status: 200, body: envelope(store, key, rows) };
}

function undo(store: XeroStore, created: Rec[]): void {
  for (const c of created) {
    if (typeof c['PaymentID'] === 'string') {
      const p = store.payments.find((x) => x.PaymentID === c['PaymentID'])!;
      store.payments.splice(store.payments.indexOf(p), 1);
      const inv = store.invoices.find((i) => i.InvoiceID === p.InvoiceID)!;
      inv.paidCents -= p.amountCents;
      if (inv.Status === 'PAID') inv.Status = 'AUTHORISED';
    } else if (typeof c['BankTransferID'] === 'string') {
      store.transfers.splice(
        store.transfers.findIndex((t) => t.BankTransferID === c['BankTransferID']),
        1,
      );
    } else if (typeof c['AllocationID'] === 'string') {
      undoAllocation(store, c['AllocationID']);
    } else if (typeof c['BankTransactionID'] === 'string') {
      store.bankTransactions.splice(
        store.bankTransactions.findIndex((t) => t.BankTransactionID === c['BankTransactionID']),
        1,
      );
    }
  }
}

export function registerApiRoutes(app: FastifyInstance, store: XeroStore, state: ApiState): void {
  const P = API_PREFIX;
  const list = (path: string, key: string, params: readonly string[], rows: () => { json: Rec; updatedAt: number }[], fields: string[]): void => {
    app.get(`${P}/${path}`, async (req, reply) => {
      const bad = badParams(req.query as Q, params);
      if (bad) return sendException(reply, 14, 'PostDataInvalidException', bad);
      const out = listRows(req, reply, rows(), fields);
      return Array.isArray(out) ? envelope(store, key, out) : out;
    });
  };

  /** A route that takes only these query parameters (none unless named), refused in Xero's shape otherwise. */
  const only =
    (allowed: readonly string[]) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> => {
      const bad = badParams(req.query as Q, allowed);
      if (bad) return sendException(reply, 14, 'PostDataInvalidException', bad);
    };
  // Fastify's own refusals (a body that is not JSON, an empty JSON body) in Xero's shape, not Fastify's.
  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    if (req.url.startsWith(P) && (err.statusCode ?? 500) < 500) return sendException(reply, 14, 'PostDataInvalidException', err.message);
    return reply.send(err);
  });

  app.get(`${P}/Organisation`, { preHandler: only([]) }, async () =>
    envelope(store, 'Organisations', [
      { OrganisationID: store.tenantId, Name: store.tenantName, BaseCurrency: store.currency, CountryCode: 'US', OrganisationType: 'COMPANY' },
    ]),
  );
  list('Accounts', 'Accounts', UNSORTED, () => store.accounts.map((a) => ({ json: { ...a }, updatedAt: 0 })), [
    'Type',
    'Code',
    'Name',
    'Status',
    'AccountID',
    'EnablePaymentsToAccount',
  ]);
  list(
    'Contacts',
    'Contacts',
    PAGED,
    () =>
      store.contacts.map((c) => ({
        json: { ContactID: c.ContactID, Name: c.Name, EmailAddress: c.EmailAddress ?? '', IsCustomer: true, UpdatedDateUTC: msDate(c.updatedAt) },
        updatedAt: c.updatedAt,
      })),
    ['Name', 'ContactID', 'EmailAddress'],
  );

  const INVOICE_PARAMS = ['InvoiceNumbers', 'IDs', 'Statuses', 'ContactIDs', 'summaryOnly', 'includeArchived', 'createdByMyApp', 'unitdp', 'searchTerm'];
  app.get(`${P}/Invoices`, async (req, reply) => {
    const q = req.query as Q;
    const bad = badParams(q, [...PAGED, ...INVOICE_PARAMS]);
    if (bad) return sendException(reply, 14, 'PostDataInvalidException', bad);
    const csv = (k: string): Set<string> | null => (q[k] ? new Set(q[k]!.split(',').map((s) => s.trim())) : null);
    const numbers = csv('InvoiceNumbers');
    const ids = csv('IDs');
    const statuses = csv('Statuses');
    const rows = store.invoices
      .filter((i) => (!numbers || numbers.has(i.InvoiceNumber)) && (!ids || ids.has(i.InvoiceID)) && (!statuses || statuses.has(i.Status)))
      .filter((i) => q['includeArchived'] === 'true' || i.Status !== 'DELETED')
      .map((i) => ({ json: store.invoiceJson(i, q['summaryOnly'] !== 'true' && q['page'] !== undefined), updatedAt: i.updatedAt }));
    const out = listRows(req, reply, rows, ['InvoiceNumber', 'Status', 'Type', 'InvoiceID', 'Contact.ContactID', 'Contact.Name', 'Reference']);
    if (!Array.isArray(out)) return out;
    const size = q['pageSize'] === undefined ? 100 : Number(q['pageSize']);
    const pagination =
      q['page'] === undefined
        ? {}
        : { pagination: { page: Number(q['page']), pageSize: size, pageCount: Math.ceil(rows.length / size), itemCount: rows.length } };
    return envelope(store, 'Invoices', out, pagination);
  });
  app.get<{ Params: { id: string } }>(`${P}/Invoices/:id`, { preHandler: only(['unitdp']) }, async (req, reply) => {
    const i = store.invoices.find((x) => x.InvoiceID === req.params.id || x.InvoiceNumber === req.params.id);
    if (!i) return notFound(reply);
    const ims = since(req);
    if (ims !== null && i.updatedAt <= ims) return reply.code(304).send();
    return envelope(store, 'Invoices', [store.invoiceJson(i)]);
  });

  const paymentRows = (): { json: Rec; updatedAt: number }[] => store.payments.map((p) => ({ json: store.paymentJson(p), updatedAt: p.updatedAt }));
  list('Payments', 'Payments', PAGED, paymentRows, [
    'Reference',
    'Status',
    'PaymentID',
    'Invoice.InvoiceID',
    'Invoice.InvoiceNumber',
    'PaymentType',
    'Account.AccountID',
  ]);
  app.get<{ Params: { id: string } }>(`${P}/Payments/:id`, { preHandler: only([]) }, async (req, reply) => {
    const p = store.payments.find((x) => x.PaymentID === req.params.id);
    return p ? envelope(store, 'Payments', [store.paymentJson(p)]) : notFound(reply);
  });
  app.put(`${P}/Payments`, async (req, reply) => {
    const bad = badParams(req.query as Q, ['summarizeErrors']);
    if (bad) return sendException(reply, 14, 'PostDataInvalidException', bad);
    return idempotent(state, req, reply, () => createMany(store, req, 'Payments', (b) => createPayment(store, b)));
  });
  app.post(`${P}/Payments`, { preHandler: only([]) }, async (req, reply) => {
    const body = req.body as Rec | null;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return sendException(reply, 14, 'PostDataInvalidException', 'The body must be a Payment');
    return idempotent(state, req, reply, async () => {
      const r = createPayment(store, body);
      return r.ok ? { status: 200, body: envelope(store, 'Payments', [r.json]) } : { status: 400, body: validationBody([withErrors(body, r.messages)]) };
    });
  });
  app.post<{ Params: { id: string } }>(`${P}/Payments/:id`, { preHandler: only([]) }, async (req, reply) => {
    const body = (req.body ?? {}) as Rec;
    return idempotent(state, req, reply, async () => {
      const r = deletePayment(store, req.params.id, body);
      if (!r) return { status: 404, body: "The resource you're looking for cannot be found" };
      return r.ok ? { status: 200, body: envelope(store, 'Payments', [r.json]) } : { status: 400, body: validationBody([withErrors(body, r.messages)]) };
    });
  });

  list('BankTransfers', 'BankTransfers', UNSORTED, () => store.transfers.map((t) => ({ json: store.transferJson(t), updatedAt: t.createdAt })), [
    'Reference',
    'BankTransferID',
    'FromBankAccount.AccountID',
    'ToBankAccount.AccountID',
  ]);
  app.put(`${P}/BankTransfers`, async (req, reply) => {
    const bad = badParams(req.query as Q, []);
    if (bad) return sendException(reply, 14, 'PostDataInvalidException', bad);
    return idempotent(state, req, reply, () => createMany(store, req, 'BankTransfers', (b) => createTransfer(store, b)));
  });
  list(
    'BankTransactions',
    'BankTransactions',
    [...PAGED, 'unitdp'],
    () => store.bankTransactions.map((b) => ({ json: store.bankTransactionJson(b), updatedAt: b.updatedAt })),
    ['Reference', 'Type', 'Status', 'BankTransactionID', 'BankAccount.AccountID', 'Contact.Name'],
  );
  app.put(`${P}/BankTransactions`, async (req, reply) => {
    const bad = badParams(req.query as Q, ['summarizeErrors', 'unitdp']);
    if (bad) return sendException(reply, 14, 'PostDataInvalidException', bad);
    return idempotent(state, req, reply, () => createMany(store, req, 'BankTransactions', (b) => createBankTransaction(store, b)));
  });

  // Tracking categories (tracking.ts): active ones unless includeArchived=true.
  app.get(`${P}/TrackingCategories`, async (req, reply) => {
    const q = req.query as Q;
    const bad = badParams(q, ['where', 'order', 'includeArchived']);
    if (bad) return sendException(reply, 14, 'PostDataInvalidException', bad);
    const all = q['includeArchived'] === 'true';
    const rows = store.trackingCategories.filter((c) => all || c.Status === 'ACTIVE').map((c) => ({ json: trackingCategoryJson(c, all), updatedAt: 0 }));
    const out = listRows(req, reply, rows, ['Name', 'Status', 'TrackingCategoryID']);
    return Array.isArray(out) ? envelope(store, 'TrackingCategories', out) : out;
  });

  // Sales credit notes (credit-notes.ts): read by number, allocated to an invoice.
  list('CreditNotes', 'CreditNotes', [...PAGED, 'unitdp'], () => store.creditNotes.map((n) => ({ json: creditNoteJson(store, n), updatedAt: n.updatedAt })), [
    'CreditNoteNumber',
    'CreditNoteID',
    'Status',
    'Type',
    'Contact.ContactID',
    'Reference',
  ]);
  app.get<{ Params: { id: string } }>(`${P}/CreditNotes/:id`, { preHandler: only(['unitdp']) }, async (req, reply) => {
    const n = store.creditNotes.find((x) => x.CreditNoteID === req.params.id || x.CreditNoteNumber === req.params.id);
    return n ? envelope(store, 'CreditNotes', [creditNoteJson(store, n)]) : notFound(reply);
  });
  app.put<{ Params: { id: string } }>(`${P}/CreditNotes/:id/Allocations`, async (req, reply) => {
    const bad = badParams(req.query as Q, ['summarizeErrors']);
    if (bad) return sendException(reply, 14, 'PostDataInvalidException', bad);
    const note = store.creditNotes.find((x) => x.CreditNoteID === req.params.id);
    if (!note) return notFound(reply);
    return idempotent(state, req, reply, () => createMany(store, req, 'Allocations', (b) => createAllocation(store, note, b)));
  });

  app.setNotFoundHandler((_req, reply) => notFound(reply));
}
