// Inbound vendor pushes: POST /webhooks/<workspace>/<vendor>. The raw body is kept as bytes, because
// signatures are computed over the exact bytes sent. A push is verified by the tenant's connector before
// anything is stored; a bad signature, an unknown workspace or a malformed body changes nothing and gets a
// 4xx that says why.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { InboxWriter } from '../../engine/inbox-writer.ts';
import { encodeEvent } from '../../engine/event-codec.ts';
import { WebhookRejected } from '../../connectors/webhook-rejected.ts';
import type { HttpDeps } from '../deps.ts';
import { XeroConnector } from '../../connectors/accounting/xero/connector.ts';
import { onXeroChanges, WAKING_CATEGORIES } from '../../engine/xero-webhook.ts';

export function registerWebhookRoutes(app: FastifyInstance, deps: HttpDeps): void {
  // Events arriving together are stored together (engine/inbox-writer.ts): a burst costs one transaction per batch.
  const inbox = new InboxWriter(deps.ctx.db);
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
    scope.post<{ Params: { workspace: string; vendor: string } }>('/webhooks/:workspace/:vendor', { schema: { hide: true } }, async (req, reply) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const tenant = await deps.ctx.db.selectFrom('tenants').select(['id', 'connections_revision']).where('slug', '=', req.params.workspace).executeTakeFirst();
      if (!tenant) return reject(reply, 404, 'not_found', NOT_HERE);
      // A connection saved a moment ago (a rotated signing secret) is used for this very request.
      deps.ctx.connectors.observeRevision?.(tenant.id, tenant.connections_revision);
      const { vendor } = req.params;
      try {
        const psa = await deps.ctx.connectors.psa(tenant.id);
        if (psa?.vendor === vendor) {
          const notice = await psa.parseNotification(req.headers, raw);
          const r = await inbox.receive(tenant.id, {
            source: vendor,
            vendorEventId: notice.eventId,
            eventType: `${notice.entity}.${notice.action}`,
            payload: encodeEvent(notice),
          });
          return reply.code(200).send({ received: true, duplicate: r.duplicate });
        }
        const processor = await deps.ctx.connectors.payments(tenant.id);
        if (processor?.vendor === vendor) {
          const event = processor.parseWebhook(req.headers, raw);
          const r = await inbox.receive(tenant.id, {
            source: vendor,
            vendorEventId: event.eventId,
            eventType: event.type,
            payload: encodeEvent(event),
          });
          return reply.code(200).send({ received: true, duplicate: r.duplicate });
        }
        const books = await deps.ctx.connectors.accounting(tenant.id);
        if (books?.vendor === vendor && books instanceof XeroConnector) {
          // Xero's intent-to-receive check wants 200 / 401 with no body (connectors/accounting/xero/webhook.ts).
          const events = books.verifyWebhook(req.headers, raw);
          await onXeroChanges(deps.ctx.db, tenant.id, events.filter((ev) => WAKING_CATEGORIES.has(ev.eventCategory)).length);
          return reply.code(200).send();
        }
      } catch (e) {
        if (e instanceof WebhookRejected && req.params.vendor === 'xero') return reply.code(401).send();
        if (e instanceof WebhookRejected) {
          req.log.warn({ vendor, reason: e.reason }, 'webhook rejected');
          return reject(reply, e.reason === 'malformed' ? 400 : 401, e.reason, e.message);
        }
        throw e;
      }
      return reject(reply, 404, 'not_found', NOT_HERE);
    });
  });
}

// One answer for an unknown workspace and for a vendor the workspace has not connected, so that the webhook
// URL cannot be used to learn which workspaces or connections exist (issue #8 item 9).
const NOT_HERE = 'no webhook endpoint at this URL; check the webhook URL configured at the vendor (settle doctor shows the right one)';

function reject(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}
