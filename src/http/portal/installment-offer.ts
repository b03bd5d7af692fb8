// Portal: the client chooses an installment plan for one invoice, from the workspace's offers
// (engine/installment-offers.ts). The page shows each offer's parts with dates and amounts, the fee and the
// exact total; the client picks a saved method the offer accepts, ticks the agreement and confirms. The plan
// is made by the function staff use (installment-plans.ts); its first part is due that day, so the
// collector charges it at once, and the rest on their dates.
//   GET  /portal/:token/plan/:invoiceId   the offers for the invoice
//   POST /portal/:token/plan/:invoiceId   JSON {offer_id, method_id, agree, total_minor, request}
// `request` is a key written into the page: posting it twice (double click, reload) returns the plan it made;
// a second tab finds the invoice's active plan (one per invoice) instead of making another.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { UseCaseError } from '../../engine/context.ts';
import { chargedForPart } from '../../domain/installment-offers.ts';
import { chooseOffer, offersForInvoice } from '../../engine/installment-offers.ts';
import { describePlans, type InstallmentPlanView } from '../../engine/installment-plans.ts';
import { methodLabel } from '../../engine/refund-preview.ts';
import { frameAncestorsOf, setPortalPolicy } from '../security-headers.ts';
import type { HttpDeps } from '../deps.ts';
import { openPortal } from './pages.ts';
import { refusePortal, renderPortal, type PortalBranding } from './view.ts';
import { portalBranding } from '../../engine/branding.ts';
import { assetUrl } from '../staff/assets.ts';
import { STATUS } from '../errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REQUEST = /^[0-9a-f-]{36}$/;
const METHOD_TEXT = { card: 'card', us_bank_account: 'bank account' } as const;

type Body = Record<string, string | undefined>;
type Err = { field?: string; message: string };

export function registerInstallmentOfferPortalRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const db = deps.ctx.db;

  /** The offers page (or, when the invoice has a plan already, that plan). */
  async function offersPage(reply: FastifyReply, token: string, tenantId: string, clientId: string, invoiceId: string, made = false): Promise<FastifyReply> {
    const data = await withTenant(db, tenantId, async (tx) => {
      const tenant = await tx.selectFrom('tenants').select(['name', 'settings']).where('id', '=', tenantId).executeTakeFirstOrThrow();
      const branding = await portalBranding(tx, tenantId);
      const found = await offersForInvoice(tx, clientId, invoiceId, deps.ctx.now());
      if (!found) return { tenant, branding, found: null, methods: [], plan: null };
      const plan = (await describePlans(tx, { invoiceId })).find((p) => p.status === 'active') ?? null;
      const methods = await tx
        .selectFrom('payment_methods')
        .select(['id', 'kind', 'brand', 'last4', 'is_default'])
        .where('client_id', '=', clientId)
        .where('removed_at', 'is', null)
        .orderBy('is_default', 'desc')
        .orderBy('created_at', 'desc')
        .execute();
      return { tenant, branding, found, methods, plan };
    });
    setPortalPolicy(reply.request, reply, undefined, frameAncestorsOf(data.tenant.settings));
    if (!data.found) return refusePortal(reply, 'Pay in parts', 'This invoice is not one of yours. Please use the link from your most recent email.');
    const { found } = data;
    if (data.plan) return planPage(reply, token, data.tenant.name, data.branding, data.plan, made);
    const m = (n: bigint) => format(money(n, found.invoice.currency));
    return renderPortal(reply, 'installment-offer', {
      title: `Pay invoice ${found.invoice.number} in parts`,
      brand: data.tenant.name,
      branding: data.branding,
      back: `/portal/${token}`,
      bankHref: `/portal/${token}/bank-account`,
      action: `/portal/${token}/plan/${found.invoice.id}`,
      owed: m(found.owed > 0n ? found.owed : 0n),
      // One key per page shown: the same page posting twice makes one plan.
      request: randomUUID(),
      scripts: [{ src: assetUrl('portal-installments.js') }],
      offers: found.offers.map(({ offer, quote }) => {
        const methods = data.methods.filter((x) => offer.methods.includes(x.kind as 'card' | 'us_bank_account'));
        const charged = quote.parts.map((p) => chargedForPart(quote, p));
        return {
          id: offer.id,
          label: offer.label,
          fee: quote.fee.amountMinor === 0n ? null : format(quote.fee),
          owed: format(quote.owed),
          total: format(quote.total),
          totalMinor: quote.total.amountMinor.toString(),
          accepts: offer.methods.map((k) => METHOD_TEXT[k]).join(' or '),
          bankAccounts: offer.methods.includes('us_bank_account'),
          // What is charged on each date: part 1 carries the plan fee on top of its share of the invoice.
          parts: quote.parts.map((p, i) => ({ partNo: p.partNo, dueOn: p.dueOn, amount: format(charged[i]!), today: p.partNo === 1 })),
          methods: methods.map((x) => ({ id: x.id, label: methodLabel({ method_kind: x.kind, method_brand: x.brand, method_last4: x.last4 }) })),
        };
      }),
    });
  }

  function planPage(
    reply: FastifyReply,
    token: string,
    brand: string,
    branding: PortalBranding | null,
    plan: InstallmentPlanView,
    created: boolean,
  ): FastifyReply {
    const currency = parseCurrency(plan.currency);
    const m = (n: bigint) => format(money(n, currency));
    return renderPortal(reply, 'installment-plan', {
      title: `Your plan for invoice ${plan.invoiceNumber}`,
      brand,
      branding,
      back: `/portal/${token}`,
      created,
      owed: m(plan.totalMinor),
      fee: plan.feeMinor > 0n ? m(plan.feeMinor) : null,
      total: m(plan.totalMinor + plan.feeMinor),
      parts: plan.parts.map((p) => ({ partNo: p.partNo, dueOn: p.dueOn, amount: m(p.amountMinor + (p.partNo === 1 ? plan.feeMinor : 0n)), status: p.status })),
    });
  }

  app.get<{ Params: { token: string; invoiceId: string }; Querystring: { made?: string } }>(
    '/portal/:token/plan/:invoiceId',
    { schema: { hide: true } },
    async (req, reply) => {
      const portal = await openPortal(deps, req.params.token);
      if (!portal.ok) return refusePortal(reply, 'Pay in parts', portal.message);
      if (!UUID.test(req.params.invoiceId)) return refusePortal(reply, 'Pay in parts', 'This link is not complete. Please use the full link from your email.');
      return offersPage(reply, req.params.token, portal.claims.t, portal.claims.c, req.params.invoiceId, req.query.made === '1');
    },
  );

  // JSON only, like every portal POST (http/csrf.ts): the page's script (assets/portal-installments.js) sends
  // the form and follows the answer's `location`, or shows its `errors` in the page's error summary.
  app.post<{ Params: { token: string; invoiceId: string }; Body: Body }>('/portal/:token/plan/:invoiceId', { schema: { hide: true } }, async (req, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return reply.code(403).send({ errors: [{ message: portal.message }] });
    const { t: tenantId, c: clientId } = portal.claims;
    const { invoiceId, token } = req.params;
    if (!UUID.test(invoiceId)) return reply.code(404).send({ errors: [{ message: 'This link is not complete. Please use the full link from your email.' }] });
    const raw = (req.body ?? {}) as Record<string, unknown>;
    const b = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === 'string' ? v : undefined])) as Body;
    const offerId = b.offer_id ?? '';
    const errors: Err[] = [];
    if (!UUID.test(offerId)) errors.push({ message: 'Choose one of the plans below' });
    if (!UUID.test(b.method_id ?? '')) errors.push({ field: `method-${offerId}`, message: 'Choose the card or bank account to pay the parts with' });
    if (b.agree !== 'yes') errors.push({ field: `agree-${offerId}`, message: 'Tick the box to agree to the parts being charged on their dates' });
    if (!REQUEST.test(b.request ?? '') || !/^\d{1,15}$/.test(b.total_minor ?? ''))
      errors.push({ message: 'This form is not complete. Please open the plan again.' });
    if (errors.length) return reply.code(422).send({ errors });
    let made: { plan: InstallmentPlanView; created: boolean };
    try {
      made = await withTenant(db, tenantId, (tx) =>
        chooseOffer(tx, tenantId, {
          clientId,
          invoiceId,
          offerId,
          paymentMethodId: b.method_id!,
          requestKey: `portal:${b.request!}`,
          agreedTotalMinor: BigInt(b.total_minor!),
          now: deps.ctx.now(),
        }),
      );
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      // Nothing was made (an amount changed, the offer withdrawn): the client reloads to see today's figures.
      return reply.code(STATUS[e.code]).send({ errors: [{ message: e.message }] });
    }
    return { plan_id: made.plan.id, created: made.created, location: `/portal/${token}/plan/${invoiceId}?made=1` };
  });
}
