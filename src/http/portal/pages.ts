// The client payment portal, opened by a signed, expiring link. The client picks invoices and pays by
// card or bank account through the processor's own hosted fields (Stripe's Payment Element, or the Stripe
// simulator's stand-in for it): card and account numbers are typed into the processor's frame and never
// reach Settle, which keeps Settle out of PCI card-data scope (payments-rules.md §6).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { portalBranding } from '../../engine/branding.ts';
import { withTenant } from '../../db/tenant.ts';
import { format, money, parseCurrency, toDecimalString } from '../../domain/money.ts';
import { listInvoiceRows } from '../../db/queries/invoice-list.ts';
import { startPortalPayment } from '../../engine/start-portal-payment.ts';
import { boxOf, UseCaseError } from '../../engine/context.ts';
import { portalSecretOf } from '../../db/portal-secret.ts';
import { STATUS } from '../errors.ts';
import { peekToken, verifyToken } from '../signed-token.ts';
import type { HttpDeps } from '../deps.ts';
import type { PortalClaims } from './links.ts';
import { collectionsPanel, portalChoices, portalInvoices, surchargeEnabled } from './collections.ts';
import { portalAssets, refusePortal, renderPortal } from './view.ts';
import { frameAncestorsOf, setPortalPolicy } from '../security-headers.ts';
import { applyClientCredit } from '../../engine/client-credit.ts';
import { choicesAfterCredit } from '../../engine/pay-card-with-surcharge.ts';
import { CHECKOUT_CANCELED } from '../../engine/close-portal-checkouts.ts';
import { invoicesWithOffers } from '../../engine/installment-offers.ts';
import { catchUpOnPaid, offerableMinor, paidSummary, thankYouView } from './thank-you.ts';
import { refuseLink } from './renew-link.ts';
import { hasBankAch, portalNav } from './nav.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const REASONS = {
  malformed: 'This payment link is not complete. Please use the full link from your email.',
  bad_signature: 'This payment link is not valid. Please use the link from your most recent email.',
  expired: 'This payment link has expired. Please ask your IT provider for a new one.',
} as const;

export async function openPortal(deps: HttpDeps, token: string): Promise<{ ok: true; claims: PortalClaims } | { ok: false; message: string }> {
  const peek = peekToken<PortalClaims>(token);
  // A whole UUID (36 dashes once reached the database as a tenant id and answered 500).
  if (!peek || typeof peek.t !== 'string' || !UUID.test(peek.t)) return { ok: false, message: REASONS.malformed };
  const secret = await portalSecretOf(deps.ctx.db, boxOf(deps.ctx), peek.t);
  if (!secret) return { ok: false, message: REASONS.bad_signature };
  const check = verifyToken<PortalClaims>(token, secret);
  if (!check.ok) return { ok: false, message: REASONS[check.reason] };
  // Signed by us, but checked all the same before the client id reaches a query.
  return typeof check.claims.c === 'string' && UUID.test(check.claims.c) ? { ok: true, claims: check.claims } : { ok: false, message: REASONS.malformed };
}

function refuse(reply: FastifyReply, message: string): FastifyReply {
  return refusePortal(reply, 'Payment link', message);
}

