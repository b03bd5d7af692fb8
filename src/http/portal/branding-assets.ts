// The public brand files of a workspace, linked from its portal pages (engine/branding.ts portalBranding):
//   GET /brand/:tenant/logo       the logo's bytes with the type its magic bytes proved (PNG/JPEG/WebP)
//   GET /brand/:tenant/brand.css  one custom property (--brand) for the portal's stylesheet
// No portal token: a logo and a colour are no secret, and a client's browser (or mail client) fetches them
// without one. The URL carries ?v=<sha256 of the logo | the colour>: with the current value the answer is
// cached for a year (immutable; a new logo gets a new URL), otherwise for five minutes, with an ETag.
// X-Content-Type-Options: nosniff on both, so no browser ever reads the bytes as anything but their type.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { brandCss, readBranding, readLogo } from '../../engine/branding.ts';
import type { HttpDeps } from '../deps.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const YEAR = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=300';

type Req = FastifyRequest<{ Params: { tenant: string }; Querystring: { v?: string } }>;

function notFound(reply: FastifyReply, what: string): FastifyReply {
  return reply.code(404).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(`${what} not found`);
}

/** Sends `body` with a cache keyed by `key`: 304 when the browser already holds it. */
function sendKeyed(req: Req, reply: FastifyReply, key: string, type: string, body: Buffer | string): FastifyReply {
  const etag = `"${key}"`;
  void reply
    .header('etag', etag)
    .header('cache-control', req.query.v === key ? YEAR : SHORT)
    .header('x-content-type-options', 'nosniff');
  if (req.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.code(200).type(type).send(body);
}

export function registerBrandAssetRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/brand/:tenant/logo', { schema: { hide: true } }, async (req: Req, reply) => {
    const tenantId = req.params.tenant;
    if (!UUID.test(tenantId)) return notFound(reply, 'logo');
    const logo = await withTenant(deps.ctx.db, tenantId, readLogo);
    if (!logo) return notFound(reply, 'logo');
    void reply.header('content-disposition', 'inline; filename="logo"');
    return sendKeyed(req, reply, logo.sha256, logo.type, logo.bytes);
  });

  app.get('/brand/:tenant/brand.css', { schema: { hide: true } }, async (req: Req, reply) => {
    const tenantId = req.params.tenant;
    if (!UUID.test(tenantId)) return notFound(reply, 'stylesheet');
    const b = await withTenant(deps.ctx.db, tenantId, readBranding);
    if (!b.primaryColor) return notFound(reply, 'stylesheet');
    return sendKeyed(req, reply, b.primaryColor.slice(1), 'text/css; charset=utf-8', brandCss(b.primaryColor));
  });
}
