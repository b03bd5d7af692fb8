// Intuit's authorization endpoint (appcenter.intuit.com/connect/oauth2) as an MSP's owner meets it: a consent
// page naming the app and the company, with "Connect" and "Cancel". What it refuses, and how, follows RFC 6749
// §4.1.2.1 as Intuit applies it (developer.intuit.com … /authentication-and-authorization/oauth-2.0 and the
// FAQ on redirect URIs):
// - an unknown client_id, or a redirect_uri that is not registered for the app EXACTLY (Keys tab), is shown as
//   an error page and never redirected to — redirecting there would hand codes to whoever wrote the link;
// - a registered redirect_uri must be https (http only for localhost / 127.0.0.1, as Intuit's development keys);
// - everything else wrong (response_type other than `code`, no accounting scope, no state) goes back to the
//   app as `?error=…&state=…`; Cancel is `error=access_denied`.
// A code lives 5 minutes by default (Intuit documents "short-lived"; we choose the common figure — the
// simulator option `authorizationCodeTtlSec` and `/_sim/oauth/codes/expire` test the expiry), is bound to the
// client and the redirect_uri, and works once (oauth.ts).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TokenAuthority } from './oauth.ts';
import type { QboStore } from './store.ts';

const SCOPES = new Set(['com.intuit.quickbooks.accounting', 'com.intuit.quickbooks.payment', 'openid', 'profile', 'email', 'phone', 'address']);

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Whether Intuit would accept this as a redirect URI at all (https, or http on the developer's own machine). */
export function acceptableRedirectUri(uri: string): boolean {
  try {
    const u = new URL(uri);
    if (u.hash) return false;
    if (u.protocol === 'https:') return true;
    return u.protocol === 'http:' && (u.hostname === 'localhost' || u.hostname === '127.0.0.1');
  } catch {
    return false;
  }
}

function errorPage(reply: FastifyReply, title: string, text: string): FastifyReply {
  return reply
    .code(400)
    .type('text/html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head>` +
        `<body><main><h1>${esc(title)}</h1><p id="oauth-error">${esc(text)}</p></main></body></html>`,
    );
}

type Query = Record<string, string | undefined>;

/** The checks that end on an error page (no redirect), or null when the request may go back to the app. */
function unsafeToRedirect(auth: TokenAuthority, q: Query): [string, string] | null {
  if (q['client_id'] !== auth.opts.clientId)
    return ['invalid_client', 'The client_id in this link does not belong to any app. Check the app keys in the app that sent you here.'];
  const uri = q['redirect_uri'];
  if (!uri || !auth.redirectUris.has(uri) || !acceptableRedirectUri(uri))
    return [
      'invalid_request',
      'The redirect_uri query parameter value is invalid. Make sure it is listed in the Redirect URIs section on your app\u2019s keys tab and matches it exactly.',
    ];
  return null;
}

/** What goes back to the app as ?error=…, or null when the request is well formed. */
function redirectableError(q: Query): string | null {
  if (q['response_type'] !== 'code') return 'unsupported_response_type';
  const scopes = (q['scope'] ?? '').split(' ').filter(Boolean);
  if (scopes.length === 0 || scopes.some((s) => !SCOPES.has(s)) || !scopes.includes('com.intuit.quickbooks.accounting')) return 'invalid_scope';
  if (!q['state']) return 'invalid_request';
  return null;
}

function back(reply: FastifyReply, q: Query, params: Record<string, string>): FastifyReply {
  const url = new URL(q['redirect_uri']!);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  if (q['state'] !== undefined) url.searchParams.set('state', q['state']);
  return reply.redirect(url.toString(), 302);
}

export function registerConsentRoutes(app: FastifyInstance, auth: TokenAuthority, store: QboStore): void {
  app.get('/connect/oauth2', async (req, reply) => {
    const q = req.query as Query;
    const unsafe = unsafeToRedirect(auth, q);
    if (unsafe) return errorPage(reply, unsafe[0], unsafe[1]);
    const error = redirectableError(q);
    if (error) return back(reply, q, { error });
    const company = String(store.list('CompanyInfo')[0]?.['CompanyName'] ?? 'your company');
    const hidden = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state']
      .map((k) => `<input type="hidden" name="${k}" value="${esc(q[k] ?? '')}">`)
      .join('');
    return reply
      .type('text/html')
      .header('cache-control', 'no-store')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
          `<title>Intuit — connect an app</title></head><body><main>` +
          `<h1>Connect your QuickBooks company</h1>` +
          `<p>An app wants to read and write accounting data of <strong id="company">${esc(company)}</strong> (realm ${esc(store.realmId)}).</p>` +
          `<form method="post" action="/connect/oauth2">${hidden}` +
          `<button type="submit" name="decision" value="allow" id="connect">Connect</button> ` +
          `<button type="submit" name="decision" value="deny" id="cancel">Cancel</button></form>` +
          `</main></body></html>`,
      );
  });

  // The person's answer on the consent page; everything is checked again (the form is the person's to edit).
  app.post('/connect/oauth2', async (req, reply) => {
    const q = (req.body ?? {}) as Query;
    const unsafe = unsafeToRedirect(auth, q);
    if (unsafe) return errorPage(reply, unsafe[0], unsafe[1]);
    const error = redirectableError(q);
    if (error) return back(reply, q, { error });
    if (q['decision'] !== 'allow') return back(reply, q, { error: 'access_denied' });
    return back(reply, q, { code: auth.newAuthorizationCode(q['client_id']!, q['redirect_uri']!), realmId: store.realmId });
  });
}