export function registerPortalRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get<{ Params: { token: string }; Querystring: { paid?: string } }>('/portal/:token', { schema: { hide: true } }, async (req, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return refuseLink(deps, reply, req.params.token, 'Payment link', portal.message);
    const { t: tenantId, c: clientId } = portal.claims;
    // Back from paying: learn the payment's outcome now rather than offer its invoices again (thank-you.ts).
    await catchUpOnPaid(deps.ctx, tenantId, clientId, req.query.paid);
    const view = await withTenant(deps.ctx.db, tenantId, async (tx) => {
      const tenant = await tx.selectFrom('tenants').select(['name', 'settings']).where('id', '=', tenantId).executeTakeFirstOrThrow();
      const client = await tx.selectFrom('clients').select(['name']).where('id', '=', clientId).executeTakeFirst();
      const listed = (await listInvoiceRows(tx, { client_id: clientId, limit: 200, offset: 0 })).filter(
        (i) => BigInt(i.open_minor) > 0n && (i.status === 'open' || i.status === 'partially_paid'),
      );
      // Money on its way (a payment the processor is taking, a bank debit clearing) is never offered again.
      const invoices = [];
      for (const i of listed) {
        const offer = await offerableMinor(tx, i.id, BigInt(i.open_minor));
        if (offer > 0n) invoices.push({ ...i, open_minor: offer.toString() });
      }
      // Invoices an installment offer applies to get a "Pay in parts" link (installment-offer.ts).
      const inParts = await invoicesWithOffers(
        tx,
        clientId,
        invoices.map((i) => i.id),
        deps.ctx.now(),
      );
      const paid = await paidSummary(tx, clientId, req.query.paid);
      const recent = await tx
        .selectFrom('payments')
        .select(['id', 'state', 'amount_minor', 'currency', 'created_at'])
        .where('client_id', '=', clientId)
        .where('state', '!=', 'pending')
        // A checkout replaced before anything was paid (close-portal-checkouts.ts) is no payment to the client.
        .where((eb) => eb.or([eb('failure_code', 'is', null), eb('failure_code', '!=', CHECKOUT_CANCELED)]))
        .orderBy('created_at', 'desc')
        .limit(5)
        .execute();
      const conn = await tx.selectFrom('connections').select('config').where('role', '=', 'payments').executeTakeFirst();
      const collections = { panel: await collectionsPanel(tx, clientId), surcharging: await surchargeEnabled(tx) };
      return {
        tenant,
        branding: await portalBranding(tx, tenantId),
        client,
        invoices,
        inParts,
        paid,
        recent,
        collections,
        bankAch: await hasBankAch(tx),
        processor: (conn?.config ?? {}) as { publishableKey?: string; jsUrl?: string },
      };
    });
    if (!view.client) return refuse(reply, REASONS.bad_signature);
    const currencyOf = (i: { currency: string }) => parseCurrency(i.currency);
    const jsUrl = view.processor.jsUrl ?? 'https://js.stripe.com/v3/';
    // Never kept by the browser (renderPortal: no-store): what is due changes with every payment, and Back
    // after paying must not show the invoices as they were before (the link is a bearer credential too).
    setPortalPolicy(req, reply, view.processor.jsUrl, frameAncestorsOf(view.tenant.settings));
    return renderPortal(reply, 'invoices', {
      title: `Pay ${view.tenant.name}`,
      brand: view.tenant.name,
      branding: view.branding,
      clientName: view.client.name,
      // Collections Assist: promise a date or dispute an invoice (promise-to-pay.ts), and the statement PDF
      promiseHref: `/portal/${req.params.token}/promise`,
      nav: portalNav(req.params.token, 'invoices', { bankAch: view.bankAch }),
      thankYou: thankYouView(view.paid, req.query.paid === 'credit', view.invoices.length),
      collections: view.collections.panel,
      invoices: view.invoices.map((i) => ({
        id: i.id,
        number: i.number,
        issuedOn: i.issued_on,
        dueOn: i.due_on ?? '',
        total: format(money(BigInt(i.total_minor), currencyOf(i))),
        open: format(money(BigInt(i.open_minor), currencyOf(i))),
        openMinor: i.open_minor,
        openDecimal: toDecimalString(money(BigInt(i.open_minor), currencyOf(i))),
        planHref: view.inParts.has(i.id) ? `/portal/${req.params.token}/plan/${i.id}` : null,
        href: `/portal/${req.params.token}/invoices/${i.id}`,
      })),
      pay: {
        publishableKey: view.processor.publishableKey ?? '',
        surcharging: view.collections.surcharging,
        currency: (view.invoices[0]?.currency ?? 'USD').toLowerCase(),
      },
      recent: view.recent.map((p) => ({
        date: new Date(p.created_at).toISOString().slice(0, 10),
        amount: format(money(p.amount_minor, parseCurrency(p.currency))),
        state: p.state,
        receiptHref: ['succeeded', 'partially_refunded', 'refunded'].includes(p.state) ? `/portal/${req.params.token}/receipts/${p.id}.pdf` : null,
      })),
      processorName: view.processor.jsUrl?.includes('stripe.com') ? 'Stripe' : 'the payment processor',
      scripts: [{ src: jsUrl, nonce: req.cspNonce }, { src: portalAssets.pay }],
    });
  });

  // `invoices` carries an amount per invoice (part of an invoice, several invoices); `invoice_ids` pays each in full.
  const payBody = z.union([
    z.object({ invoices: portalInvoices, method: z.enum(['card', 'us_bank_account']) }),
    z.object({ invoice_ids: z.array(z.string().uuid()).min(1).max(100), method: z.enum(['card', 'us_bank_account']) }),
  ]);
  app.post<{ Params: { token: string } }>(
    '/portal/:token/pay',
    { schema: { hide: true } },
    async (req: FastifyRequest<{ Params: { token: string } }>, reply) => {
      const portal = await openPortal(deps, req.params.token);
      if (!portal.ok) return reply.code(403).send({ error: { code: 'link_invalid', message: portal.message } });
      const parsed = payBody.safeParse(req.body);
      if (!parsed.success) return reply.code(400).send({ error: { code: 'invalid_request', message: 'choose at least one invoice and a payment method' } });
      try {
        const { t: tenantId, c: clientId } = portal.claims;
        const items = 'invoices' in parsed.data ? parsed.data.invoices : parsed.data.invoice_ids.map((invoice_id) => ({ invoice_id }));
        // The client's credit is spent first (engine/client-credit.ts); only the rest is charged.
        const choices = await withTenant(deps.ctx.db, tenantId, async (tx) => {
          const wanted = await portalChoices(tx, clientId, items);
          const credit = await applyClientCredit(tx, tenantId, {
            clientId,
            invoiceIds: wanted.map((c) => c.invoiceId),
            actor: `client:${clientId}`,
            source: 'portal',
          });
          return (await choicesAfterCredit(tx, clientId, wanted, credit)).choices;
        });
        if (choices.length === 0) return { payment_id: null, covered_by_credit: true };
        const r = await startPortalPayment(deps.ctx, tenantId, { clientId, choices, methodKinds: [parsed.data.method] });
        const f = (n: bigint) => format(money(n, parseCurrency(r.currency)));
        // Shown before the client confirms in the hosted fields: the invoices, the ACH discount (§1.5), the total.
        return {
          payment_id: r.paymentId,
          client_secret: r.clientSecret,
          amount: f(r.amountMinor),
          amount_minor: r.amountMinor.toString(),
          invoices_total: f(r.amountMinor + r.discountMinor),
          ach_discount: r.discountMinor > 0n ? f(r.discountMinor) : null,
          ach_discount_minor: r.discountMinor.toString(),
        };
      } catch (e) {
        if (e instanceof UseCaseError) return reply.code(STATUS[e.code]).send({ error: { code: e.code, message: e.message } });
        throw e;
      }
    },
  );
}
