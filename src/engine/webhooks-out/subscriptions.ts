// Webhook subscriptions of a workspace: add one, change its URL or events, rotate its secret, disable or
// enable it, replay a delivery. The API (http/api/webhook-subscriptions.ts) and Settings → Webhooks
// (http/staff/webhooks.ts) call these same functions; every change is audited in its transaction. The URL
// passes the SSRF guard (address-guard.ts) before it is saved; the secrets are sealed with the instance key.
import { sql } from 'kysely';
import type { Db } from '../../db/pool.ts';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { audit, type Actor } from '../audit.ts';
import { boxOf, UseCaseError, type EngineContext } from '../context.ts';
import { checkReceiverUrl, type Lookup } from './address-guard.ts';
import { EVENT_TYPES, isEventType, type EventType } from './catalogue.ts';
import { newSecret } from './signing.ts';
import { wakeDeliveries } from './wake.ts';

export const MAX_SUBSCRIPTIONS = 20;
export const DEFAULT_OVERLAP_HOURS = 24;
const MAX_OVERLAP_HOURS = 7 * 24;
const DESCRIPTION_MAX = 200;

export interface Secrets {
  readonly current: string;
  readonly previous: string | null;
}

export interface SubscriptionInput {
  readonly url?: string;
  readonly eventTypes?: readonly string[];
  readonly description?: string;
  readonly enabled?: boolean;
}

export interface Subscription {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  readonly eventTypes: readonly EventType[];
  readonly status: 'active' | 'disabled';
  readonly previousSecretExpiresAt: Date | null;
  readonly failingSince: Date | null;
  readonly createdAt: Date;
}

const sealContext = (tenantId: string): string => `data:${tenantId}:webhook-secret`;

export function openSecrets(ctx: Pick<EngineContext, 'box'>, tenantId: string, sealed: string): Secrets {
  return boxOf(ctx as EngineContext).open<Secrets>(sealed, sealContext(tenantId));
}

/** The secrets that sign a delivery at `now`: the current one, and the previous one until its overlap ends. */
export function signingSecrets(s: Secrets, previousExpiresAt: Date | null, now: Date): string[] {
  return s.previous && previousExpiresAt && previousExpiresAt > now ? [s.current, s.previous] : [s.current];
}

function eventTypesOf(raw: readonly string[]): EventType[] {
  const unknown = raw.filter((t) => !isEventType(t));
  if (unknown.length)
    throw new UseCaseError('invalid', `unknown event type(s): ${unknown.join(', ')}; the catalogue is ${EVENT_TYPES.join(', ')}`, { unknown });
  const types = [...new Set(raw)] as EventType[];
  if (types.length === 0) throw new UseCaseError('invalid', 'choose at least one event type to send');
  return EVENT_TYPES.filter((t) => types.includes(t));
}

function descriptionOf(raw: string | undefined): string {
  const d = (raw ?? '').trim();
  if (d.length > DESCRIPTION_MAX) throw new UseCaseError('invalid', `the description is at most ${DESCRIPTION_MAX} characters (this one has ${d.length})`);
  return d;
}

const rowColumns = ['id', 'url', 'description', 'event_types', 'status', 'previous_expires_at', 'failing_since', 'created_at'] as const;
type Row = {
  id: string;
  url: string;
  description: string;
  event_types: string[];
  status: 'active' | 'disabled';
  previous_expires_at: Date | null;
  failing_since: Date | null;
  created_at: Date;
};
const toSubscription = (r: Row): Subscription => ({
  id: r.id,
  url: r.url,
  description: r.description,
  eventTypes: r.event_types.filter(isEventType),
  status: r.status,
  previousSecretExpiresAt: r.previous_expires_at,
  failingSince: r.failing_since,
  createdAt: r.created_at,
});

export async function listSubscriptions(tx: Tx): Promise<Subscription[]> {
  return (await tx.selectFrom('webhook_subscriptions').select(rowColumns).orderBy('created_at').execute()).map(toSubscription);
}

export async function getSubscription(tx: Tx, id: string): Promise<Subscription> {
  const r = await tx.selectFrom('webhook_subscriptions').select(rowColumns).where('id', '=', id).executeTakeFirst();
  if (!r) throw new UseCaseError('not_found', `no webhook subscription ${id} in this workspace`);
  return toSubscription(r);
}

interface GuardOpts {
  readonly lookup?: Lookup | undefined;
}

