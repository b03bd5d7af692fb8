// One invoice in the portal (issue #12): its lines, the PSA's own PDF of it where the PSA offers one, every
// payment on it with its state, and for each completed payment a receipt — as a PDF (receipt-pdf.ts) and
// e-mailed again to the billing contact (engine/resend-receipt.ts, the staff app's resend).
//   GET  /portal/:token/invoices/:id                  the page
//   GET  /portal/:token/invoices/:id/pdf              the PSA's PDF (404 in words when it has none)
//   GET  /portal/:token/receipts/:payment.pdf         a receipt PDF
//   POST /portal/:token/receipts/:payment/email       { request } → e-mailed to the billing contact
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import { portalBranding } from '../../engine/branding.ts';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { UseCaseError } from '../../engine/context.ts';
import { resendReceipt } from '../../engine/resend-receipt.ts';
import { receiptLines } from '../../notify/payment-receipt.ts';
import { STATUS } from '../errors.ts';
import type { HttpDeps } from '../deps.ts';
import { frameAncestorsOf, setPortalPolicy } from '../security-headers.ts';
import { openPortal } from './pages.ts';
import { refuseLink } from './renew-link.ts';
import { hasBankAch, portalNav } from './nav.ts';
import { receiptPdf } from './receipt-pdf.ts';
import { portalAssets, refusePortal, renderPortal } from './view.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NOT_YOURS = 'This invoice is not on your account. Please go back to your invoices.';
const RECEIPTED = new Set(['succeeded', 'partially_refunded', 'refunded']);

/** What a payment's state means to the client. */
const STATE_WORDS: Readonly<Record<string, string>> = {
  pending: 'Not completed',
  processing: 'On its way',
  succeeded: 'Paid',
  failed: 'Failed — nothing was taken',
  unknown: 'Being checked',
  refunded: 'Refunded',
  partially_refunded: 'Partly refunded',
  returned: 'Returned by the bank',
  disputed: 'Disputed',
  charged_back: 'Charged back',
};
const STATUS_WORDS: Readonly<Record<string, string>> = { open: 'Open', partially_paid: 'Partly paid', paid: 'Paid', void: 'Void', credit: 'Credit' };

type Req = FastifyRequest<{ Params: { token: string; id: string } }>;

/** Every payment that touched the invoice: applied ones (allocations) and ones planned for it (in flight, failed). */
async function paymentsOn(tx: Tx, invoiceId: string) {
  return sql<{
    id: string;
    state: string;
    created_at: Date;
    currency: string;
    amount_minor: string;
    method_kind: string | null;
    method_last4: string | null;
    method_brand: string | null;
    on_invoice_minor: string | null;
  }>`
    SELECT p.id, p.state, p.created_at, p.currency, p.amount_minor::text, p.method_kind, p.method_last4, p.method_brand,
           coalesce(a.amount_minor, (SELECT (x->>'amountMinor') FROM jsonb_array_elements(p.planned_allocations) x WHERE x->>'invoiceId' = ${invoiceId} LIMIT 1)::bigint)::text AS on_invoice_minor
      FROM payments p
      LEFT JOIN allocations a ON a.payment_id = p.id AND a.invoice_id = ${invoiceId}::uuid
     WHERE (a.id IS NOT NULL OR p.planned_allocations @> ${JSON.stringify([{ invoiceId }])}::jsonb)
       AND p.state <> 'pending'
     ORDER BY p.created_at DESC`.execute(tx);
}

function methodWords(p: { method_kind: string | null; method_brand: string | null; method_last4: string | null }): string {
  if (p.method_kind === 'us_bank_account') return `Bank account ending ${p.method_last4 ?? '····'}`;
  if (p.method_kind === 'card')
    return `${p.method_brand ? p.method_brand[0]!.toUpperCase() + p.method_brand.slice(1) : 'Card'} ending ${p.method_last4 ?? '····'}`;
  return p.method_kind === 'credit' ? 'Credit on your account' : 'Payment';
}

