// Benchmark — outbound webhook fan-out (issue #12): 10,000 events to 10 subscribers, each a local HTTP
// receiver. Reported: deliveries per second, and the time from the change (the event's created_at, stamped by
// the trigger in the change's transaction) to its arrival at the receiver, p50 and p99.
//
// Setup (not timed): Settle with its worker (as `settle start`: the webhook delivery runner beside the general
// workers), 10 subscriptions to payout.reconciled. Timed: 10,000 payout rows written in transactions of 20 (a burst, as a
// payout run or billing sync writes them) while the worker delivers; until every receiver has every event.
// Checked: 100,000 deliveries, each signature valid, none twice, none left pending. BENCH_WEBHOOK_EVENTS and
// BENCH_WEBHOOK_SUBSCRIBERS change the size; the wait gives up (printing how far it got) after
// BENCH_WEBHOOK_DEADLINE_MS.
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { withTenant } from '../src/db/tenant.ts';
import { createSubscription } from '../src/engine/webhooks-out/subscriptions.ts';
import { verifySignature } from '../src/engine/webhooks-out/signing.ts';
import { benchMain, isMain } from './lib/main.ts';
import type { BenchResult } from './lib/result.ts';
import { startBenchStack, sleep } from './lib/stack.ts';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 10_000);
const SUBSCRIBERS = Number(process.env.BENCH_WEBHOOK_SUBSCRIBERS ?? 10);
const PER_TRANSACTION = 20;
const DEADLINE_MS = Number(process.env.BENCH_WEBHOOK_DEADLINE_MS ?? 600_000);

interface Receiver {
  readonly url: string;
  readonly seen: Map<string, number>;
  latencies: number[];
  bad: number;
  secret: string;
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const r: Receiver = { url: '', seen: new Map(), latencies: [], bad: 0, secret: '', close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const event = JSON.parse(body) as { id: string; created_at: string };
      if (!verifySignature(String(req.headers['settle-signature']), body, r.secret, Math.floor(at / 1000))) r.bad++;
      r.seen.set(event.id, (r.seen.get(event.id) ?? 0) + 1);
      if (r.seen.get(event.id) === 1) r.latencies.push(at - new Date(event.created_at).getTime());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(r, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/settle`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

const percentile = (xs: readonly number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

export async function run(pgServerUrl: string): Promise<BenchResult> {
  const started = performance.now();
  // The machine's 1-minute load when the run starts and ends: the figures depend on what else shares the cores.
  const loadAtStart = os.loadavg()[0]!;
  const stack = await startBenchStack({ pgServerUrl, label: 'webhooks', companies: 1, invoices: 1, worker: true, mirrorBooks: false });
  const receivers = await Promise.all(Array.from({ length: SUBSCRIBERS }, receiver));
  const causes: string[] = [];
  try {
    const { settle, tenantId, db } = stack;
    // The receivers are on this machine: the operator's switch for that (SETTLE_WEBHOOKS_ALLOW_PRIVATE=1).
    Object.assign(settle.ctx, { webhooksAllowPrivate: true });
    for (const r of receivers)
      r.secret = (await createSubscription(settle.ctx, tenantId, { url: r.url, eventTypes: ['payout.reconciled'] }, 'system:bench')).secret;

    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i += PER_TRANSACTION) {
      const n = Math.min(PER_TRANSACTION, EVENTS - i);
      await withTenant(db, tenantId, (tx) =>
        sql`INSERT INTO payouts (tenant_id, processor, processor_payout_id, currency, amount_minor, gross_minor, fees_minor, adjustments_minor, arrival_date, status)
            SELECT ${tenantId}, 'stripe', 'po_bench_' || g, 'USD', 10000, 10000, 0, 0, current_date, 'paid' FROM generate_series(${i + 1}::int, ${i + n}::int) g`.execute(
          tx,
        ),
      );
    }
    const writeMs = performance.now() - t0;
    const total = EVENTS * SUBSCRIBERS;
    const received = () => receivers.reduce((s, r) => s + r.seen.size, 0);
    const deadline = Date.now() + DEADLINE_MS;
    while (received() < total && Date.now() < deadline) await sleep(100);
    const deliveredMs = performance.now() - t0;
    const got = received();
    const twice = receivers.reduce((s, r) => s + [...r.seen.values()].filter((n) => n > 1).length, 0);
    const bad = receivers.reduce((s, r) => s + r.bad, 0);
    const latencies = receivers.flatMap((r) => r.latencies);
    const left = await withTenant(
      db,
      tenantId,
      async (tx) =>
        (
          await sql<{
            status: string;
            n: string;
          }>`SELECT status, count(*)::text AS n FROM webhook_deliveries WHERE status <> 'delivered' GROUP BY status`.execute(tx)
        ).rows,
    );
    if (got < total) {
      causes.push(`only ${got} of ${total} deliveries arrived in ${DEADLINE_MS / 1000} s`);
      causes.push(`not delivered in Settle: ${left.map((l) => `${l.n} ${l.status}`).join(', ') || 'none (lost between Settle and the receivers?)'}`);
      const lastErrors = await withTenant(
        db,
        tenantId,
        async (tx) =>
          (await sql<{ last_error: string }>`SELECT DISTINCT last_error FROM webhook_deliveries WHERE last_error IS NOT NULL LIMIT 3`.execute(tx)).rows,
      );
      for (const e of lastErrors) causes.push(`a receiver's answer: ${e.last_error}`);
    }
    if (twice) causes.push(`${twice} events arrived twice at a receiver (none was killed: none should)`);
    if (bad) causes.push(`${bad} deliveries with a signature that does not verify`);
    const perSecond = got / (deliveredMs / 1000);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const pass = causes.length === 0;
    return {
      name: 'webhook-fanout',
      target: `${EVENTS.toLocaleString('en-US')} events to ${SUBSCRIBERS} subscribers all delivered once, signed; deliveries per second and p99 change → delivery reported`,
      pass,
      figures: {
        events: EVENTS,
        subscribers: SUBSCRIBERS,
        deliveries: got,
        writeMs: Math.round(writeMs),
        firstChangeToLastDeliveryMs: Math.round(deliveredMs),
        deliveriesPerSecond: Math.round(perSecond),
        p50ChangeToDeliveryMs: p50,
        p99ChangeToDeliveryMs: p99,
        duplicates: twice,
        badSignatures: bad,
        loadAtStart: Math.round(loadAtStart * 10) / 10,
        loadAtEnd: Math.round(os.loadavg()[0]! * 10) / 10,
        cores: os.cpus().length,
      },
      headline: [
        { label: 'deliveries per second', value: String(Math.round(perSecond)), target: 'reported', pass: got === total },
        { label: 'p99 change → delivery', value: `${(p99 / 1000).toFixed(1)} s`, target: 'reported', pass: got === total },
        { label: 'sent twice / bad signature', value: `${twice} / ${bad}`, target: '0 / 0', pass: twice === 0 && bad === 0 },
      ],
      notes: pass
        ? [
            `${EVENTS} changes written in ${Math.round(writeMs / 1000)} s (transactions of ${PER_TRANSACTION}); p50 ${(p50 / 1000).toFixed(1)} s; the delivery runner serves the ${SUBSCRIBERS} subscriptions (engine/webhooks-out/runner.ts)`,
          ]
        : causes,
      wallMs: Math.round(performance.now() - started),
      primary: 'deliveriesPerSecond',
    };
  } finally {
    await Promise.all(receivers.map((r) => r.close()));
    await stack.close();
  }
}

if (isMain(import.meta.url)) void benchMain(run);
