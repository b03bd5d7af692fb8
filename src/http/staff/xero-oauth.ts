// "Connect to Xero" (owner only): a form POST starts the OAuth flow (engine/xero-connect.ts) and sends the
// browser to Xero's consent page; Xero sends it back to the callback, which finishes it and returns to the
// connections page, or to the set-up wizard's accounts step when started there (`from=setup`). Whatever went wrong is shown on a page of its own in plain words, with the button to
// start again. The connections page's CSP lets the form's redirect go to Xero (quickbooks-oauth.ts).
import type { FastifyInstance } from 'fastify';
import { beginXeroConnect, finishXeroConnect, XeroConnectError, xeroRedirectUri, XERO_CALLBACK_PATH } from '../../engine/xero-connect.ts';
import { UseCaseError } from '../../engine/context.ts';
import type { HttpDeps } from '../deps.ts';
import { renderStaff } from './view.ts';
import { boxOf, sessionOf } from './connections.ts';
import { allowConsentRedirect } from './quickbooks-oauth.ts';

/** Where a connect may return to: only these pages of Settle (never an address from the request). */
const RETURNS: Readonly<Record<string, string>> = { setup: '/app/setup/accounts', connections: '/app/connections?connected=xero' };

export function registerXeroOAuthRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const stateKey = (): string => boxOf(deps).derive('oauth-state');
  const problem = (message: string, status: number, back: string) => ({
    title: 'Xero is not connected',
    message,
    back,
    from: back.startsWith('/app/setup') ? 'setup' : 'connections',
    redirectUri: xeroRedirectUri(deps.ctx.publicUrl),
    status,
  });

  app.post('/app/connections/xero/connect', async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const from = String((req.body as Record<string, unknown> | null)?.['from'] ?? 'connections');
    const returnTo = RETURNS[from] ?? RETURNS['connections']!;
    try {
      const url = await beginXeroConnect(
        deps.ctx.db,
        deps.oauthApps?.xero ?? null,
        { tenantId: session.tenantId, sessionId: session.id, returnTo },
        deps.ctx.publicUrl,
        stateKey(),
      );
      return reply.redirect(url, 303);
    } catch (e) {
      if (!(e instanceof XeroConnectError)) throw e;
      allowConsentRedirect(req, reply, deps);
      return renderStaff(req, reply, 'xero-oauth-problem', problem(e.message, 503, from === 'setup' ? '/app/setup/books' : '/app/connections'), {
        status: 503,
      });
    }
  });

  app.get(XERO_CALLBACK_PATH, async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    try {
      const { returnTo } = await finishXeroConnect(
        { db: deps.ctx.db, box: boxOf(deps), connectors: deps.ctx.connectors, log: deps.ctx.log },
        deps.oauthApps?.xero ?? null,
        { tenantId: session.tenantId, sessionId: session.id, query: req.query as Record<string, string | undefined>, actor: `user:${session.userId}` },
        deps.ctx.publicUrl,
        stateKey(),
      );
      return reply.redirect(returnTo, 303);
    } catch (e) {
      if (!(e instanceof XeroConnectError) && !(e instanceof UseCaseError)) throw e;
      allowConsentRedirect(req, reply, deps);
      const back = e instanceof XeroConnectError && e.returnTo.startsWith('/app/setup') ? '/app/setup/books' : '/app/connections';
      return renderStaff(req, reply, 'xero-oauth-problem', problem(e.message, 400, back), { status: 400 });
    }
  });
}
