// Staff → Invoices: find an invoice (number prefix or client name, filters shown as removable chips, sort,
// keyset pages), export the same set as CSV (streamed), and one invoice's page — header, lines, the versions
// the PSA sent, payments, and its timeline across the PSA, the processor and the books.
//   GET /app/invoices          list     (viewer)
//   GET /app/invoices.csv      export   (viewer)
//   GET /app/invoices/:id      one invoice (viewer)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { eachInvoicePage, listInvoicePage, type InvoiceListQuery } from '../../db/queries/invoice-list.ts';
import { invoicePage } from '../../db/queries/invoice-timeline.ts';
import { workspaceTimezone } from '../../domain/timezone.ts';
import { vendorName } from '../../engine/posting-exceptions.ts';
import type { Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { csvStream } from './invoices-csv.ts';
import { chipsOf, encodeCursor, listHref, METHOD_WORDS, parseListQuery, SORT_WORDS, STATUS_WORDS, todayIn, type Query } from './invoices-filters.ts';
import { vendorUrl, type VendorConnection } from './vendor-links.ts';
import { renderStaff } from './view.ts';
import { payLinkPanel } from './invoice-pay-link.ts';
import { invoiceContracts, kindLabel } from './invoice-contracts.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE = 50;

export const callerOf = (req: FastifyRequest): Caller => {
  if (!req.caller) throw new Error('staff route reached without a caller (authorize.ts runs first)');
  return req.caller;
};

/** The workspace's timezone and its connections' non-secret settings (for links to the vendors' screens). */
export async function workspaceOf(tx: Tx, tenantId: string): Promise<{ timezone: string; conns: (VendorConnection & { role: string })[] }> {
  const t = await tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirstOrThrow();
  const conns = await tx.selectFrom('connections').select(['role', 'vendor', 'config']).where('status', '!=', 'disabled').execute();
  return { timezone: workspaceTimezone(t.settings), conns };
}

export function notFound(req: FastifyRequest, reply: FastifyReply, what: string, back: { href: string; label: string }): Promise<FastifyReply> {
  return renderStaff(req, reply, 'invoices-not-found', { title: `No such ${what}`, path: req.url.split('?')[0], back }, { status: 404 });
}

export function registerInvoicesRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const db = deps.ctx.db;

  app.get<{ Querystring: Query }>('/app/invoices', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const ask = parseListQuery(req.query);
    const data = await withTenant(db, caller.tenantId, async (tx) => {
      const ws = await workspaceOf(tx, caller.tenantId);
      const client = ask.filter.clientId
        ? await tx.selectFrom('clients').select(['id', 'name']).where('id', '=', ask.filter.clientId).executeTakeFirst()
        : undefined;
      const query: InvoiceListQuery = {
        ...ask.filter,
        sort: ask.sort,
        dir: ask.dir,
        after: ask.after,
        before: ask.before,
        limit: PAGE,
        today: todayIn(ws.timezone),
      };
      const page = ask.errors.length ? { rows: [], next: null, prev: null } : await listInvoicePage(tx, query);
      return { page, clientName: client?.name ?? null };
    });
    const { page } = data;
    const keep = { ...ask.given };
    return renderStaff(
      req,
      reply,
      'invoices',
      {
        title: 'Invoices',
        errors: ask.errors,
        given: ask.given,
        chips: chipsOf(ask.given, data.clientName),
        statuses: Object.entries(STATUS_WORDS).map(([value, label]) => ({ value, label })),
        methods: Object.entries(METHOD_WORDS).map(([value, label]) => ({ value, label })),
        sorts: Object.entries(SORT_WORDS).map(([value, label]) => ({ value, label })),
        sort: ask.sort,
        dir: ask.dir,
        clientName: data.clientName,
        rows: page.rows.map((r) => ({
          ...r,
          statusText: STATUS_WORDS[r.status] ?? r.status,
          paidWith: r.paid_with ? r.paid_with.split(',').map((k) => METHOD_WORDS[k] ?? k) : [],
        })),
        nextHref: page.next ? listHref({ ...keep, after: encodeCursor(page.next, ask.sort, ask.dir) }) : null,
        prevHref: page.prev ? listHref({ ...keep, before: encodeCursor(page.prev, ask.sort, ask.dir) }) : null,
        firstHref: ask.after || ask.before ? listHref(keep) : null,
        csvHref: listHref(keep, '/app/invoices.csv'),
        paged: !!(ask.after || ask.before),
      },
      { status: ask.errors.length ? 400 : 200 },
    );
  });

  app.get<{ Querystring: Query }>('/app/invoices.csv', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const ask = parseListQuery(req.query);
    if (ask.errors.length)
      return reply
        .code(400)
        .type('text/plain; charset=utf-8')
        .send(`The export was not made: ${ask.errors.map((e) => e.message).join('; ')}.\n`);
    const ws = await withTenant(db, caller.tenantId, (tx) => workspaceOf(tx, caller.tenantId));
    const today = todayIn(ws.timezone);
    const rows = eachInvoicePage((fn) => withTenant(db, caller.tenantId, fn), { ...ask.filter, sort: ask.sort, dir: ask.dir, today });
    return reply
      .type('text/csv; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="invoices-${today}.csv"`)
      .send(csvStream(rows));
  });

  app.get<{ Params: { id: string }; Querystring: { pay_link?: string } }>('/app/invoices/:id', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const back = { href: '/app/invoices', label: 'All invoices' };
    if (!UUID.test(req.params.id)) return notFound(req, reply, 'invoice', back);
    const data = await withTenant(db, caller.tenantId, async (tx) => {
      const d = await invoicePage(tx, req.params.id);
      return d ? { d, ws: await workspaceOf(tx, caller.tenantId), payLink: await payLinkPanel(tx, deps, caller, d.invoice, req.query.pay_link) } : null;
    });
    if (!data) return notFound(req, reply, 'invoice', back);
    const { d, ws, payLink } = data;
    const conn = (vendor: string | null): VendorConnection | undefined => (vendor ? ws.conns.find((c) => c.vendor === vendor) : undefined);
    const byRole = (role: string): string | null => ws.conns.find((c) => c.role === role)?.vendor ?? null;
    const psa = byRole('psa') ?? Object.keys(d.remoteIds)[0] ?? null;
    const psaId = psa ? (d.remoteIds[psa] ?? null) : null;
    const latestPayment = d.payments.at(-1);
    return renderStaff(req, reply, 'invoice', {
      title: `Invoice ${d.invoice.number}`,
      inv: d.invoice,
      systems: {
        psa: { name: psa ? vendorName(psa) : 'PSA', id: psaId, url: vendorUrl(conn(psa), 'invoice', psaId), state: d.invoice.psa_status },
        processor: { name: vendorName(byRole('payments') ?? latestPayment?.processor ?? 'processor'), state: latestPayment?.state ?? null },
        books: { name: vendorName(byRole('accounting') ?? 'books'), state: d.postingState.books },
        psaPosting: d.postingState.psa,
      },
      statusText: STATUS_WORDS[d.invoice.status] ?? d.invoice.status,
      lines: d.lines.map((l) => ({ ...l, contractText: l.contract_name ? `${l.contract_name} (${kindLabel(l.contract_kind)})` : '—' })),
      contracts: invoiceContracts(d.lines),
      versions: d.versions,
      payments: d.payments.map((p) => ({
        ...p,
        method:
          p.method_kind === 'us_bank_account'
            ? `Bank account ·${p.method_last4 ?? ''}`
            : p.method_kind
              ? `${p.method_brand ?? 'Card'} ·${p.method_last4 ?? ''}`
              : '—',
        url: vendorUrl(conn(p.processor), 'payment', p.processor_payment_id),
      })),
      timeline: d.timeline.map((e) => ({
        ...e,
        sourceText:
          e.system === 'psa' ? 'PSA' : e.system === 'processor' ? 'Processor' : e.system === 'books' ? 'Books' : e.system === 'email' ? 'E-mail' : 'Settle',
        vendorText: e.vendor ? vendorName(e.vendor) : null,
        url: e.remoteKind ? vendorUrl(conn(e.vendor), e.remoteKind, e.remoteId) : null,
      })),
      listHref: listHref({ client: d.invoice.client_id }),
      payLink,
    });
  });
}
