// The two scenarios the soak runs after its kill phase: PostgreSQL stopped for a while under load (Settle
// must ride it out without a restart and lose no webhook), and a burst of signed Stripe webhooks from a
// load generator in its own process (each distinct event stored and processed once; accepted rate, p99).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { spawnGroup } from '../../bench/lib/process-group.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { call, type SimProcesses } from './sims.ts';
import type { SettleCluster } from './settle-procs.ts';
import type { SoakDatabase } from './database.ts';
import type { Workspace } from './setup.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface OutageResult {
  readonly skipped?: string;
  readonly outageMs?: number;
  /** Settle processes that exited during the outage (should be none: they ride it out). */
  readonly exitsDuringOutage?: number;
  readonly samePids?: boolean;
  /** From PostgreSQL being back to Settle's /readyz answering 200. */
  readonly readyAgainMs?: number | null;
  /** Stripe events created during the outage, and how many of them Settle has stored once all is drained. */
  readonly eventsDuringOutage?: number;
  readonly webhookAnswersDuringOutage?: Record<string, number>;
  readonly pass?: boolean;
  readonly problems?: string[];
}

export async function postgresOutage(opts: {
  database: SoakDatabase;
  cluster: SettleCluster;
  sims: SimProcesses;
  ws: Workspace;
  seconds: number;
}): Promise<OutageResult & { eventIds: string[] }> {
  const { database, cluster, sims } = opts;
  if (!database.controllable) return { skipped: 'DATABASE_URL is set: the soak cannot stop that server', eventIds: [] };
  // Both processes up and past their start-up (an outage during start-up is a different question).
  await cluster.ensureUp();
  await sleep(10_000);
  await cluster.ensureUp();
  const pids = { start: cluster.pid('start'), worker: cluster.pid('worker') };
  const crashesBefore = cluster.crashes.length;
  const deliveriesBefore = (await call<{ deliveries: unknown[] }>(`${sims.stripe.baseUrl}/_sim/webhooks/deliveries`)).deliveries.length;
  const stripeAuth = { authorization: `Bearer ${sims.stripe.secretKey}` };
  const t0 = Date.now();
  await database.stopServer();
  const stoppedAt = Date.now();
  // Meanwhile the vendors carry on: Stripe pays out and a refund is made in Stripe's dashboard (both send
  // webhooks Settle must not lose), and new invoices call Settle back.
  const refundable = (
    await call<{ data: { id: string; amount: number; amount_refunded?: number; status: string }[] }>(`${sims.stripe.baseUrl}/v1/charges?limit=20`, {
      headers: stripeAuth,
    })
  ).data.filter((c) => c.status === 'succeeded' && (c.amount_refunded ?? 0) === 0);
  const during: Promise<unknown>[] = [];
  for (let i = 0; i < Math.min(3, refundable.length); i++)
    during.push(call(`${sims.stripe.baseUrl}/v1/refunds`, { headers: stripeAuth, form: { charge: refundable[i]!.id, amount: '100' } }).catch(() => null));
  during.push(call(`${sims.stripe.baseUrl}/_sim/payouts/run`, { body: {} }).catch(() => null));
  await Promise.all(during);
  await sleep(Math.max(0, opts.seconds * 1000 - (Date.now() - stoppedAt)));
  await database.restartServer();
  const backAt = Date.now();
  let readyAgainMs: number | null = null;
  try {
    await cluster.waitReady(180_000);
    readyAgainMs = Date.now() - backAt;
  } catch {
    readyAgainMs = null;
  }
  const deliveries = (
    await call<{ deliveries: { eventId: string; status: number | null; at: number }[] }>(`${sims.stripe.baseUrl}/_sim/webhooks/deliveries`)
  ).deliveries.slice(deliveriesBefore);
  const inOutage = deliveries.filter((d) => d.at >= stoppedAt && d.at <= backAt);
  const answers: Record<string, number> = {};
  for (const d of inOutage) answers[String(d.status ?? 'no answer')] = (answers[String(d.status ?? 'no answer')] ?? 0) + 1;
  const eventIds = [...new Set(inOutage.map((d) => d.eventId))];
  const exits = cluster.crashes.length - crashesBefore;
  const samePids = cluster.pid('start') === pids.start && cluster.pid('worker') === pids.worker;
  const problems: string[] = [];
  if (exits > 0)
    problems.push(
      `${exits} Settle process(es) exited during the outage: ${cluster.crashes
        .slice(crashesBefore)
        .map((c) => `${c.role} ${c.exit}`)
        .join('; ')}`,
    );
  if (!samePids) problems.push('Settle was restarted (pids changed) instead of recovering by itself');
  if (readyAgainMs === null) problems.push('/readyz did not answer 200 within 180 s of PostgreSQL coming back');
  const accepted2xxDuringOutage = inOutage.filter((d) => d.status !== null && d.status >= 200 && d.status < 300).length;
  if (accepted2xxDuringOutage > 0)
    problems.push(`${accepted2xxDuringOutage} webhook(s) answered 2xx while the database was down (only correct if stored; checked after the drain)`);
  return {
    outageMs: backAt - t0,
    exitsDuringOutage: exits,
    samePids,
    readyAgainMs,
    eventsDuringOutage: eventIds.length,
    webhookAnswersDuringOutage: answers,
    problems,
    eventIds,
  };
}

