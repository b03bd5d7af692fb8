// Staff → Clients: the list (search, keyset pages by name) and one client's page — what they owe and how old
// it is, methods on file, autopay and the pilot switches, the billing location used for surcharging, recent
// e-mails — with "Copy portal link" and "E-mail portal link". Every change goes through the engine function
// the API uses (saveClientAutopay as PUT /api/v1/autopay/clients/:id; createPortalLink as POST
// /api/v1/clients/:id/portal-links), audited there. A viewer sees no buttons; a viewer's POST is refused by
// authorize.ts (403) before it gets here.
//   GET  /app/clients                          list                  (viewer)
//   GET  /app/clients/:id                      one client            (viewer)
//   POST /app/clients/:id/pilot                pilot switches        (finance)
//   POST /app/clients/:id/portal-link          make a link to copy   (finance)
//   POST /app/clients/:id/portal-link/email    e-mail a link         (finance)
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { clientPage, listClientPage, type ClientCursor } from '../../db/queries/client-pages.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { UseCaseError } from '../../engine/context.ts';
import { saveClientAutopay } from '../../engine/manage-autopay.ts';
import { createPortalLink, emailPortalLink, type PortalLink } from '../../engine/portal-links.ts';
import { vendorName } from '../../engine/posting-exceptions.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf, notFound, workspaceOf } from './invoices.ts';
import { listHref, STATUS_WORDS, todayIn, type FieldError, type Query } from './invoices-filters.ts';
import { vendorUrl } from './vendor-links.ts';
import { describePlans } from '../../engine/installment-plans.ts';
import { renderStaff } from './view.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE = 50;
const newKey = (): string => crypto.randomBytes(18).toString('base64url');
const back = { href: '/app/clients', label: 'All clients' };

const encode = (c: ClientCursor): string => Buffer.from(JSON.stringify([c.name, c.id])).toString('base64url');
function decode(v: string | undefined): ClientCursor | null {
  if (!v || v.length > 800) return null;
  try {
    const p: unknown = JSON.parse(Buffer.from(v, 'base64url').toString('utf8'));
    if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'string' || !UUID.test(p[1])) return null;
    return { name: p[0], id: p[1] };
  } catch {
    return null;
  }
}

interface Shown {
  readonly notice?: { text: string; kind: 'ok' | 'error' };
  readonly errors?: FieldError[];
  readonly link?: PortalLink;
  readonly status?: number;
}

