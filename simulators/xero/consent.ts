// Xero's authorization endpoint (login.xero.com/identity/connect/authorize) as an MSP's owner meets it: a
// page naming the app's request and the organisation, "Allow access" and "Cancel". As Xero (docs:
// developer.xero.com/documentation/guides/oauth2/auth-flow) and RFC 6749 §4.1.2.1: an unknown client_id
// or a redirect_uri not registered EXACTLY for the app is an error page, never a redirect; a bad
// response_type or scope, or a missing state, goes back to the app as ?error=…; Cancel is access_denied.
// A code lives 5 minutes and works once (identity.ts).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { esc, htmlPage, type XeroIdentity } from './identity.ts';

type Query = Record<string, string | undefined>;

function unsafe(id: XeroIdentity, q: Query): string | null {
  if (q['client_id'] !== id.opts.clientId) return 'unauthorized_client: Unknown client or client not enabled';
  const uri = q['redirect_uri'];
  if (!uri || !id.redirectUris.has(uri)) return 'invalid_request: Invalid redirect_uri';
  return null;
}

function redirectError(id: XeroIdentity, q: Query): string | null {
  if (q['response_type'] !== 'code') return 'unsupported_response_type';
  const scopes = id.scopesValid(q['scope'] ?? '');
  if (!scopes || !scopes.some((s) => s.startsWith('accounting.'))) return 'invalid_scope';
  if (!q['state']) return 'invalid_request';
  return null;
}

function back(reply: FastifyReply, q: Query, params: Record<string, string>): FastifyReply {
  const url = new URL(q['redirect_uri']!);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  if (q['state'] !== undefined) url.searchParams.set('state', q['state']);
  return reply.redirect(url.toString(), 302);
}

export function registerConsentRoutes(app: FastifyInstance, id: XeroIdentity): void {
  app.get('/identity/connect/authorize', async (req, reply) => {
    const q = req.query as Query;
    const bad = unsafe(id, q);
    if (bad) return htmlPage(reply, 400, 'Xero | Error', `<h1>Sorry, something went wrong</h1><p id="oauth-error">${esc(bad)}</p>`);
    const error = redirectError(id, q);
    if (error) return back(reply, q, { error });
    const hidden = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state']
      .map((k) => `<input type="hidden" name="${k}" value="${esc(q[k] ?? '')}">`)
      .join('');
    const scopes = (q['scope'] ?? '')
      .split(' ')
      .filter(Boolean)
      .map((s) => `<li>${esc(s)}</li>`)
      .join('');
    return htmlPage(
      reply,
      200,
      'Xero | Authorise app',
      `<h1>An app wants to connect to your Xero organisation</h1>` +
        `<p>Organisation: <strong id="tenant">${esc(id.opts.tenantName)}</strong></p><p>It asks to:</p><ul>${scopes}</ul>` +
        `<form method="post" action="/identity/connect/authorize">${hidden}` +
        `<button type="submit" name="decision" value="allow" id="allow">Allow access</button> ` +
        `<button type="submit" name="decision" value="deny" id="cancel">Cancel</button></form>`,
    );
  });

  // The person's answer; everything is checked again (the form is theirs to edit).
  app.post('/identity/connect/authorize', async (req, reply) => {
    const q = (req.body ?? {}) as Query;
    const bad = unsafe(id, q);
    if (bad) return htmlPage(reply, 400, 'Xero | Error', `<h1>Sorry, something went wrong</h1><p id="oauth-error">${esc(bad)}</p>`);
    const error = redirectError(id, q);
    if (error) return back(reply, q, { error });
    if (q['decision'] !== 'allow') return back(reply, q, { error: 'access_denied' });
    const scopes = id.scopesValid(q['scope']!)!;
    return back(reply, q, { code: id.newCode({ scopes, connectionId: id.newConnection() }, q['redirect_uri']!) });
  });
}
