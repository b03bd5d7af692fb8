// GET /pay/<token>: the "Pay now" link the PSA's own invoice carries (engine/pay-links.ts). While the
// invoice is owed it opens the client portal for the invoice's client (a fresh portal link, so the client
// pays there with everything the portal offers); once the invoice is paid or void it shows that and offers
// nothing to pay; a revoked link asks the client to get a new one from the MSP. Read only: it never pays.
import type { FastifyInstance } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { boxOf } from '../../engine/context.ts';
import { verifyPayToken } from '../../engine/pay-links.ts';
import { portalBranding } from '../../engine/branding.ts';
import type { HttpDeps } from '../deps.ts';
import { portalLinkFor } from './links.ts';
import { refusePortal, renderPortal } from './view.ts';

const NOT_VALID = 'This payment link is not valid. Please use the "Pay now" link on your invoice, or ask your IT provider for a new one.';
const CLOSED: Readonly<Record<string, string>> = {
  paid: 'is paid. There is nothing left to pay on it — thank you.',
  void: 'was voided, so there is nothing to pay on it.',
  credit: 'is a credit, so there is nothing to pay on it.',
};

export function registerPayLinkRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get<{ Params: { token: string } }>('/pay/:token', { schema: { hide: true } }, async (req, reply) => {
    const box = boxOf(deps.ctx);
    const link = await verifyPayToken(deps.ctx.db, box, req.params.token);
    if (!link) return refusePortal(reply, 'Payment link', NOT_VALID);
    const view = await withTenant(deps.ctx.db, link.tenantId, async (tx) => {
      const row = await tx
        .selectFrom('invoice_pay_links as l')
        .innerJoin('invoices as i', 'i.id', 'l.invoice_id')
        .innerJoin('tenants as t', 't.id', 'l.tenant_id')
        .select(['l.revoked_at', 'i.id as invoice_id', 'i.number', 'i.status', 'i.client_id', 't.name as msp'])
        .where('l.id', '=', link.linkId)
        .executeTakeFirst();
      if (!row) return null;
      const open = row.revoked_at === null && (row.status === 'open' || row.status === 'partially_paid');
      const portal = open ? await portalLinkFor(tx, deps.ctx.publicUrl, link.tenantId, row.client_id, deps.portalLinkTtlSec, box) : null;
      return { ...row, portal, branding: await portalBranding(tx, link.tenantId) };
    });
    if (!view) return refusePortal(reply, 'Payment link', NOT_VALID);
    if (view.revoked_at !== null)
      return refusePortal(
        reply,
        'Payment link',
        `This payment link for invoice ${view.number} was withdrawn by ${view.msp}. Please ask ${view.msp} for a new one.`,
      );
    if (view.portal) return reply.header('cache-control', 'no-store').redirect(view.portal.url.replace(deps.ctx.publicUrl, ''), 303);
    return renderPortal(reply, 'pay-link-closed', {
      title: `Invoice ${view.number}`,
      brand: view.msp,
      branding: view.branding,
      state: view.status,
      message: `Invoice ${view.number} ${CLOSED[view.status] ?? 'has nothing left to pay.'}`,
    });
  });
}
