// The "update your payment method" page a failed-payment email links to. The client saves a new card or
// bank account in the processor's hosted fields (a SetupIntent confirmed with stripe.confirmSetup, or the
// Stripe simulator's stand-in); Settle never sees the numbers, only the processor's saved-method token.
//   GET  /portal/update-method/:token           the page (what failed, the secure form)
//   POST /portal/update-method/:token/start     opens a setup session → { client_secret, setup_id }
//   POST /portal/update-method/:token/complete  { setup_id } → saved, made default, failed payments retried
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { portalBranding } from '../../engine/branding.ts';
import { withTenant } from '../../db/tenant.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { boxOf, UseCaseError } from '../../engine/context.ts';
import { portalSecretOf } from '../../db/portal-secret.ts';
import { completeMethodUpdate, startMethodUpdate } from '../../engine/update-payment-method.ts';
import { frameAncestorsOf, setPortalPolicy } from '../security-headers.ts';
import { tenantOfUpdateToken, verifyUpdateToken, type UpdateMethodClaims } from '../../notify/update-method-link.ts';
import { STATUS } from '../errors.ts';
import { portalAssets, refusePortal, renderPortal } from './view.ts';
import type { HttpDeps } from '../deps.ts';

const REASONS = {
  malformed: 'This link is not complete. Please use the full link from your email.',
  bad_signature: 'This link is not valid. Please use the link from your most recent email.',
  expired: 'This link has expired. Please ask your IT provider for a new one, or wait for our next email.',
} as const;

async function open(deps: HttpDeps, token: string): Promise<{ ok: true; claims: UpdateMethodClaims } | { ok: false; message: string }> {
  const tenantId = tenantOfUpdateToken(token);
  if (!tenantId) return { ok: false, message: REASONS.malformed };
  const secret = await portalSecretOf(deps.ctx.db, boxOf(deps.ctx), tenantId);
  if (!secret) return { ok: false, message: REASONS.bad_signature };
  const check = verifyUpdateToken(token, secret, deps.ctx.now().getTime());
  return check.ok ? { ok: true, claims: check.claims } : { ok: false, message: REASONS[check.reason] };
}

const refusePage = (reply: FastifyReply, message: string): FastifyReply => refusePortal(reply, 'Update payment method', message);
const refuseJson = (reply: FastifyReply, message: string): FastifyReply => reply.code(403).send({ error: { code: 'link_invalid', message } });

export function registerUpdateMethodRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get<{ Params: { token: string } }>('/portal/update-method/:token', { schema: { hide: true } }, async (req, reply) => {
    const link = await open(deps, req.params.token);
    if (!link.ok) return refusePage(reply, link.message);
    const { t: tenantId, c: clientId, f: failureId } = link.claims;
    const view = await withTenant(deps.ctx.db, tenantId, async (tx) => {
      const tenant = await tx.selectFrom('tenants').select(['name', 'settings']).where('id', '=', tenantId).executeTakeFirstOrThrow();
      const client = await tx.selectFrom('clients').select('name').where('id', '=', clientId).executeTakeFirst();
      const f = await tx
        .selectFrom('payment_failures')
        .select(['payment_id', 'invoice_ids', 'method_label', 'client_id'])
        .where('id', '=', failureId)
        .executeTakeFirst();
      const p = f ? await tx.selectFrom('payments').select(['amount_minor', 'currency']).where('id', '=', f.payment_id).executeTakeFirst() : undefined;
      const invoices = f?.invoice_ids.length
        ? await tx.selectFrom('invoices').select(['number', 'status']).where('id', 'in', f.invoice_ids).orderBy('number').execute()
        : [];
      const conn = await tx.selectFrom('connections').select('config').where('role', '=', 'payments').executeTakeFirst();
      return {
        tenant,
        branding: await portalBranding(tx, tenantId),
        client,
        f: f && f.client_id === clientId ? f : undefined,
        p,
        invoices,
        processor: (conn?.config ?? {}) as { publishableKey?: string; jsUrl?: string },
      };
    });
    if (!view.client || !view.f || !view.p) return refusePage(reply, REASONS.bad_signature);
    const amount = format(money(view.p.amount_minor, parseCurrency(view.p.currency)));
    const allPaid = view.invoices.length > 0 && view.invoices.every((i) => i.status === 'paid');
    setPortalPolicy(req, reply, view.processor.jsUrl, frameAncestorsOf(view.tenant.settings));
    return renderPortal(reply, 'update-method', {
      title: `Update payment method — ${view.tenant.name}`,
      brand: view.tenant.name,
      branding: view.branding,
      amount,
      invoiceNumbers: view.invoices.map((i) => i.number).join(', '),
      methodLabel: view.f.method_label ?? 'payment method',
      allPaid,
      publishableKey: view.processor.publishableKey ?? '',
      processorName: view.processor.jsUrl?.includes('stripe.com') ? 'Stripe' : 'the payment processor',
      scripts: [{ src: view.processor.jsUrl ?? 'https://js.stripe.com/v3/', nonce: req.cspNonce }, { src: portalAssets.updateMethod }],
    });
  });

  app.post<{ Params: { token: string } }>('/portal/update-method/:token/start', { schema: { hide: true } }, async (req, reply) => {
    const link = await open(deps, req.params.token);
    if (!link.ok) return refuseJson(reply, link.message);
    try {
      const s = await startMethodUpdate(deps.ctx, link.claims.t, link.claims.c, link.claims.f);
      return { setup_id: s.setupId, client_secret: s.clientSecret };
    } catch (e) {
      if (e instanceof UseCaseError) return reply.code(STATUS[e.code]).send({ error: { code: e.code, message: e.message } });
      throw e;
    }
  });

  const completeBody = z.object({ setup_id: z.string().regex(/^seti_[A-Za-z0-9]+$/, 'setup_id must be the seti_… id of the setup you confirmed') }).strict();
  app.post<{ Params: { token: string } }>('/portal/update-method/:token/complete', { schema: { hide: true } }, async (req, reply) => {
    const link = await open(deps, req.params.token);
    if (!link.ok) return refuseJson(reply, link.message);
    const parsed = completeBody.safeParse(req.body);
    if (!parsed.success)
      return reply
        .code(400)
        .send({ error: { code: 'invalid_request', message: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') } });
    try {
      const r = await completeMethodUpdate(deps.ctx, link.claims.t, link.claims.c, parsed.data.setup_id);
      return { payment_method: { id: r.methodId, label: r.label, is_default: true }, retries_scheduled: r.retriesScheduled };
    } catch (e) {
      if (e instanceof UseCaseError) return reply.code(STATUS[e.code]).send({ error: { code: e.code, message: e.message } });
      throw e;
    }
  });
}