/** A new subscription; the secret is returned this once (the staff page and the API show it to be copied). */
export async function createSubscription(
  ctx: EngineContext,
  tenantId: string,
  input: SubscriptionInput,
  actor: Actor,
  opts: GuardOpts = {},
): Promise<{ subscription: Subscription; secret: string }> {
  const eventTypes = eventTypesOf(input.eventTypes ?? []);
  const description = descriptionOf(input.description);
  const { url } = await checkReceiverUrl(input.url ?? '', { allowPrivate: ctx.webhooksAllowPrivate === true, lookup: opts.lookup });
  const secret = newSecret();
  return withTenant(ctx.db, tenantId, async (tx) => {
    const [{ n }] = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_subscriptions`.execute(tx)).rows as [{ n: number }];
    if (n >= MAX_SUBSCRIPTIONS) throw new UseCaseError('conflict', `a workspace has at most ${MAX_SUBSCRIPTIONS} webhook subscriptions; disable and reuse one`);
    const row = await tx
      .insertInto('webhook_subscriptions')
      .values({
        tenant_id: tenantId,
        url: url.toString(),
        description,
        event_types: eventTypes,
        secrets_sealed: boxOf(ctx).seal({ current: secret, previous: null } satisfies Secrets, sealContext(tenantId)),
        status: input.enabled === false ? 'disabled' : 'active',
      })
      .returning(rowColumns)
      .executeTakeFirstOrThrow();
    await audit(
      tx,
      tenantId,
      actor,
      'webhook.subscription_created',
      { type: 'webhook_subscription', id: row.id },
      { url: row.url, event_types: eventTypes, status: row.status },
    );
    return { subscription: toSubscription(row), secret };
  });
}

/** Change the URL, the events, the description, or enable/disable; what changed is audited as before → after. */
export async function updateSubscription(
  ctx: EngineContext,
  tenantId: string,
  id: string,
  input: SubscriptionInput,
  actor: Actor,
  opts: GuardOpts = {},
): Promise<Subscription> {
  const eventTypes = input.eventTypes !== undefined ? eventTypesOf(input.eventTypes) : undefined;
  const description = input.description !== undefined ? descriptionOf(input.description) : undefined;
  const url =
    input.url !== undefined
      ? (await checkReceiverUrl(input.url, { allowPrivate: ctx.webhooksAllowPrivate === true, lookup: opts.lookup })).url.toString()
      : undefined;
  return withTenant(ctx.db, tenantId, async (tx) => {
    const before = await tx.selectFrom('webhook_subscriptions').select(rowColumns).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!before) throw new UseCaseError('not_found', `no webhook subscription ${id} in this workspace`);
    const status = input.enabled === undefined ? before.status : input.enabled ? 'active' : 'disabled';
    const after = await tx
      .updateTable('webhook_subscriptions')
      .set({
        ...(url !== undefined ? { url } : {}),
        ...(eventTypes !== undefined ? { event_types: eventTypes } : {}),
        ...(description !== undefined ? { description } : {}),
        status,
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .returning(rowColumns)
      .executeTakeFirstOrThrow();
    const pick = (r: Row) => ({ url: r.url, description: r.description, event_types: r.event_types, status: r.status });
    const action =
      before.status !== after.status
        ? after.status === 'active'
          ? 'webhook.subscription_enabled'
          : 'webhook.subscription_disabled'
        : 'webhook.subscription_changed';
    await audit(tx, tenantId, actor, action, { type: 'webhook_subscription', id }, { before: pick(before), after: pick(after) });
    // Enabled again: what waited while it was disabled goes out now.
    if (before.status === 'disabled' && after.status === 'active') await wakeDeliveries(tx, tenantId, id);
    return toSubscription(after);
  });
}

/**
 * A new secret; the old one keeps signing beside it for `overlapHours` (0: at once only the new one), so the
 * receiver can switch without refusing a delivery. Returns the new secret (shown once).
 */
export async function rotateSecret(
  ctx: EngineContext,
  tenantId: string,
  id: string,
  overlapHours: number,
  actor: Actor,
): Promise<{ secret: string; previousExpiresAt: Date | null }> {
  if (!Number.isFinite(overlapHours) || overlapHours < 0 || overlapHours > MAX_OVERLAP_HOURS)
    throw new UseCaseError('invalid', `the overlap is 0 to ${MAX_OVERLAP_HOURS} hours (both secrets sign during it); got ${overlapHours}`);
  return withTenant(ctx.db, tenantId, async (tx) => {
    const row = await tx.selectFrom('webhook_subscriptions').select(['secrets_sealed']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row) throw new UseCaseError('not_found', `no webhook subscription ${id} in this workspace`);
    const old = openSecrets(ctx, tenantId, row.secrets_sealed);
    const secret = newSecret();
    const previousExpiresAt = overlapHours > 0 ? new Date(ctx.now().getTime() + overlapHours * 3600_000) : null;
    await tx
      .updateTable('webhook_subscriptions')
      .set({
        secrets_sealed: boxOf(ctx).seal({ current: secret, previous: overlapHours > 0 ? old.current : null } satisfies Secrets, sealContext(tenantId)),
        previous_expires_at: previousExpiresAt,
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
    await audit(
      tx,
      tenantId,
      actor,
      'webhook.secret_rotated',
      { type: 'webhook_subscription', id },
      { overlap_hours: overlapHours, old_secret_signs_until: previousExpiresAt },
    );
    return { secret, previousExpiresAt };
  });
}

/** Send a delivery again (delivered or failed): same event id and body, three more days of retries. */
export async function replayDelivery(db: Db, tenantId: string, deliveryId: string, actor: Actor, now: Date): Promise<void> {
  await withTenant(db, tenantId, async (tx) => {
    const d = await tx
      .selectFrom('webhook_deliveries')
      .select(['id', 'subscription_id', 'status', 'event_id'])
      .where('id', '=', deliveryId)
      .forUpdate()
      .executeTakeFirst();
    if (!d) throw new UseCaseError('not_found', `no webhook delivery ${deliveryId} in this workspace`);
    if (d.status === 'pending') throw new UseCaseError('conflict', 'this delivery is still being tried; it goes out at its next attempt (see the log)');
    await tx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', next_attempt_at: now, give_up_at: new Date(now.getTime() + 3 * 86_400_000) })
      .where('id', '=', deliveryId)
      .execute();
    await audit(
      tx,
      tenantId,
      actor,
      'webhook.delivery_replayed',
      { type: 'webhook_subscription', id: d.subscription_id },
      { delivery_id: deliveryId, event_id: d.event_id, was: d.status },
    );
    await wakeDeliveries(tx, tenantId, d.subscription_id);
  });
}
