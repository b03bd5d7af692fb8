// Cross-site request forgery: one model for every door (issue #8 item 3).
// - /api/v1 takes only bearer API keys (auth.ts), never the session cookie: a browser cannot attach a bearer
//   key to a forged request, so the API needs no token.
// - /webhooks/* are verified by the vendor's signature.
// - /portal/* is reached through a signed link: the link token in the path is the per-client secret a forger
//   would need (and with it would not need a browser). Its POSTs are JSON only (a cross-site HTML form can
//   only send urlencoded, multipart or text/plain; a cross-site JSON fetch needs a CORS preflight Settle
//   never grants), and a browser's Origin / Sec-Fetch-Site must name this site.
// - Everything else that changes state (staff pages, /login and any later signed-out form such as a password
//   reset) needs a synchronizer token tied to the browser: an HMAC of the session cookie, or, before there is
//   a session, of a random pre-session cookie (login CSRF). A browser's Origin / Sec-Fetch-Site must also be
//   this very origin: a page on another port of the same host is same-site, not same-origin, and is refused.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readCookie, SESSION_COOKIE } from './auth.ts';

export const PRESESSION_COOKIE = 'settle_presession';
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const PRESESSION_TTL_SEC = 2 * 3600;
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function tokenFor(binding: string, secret: string): string {
  return crypto.createHmac('sha256', secret).update(`csrf:${binding}`).digest('base64url');
}

/** The cookie value the token is bound to: the session when signed in, else the pre-session cookie. */
function bindingOf(req: FastifyRequest): string | null {
  return readCookie(req, SESSION_COOKIE) ?? readCookie(req, PRESESSION_COOKIE);
}

/**
 * The token for a form on a page being rendered. A signed-out visitor without a pre-session cookie gets one
 * (HttpOnly, SameSite=Strict) on this reply, so the login form works on the first visit.
 */
export function csrfToken(req: FastifyRequest, reply: FastifyReply, secret: string, secure = false): string {
  let binding = bindingOf(req);
  if (!binding) {
    binding = crypto.randomBytes(24).toString('base64url');
    reply.header('set-cookie', `${PRESESSION_COOKIE}=${binding}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${PRESESSION_TTL_SEC}${secure ? '; Secure' : ''}`);
  }
  return tokenFor(binding, secret);
}

/** Why a browser request comes from elsewhere, or null when its Origin / Sec-Fetch-Site are this origin. */
export function foreignOrigin(req: FastifyRequest, publicUrl: string): string | null {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin') return `Sec-Fetch-Site is "${site}"`;
  const origin = req.headers.origin;
  // Under Referrer-Policy: no-referrer (security-headers.ts) browsers send "Origin: null" on their own
  // same-origin form posts and fetches; that counts only when Sec-Fetch-Site vouches for it (a sandboxed
  // frame elsewhere also sends null, with Sec-Fetch-Site cross-site, refused above).
  if (origin === 'null' && site === 'same-origin') return null;
  if (typeof origin === 'string') {
    const allowed = new Set([new URL(publicUrl).origin, `${req.protocol}://${req.host}`]);
    if (!allowed.has(origin)) return `Origin ${origin} is not this site`;
  }
  return null;
}

function givenToken(req: FastifyRequest): string | null {
  const header = req.headers[CSRF_HEADER];
  if (typeof header === 'string') return header;
  const body = req.body as Record<string, unknown> | null | undefined;
  const field = body && typeof body === 'object' ? body[CSRF_FIELD] : undefined;
  return typeof field === 'string' ? field : null;
}

function tokenMatches(req: FastifyRequest, secret: string): boolean {
  const binding = bindingOf(req);
  const given = givenToken(req);
  if (!binding || !given) return false;
  const expected = Buffer.from(tokenFor(binding, secret));
  const actual = Buffer.from(given);
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}

export type Door = 'api' | 'webhook' | 'portal' | 'page';

/** Which door a URL comes through (the same split rate-limits.ts uses). */
export function doorOf(url: string): Door {
  if (url.startsWith('/api/')) return 'api';
  if (url.startsWith('/webhooks/')) return 'webhook';
  if (url.startsWith('/portal/')) return 'portal';
  return 'page';
}

function refuse(req: FastifyRequest, reply: FastifyReply, why: string, message: string): FastifyReply {
  req.log.warn({ url: req.url.split('?')[0], why }, 'cross-site request refused');
  const accepts = req.headers.accept ?? '';
  if (accepts.includes('text/html')) {
    return reply.code(403).type('text/html').send(`<!doctype html><title>Refused</title><p>${message}</p><p><a href="/login">Sign in again</a></p>`);
  }
  return reply.code(403).send({ error: { code: 'csrf_refused', message } });
}

/**
 * The check, as a preHandler on every route (after body parsing, so a form's hidden field can be read).
 * Safe methods pass; the API and webhooks are left to their own authentication.
 */
export function registerCsrfProtection(app: FastifyInstance, sessionSecret: string, publicUrl: string): void {
  app.addHook('preHandler', async (req, reply) => {
    if (!UNSAFE.has(req.method)) return;
    const door = doorOf(req.url);
    if (door === 'api' || door === 'webhook') return;
    const foreign = foreignOrigin(req, publicUrl);
    if (door === 'portal') {
      if (foreign) return refuse(req, reply, foreign, 'this request came from another site; open your payment link again and retry');
      const type = req.headers['content-type'];
      if (type !== undefined && !/^application\/json\b/i.test(type)) {
        return reply.code(415).send({ error: { code: 'unsupported_media_type', message: 'send the request body as application/json' } });
      }
      return;
    }
    if (foreign) return refuse(req, reply, foreign, 'this form was sent from another site and was refused; open the page on Settle itself and send it again');
    if (!tokenMatches(req, sessionSecret)) {
      return refuse(
        req,
        reply,
        'missing or wrong CSRF token',
        'this form has expired or did not come from Settle (its security token is missing or wrong); reload the page and send it again',
      );
    }
  });
}
