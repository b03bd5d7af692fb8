// The client payment portal, opened by a signed, expiring link. The client picks invoices and pays by
// card or bank account through the processor's own hosted fields (Stripe's Payment Element, or the Stripe
// simulator's stand-in for it): card and account numbers are typed into the processor's frame and never
// reach Settle, which keeps Settle out of PCI card-data scope (payments-rules.md §6).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { listInvoiceRows } from '../../db/queries/invoice-list.ts';
import { startPortalPayment } from '../../engine/start-portal-payment.ts';
import { UseCaseError } from '../../engine/context.ts';
import { html, page, raw } from '../html.ts';
import { STATUS } from '../errors.ts';
import { peekToken, verifyToken } from '../signed-token.ts';
import type { HttpDeps } from '../deps.ts';
import type { PortalClaims } from './links.ts';

const REASONS = {
  malformed: 'This payment link is not complete. Please use the full link from your email.',
  bad_signature: 'This payment link is not valid. Please use the link from your most recent email.',
  expired: 'This payment link has expired. Please ask your IT provider for a new one.',
} as const;

export async function openPortal(deps: HttpDeps, token: string): Promise<{ ok: true; claims: PortalClaims } | { ok: false; message: string }> {
  const peek = peekToken<PortalClaims>(token);
  if (!peek || typeof peek.t !== 'string' || !/^[0-9a-f-]{36}$/.test(peek.t)) return { ok: false, message: REASONS.malformed };
  const tenant = await deps.ctx.db.selectFrom('tenants').select('portal_secret').where('id', '=', peek.t).executeTakeFirst();
  if (!tenant) return { ok: false, message: REASONS.bad_signature };
  const check = verifyToken<PortalClaims>(token, tenant.portal_secret);
  return check.ok ? { ok: true, claims: check.claims } : { ok: false, message: REASONS[check.reason] };
}

function refuse(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(403).type('text/html').send(page('Payment link', html`<div class="card"><p class="error">${message}</p></div>`));
}

