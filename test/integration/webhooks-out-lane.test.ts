// Delivering webhooks cannot hold up the other work: the delivery runner (engine/webhooks-out/runner.ts) has
// its own concurrency and database pool, so with every subscription's receiver hanging — 80 requests in
// flight, none answered — the general workers are free and a job for them runs at once. Before the runner,
// each subscription's deliveries were a graphile-worker job on the general workers, and four hanging
// receivers held all four of them until their requests timed out.
// Real PostgreSQL, graphile-worker and HTTP receivers that never answer.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { createSubscription } from '../../src/engine/webhooks-out/subscriptions.ts';
import { engineCtx } from '../helpers/autopay.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { reconciledPayout } from '../helpers/webhook-changes.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

let stack: Stack;
const receivers: Receiver[] = [];

beforeAll(async () => {
  stack = await startStack({ env: { SETTLE_WEBHOOKS_ALLOW_PRIVATE: '1' } });
}, 180_000);
afterAll(async () => {
  for (const r of receivers) await r.close();
  await stack?.close();
});

it('runs a general job at once while every receiver hangs with deliveries in flight', { timeout: 180_000 }, async () => {
  const ctx = { ...engineCtx(stack), box: SecretBox.fromHex(stack.secretKeyHex), webhooksAllowPrivate: true };
  for (let i = 0; i < 10; i++) {
    const r = await startReceiver(`/hooks/${i}`);
    r.answer('hang');
    receivers.push(r);
    await createSubscription(ctx, stack.tenantId, { url: r.url, eventTypes: ['payout.reconciled'] }, 'system:test');
  }
  const db = stack.database.db;
  await withTenant(db, stack.tenantId, async (tx) => {
    for (let i = 0; i < 20; i++) await reconciledPayout(tx, stack.tenantId);
  });
  const inFlight = () => receivers.reduce((n, r) => n + r.received.length, 0);
  // 8 subscriptions at a time, 10 requests each: 80 in flight, none answered (they time out after 10 s).
  await eventually(async () => inFlight() >= 80, 60_000, '80 deliveries in flight');

  const jobs = async (task: string) =>
    Number(
      (
        await sql<{ n: string }>`SELECT count(*)::text AS n FROM graphile_worker._private_jobs j
          JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = ${task}`.execute(db)
      ).rows[0]!.n,
    );
  expect(await jobs('deliver-webhooks')).toBe(0); // deliveries take no job of the general workers
  await sql`SELECT graphile_worker.add_job('expire-portal-checkouts', json_build_object('tenantId', ${stack.tenantId}::text))`.execute(db);
  await eventually(async () => (await jobs('expire-portal-checkouts')) === 0, 60_000, 'the general job to run');
  // ... while the deliveries were still hanging: none has an answer (or a timeout) recorded yet.
  const attempts = await withTenant(db, stack.tenantId, (tx) => tx.selectFrom('webhook_attempts').select('id').execute());
  expect(attempts.length).toBe(0);
});
