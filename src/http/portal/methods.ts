// The client's saved payment methods and automatic payments (issue #12), on one portal page:
//   GET  /portal/:token/methods                    the page (saved methods, autopay terms or enrolment)
//   POST /portal/:token/methods/start              a setup session for the hosted fields → { client_secret }
//   POST /portal/:token/methods/complete           { setup_id } → saved (default if it is the first)
//   POST /portal/:token/methods/:id/default        choose the default
//   POST /portal/:token/methods/:id/remove         remove (detached at the processor)
//   POST /portal/:token/autopay                    { agree: 'yes', terms_sha256 } → enrolled, copy e-mailed
//   POST /portal/:token/autopay/leave              leave autopay
// Every POST is JSON (http/csrf.ts) and answers { location } (the page again, with what happened) or
// { error: { message } } in plain words. The engines: engine/portal-methods.ts and engine/portal-autopay.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { portalBranding } from '../../engine/branding.ts';
import { withTenant } from '../../db/tenant.ts';
import { UseCaseError } from '../../engine/context.ts';
import { choosePortalDefault, completePortalSetup, listPortalMethods, removePortalMethod, startPortalSetup } from '../../engine/portal-methods.ts';
import { enrolInAutopay, leaveAutopay, portalAutopayView } from '../../engine/portal-autopay.ts';
import { STATUS } from '../errors.ts';
import type { HttpDeps } from '../deps.ts';
import { frameAncestorsOf, setPortalPolicy } from '../security-headers.ts';
import { openPortal } from './pages.ts';
import { refuseLink } from './renew-link.ts';
import { hasBankAch, portalNav } from './nav.ts';
import { portalAssets, refusePortal, renderPortal } from './view.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const NOTICES: Readonly<Record<string, string>> = {
  saved: 'Your card or bank account is saved.',
  default: 'Your default payment method is changed.',
  removed: 'The payment method is removed. It will not be charged again.',
  enrolled: 'Automatic payments are on. We e-mailed you a copy of the authorisation.',
  left: 'Automatic payments are off. Nothing more will be charged automatically.',
};

type Req = FastifyRequest<{ Params: { token: string; id?: string }; Querystring: { done?: string } }>;

/** A refused JSON request, in the client's words. */
function fail(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof UseCaseError) return reply.code(STATUS[e.code]).send({ error: { code: e.code, message: e.message } });
  throw e;
}

async function claimsOr403(deps: HttpDeps, req: Req, reply: FastifyReply): Promise<{ t: string; c: string } | null> {
  const portal = await openPortal(deps, req.params.token);
  if (portal.ok) return portal.claims;
  void reply.code(403).send({ error: { code: 'link_invalid', message: portal.message } });
  return null;
}

