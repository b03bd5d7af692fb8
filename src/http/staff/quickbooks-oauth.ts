// "Connect to QuickBooks" (owner only): a form POST starts the OAuth flow (engine/quickbooks-connect.ts) and
// sends the browser to Intuit's consent page; Intuit sends it back to the callback, which finishes it and
// goes on to where it started (the wizard's accounts step, or the connections page). Whatever went wrong is
// shown on a page of its own in plain words, with the button to start again.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { staffPolicy } from '../security-headers.ts';
import {
  beginQuickBooksConnect,
  finishQuickBooksConnect,
  QuickBooksConnectError,
  quickbooksRedirectUri,
  QBO_CALLBACK_PATH,
} from '../../engine/quickbooks-connect.ts';
import { UseCaseError } from '../../engine/context.ts';
import type { HttpDeps } from '../deps.ts';
import { renderStaff } from './view.ts';
import { boxOf, sessionOf } from './connections.ts';

/**
 * A page with the "Connect to QuickBooks" form: its CSP lets that form's answer (a redirect) go on to Intuit's
 * consent page — browsers apply form-action to the redirect too — and nowhere else.
 */
export function allowConsentRedirect(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps): void {
  // QuickBooks' and Xero's consent pages (Xero's "Connect to Xero" form is on the same pages: xero-oauth.ts).
  const origins = [deps.oauthApps?.quickbooks, deps.oauthApps?.xero].flatMap((a) => (a ? [new URL(a.authorizeUrl).origin] : []));
  if (origins.length === 0) return;
  void reply.header(
    'content-security-policy',
    staffPolicy(req.cspNonce).replace("form-action 'self'", `form-action 'self' ${[...new Set(origins)].join(' ')}`),
  );
}

/** Where a connect may return to: only these pages of Settle (never an address from the request). */
const RETURNS: Readonly<Record<string, string>> = { setup: '/app/setup/accounts', connections: '/app/connections?connected=quickbooks-online' };

export function registerQuickBooksOAuthRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const stateKey = (): string => boxOf(deps).derive('oauth-state');

  app.post('/app/connections/quickbooks/connect', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const from = String((req.body as Record<string, unknown> | null)?.['from'] ?? 'connections');
    try {
      const url = await beginQuickBooksConnect(
        deps.ctx.db,
        deps.oauthApps?.quickbooks ?? null,
        { tenantId: session.tenantId, sessionId: session.id, returnTo: RETURNS[from] ?? RETURNS['connections']! },
        deps.ctx.publicUrl,
        stateKey(),
      );
      return reply.redirect(url, 303);
    } catch (e) {
      if (!(e instanceof QuickBooksConnectError)) throw e;
      allowConsentRedirect(req, reply, deps);
      return renderStaff(
        req,
        reply,
        'connection-oauth-problem',
        { title: 'QuickBooks is not connected', message: e.message, back: e.returnTo, from, redirectUri: quickbooksRedirectUri(deps.ctx.publicUrl) },
        { status: 503 },
      );
    }
  });

  app.get(QBO_CALLBACK_PATH, async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    try {
      const { returnTo } = await finishQuickBooksConnect(
        { db: deps.ctx.db, box: boxOf(deps), connectors: deps.ctx.connectors, log: deps.ctx.log },
        deps.oauthApps?.quickbooks ?? null,
        { tenantId: session.tenantId, sessionId: session.id, query: req.query as Record<string, string | undefined>, actor: `user:${session.userId}` },
        deps.ctx.publicUrl,
        stateKey(),
      );
      return reply.redirect(returnTo, 303);
    } catch (e) {
      if (!(e instanceof QuickBooksConnectError) && !(e instanceof UseCaseError)) throw e;
      const back = e instanceof QuickBooksConnectError ? e.returnTo : '/app/connections';
      allowConsentRedirect(req, reply, deps);
      return renderStaff(
        req,
        reply,
        'connection-oauth-problem',
        {
          title: 'QuickBooks is not connected',
          message: e.message,
          back,
          from: back.startsWith('/app/setup') ? 'setup' : 'connections',
          redirectUri: quickbooksRedirectUri(deps.ctx.publicUrl),
        },
        { status: 400 },
      );
    }
  });
}
