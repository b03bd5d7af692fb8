// Outbound webhooks on a simulated clock, with no worker running: each delivery round is deliverWebhooks
// called at the clock's time (the batches the delivery runner sends), so the three-day give-up with its
// exception, the rotation overlap, the SSRF guard at save and at delivery time, and the receiver's redirects
// and error answers are checked against a real receiver and real PostgreSQL. The receiver down for an hour,
// through the runner itself and across a SIGKILL, is webhooks-out-down-hour.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/db/crypto.ts';
import { withTenant } from '../../src/db/tenant.ts';
import type { EngineContext } from '../../src/engine/context.ts';
import { deliverWebhooks } from '../../src/engine/webhooks-out/deliver.ts';
import { createSubscription, replayDelivery, rotateSecret, updateSubscription } from '../../src/engine/webhooks-out/subscriptions.ts';
import { verifySignature } from '../../src/engine/webhooks-out/signing.ts';
import { engineCtx } from '../helpers/autopay.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { reconciledPayout } from '../helpers/webhook-changes.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

let stack: Stack;
let receiver: Receiver;
let clock: Date;
let ctx: EngineContext;

beforeAll(async () => {
  stack = await startStack({ settle: false });
  receiver = await startReceiver();
  clock = new Date();
  ctx = { ...engineCtx(stack), box: SecretBox.fromHex(stack.secretKeyHex), now: () => clock, webhooksAllowPrivate: true };
}, 120_000);
// Each test starts at the real time: the events' rows are stamped by the database's clock.
beforeEach(() => {
  clock = new Date();
});
afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const subscribe = (url = receiver.url) =>
  createSubscription(ctx, stack.tenantId, { url, eventTypes: ['payout.reconciled', 'exception.opened'] }, 'system:test');