export function registerInvoiceDetailRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/portal/:token/invoices/:id', { schema: { hide: true } }, async (req: Req, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return refuseLink(deps, reply, req.params.token, 'Invoice', portal.message);
    if (!UUID.test(req.params.id)) return refusePortal(reply, 'Invoice', NOT_YOURS);
    const { t: tenantId, c: clientId } = portal.claims;
    const psa = await deps.ctx.connectors.psa(tenantId);
    const view = await withTenant(deps.ctx.db, tenantId, async (tx) => {
      const inv = await tx.selectFrom('invoices').selectAll().where('id', '=', req.params.id).executeTakeFirst();
      if (!inv || inv.client_id !== clientId) return null;
      return {
        inv,
        tenant: await tx.selectFrom('tenants').select(['name', 'settings']).where('id', '=', tenantId).executeTakeFirstOrThrow(),
        branding: await portalBranding(tx, tenantId),
        bankAch: await hasBankAch(tx),
        lines: await tx
          .selectFrom('invoice_lines')
          .select(['description', 'quantity', 'amount_minor'])
          .where('invoice_id', '=', inv.id)
          .where('version', '=', inv.current_version)
          .orderBy('line_no')
          .execute(),
        payments: (await paymentsOn(tx, inv.id)).rows,
      };
    });
    if (!view) return refusePortal(reply, 'Invoice', NOT_YOURS);
    const currency = parseCurrency(view.inv.currency);
    const m = (n: bigint | string) => format(money(BigInt(n), currency));
    const paid = view.payments.filter((p) => RECEIPTED.has(p.state)).reduce((s, p) => s + BigInt(p.on_invoice_minor ?? 0), 0n);
    setPortalPolicy(req, reply, null, frameAncestorsOf(view.tenant.settings));
    const base = `/portal/${req.params.token}`;
    return renderPortal(reply, 'invoice', {
      title: `Invoice ${view.inv.number}`,
      brand: view.tenant.name,
      branding: view.branding,
      nav: portalNav(req.params.token, 'invoice', { bankAch: view.bankAch }),
      back: base,
      invoice: {
        number: view.inv.number,
        issuedOn: view.inv.issued_on,
        dueOn: view.inv.due_on,
        status: STATUS_WORDS[view.inv.status] ?? view.inv.status,
        total: m(view.inv.total_minor),
        paid: m(paid),
      },
      lines: view.lines.map((l) => ({ description: l.description, quantity: l.quantity, amount: m(l.amount_minor) })),
      pdfHref: psa?.invoicePdf ? `${base}/invoices/${view.inv.id}/pdf` : null,
      psaName:
        psa?.vendor === 'connectwise' ? 'ConnectWise' : psa?.vendor === 'autotask' ? 'Autotask' : psa?.vendor === 'halopsa' ? 'HaloPSA' : 'your IT provider',
      payments: view.payments.map((p) => ({
        id: p.id,
        date: p.created_at.toISOString().slice(0, 10),
        amount: m(p.on_invoice_minor ?? p.amount_minor),
        charged: m(p.amount_minor),
        method: methodWords(p),
        state: STATE_WORDS[p.state] ?? p.state,
        tone: p.state === 'succeeded' ? 'ok' : p.state === 'processing' || p.state === 'unknown' ? 'warn' : 'bad',
        receiptPdf: RECEIPTED.has(p.state) ? `${base}/receipts/${p.id}.pdf` : null,
        receiptEmail: RECEIPTED.has(p.state) ? `${base}/receipts/${p.id}/email` : null,
      })),
      request: crypto.randomBytes(12).toString('base64url'),
      scripts: [{ src: portalAssets.account }],
    });
  });

  app.get('/portal/:token/invoices/:id/pdf', { schema: { hide: true } }, async (req: Req, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return refusePortal(reply, 'Invoice', portal.message);
    if (!UUID.test(req.params.id)) return refusePortal(reply, 'Invoice', NOT_YOURS);
    const { t: tenantId, c: clientId } = portal.claims;
    const ref = await withTenant(deps.ctx.db, tenantId, async (tx) => {
      const inv = await tx.selectFrom('invoices').select(['client_id', 'number']).where('id', '=', req.params.id).executeTakeFirst();
      if (!inv || inv.client_id !== clientId) return null;
      const r = await tx
        .selectFrom('external_refs')
        .select('remote_id')
        .where('entity', '=', 'invoice')
        .where('entity_id', '=', req.params.id)
        .executeTakeFirst();
      return r ? { number: inv.number, remoteId: r.remote_id } : null;
    });
    if (!ref) return refusePortal(reply, 'Invoice', NOT_YOURS);
    const psa = await deps.ctx.connectors.psa(tenantId);
    const pdf = psa?.invoicePdf ? await psa.invoicePdf(ref.remoteId).catch(() => null) : null;
    if (!pdf)
      return renderPortal(
        reply,
        'refused',
        {
          title: `Invoice ${ref.number}`,
          message: `The PDF of invoice ${ref.number} cannot be fetched just now. Please try again later, or ask your IT provider for a copy.`,
        },
        { status: 404 },
      );
    return reply
      .type('application/pdf')
      .header('cache-control', 'no-store')
      .header('content-disposition', `inline; filename="invoice-${ref.number.replace(/[^\w.-]/g, '_')}.pdf"`)
      .send(pdf);
  });

  /** The payment if it is this client's and has a receipt; else null. */
  const receiptOf = async (tenantId: string, clientId: string, paymentId: string) =>
    withTenant(deps.ctx.db, tenantId, async (tx) => {
      const p = await tx.selectFrom('payments').select(['client_id', 'state', 'created_at']).where('id', '=', paymentId).executeTakeFirst();
      if (!p || p.client_id !== clientId || !RECEIPTED.has(p.state)) return null;
      const tenant = await tx.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirstOrThrow();
      const client = await tx.selectFrom('clients').select('name').where('id', '=', clientId).executeTakeFirstOrThrow();
      return { ...(await receiptLines(tx, paymentId)), paidOn: p.created_at.toISOString().slice(0, 10), msp: tenant.name, client: client.name };
    });

  app.get('/portal/:token/receipts/:id.pdf', { schema: { hide: true } }, async (req: Req, reply: FastifyReply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return refusePortal(reply, 'Receipt', portal.message);
    const r = UUID.test(req.params.id) ? await receiptOf(portal.claims.t, portal.claims.c, req.params.id) : null;
    if (!r) return renderPortal(reply, 'refused', { title: 'Receipt', message: 'There is no receipt for this payment on your account.' }, { status: 404 });
    const pdf = await receiptPdf({
      mspName: r.msp,
      clientName: r.client,
      paidOn: r.paidOn,
      method: r.method,
      reference: req.params.id,
      lines: r.lines,
      total: r.total,
    });
    return reply
      .type('application/pdf')
      .header('cache-control', 'no-store')
      .header('content-disposition', `inline; filename="receipt-${r.paidOn}.pdf"`)
      .send(Buffer.from(pdf));
  });

  const emailBody = z.object({ request: z.string().regex(/^[A-Za-z0-9_-]{8,100}$/) });
  app.post('/portal/:token/receipts/:id/email', { schema: { hide: true } }, async (req: Req, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return reply.code(403).send({ error: { code: 'link_invalid', message: portal.message } });
    const parsed = emailBody.safeParse(req.body);
    if (!parsed.success)
      return reply.code(400).send({ error: { code: 'invalid_request', message: 'This page is out of date. Reload it and press the button again.' } });
    const { t: tenantId, c: clientId } = portal.claims;
    if (!UUID.test(req.params.id) || !(await receiptOf(tenantId, clientId, req.params.id)))
      return reply.code(404).send({ error: { code: 'not_found', message: 'There is no receipt for this payment on your account.' } });
    try {
      const r = await resendReceipt(deps.ctx, tenantId, { paymentId: req.params.id, requestKey: parsed.data.request, actor: `client:${clientId}` });
      // The address is the one on file; shown only partly, since whoever holds the link sees this answer.
      const [user, domain] = r.to.split('@');
      return { message: `The receipt is on its way to ${user!.slice(0, 1)}…@${domain}.` };
    } catch (e) {
      if (e instanceof UseCaseError)
        return reply.code(STATUS[e.code]).send({
          error: {
            code: e.code,
            message:
              e.code === 'conflict' ? 'We have no billing e-mail address for you. Download the PDF instead, or ask your IT provider to add one.' : e.message,
          },
        });
      throw e;
    }
  });
}
