// Portal: the client answers a reminder without paying — "I will pay by <date>" (a promise: Collections Assist
// stops chasing that invoice until the day after it, and resumes if it is still unpaid) or "something is wrong
// with this invoice" (a dispute: chasing stops until staff resolve it). Both are holds (engine/
// collections-assist/holds.ts), audited with the client as actor. Reminders link here; so does the invoice list.
//   GET  /portal/:token/promise            the page (?invoice=<id> preselects one; ?done=promise|dispute after)
//   POST /portal/:token/promise            JSON {invoice_id, until_on, note?}  → {location}
//   POST /portal/:token/dispute            JSON {invoice_id, note}             (dispute-invoice.ts)
// JSON only, like every portal POST (http/csrf.ts); the page's forms are sent by assets/portal-installments.js,
// the portal's one "send a form as JSON, follow `location` or show `errors`" script.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { addDays } from '../../domain/rules/calendar-date.ts';
import { portalBranding } from '../../engine/branding.ts';
import { UseCaseError } from '../../engine/context.ts';
import { activeHolds, MAX_PROMISE_DAYS, placeHold, type HoldInput } from '../../engine/collections-assist/holds.ts';
import { listInvoiceRows } from '../../db/queries/invoice-list.ts';
import { localDayAndHour } from '../../domain/rules/dunning.ts';
import { workspaceTimezone } from '../../domain/timezone.ts';
import { STATUS } from '../errors.ts';
import type { HttpDeps } from '../deps.ts';
import { frameAncestorsOf, setPortalPolicy } from '../security-headers.ts';
import { assetUrl } from '../staff/assets.ts';
import { openPortal } from './pages.ts';
import { refusePortal, renderPortal } from './view.ts';

const TITLE = 'Tell us when you will pay';

/** The client's open invoices, their active promises and disputes, and the workspace's today. */
async function pageData(deps: HttpDeps, tenantId: string, clientId: string) {
  return withTenant(deps.ctx.db, tenantId, async (tx) => {
    const tenant = await tx.selectFrom('tenants').select(['name', 'settings']).where('id', '=', tenantId).executeTakeFirstOrThrow();
    const today = localDayAndHour(deps.ctx.now(), workspaceTimezone(tenant.settings as Record<string, unknown>)).day;
    const invoices = (await listInvoiceRows(tx, { client_id: clientId, limit: 200, offset: 0 })).filter(
      (i) => BigInt(i.open_minor) > 0n && (i.status === 'open' || i.status === 'partially_paid'),
    );
    return { tenant, today, invoices, holds: await activeHolds(tx, clientId), branding: await portalBranding(tx, tenantId) };
  });
}

export function registerPromiseToPayRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get<{ Params: { token: string }; Querystring: { invoice?: string; done?: string } }>(
    '/portal/:token/promise',
    { schema: { hide: true } },
    async (req, reply) => {
      const portal = await openPortal(deps, req.params.token);
      if (!portal.ok) return refusePortal(reply, TITLE, portal.message);
      const d = await pageData(deps, portal.claims.t, portal.claims.c);
      setPortalPolicy(req, reply, undefined, frameAncestorsOf(d.tenant.settings));
      const base = `/portal/${req.params.token}`;
      return renderPortal(reply, 'promise-to-pay', {
        title: TITLE,
        brand: d.tenant.name,
        branding: d.branding,
        back: base,
        promiseAction: `${base}/promise`,
        disputeAction: `${base}/dispute`,
        statementHref: `${base}/statement.pdf`,
        done: req.query.done === 'promise' || req.query.done === 'dispute' ? req.query.done : null,
        today: d.today,
        latest: addDays(d.today, MAX_PROMISE_DAYS),
        maxDays: MAX_PROMISE_DAYS,
        chosen: req.query.invoice ?? '',
        invoices: d.invoices.map((i) => ({
          id: i.id,
          label: `Invoice ${i.number} — ${format(money(BigInt(i.open_minor), parseCurrency(i.currency)))} open, due ${i.due_on ?? 'on receipt'}`,
        })),
        holds: d.holds
          .filter((h) => h.kind !== 'pause')
          .map((h) => ({ kind: h.kind, invoice: h.invoiceNumber ?? 'all invoices', untilOn: h.untilOn, note: h.note })),
        scripts: [{ src: assetUrl('portal-installments.js') }],
      });
    },
  );

  app.post<{ Params: { token: string } }>('/portal/:token/promise', { schema: { hide: true } }, async (req, reply) =>
    recordFromPortal(deps, req.params.token, req.body, 'promise', reply),
  );
}

/** The promise and dispute POSTs: check the link and the fields, place the hold, answer {location} or {errors}. */
export async function recordFromPortal(deps: HttpDeps, token: string, body: unknown, kind: 'promise' | 'dispute', reply: FastifyReply): Promise<unknown> {
  const portal = await openPortal(deps, token);
  if (!portal.ok) return reply.code(403).send({ errors: [{ message: portal.message }] });
  const { t: tenantId, c: clientId } = portal.claims;
  const b = (body ?? {}) as Record<string, unknown>;
  const str = (k: string): string => (typeof b[k] === 'string' ? (b[k] as string).trim() : '');
  const invoiceId = str('invoice_id');
  if (!/^[0-9a-f-]{36}$/.test(invoiceId)) return reply.code(422).send({ errors: [{ field: `${kind}-invoice`, message: 'Choose the invoice' }] });
  const hold: HoldInput = {
    clientId,
    invoiceId,
    kind,
    note: str('note'),
    source: 'portal',
    ...(kind === 'promise' ? { untilOn: str('until_on') } : {}),
  };
  try {
    await withTenant(deps.ctx.db, tenantId, async (tx) => {
      const tenant = await tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirstOrThrow();
      const today = localDayAndHour(deps.ctx.now(), workspaceTimezone(tenant.settings as Record<string, unknown>)).day;
      await placeHold(tx, tenantId, hold, today, `client:${clientId}`);
    });
  } catch (e) {
    if (!(e instanceof UseCaseError)) throw e;
    const fields = (e.detail?.['fields'] ?? {}) as Record<string, string>;
    const errors = Object.keys(fields).length
      ? Object.entries(fields).map(([f, message]) => ({ field: `${kind}-${f.replace('_on', '').replace('_id', '')}`, message }))
      : [{ message: e.message }];
    return reply.code(STATUS[e.code] === 404 ? 404 : 422).send({ errors });
  }
  return { location: `/portal/${token}/promise?done=${kind}` };
}
