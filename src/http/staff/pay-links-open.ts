// "Write pay links for all open invoices" on the connections page's PSA card: for an MSP that has just
// connected, whose already-open invoices got no link (only invoices first seen after the first import do).
// Finance and owner (http/permissions.ts; a viewer sees no button and a POST gets 403). The same engine
// function as `settle pay-links write-open` (engine/pay-links-open.ts), audited there with the count; the page
// says how many were queued — none on a second press.
//   POST /app/connections/psa/pay-links
import type { FastifyInstance } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { UseCaseError } from '../../engine/context.ts';
import { openPayLinksSentence, queueOpenInvoicePayLinks } from '../../engine/pay-links-open.ts';
import type { HttpDeps } from '../deps.ts';
import { connectionsPage, sessionOf } from './connections.ts';

export function registerOpenPayLinksRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.post('/app/connections/psa/pay-links', { schema: { hide: true } }, async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    try {
      const r = await withTenant(deps.ctx.db, session.tenantId, (tx) => queueOpenInvoicePayLinks(tx, session.tenantId, `user:${session.userId}`));
      return connectionsPage(req, reply, deps, session, { notice: openPayLinksSentence(r) });
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return connectionsPage(req, reply, deps, session, { problem: e.message }, 422);
    }
  });
}
