// Outbound webhook subscriptions over the API (docs/webhooks.md): list, add, change, rotate the secret, read
// the delivery log, replay a delivery. The same engine functions as Settings → Webhooks
// (engine/webhooks-out/subscriptions.ts): checked (SSRF guard, catalogue), audited. The secret is in the
// answer only when it is made (add, rotate).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { EVENT_ABOUT, EVENT_TYPES } from '../../engine/webhooks-out/catalogue.ts';
import { listDeliveries } from '../../engine/webhooks-out/delivery-log.ts';
import {
  createSubscription,
  DEFAULT_OVERLAP_HOURS,
  getSubscription,
  listSubscriptions,
  replayDelivery,
  rotateSecret,
  updateSubscription,
  type Subscription,
} from '../../engine/webhooks-out/subscriptions.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody } from './schemas.ts';

const TAG = 'webhooks';
const eventType = z.enum(EVENT_TYPES);
const subscription = z.object({
  id: z.string().uuid(),
  url: z.string(),
  description: z.string(),
  event_types: z.array(eventType),
  enabled: z.boolean(),
  previous_secret_signs_until: z.string().nullable(),
  failing_since: z.string().nullable(),
  created_at: z.string(),
});
const json = (s: Subscription): z.infer<typeof subscription> => ({
  id: s.id,
  url: s.url,
  description: s.description,
  event_types: [...s.eventTypes],
  enabled: s.status === 'active',
  previous_secret_signs_until: s.previousSecretExpiresAt?.toISOString() ?? null,
  failing_since: s.failingSince?.toISOString() ?? null,
  created_at: s.createdAt.toISOString(),
});
const idParam = z.object({ id: z.string().uuid() });
const input = z
  .object({
    url: z.string().max(2000),
    event_types: z.array(z.string()).min(1).max(EVENT_TYPES.length),
    description: z.string().max(200).optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
const delivery = z.object({
  id: z.string().uuid(),
  event_id: z.string(),
  event_type: z.string(),
  sequence: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  next_attempt_at: z.string().nullable(),
  last_attempt_at: z.string().nullable(),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  last_response_body: z.string().nullable(),
  delivered_at: z.string().nullable(),
});

export function registerWebhookSubscriptionRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const ctx = deps.ctx;

  r.get(
    '/webhook-event-types',
    {
      schema: { tags: [TAG], summary: 'The event catalogue', response: { 200: z.object({ data: z.array(z.object({ type: eventType, about: z.string() })) }) } },
    },
    async () => ({ data: EVENT_TYPES.map((type) => ({ type, about: EVENT_ABOUT[type] })) }),
  );

  r.get(
    '/webhook-subscriptions',
    { schema: { tags: [TAG], summary: "The workspace's webhook subscriptions", response: { 200: z.object({ data: z.array(subscription) }) } } },
    async (req) => ({ data: (await withTenant(ctx.db, callerOf(req).tenantId, listSubscriptions)).map(json) }),
  );

  r.post(
    '/webhook-subscriptions',
    {
      schema: {
        tags: [TAG],
        summary: 'Subscribe a URL to events',
        description:
          'url: https, reachable from the internet (addresses that resolve to private, loopback or link-local networks are refused unless the operator set SETTLE_WEBHOOKS_ALLOW_PRIVATE=1). ' +
          'event_types: names from GET /webhook-event-types. The answer carries the signing secret (whsec_…) this once: store it to verify the Settle-Signature header.',
        body: input,
        response: { 201: subscription.extend({ secret: z.string() }), 409: errorBody, 422: errorBody },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const b = req.body;
      const out = await createSubscription(
        ctx,
        caller.tenantId,
        {
          url: b.url,
          eventTypes: b.event_types,
          ...(b.description !== undefined ? { description: b.description } : {}),
          ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
        },
        caller.actor,
      );
      return reply.code(201).send({ ...json(out.subscription), secret: out.secret });
    },
  );

  r.get(
    '/webhook-subscriptions/:id',
    { schema: { tags: [TAG], summary: 'One subscription', params: idParam, response: { 200: subscription, 404: errorBody } } },
    async (req) => json(await withTenant(ctx.db, callerOf(req).tenantId, (tx) => getSubscription(tx, req.params.id))),
  );

  r.patch(
    '/webhook-subscriptions/:id',
    {
      schema: {
        tags: [TAG],
        summary: 'Change the URL, the events or the description, or disable / enable',
        description: 'Fields left out keep their value. A disabled subscription gets no new events; what was waiting goes out when it is enabled again.',
        params: idParam,
        body: input.partial().strict(),
        response: { 200: subscription, 404: errorBody, 422: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const b = req.body;
      return json(
        await updateSubscription(
          ctx,
          caller.tenantId,
          req.params.id,
          {
            ...(b.url !== undefined ? { url: b.url } : {}),
            ...(b.event_types !== undefined ? { eventTypes: b.event_types } : {}),
            ...(b.description !== undefined ? { description: b.description } : {}),
            ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
          },
          caller.actor,
        ),
      );
    },
  );

  r.post(
    '/webhook-subscriptions/:id/rotate-secret',
    {
      schema: {
        tags: [TAG],
        summary: 'Make a new signing secret',
        description: `overlap_hours (0–168, default ${DEFAULT_OVERLAP_HOURS}): how long the old secret keeps signing beside the new one (two v1= signatures), so the receiver can switch without refusing a delivery.`,
        params: idParam,
        body: z
          .object({ overlap_hours: z.number().min(0).max(168).optional() })
          .strict()
          .optional(),
        response: { 200: z.object({ secret: z.string(), previous_secret_signs_until: z.string().nullable() }), 404: errorBody, 422: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const out = await rotateSecret(ctx, caller.tenantId, req.params.id, req.body?.overlap_hours ?? DEFAULT_OVERLAP_HOURS, caller.actor);
      return { secret: out.secret, previous_secret_signs_until: out.previousExpiresAt?.toISOString() ?? null };
    },
  );

  r.get(
    '/webhook-subscriptions/:id/deliveries',
    {
      schema: {
        tags: [TAG],
        summary: 'The delivery log, newest event first',
        params: idParam,
        querystring: z
          .object({ status: z.enum(['pending', 'delivered', 'failed']).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) })
          .strict(),
        response: { 200: z.object({ data: z.array(delivery) }), 404: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(ctx.db, caller.tenantId, async (tx) => {
        await getSubscription(tx, req.params.id);
        return listDeliveries(tx, req.params.id, { limit: req.query.limit, ...(req.query.status ? { status: req.query.status } : {}) });
      });
      return { data: rows };
    },
  );

  r.post(
    '/webhook-deliveries/:id/replay',
    {
      schema: {
        tags: [TAG],
        summary: 'Send a delivery again',
        description: 'The same event (same id and body) goes out again, with three more days of retries. Receivers dedupe on the event id.',
        params: idParam,
        response: { 202: z.object({ replayed: z.literal(true) }), 404: errorBody, 409: errorBody },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      await replayDelivery(ctx.db, caller.tenantId, req.params.id, caller.actor, ctx.now());
      return reply.code(202).send({ replayed: true as const });
    },
  );
}
