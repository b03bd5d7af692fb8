// A receiver down for an hour of simulated time, then Settle SIGKILLed while the receiver, back up, is taking
// deliveries — through the real delivery runner (engine/webhooks-out/runner.ts) in a Settle worker process
// whose clock the test moves (helpers/clocked-settle.ts), real PostgreSQL and a real HTTP receiver.
// The test only moves the clock to the next due attempt once the runner has recorded the round before, so the
// retry schedule asserted is the one Settle wrote. Checked: every round retried with exponential back-off
// (30 s, then doubling) while the receiver answers 503; when it is back every event arrives with a valid
// signature; an event arrives twice only if its delivery was in flight at the kill.
import { afterAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/db/crypto.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { LEASE_MS } from '../../src/engine/webhooks-out/deliver.ts';
import { createSubscription } from '../../src/engine/webhooks-out/subscriptions.ts';
import { verifySignature } from '../../src/engine/webhooks-out/signing.ts';
import { engineCtx } from '../helpers/autopay.ts';
import { startClockedSettle, type ClockedSettle } from '../helpers/clocked-settle.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { reconciledPayout } from '../helpers/webhook-changes.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

let stack: Stack | null = null;
let settle: ClockedSettle | null = null;
let receiver: Receiver | null = null;
afterAll(async () => {
  await settle?.kill();
  await receiver?.close();
  await stack?.close();
});

const EVENTS = 30;
const HOUR = 3600_000;
/** The seconds after the event of each attempt: 0, then 30 s doubling (30 s, 1, 2, 4, 8, 16, 32 min); the 8th is past the hour. */
const SCHEDULE_S = [0, 30, 90, 210, 450, 930, 1890, 3810];

describe('outbound webhooks through the delivery runner on a simulated clock', () => {
  it(
    'retries while the receiver is down for an hour, then delivers every event; duplicates only for deliveries in flight at a kill',
    { timeout: 600_000 },
    async () => {
      stack = await startStack({ settle: false });
      const s = stack;
      const r = (receiver = await startReceiver());
      r.answer(503, 'down for maintenance');
      const ctx = { ...engineCtx(s), box: SecretBox.fromHex(s.secretKeyHex), webhooksAllowPrivate: true };
      const { subscription, secret } = await createSubscription(ctx, s.tenantId, { url: r.url, eventTypes: ['payout.reconciled'] }, 'system:test');
      const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(s.database.db, s.tenantId, fn);
      const deliveries = () =>
        q((tx) =>
          tx.selectFrom('webhook_deliveries').select(['id', 'status', 'attempts', 'next_attempt_at']).where('subscription_id', '=', subscription.id).execute(),
        );
      const env = { SETTLE_WEBHOOKS_ALLOW_PRIVATE: '1' };
      settle = await startClockedSettle(s, Date.now(), env);

      // The changes, then Settle's clock at the moment they were written: the first attempt is due at once.
      await q(async (tx) => {
        for (let i = 0; i < EVENTS; i++) await reconciledPayout(tx, s.tenantId);
      });
      // (+1: the database keeps microseconds, a Date milliseconds)
      const start =
        1 + Math.max(...(await q((tx) => tx.selectFrom('webhook_events').select('created_at').execute())).map((e) => new Date(e.created_at).getTime()));
      const simSeconds = new Set<number>();
      const setClock = async (ms: number) => {
        simSeconds.add(Math.floor(ms / 1000));
        await settle!.setClock(ms);
      };

      // Down for the hour: seven rounds, each of every event, each answered 503 and given its next try.
      for (const [round, at] of SCHEDULE_S.slice(0, 7).entries()) {
        await setClock(start + at * 1000);
        await eventually(async () => (await deliveries()).every((d) => d.attempts === round + 1), 120_000, `round ${round + 1} recorded`).catch((e: Error) => {
          throw new Error(`${e.message}\n${settle?.output()}`);
        });
        const next = Math.min(...(await deliveries()).map((d) => new Date(d.next_attempt_at).getTime()));
        expect((next - start) / 1000, `the wait after attempt ${round + 1}`).toBe(SCHEDULE_S[round + 1]);
      }
      expect(r.received.length).toBe(7 * EVENTS);
      expect(r.received.every((x) => x.status === 503)).toBe(true);
      const byAttempt = new Map<string, number>();
      for (const x of r.received)
        byAttempt.set(String(x.headers['settle-delivery-attempt']), (byAttempt.get(String(x.headers['settle-delivery-attempt'])) ?? 0) + 1);
      expect([...byAttempt].sort()).toEqual(['1', '2', '3', '4', '5', '6', '7'].map((a) => [a, EVENTS]));
      const [logged] = await q((tx) => tx.selectFrom('webhook_attempts').select(['response_status', 'response_body']).limit(1).execute());
      expect(logged).toEqual({ response_status: 503, response_body: 'down for maintenance' });
      expect(new Set(r.received.map((x) => x.eventId)).size).toBe(EVENTS); // the same event ids every time

      // Back after the hour, but slow: the 8th round's first deliveries are in flight (received, unanswered)
      // when Settle is killed.
      r.answer(200);
      r.delay(120_000);
      const before = r.received.length;
      await setClock(start + SCHEDULE_S[7]! * 1000);
      await eventually(async () => r.received.length - before >= 10, 120_000, 'deliveries in flight at the receiver');
      expect(await settle.kill()).toBe('SIGKILL');
      settle = null;
      const inFlight = new Set(r.received.slice(before).map((x) => x.eventId));
      expect((await deliveries()).every((d) => d.status === 'pending' && d.attempts === 7)).toBe(true); // none recorded

      // Started again at the same simulated time: the killed batch is held until its lease ends, then sent.
      r.delay(0);
      settle = await startClockedSettle(s, start + SCHEDULE_S[7]! * 1000, env);
      await setClock(start + SCHEDULE_S[7]! * 1000 + LEASE_MS);
      await eventually(async () => (await deliveries()).every((d) => d.status === 'delivered'), 120_000, 'every delivery recorded as delivered');

      const ok = r.received.filter((x) => x.status === 200);
      const times = new Map<string, number>();
      for (const x of ok) times.set(x.eventId, (times.get(x.eventId) ?? 0) + 1);
      expect(times.size).toBe(EVENTS); // every event, once the receiver is back
      const twice = [...times].filter(([, n]) => n > 1).map(([id]) => id);
      for (const id of twice) expect(inFlight.has(id), `${id} arrived twice but was not in flight at the kill`).toBe(true);
      expect([...times.values()].every((n) => n <= 2)).toBe(true);
      for (const x of r.received) {
        const header = String(x.headers['settle-signature']);
        const t = Number(/t=(\d+)/.exec(header)?.[1]);
        expect(simSeconds.has(t), 'signed at a time of Settle’s clock').toBe(true);
        expect(verifySignature(header, x.body, secret, t)).toBe(true);
      }
    },
  );
});
