// Outbound webhooks across a SIGKILL of Settle: events keep being written while Settle runs, is killed in the
// middle of sending (the receiver answers slowly, so deliveries are in flight) and while it is down, then
// Settle starts again. Every event arrives; an event arrives twice only when its delivery was in flight at
// the kill (sent, but not yet recorded as delivered).
import { afterAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/db/crypto.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { createSubscription } from '../../src/engine/webhooks-out/subscriptions.ts';
import { verifySignature } from '../../src/engine/webhooks-out/signing.ts';
import { engineCtx } from '../helpers/autopay.ts';
import { freePort } from '../helpers/ports.ts';
import { startSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { reconciledPayout } from '../helpers/webhook-changes.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

let stack: Stack | null = null;
let running: SettleProcess | null = null;
let receiver: Receiver | null = null;
afterAll(async () => {
  running?.child.kill('SIGKILL');
  await running?.exited;
  await receiver?.close();
  await stack?.close();
});

const EVENTS = 120;

describe('outbound webhooks across a SIGKILL of Settle', () => {
  it('delivers every event; duplicates only for deliveries in flight at the kill', { timeout: 300_000 }, async () => {
    const port = await freePort();
    stack = await startStack({ settle: false, settlePort: port });
    const env = { SETTLE_WEBHOOKS_ALLOW_PRIVATE: '1' };
    running = await startSettleProcess(stack, port, env);
    receiver = await startReceiver();
    receiver.delay(150);
    const ctx = { ...engineCtx(stack), box: SecretBox.fromHex(stack.secretKeyHex), webhooksAllowPrivate: true };
    const { subscription, secret } = await createSubscription(ctx, stack.tenantId, { url: receiver.url, eventTypes: ['payout.reconciled'] }, 'system:test');
    const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack!.database.db, stack!.tenantId, fn);
    const written: string[] = [];
    const write = async (n: number) => {
      for (let i = 0; i < n; i++) written.push(await q((tx) => reconciledPayout(tx, stack!.tenantId)));
    };

    await write(EVENTS / 2);
    const r = receiver;
    await eventually(async () => r.received.length >= 20, 60_000, 'deliveries under way');
    running.child.kill('SIGKILL');
    expect(await running.exited).toBe('SIGKILL');
    const killedAt = Date.now();
    // In flight at the kill: received, but not recorded as delivered (Settle had no answer yet, or had not written it).
    const notRecorded = new Set(
      (
        await q((tx) =>
          tx
            .selectFrom('webhook_deliveries as d')
            .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
            .select('e.id')
            .where('d.status', '=', 'pending')
            .execute(),
        )
      ).map((e) => `evt_${e.id.replaceAll('-', '')}`),
    );
    const inFlight = new Set(r.received.filter((x) => x.at <= killedAt && notRecorded.has(x.eventId)).map((x) => x.eventId));

    await write(EVENTS / 2); // while Settle is down: stored with their deliveries, sent after the restart
    running = await startSettleProcess(stack, port, env);
    const payoutOf = (body: string) => (JSON.parse(body) as { data: { payout: { processor_payout_id: string } } }).data.payout.processor_payout_id;
    await eventually(
      async () => {
        const seen = new Set(r.received.filter((x) => x.status === 200).map((x) => payoutOf(x.body)));
        return written.every((w) => seen.has(w));
      },
      180_000,
      `all ${EVENTS} events at the receiver`,
    );
    const counts = new Map<string, number>();
    for (const x of r.received) counts.set(x.eventId, (counts.get(x.eventId) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    for (const id of twice) expect(inFlight.has(id), `${id} arrived twice but was not in flight at the kill`).toBe(true);
    expect(counts.size).toBe(EVENTS);
    for (const x of r.received) expect(verifySignature(String(x.headers['settle-signature']), x.body, secret, Math.floor(x.at / 1000))).toBe(true);
    // and Settle records each as delivered (the last answers may still be on their way when the receiver has all)
    await eventually(
      async () =>
        (
          await q((tx) =>
            tx.selectFrom('webhook_deliveries').select('id').where('subscription_id', '=', subscription.id).where('status', '!=', 'delivered').execute(),
          )
        ).length === 0,
      60_000,
      'every delivery recorded as delivered',
    );
  });
});