export function registerPortalRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get<{ Params: { token: string }; Querystring: { paid?: string } }>('/portal/:token', { schema: { hide: true } }, async (req, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return refuse(reply, portal.message);
    const { t: tenantId, c: clientId } = portal.claims;
    const view = await withTenant(deps.ctx.db, tenantId, async (tx) => {
      const tenant = await tx.selectFrom('tenants').select(['name']).where('id', '=', tenantId).executeTakeFirstOrThrow();
      const client = await tx.selectFrom('clients').select(['name']).where('id', '=', clientId).executeTakeFirst();
      const invoices = (await listInvoiceRows(tx, { client_id: clientId, limit: 200, offset: 0 })).filter((i) => BigInt(i.open_minor) > 0n && (i.status === 'open' || i.status === 'partially_paid'));
      const recent = await tx.selectFrom('payments').select(['id', 'state', 'amount_minor', 'currency', 'created_at']).where('client_id', '=', clientId).where('state', '!=', 'pending').orderBy('created_at', 'desc').limit(5).execute();
      const conn = await tx.selectFrom('connections').select('config').where('role', '=', 'payments').executeTakeFirst();
      return { tenant, client, invoices, recent, processor: (conn?.config ?? {}) as { publishableKey?: string; jsUrl?: string } };
    });
    if (!view.client) return refuse(reply, REASONS.bad_signature);
    const paid = req.query.paid;
    const body = html`
      ${paid ? html`<div class="card"><strong>Thank you.</strong> Your payment was received and is being applied to your invoices. <span class="muted">Reference ${paid}</span></div>` : ''}
      <div class="card">
        <h2 style="margin-top:0">Invoices for ${view.client.name}</h2>
        ${view.invoices.length === 0
          ? html`<p class="muted">Nothing is due. Thank you!</p>`
          : html`<form id="pay-form">
          <table><thead><tr><th></th><th>Invoice</th><th>Issued</th><th>Due</th><th class="num">Total</th><th class="num">Open</th></tr></thead><tbody>
          ${view.invoices.map((i) => html`<tr>
            <td><input type="checkbox" name="invoice" value="${i.id}" data-open="${i.open_minor}" checked></td>
            <td>${i.number}</td><td>${i.issued_on}</td><td>${i.due_on ?? ''}</td>
            <td class="num">${format(money(BigInt(i.total_minor), parseCurrency(i.currency)))}</td>
            <td class="num">${format(money(BigInt(i.open_minor), parseCurrency(i.currency)))}</td></tr>`)}
          </tbody></table>
          <p>Pay with:
            <label style="display:inline"><input type="radio" name="method" value="card" checked> Card</label>
            <label style="display:inline; margin-left:12px"><input type="radio" name="method" value="us_bank_account"> Bank account (ACH)</label></p>
          <button type="submit" id="continue">Continue to payment</button>
        </form>
        <div id="payment" hidden>
          <p id="summary"></p>
          <div id="payment-element"></div>
          <p><button id="confirm" type="button">Pay now</button> <span id="message" class="error"></span></p>
        </div>`}
      </div>
      ${view.recent.length ? html`<div class="card"><h3 style="margin-top:0">Recent payments</h3><table><tbody>
        ${view.recent.map((p) => html`<tr><td>${new Date(p.created_at).toISOString().slice(0, 10)}</td><td class="num">${format(money(p.amount_minor, parseCurrency(p.currency)))}</td><td><span class="pill ${p.state === 'succeeded' ? 'ok' : p.state === 'failed' ? 'bad' : 'warn'}">${p.state}</span></td></tr>`)}
      </tbody></table></div>` : ''}
      <p class="muted">Card and bank details are entered in ${view.processor.jsUrl?.includes('stripe.com') ? 'Stripe' : 'the payment processor'}'s secure form and never reach ${view.tenant.name}'s systems.</p>
      <script src="${view.processor.jsUrl ?? 'https://js.stripe.com/v3/'}"></script>
      <script>${raw(portalScript(req.params.token, view.processor.publishableKey ?? ''))}</script>`;
    return reply.type('text/html').send(page(`Pay ${view.tenant.name}`, body, { brand: view.tenant.name }));
  });

  const payBody = z.object({ invoice_ids: z.array(z.string().uuid()).min(1).max(100), method: z.enum(['card', 'us_bank_account']) });
  app.post<{ Params: { token: string } }>('/portal/:token/pay', { schema: { hide: true } }, async (req: FastifyRequest<{ Params: { token: string } }>, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return reply.code(403).send({ error: { code: 'link_invalid', message: portal.message } });
    const parsed = payBody.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: { code: 'invalid_request', message: 'choose at least one invoice and a payment method' } });
    try {
      const r = await startPortalPayment(deps.ctx, portal.claims.t, {
        clientId: portal.claims.c,
        choices: parsed.data.invoice_ids.map((invoiceId) => ({ invoiceId })),
        methodKinds: [parsed.data.method],
      });
      return { payment_id: r.paymentId, client_secret: r.clientSecret, amount: format(money(r.amountMinor, parseCurrency(r.currency))) };
    } catch (e) {
      if (e instanceof UseCaseError) return reply.code(STATUS[e.code]).send({ error: { code: e.code, message: e.message } });
      throw e;
    }
  });
}

/** Progressive enhancement: choose invoices, then mount the processor's hosted fields and confirm. */
function portalScript(token: string, publishableKey: string): string {
  return `
(function () {
  var form = document.getElementById('pay-form'); if (!form) return;
  var stripe = window.Stripe ? window.Stripe(${JSON.stringify(publishableKey)}) : null;
  var elements = null, paymentId = null;
  form.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var ids = Array.from(form.querySelectorAll('input[name=invoice]:checked')).map(function (i) { return i.value; });
    var method = form.querySelector('input[name=method]:checked').value;
    var res = await fetch(location.pathname + '/pay', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ invoice_ids: ids, method: method }) });
    var body = await res.json();
    if (!res.ok) { document.getElementById('message').textContent = body.error.message; document.getElementById('payment').hidden = false; return; }
    paymentId = body.payment_id;
    document.getElementById('summary').textContent = 'Paying ' + body.amount;
    form.hidden = true; document.getElementById('payment').hidden = false;
    elements = stripe.elements({ clientSecret: body.client_secret });
    elements.create('payment').mount('#payment-element');
  });
  document.getElementById('confirm').addEventListener('click', async function () {
    var btn = this; btn.disabled = true;
    var r = await stripe.confirmPayment({ elements: elements, redirect: 'if_required', confirmParams: { return_url: location.href.split('?')[0] + '?paid=' + paymentId } });
    if (r.error) { document.getElementById('message').textContent = r.error.message; btn.disabled = false; return; }
    location.href = location.pathname + '?paid=' + paymentId;
  });
})();`;
}