export function registerPortalMethodRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/portal/:token/methods', { schema: { hide: true } }, async (req: Req, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return refuseLink(deps, reply, req.params.token, 'Saved payment methods', portal.message);
    const { t: tenantId, c: clientId } = portal.claims;
    const view = await withTenant(deps.ctx.db, tenantId, async (tx) => ({
      tenant: await tx.selectFrom('tenants').select(['name', 'settings']).where('id', '=', tenantId).executeTakeFirstOrThrow(),
      client: await tx.selectFrom('clients').select('name').where('id', '=', clientId).executeTakeFirst(),
      branding: await portalBranding(tx, tenantId),
      bankAch: await hasBankAch(tx),
      conn: await tx.selectFrom('connections').select('config').where('role', '=', 'payments').executeTakeFirst(),
      autopay: await portalAutopayView(tx, tenantId, clientId),
    }));
    if (!view.client) return refusePortal(reply, 'Saved payment methods', 'This link is not valid. Please use the link from your most recent email.');
    const methods = await listPortalMethods(deps.ctx, tenantId, clientId);
    const processor = (view.conn?.config ?? {}) as { publishableKey?: string; jsUrl?: string };
    setPortalPolicy(req, reply, processor.jsUrl, frameAncestorsOf(view.tenant.settings));
    const base = `/portal/${req.params.token}`;
    return renderPortal(reply, 'methods', {
      title: 'Saved payment methods and autopay',
      brand: view.tenant.name,
      branding: view.branding,
      nav: portalNav(req.params.token, 'methods', { bankAch: view.bankAch }),
      notice: NOTICES[req.query.done ?? ''] ?? null,
      methods,
      canSave: view.conn !== undefined,
      publishableKey: processor.publishableKey ?? '',
      processorName: processor.jsUrl?.includes('stripe.com') ? 'Stripe' : 'the payment processor',
      base: `${base}/methods`,
      autopayBase: `${base}/autopay`,
      autopay: { ...view.autopay, since: view.autopay.enrolled ? view.autopay.enrolled.since.toISOString().slice(0, 10) : null, ...view.autopay.enrolled },
      scripts: view.conn
        ? [{ src: processor.jsUrl ?? 'https://js.stripe.com/v3/', nonce: req.cspNonce }, { src: portalAssets.account }]
        : [{ src: portalAssets.account }],
    });
  });

  const page = (req: Req, done: string) => ({ location: `/portal/${req.params.token}/methods?done=${done}` });

  app.post('/portal/:token/methods/start', { schema: { hide: true } }, async (req: Req, reply) => {
    const claims = await claimsOr403(deps, req, reply);
    if (!claims) return reply;
    try {
      const s = await startPortalSetup(deps.ctx, claims.t, claims.c);
      return { setup_id: s.setupId, client_secret: s.clientSecret };
    } catch (e) {
      return fail(reply, e);
    }
  });

  const completeBody = z.object({ setup_id: z.string().regex(/^seti_[A-Za-z0-9]+$/) }).strict();
  app.post('/portal/:token/methods/complete', { schema: { hide: true } }, async (req: Req, reply) => {
    const claims = await claimsOr403(deps, req, reply);
    if (!claims) return reply;
    const parsed = completeBody.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: { code: 'invalid_request', message: 'The secure form did not finish. Please start again.' } });
    try {
      await completePortalSetup(deps.ctx, claims.t, claims.c, parsed.data.setup_id);
      return page(req, 'saved');
    } catch (e) {
      return fail(reply, e);
    }
  });

  for (const [action, done] of [
    ['default', 'default'],
    ['remove', 'removed'],
  ] as const) {
    app.post(`/portal/:token/methods/:id/${action}`, { schema: { hide: true } }, async (req: Req, reply) => {
      const claims = await claimsOr403(deps, req, reply);
      if (!claims) return reply;
      if (!UUID.test(req.params.id ?? ''))
        return reply.code(404).send({ error: { code: 'not_found', message: 'That card or bank account is not saved any more. Reload the page.' } });
      try {
        if (action === 'default') await choosePortalDefault(deps.ctx, claims.t, claims.c, req.params.id!);
        else await removePortalMethod(deps.ctx, claims.t, claims.c, req.params.id!);
        return page(req, done);
      } catch (e) {
        return fail(reply, e);
      }
    });
  }

  const enrolBody = z.object({ agree: z.string().optional(), terms_sha256: z.string().regex(/^[0-9a-f]{64}$/) });
  app.post('/portal/:token/autopay', { schema: { hide: true } }, async (req: Req, reply) => {
    const claims = await claimsOr403(deps, req, reply);
    if (!claims) return reply;
    const parsed = enrolBody.safeParse(req.body);
    if (!parsed.success)
      return reply.code(400).send({ error: { code: 'invalid_request', message: 'The form is out of date. Reload the page and try again.' } });
    if (parsed.data.agree !== 'yes')
      return reply.code(422).send({ error: { code: 'invalid', message: 'Tick "I agree to these terms" to turn on automatic payments.' } });
    try {
      await enrolInAutopay(deps.ctx, claims.t, claims.c, { termsSha256: parsed.data.terms_sha256, ip: req.ip, userAgent: req.headers['user-agent'] ?? null });
      return page(req, 'enrolled');
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.post('/portal/:token/autopay/leave', { schema: { hide: true } }, async (req: Req, reply) => {
    const claims = await claimsOr403(deps, req, reply);
    if (!claims) return reply;
    try {
      await leaveAutopay(deps.ctx, claims.t, claims.c, req.ip);
      return page(req, 'left');
    } catch (e) {
      return fail(reply, e);
    }
  });
}
