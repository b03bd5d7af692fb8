// Response headers every answer carries (issue #8 item 7), set in one hook rather than by each route:
// - a Content-Security-Policy: scripts only from Settle itself or with this response's nonce; staff pages
//   and API answers may not be framed at all, the client portal only by origins the MSP lists
//   (workspace setting `portal_frame_ancestors`, PUT /api/v1/settings/portal-framing);
// - the portal's policy also names the processor's hosted fields by origin (Stripe.js and its frames, or
//   the Stripe simulator's stand-in in the demo), taken from the payments connection's `jsUrl`;
// - X-Content-Type-Options, Referrer-Policy: no-referrer (a portal link is a bearer credential in the path);
// - HSTS and the Secure cookie flag only when PUBLIC_URL is https (plain http on loopback must keep working).
// A small hook rather than @fastify/helmet: the portal's policy depends on per-workspace data read inside the
// handler, and helmet would only add a second place where the same header is decided.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** This response's CSP nonce: put it on every inline <script> (`<script nonce="${req.cspNonce}">`). */
    cspNonce: string;
  }
}

export interface SecurityHeaderOptions {
  /** PUBLIC_URL is https: send HSTS and mark cookies Secure. */
  readonly https: boolean;
}

/** docs.stripe.com/security/guide#content-security-policy: Stripe.js, its frames, and the API it calls. */
const STRIPE_HOSTED = {
  script: ['https://js.stripe.com', 'https://*.js.stripe.com'],
  frame: ['https://js.stripe.com', 'https://*.js.stripe.com', 'https://hooks.stripe.com'],
  connect: ['https://api.stripe.com'],
};

export const HSTS = 'max-age=31536000; includeSubDomains';

/** A staff page or an API answer: never framed, scripts only from Settle or with the nonce. */
export function staffPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** What is not a page (JSON, files): nothing may load from it as a document, nor frame it. */
export const NON_DOCUMENT_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** The origins the portal page lets the processor's hosted fields use, from the connection's jsUrl (null: none). */
export function processorSources(jsUrl: string | null | undefined): { script: string[]; frame: string[]; connect: string[] } {
  if (jsUrl === null) return { script: [], frame: [], connect: [] };
  let origin: string;
  try {
    const u = new URL(jsUrl ?? 'https://js.stripe.com/v3/');
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return { script: [], frame: [], connect: [] };
    origin = u.origin;
  } catch {
    return { script: [], frame: [], connect: [] };
  }
  if (origin === 'https://js.stripe.com') return STRIPE_HOSTED;
  // The simulator serves its stand-in script, the frame and the API from one origin.
  return { script: [origin], frame: [origin], connect: [origin] };
}

/** The client portal's policy: the processor's hosted fields by name, framed only by the listed origins. */
export function portalPolicy(nonce: string, jsUrl: string | null | undefined, frameAncestors: readonly string[]): string {
  const p = processorSources(jsUrl);
  const list = (xs: readonly string[]) => (xs.length ? ` ${xs.join(' ')}` : '');
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'${list(p.script)}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src 'self'${list(p.connect)}`,
    `frame-src${list(p.frame) || " 'none'"}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors${list(frameAncestors) || " 'none'"}`,
  ].join('; ');
}

/** An origin an MSP may list as allowed to frame its portal: https://host[:port], nothing else. */
export const FRAME_ANCESTOR = /^https:\/\/(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:[0-9]{1,5})?$/;

/** The workspace's listed origins (settings.portal_frame_ancestors), each re-checked: settings are JSON. */
export function frameAncestorsOf(settings: Record<string, unknown> | null | undefined): string[] {
  const v = settings?.portal_frame_ancestors;
  return Array.isArray(v) ? v.filter((o): o is string => typeof o === 'string' && FRAME_ANCESTOR.test(o)) : [];
}

/** Called by a portal page handler: its own policy instead of the staff one. */
export function setPortalPolicy(req: FastifyRequest, reply: FastifyReply, jsUrl: string | null | undefined, frameAncestors: readonly string[]): void {
  void reply.header('content-security-policy', portalPolicy(req.cspNonce, jsUrl, frameAncestors));
}

export function registerSecurityHeaders(app: FastifyInstance, opts: SecurityHeaderOptions): void {
  app.decorateRequest('cspNonce', '');
  app.addHook('onRequest', async (req) => {
    req.cspNonce = crypto.randomBytes(16).toString('base64');
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const type = String(reply.getHeader('content-type') ?? '');
    if (!reply.hasHeader('content-security-policy')) {
      void reply.header('content-security-policy', type.startsWith('text/html') ? staffPolicy(req.cspNonce) : NON_DOCUMENT_POLICY);
    }
    // Old browsers ignore frame-ancestors; a page no one may frame says so the old way too.
    if (/frame-ancestors 'none'/.test(String(reply.getHeader('content-security-policy')))) void reply.header('x-frame-options', 'DENY');
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    if (opts.https) {
      void reply.header('strict-transport-security', HSTS);
      const cookies = reply.getHeader('set-cookie');
      if (cookies !== undefined) {
        const list = (Array.isArray(cookies) ? cookies : [String(cookies)]).map((c) => (/;\s*secure\s*(;|$)/i.test(c) ? c : `${c}; Secure`));
        // reply.header appends to set-cookie: take the old ones off first.
        void reply.removeHeader('set-cookie');
        void reply.header('set-cookie', list);
      }
    }
    return payload;
  });
}