/** After the drain: every event Stripe tried to deliver during the outage is stored by Settle. */
export async function outageEventsStored(ws: Workspace, eventIds: readonly string[]): Promise<string[]> {
  if (!eventIds.length) return [];
  const rows = await withTenant(ws.database.db, ws.tenantId, (tx) =>
    tx
      .selectFrom('inbox_events')
      .select('vendor_event_id')
      .where('source', '=', 'stripe')
      .where('vendor_event_id', 'in', [...eventIds])
      .execute(),
  );
  const have = new Set(rows.map((r) => r.vendor_event_id));
  return eventIds.filter((id) => !have.has(id));
}

export interface BurstResult {
  readonly generator: Record<string, unknown>;
  readonly storedDistinct: number;
  readonly processed: number;
  readonly duplicatesStored: number;
  readonly lost: number;
  /** Distinct events Settle never answered 2xx (the vendor would send them again). */
  readonly unacknowledged: number;
  readonly processingMs: number | null;
  readonly pass: boolean;
  readonly problems: string[];
}

export async function webhookBurst(opts: { ws: Workspace; settleUrl: string; rate: number; seconds: number; processTimeoutMs: number }): Promise<BurstResult> {
  const { ws } = opts;
  const row = await withTenant(ws.database.db, ws.tenantId, (tx) =>
    tx.selectFrom('connections').select('secrets_ciphertext').where('role', '=', 'payments').executeTakeFirstOrThrow(),
  );
  const secrets = SecretBox.load(ws.secretKeyHex, ws.dataDir).open<{ webhookSecret: string }>(row.secrets_ciphertext, `connection:${ws.tenantId}:payments`);
  const idPrefix = `evt_burst${Date.now().toString(36)}_`;
  const acceptedFile = path.join(os.tmpdir(), `settle-soak-burst-${process.pid}-${idPrefix}.txt`);
  const args = {
    acceptedFile,
    url: `${opts.settleUrl}/webhooks/${ws.slug}/stripe`,
    secret: secrets.webhookSecret,
    rate: opts.rate,
    seconds: opts.seconds,
    duplicateShare: 0.1,
    idPrefix,
  };
  const g = spawnGroup(process.execPath, ['--import', 'tsx', path.join(ROOT, 'soak/burst-process.ts'), JSON.stringify(args)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  g.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  g.child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const kill = setTimeout(() => g.kill('SIGKILL'), (opts.seconds + 120) * 1000);
  const { code, signal } = await g.exited;
  clearTimeout(kill);
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`the burst generator ended (${signal ?? code}) without a result: ${err.trim() || 'no output'}`);
  const generator = JSON.parse(line) as { distinct: number; accepted: number; acceptedDistinct: number };
  // Each distinct event stored once and processed once (the worker drains the backlog after the burst).
  const t0 = Date.now();
  const count = async (): Promise<{ stored: number; processed: number }> =>
    withTenant(ws.database.db, ws.tenantId, async (tx) => {
      const r = await sql<{ stored: string; processed: string }>`
        SELECT count(*)::text AS stored, count(processed_at)::text AS processed
          FROM inbox_events WHERE source = 'stripe' AND vendor_event_id LIKE ${`${idPrefix}%`}`.execute(tx);
      return { stored: Number(r.rows[0]!.stored), processed: Number(r.rows[0]!.processed) };
    });
  let c = await count();
  while (c.processed < c.stored && Date.now() - t0 < opts.processTimeoutMs) {
    await sleep(2000);
    c = await count();
  }
  const problems: string[] = [];
  // Lost = acknowledged with a 2xx but not stored. An event never acknowledged (no answer in time, 5xx) is
  // not lost: the vendor retries it; it is reported as unacknowledged, and the accepted rate shows it.
  const acknowledged = fs.existsSync(acceptedFile) ? fs.readFileSync(acceptedFile, 'utf8').split('\n').filter(Boolean) : [];
  const stored = new Set(
    (
      await withTenant(ws.database.db, ws.tenantId, (tx) =>
        tx.selectFrom('inbox_events').select('vendor_event_id').where('source', '=', 'stripe').where('vendor_event_id', 'like', `${idPrefix}%`).execute(),
      )
    ).map((r) => r.vendor_event_id),
  );
  fs.rmSync(acceptedFile, { force: true });
  const lostIds = acknowledged.filter((id) => !stored.has(id));
  const lost = lostIds.length;
  const unacknowledged = generator.distinct - acknowledged.length;
  if (lost) problems.push(`${lost} event(s) acknowledged with a 2xx but never stored: ${lostIds.slice(0, 5).join(', ')}`);
  if (c.processed < c.stored) problems.push(`${c.stored - c.processed} stored event(s) not processed within ${Math.round(opts.processTimeoutMs / 1000)} s`);
  return {
    generator,
    storedDistinct: c.stored,
    processed: c.processed,
    duplicatesStored: Math.max(0, c.stored - generator.distinct),
    lost,
    unacknowledged,
    processingMs: c.processed === c.stored ? Date.now() - t0 : null,
    // The target: every event acknowledged at the offered rate (≥ 1,000/s in the full run), none lost, none twice.
    pass: problems.length === 0 && unacknowledged === 0 && Number((generator as { acceptedPerSecond?: number }).acceptedPerSecond ?? 0) >= opts.rate * 0.99,
    problems,
  };
}