/** A change the subscriptions hear about; the clock moves up to the database's time of it if behind. */
const payoutEvent = async () => {
  await q((tx) => reconciledPayout(tx, stack.tenantId));
  if (clock.getTime() < Date.now()) clock = new Date();
};
const deliveriesOf = (subId: string) =>
  q((tx) => tx.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', subId).orderBy('seq').execute());

/** Run the subscription's job at each next retry time until `until` (ms after start) or nothing is pending. */
async function runUntil(subId: string, startMs: number, untilMs: number, each?: (atMs: number) => void): Promise<number[]> {
  const runs: number[] = [];
  for (;;) {
    const at = clock.getTime() - startMs;
    each?.(at);
    const r = await deliverWebhooks(ctx, stack.tenantId, subId);
    if (r.sent > 0) runs.push(at);
    if (!r.nextWake || r.nextWake.getTime() - startMs > untilMs) return runs;
    clock = new Date(Math.max(r.nextWake.getTime(), clock.getTime()));
  }
}

describe('outbound webhooks on a simulated clock', { timeout: 120_000 }, () => {
  it('gives up after three days: the delivery is failed and an exception is open until a later delivery succeeds', async () => {
    const { subscription } = await subscribe();
    await updateSubscription(ctx, stack.tenantId, subscription.id, { eventTypes: ['payout.reconciled'] }, 'system:test');
    receiver.answer(500, 'boom');
    await payoutEvent();
    const start = clock.getTime();
    const runs = await runUntil(subscription.id, start, 4 * 86_400_000);
    const [d] = await deliveriesOf(subscription.id);
    expect(start + runs.at(-1)!).toBe(new Date(d!.give_up_at).getTime()); // the last attempt at the three-day mark
    expect(Math.abs(new Date(d!.give_up_at).getTime() - new Date(d!.created_at).getTime() - 3 * 86_400_000)).toBeLessThan(60_000);
    expect(runs.length).toBe(22); // the first, 10 after doubling waits (30 s … 4 h 16 min, to 8 h 31 min), 10 six hours apart, the last at 72 h
    expect(d!.status).toBe('failed');
    const exception = () =>
      q((tx) =>
        tx
          .selectFrom('exceptions')
          .select(['status', 'kind', 'title', 'resolution'])
          .where('dedupe_key', '=', `webhook-failing:${subscription.id}`)
          .executeTakeFirst(),
      );
    expect(await exception()).toMatchObject({ status: 'open', kind: 'webhook_failing' });
    receiver.answer(200);
    await payoutEvent();
    await deliverWebhooks(ctx, stack.tenantId, subscription.id);
    expect(await exception()).toMatchObject({ status: 'resolved', resolution: 'webhook_delivered' });
    const sub = await q((tx) => tx.selectFrom('webhook_subscriptions').select('failing_since').where('id', '=', subscription.id).executeTakeFirstOrThrow());
    expect(sub.failing_since).toBeNull();
    // replay the failed one: same event id, delivered now
    await replayDelivery(stack.database.db, stack.tenantId, d!.id, 'system:test', clock);
    await deliverWebhooks(ctx, stack.tenantId, subscription.id);
    expect((await deliveriesOf(subscription.id)).find((x) => x.id === d!.id)!.status).toBe('delivered');
    const audit = await q((tx) => tx.selectFrom('audit_log').select('action').where('action', '=', 'webhook.delivery_replayed').execute());
    expect(audit.length).toBe(1);
    await updateSubscription(ctx, stack.tenantId, subscription.id, { enabled: false }, 'system:test');
  });

  it('signs with both secrets during a rotation overlap, and with the new one only after it', async () => {
    const { subscription, secret: old } = await subscribe();
    receiver.answer(200);
    const { secret: fresh } = await rotateSecret(ctx, stack.tenantId, subscription.id, 24, 'system:test');
    const sigOf = async () => {
      await payoutEvent();
      const n = receiver.received.length;
      await deliverWebhooks(ctx, stack.tenantId, subscription.id);
      const r = receiver.received[n]!;
      return { header: String(r.headers['settle-signature']), body: r.body, t: Math.floor(clock.getTime() / 1000) };
    };
    const during = await sigOf();
    expect(during.header.match(/v1=/g)).toHaveLength(2);
    expect(verifySignature(during.header, during.body, old, during.t)).toBe(true);
    expect(verifySignature(during.header, during.body, fresh, during.t)).toBe(true);
    expect(verifySignature(during.header, during.body + ' ', fresh, during.t)).toBe(false);
    clock = new Date(clock.getTime() + 25 * 3600_000);
    const after = await sigOf();
    expect(after.header.match(/v1=/g)).toHaveLength(1);
    expect(verifySignature(after.header, after.body, fresh, after.t)).toBe(true);
    expect(verifySignature(after.header, after.body, old, after.t)).toBe(false);
    await updateSubscription(ctx, stack.tenantId, subscription.id, { enabled: false }, 'system:test');
  });

  it('records a redirect (not followed) and a 4xx with its body, and retries both', async () => {
    const { subscription } = await subscribe();
    receiver.answer(302, '', { location: 'http://169.254.169.254/latest/meta-data' });
    await payoutEvent();
    await deliverWebhooks(ctx, stack.tenantId, subscription.id);
    let [d] = await deliveriesOf(subscription.id);
    expect(d).toMatchObject({ status: 'pending', last_status: 302 });
    expect(d!.last_error).toMatch(/redirect to http:\/\/169\.254\.169\.254\/latest\/meta-data not followed/);
    receiver.answer(410, 'x'.repeat(5000));
    clock = new Date(d!.next_attempt_at);
    await deliverWebhooks(ctx, stack.tenantId, subscription.id);
    [d] = await deliveriesOf(subscription.id);
    expect(d).toMatchObject({ status: 'pending', last_status: 410, last_error: 'the receiver answered 410' });
    const log = await q((tx) =>
      tx.selectFrom('webhook_attempts').select('response_body').where('delivery_id', '=', d!.id).orderBy('attempt_no', 'desc').executeTakeFirstOrThrow(),
    );
    expect(log.response_body).toHaveLength(2048);
    receiver.answer(200);
    await updateSubscription(ctx, stack.tenantId, subscription.id, { enabled: false }, 'system:test');
  });

  it('refuses private, loopback, link-local and metadata addresses at save and at delivery, unless the operator allows them', async () => {
    const guarded = { ...ctx, webhooksAllowPrivate: false };
    const refuse = async (url: string, lookup?: (h: string) => Promise<string[]>) =>
      createSubscription(guarded, stack.tenantId, { url, eventTypes: ['payout.reconciled'] }, 'system:test', lookup ? { lookup } : {}).then(
        () => 'saved',
        (e: Error) => e.message,
      );
    expect(await refuse('https://127.0.0.1/hooks')).toMatch(/loopback/);
    expect(await refuse('https://[::1]/hooks')).toMatch(/loopback/);
    expect(await refuse('https://10.1.2.3/hooks')).toMatch(/private/);
    expect(await refuse('https://169.254.169.254/latest/meta-data')).toMatch(/link-local.*metadata/);
    expect(await refuse('https://[::ffff:192.168.0.1]/hooks')).toMatch(/private/);
    expect(await refuse('https://hooks.example.test/x', async () => ['203.0.113.9', '192.168.1.5'])).toMatch(/resolves to 192\.168\.1\.5/);
    expect(await refuse('http://hooks.example.test/x', async () => ['93.184.216.34'])).toMatch(/must start with https/);
    expect(await refuse('https://hooks.example.test/x', async () => ['93.184.216.34'])).toBe('saved');
    expect(await refuse(receiver.url)).toMatch(/https/);
    // Saved while allowed, delivered while not: refused before anything is sent, and logged.
    const { subscription } = await subscribe();
    await payoutEvent();
    const n = receiver.received.length;
    await deliverWebhooks(guarded, stack.tenantId, subscription.id);
    expect(receiver.received.length).toBe(n);
    const [d] = await deliveriesOf(subscription.id);
    expect(d!.last_error).toMatch(/refused before sending: the URL must start with https/);
    await updateSubscription(ctx, stack.tenantId, subscription.id, { enabled: false }, 'system:test');
  });
});