export function registerClientsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const db = deps.ctx.db;

  app.get<{ Querystring: Query }>('/app/clients', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const q = req.query.q?.trim().slice(0, 100) || undefined;
    const after = decode(req.query.after);
    const page = await withTenant(db, caller.tenantId, (tx) => listClientPage(tx, { q, after, limit: PAGE }));
    return renderStaff(req, reply, 'clients', {
      title: 'Clients',
      q: q ?? '',
      rows: page.rows,
      nextHref: page.next ? listHref({ q, after: encode(page.next) }, '/app/clients') : null,
      firstHref: after ? listHref({ q }, '/app/clients') : null,
      paged: !!after,
    });
  });

  async function show(req: FastifyRequest<{ Params: { id: string }; Querystring?: Query }>, reply: FastifyReply, shown: Shown = {}) {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply, 'client', back);
    const data = await withTenant(db, caller.tenantId, async (tx) => {
      const ws = await workspaceOf(tx, caller.tenantId);
      const d = await clientPage(tx, req.params.id, todayIn(ws.timezone));
      return d ? { d, ws, plans: await describePlans(tx, { clientId: req.params.id }) } : null;
    });
    if (!data) return notFound(req, reply, 'client', back);
    const { d, ws, plans } = data;
    const conn = (role: string) => ws.conns.find((c) => c.role === role);
    const psa = conn('psa');
    const psaId = psa ? (d.remoteIds[psa.vendor] ?? null) : null;
    const finance = roleAtLeast(caller.role, 'finance');
    const query = (req.query ?? {}) as Query;
    let notice = shown.notice;
    if (!notice && query.saved === 'pilot') notice = { text: 'Pilot switches saved.', kind: 'ok' };
    if (!notice && query.saved === 'surcharge') notice = { text: 'Surcharge location and exemption saved.', kind: 'ok' };
    if (!notice && query.emailed === '1')
      notice = { text: `Portal link e-mailed to ${d.client.billing_email ?? 'the client'} (through the outbox).`, kind: 'ok' };
    return renderStaff(
      req,
      reply,
      'client',
      {
        title: d.client.name,
        c: d.client,
        consent: d.autopayConsent
          ? {
              at: d.autopayConsent.accepted_at.toISOString().replace('T', ' ').slice(0, 16),
              ip: d.autopayConsent.accepted_ip,
              terms: d.autopayConsent.terms_text,
            }
          : null,
        psa: psa ? { name: vendorName(psa.vendor), id: psaId, url: vendorUrl(psa, 'client', psaId) } : null,
        processorCustomer: d.client.processor_customer_id
          ? { id: d.client.processor_customer_id, url: vendorUrl(conn('payments'), 'client', d.client.processor_customer_id) }
          : null,
        aging: d.aging,
        methods: d.methods,
        // Installment plans, the ones the client chose in the portal marked so (partials/client-plans.eta).
        plans: plans.map((p) => ({ ...p, byClient: p.createdBy.startsWith('client:'), paid: p.parts.filter((x) => x.status === 'paid').length })),
        exemptReason: d.surchargeExemptReason,
        emails: d.emails,
        invoices: d.recentInvoices.map((i) => ({ ...i, statusText: STATUS_WORDS[i.status] ?? i.status })),
        invoicesHref: listHref({ client: d.client.id }),
        canAct: finance,
        errors: shown.errors ?? [],
        notice,
        link: shown.link ?? null,
        emailKey: newKey(),
      },
      { status: shown.status ?? 200 },
    );
  }

  app.get<{ Params: { id: string }; Querystring: Query }>('/app/clients/:id', { schema: { hide: true } }, (req, reply) => show(req, reply));

  app.post<{ Params: { id: string }; Body: Query }>('/app/clients/:id/pilot', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply, 'client', back);
    // Checkboxes: a box left unticked is not sent, so both are read as "on or not".
    const collection = req.body?.collection_enabled === 'on';
    const autopay = req.body?.autopay_enabled === 'on';
    if (autopay && !collection)
      return show(req, reply, {
        errors: [{ field: 'collection_enabled', message: 'Autopay needs collection: tick "Collect through Settle" too, or untick autopay' }],
        status: 422,
      });
    try {
      await withTenant(db, caller.tenantId, (tx) =>
        saveClientAutopay(tx, caller.tenantId, req.params.id, { collection_enabled: collection, autopay_enabled: autopay }, caller.actor),
      );
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      if (e.code === 'not_found') return notFound(req, reply, 'client', back);
      return show(req, reply, { errors: [{ field: 'collection_enabled', message: e.message }], status: 422 });
    }
    return reply.redirect(`/app/clients/${req.params.id}?saved=pilot`, 303);
  });

  app.post<{ Params: { id: string } }>('/app/clients/:id/portal-link', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply, 'client', back);
    try {
      const link = await withTenant(db, caller.tenantId, (tx) =>
        createPortalLink(deps.ctx, tx, caller.tenantId, req.params.id, deps.portalLinkTtlSec, caller.actor),
      );
      return show(req, reply, { link });
    } catch (e) {
      if (e instanceof UseCaseError && e.code === 'not_found') return notFound(req, reply, 'client', back);
      throw e;
    }
  });

  app.post<{ Params: { id: string }; Body: Query }>('/app/clients/:id/portal-link/email', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply, 'client', back);
    const key = req.body?.key ?? '';
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(key))
      return show(req, reply, { errors: [{ message: 'The form was incomplete. Press "E-mail portal link" again.' }], status: 422 });
    try {
      await withTenant(db, caller.tenantId, (tx) => emailPortalLink(deps.ctx, tx, caller.tenantId, req.params.id, deps.portalLinkTtlSec, caller.actor, key));
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      if (e.code === 'not_found') return notFound(req, reply, 'client', back);
      return show(req, reply, { errors: [{ message: e.message }], status: 422 });
    }
    return reply.redirect(`/app/clients/${req.params.id}?emailed=1`, 303);
  });
}
