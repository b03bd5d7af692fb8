// Settings → Webhooks (/app/settings/webhooks): the workspace's outbound webhook subscriptions. Everyone
// signed in reads them and their delivery log; an owner adds one, changes its URL and events, rotates its
// secret, disables or enables it, and replays a delivery — through engine/webhooks-out/subscriptions.ts, the
// functions the API calls, each audited. A new secret is shown once, on the page the change answers with.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { UseCaseError } from '../../engine/context.ts';
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
} from '../../engine/webhooks-out/subscriptions.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './settings-surcharge.ts';
import { renderStaff } from './view.ts';

const PAGE = '/app/settings/webhooks';
type Err = { field: string | null; message: string };
interface FormValues {
  url: string;
  description: string;
  events: string[];
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
/** Checked boxes arrive as one string or several. */
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
const formOf = (body: unknown): FormValues => {
  const b = (body ?? {}) as Record<string, unknown>;
  return { url: text(b['url']).trim(), description: text(b['description']), events: list(b['events']) };
};
const fieldOf = (message: string): string => (/event/i.test(message) ? 'events' : /description/i.test(message) ? 'description' : 'url');
const catalogue = EVENT_TYPES.map((type) => ({ type, about: EVENT_ABOUT[type] }));

async function listPage(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps, opts: { values?: FormValues; errors?: Err[]; status?: number } = {}) {
  const caller = callerOf(req);
  const subscriptions = await withTenant(deps.ctx.db, caller.tenantId, listSubscriptions);
  return renderStaff(
    req,
    reply,
    'settings-webhooks',
    {
      title: 'Webhooks',
      subscriptions,
      catalogue,
      canEdit: roleAtLeast(caller.role, 'owner'),
      v: opts.values ?? { url: '', description: '', events: [] },
      errors: opts.errors ?? [],
    },
    { status: opts.status ?? 200 },
  );
}

async function detailPage(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: HttpDeps,
  id: string,
  opts: { secret?: string; notice?: string; values?: FormValues; errors?: Err[]; status?: number } = {},
) {
  const caller = callerOf(req);
  const { sub, deliveries } = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => ({
    sub: await getSubscription(tx, id),
    deliveries: await listDeliveries(tx, id, { limit: 50 }),
  }));
  const q = req.query as Record<string, string | undefined>;
  const notice = opts.notice ?? (q['saved'] === '1' ? 'Saved.' : q['replayed'] === '1' ? 'The delivery goes out again now.' : null);
  return renderStaff(
    req,
    reply,
    'settings-webhook',
    {
      title: `Webhook to ${new URL(sub.url).host}`,
      sub,
      deliveries,
      catalogue,
      canEdit: roleAtLeast(caller.role, 'owner'),
      v: opts.values ?? { url: sub.url, description: sub.description, events: [...sub.eventTypes] },
      errors: opts.errors ?? [],
      secret: opts.secret ?? null,
      notice,
      overlapHours: DEFAULT_OVERLAP_HOURS,
    },
    { status: opts.status ?? 200 },
  );
}

export function registerWebhookSettingsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get(PAGE, async (req, reply) => listPage(req, reply, deps));

  app.post(PAGE, async (req, reply) => {
    const caller = callerOf(req);
    const v = formOf(req.body);
    try {
      const out = await createSubscription(deps.ctx, caller.tenantId, { url: v.url, description: v.description, eventTypes: v.events }, caller.actor);
      return detailPage(req, reply, deps, out.subscription.id, {
        secret: out.secret,
        notice: 'Webhook added. It gets the events you chose from now on.',
        status: 201,
      });
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return listPage(req, reply, deps, { values: v, errors: [{ field: fieldOf(e.message), message: e.message }], status: 422 });
    }
  });

  app.get<{ Params: { id: string } }>(`${PAGE}/:id`, async (req, reply) => detailPage(req, reply, deps, req.params.id));

  app.post<{ Params: { id: string } }>(`${PAGE}/:id`, async (req, reply) => {
    const caller = callerOf(req);
    const v = formOf(req.body);
    try {
      await updateSubscription(deps.ctx, caller.tenantId, req.params.id, { url: v.url, description: v.description, eventTypes: v.events }, caller.actor);
    } catch (e) {
      if (!(e instanceof UseCaseError) || e.code === 'not_found') throw e;
      return detailPage(req, reply, deps, req.params.id, { values: v, errors: [{ field: fieldOf(e.message), message: e.message }], status: 422 });
    }
    return reply.redirect(`${PAGE}/${req.params.id}?saved=1`, 303);
  });

  app.post<{ Params: { id: string } }>(`${PAGE}/:id/rotate`, async (req, reply) => {
    const caller = callerOf(req);
    const hours = Number(text(((req.body ?? {}) as Record<string, unknown>)['overlap_hours']) || DEFAULT_OVERLAP_HOURS);
    try {
      const out = await rotateSecret(deps.ctx, caller.tenantId, req.params.id, hours, caller.actor);
      const until = out.previousExpiresAt ? ` The old secret keeps signing beside it for ${hours} hours.` : ' The old secret no longer signs.';
      return detailPage(req, reply, deps, req.params.id, { secret: out.secret, notice: `New secret made.${until}` });
    } catch (e) {
      if (!(e instanceof UseCaseError) || e.code === 'not_found') throw e;
      return detailPage(req, reply, deps, req.params.id, { errors: [{ field: 'overlap-hours', message: e.message }], status: 422 });
    }
  });

  app.post<{ Params: { id: string } }>(`${PAGE}/:id/enabled`, async (req, reply) => {
    const caller = callerOf(req);
    const enabled = text(((req.body ?? {}) as Record<string, unknown>)['enabled']) === 'on';
    await updateSubscription(deps.ctx, caller.tenantId, req.params.id, { enabled }, caller.actor);
    return reply.redirect(`${PAGE}/${req.params.id}?saved=1`, 303);
  });

  app.post<{ Params: { id: string; delivery: string } }>(`${PAGE}/:id/deliveries/:delivery/replay`, async (req, reply) => {
    const caller = callerOf(req);
    try {
      await replayDelivery(deps.ctx.db, caller.tenantId, req.params.delivery, caller.actor, deps.ctx.now());
    } catch (e) {
      if (!(e instanceof UseCaseError) || e.code === 'not_found') throw e;
      return detailPage(req, reply, deps, req.params.id, { errors: [{ field: null, message: e.message }], status: 409 });
    }
    return reply.redirect(`${PAGE}/${req.params.id}?replayed=1`, 303);
  });
}
