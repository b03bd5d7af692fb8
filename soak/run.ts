// `npm run soak [-- --minutes 30 --kills 200]`: Settle under a realistic stream with vendor faults on while
// its processes are killed with SIGKILL at random moments; then a drain, the invariants (soak/invariants.ts),
// a PostgreSQL outage and a webhook burst. Prints the figures, writes soak/results/latest.json (+ a stamped
// copy and the processes' logs), and exits 1 with the cause on any violation, crash or harness failure.
// Every run ends: an overall timeout kills every child process group (simulators, PostgreSQL, Settle).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killAllGroups, killGroupsOnSignals } from '../bench/lib/process-group.ts';
import { freePort } from '../bench/lib/pg.ts';
import { sql } from 'kysely';
import { withTenant } from '../src/db/tenant.ts';
import { openSoakDatabase, type SoakDatabase } from './lib/database.ts';
import { call, startSimulators, type SimProcesses } from './lib/sims.ts';
import { setUpWorkspace, type Workspace } from './lib/setup.ts';
import { startCluster, type Role, type SettleCluster } from './lib/settle-procs.ts';
import { startTraffic, type ActionTally } from './lib/traffic.ts';
import { startFaults } from './lib/faults.ts';
import { outageEventsStored, postgresOutage, webhookBurst, type BurstResult, type OutageResult } from './lib/scenarios.ts';
import { checkInvariants, type InvariantReport } from './invariants.ts';

const HERE = import.meta.dirname;
const USAGE = `npm run soak -- [--minutes N] [--kills N] [--outage-seconds N|0] [--burst-rate N] [--burst-seconds N|0] [--drain-minutes N] [--timeout-minutes N]
  defaults: --minutes 30 --kills 200 --outage-seconds 20 --burst-rate 1000 --burst-seconds 60; quick smoke run: --minutes 3 --kills 20 --burst-seconds 10`;

function options(argv: string[]): Record<string, number> {
  const o: Record<string, number> = {
    minutes: 30,
    kills: 200,
    'outage-seconds': 20,
    'burst-rate': 1000,
    'burst-seconds': 60,
    'drain-minutes': 0,
    'timeout-minutes': 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const name = a.replace(/^--/, '');
    if (!a.startsWith('--') || !(name in o)) throw new Error(`unknown option ${a}\n${USAGE}`);
    const v = Number(argv[++i]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a number ≥ 0\n${USAGE}`);
    o[name] = v;
  }
  o['drain-minutes'] ||= Math.max(4, Math.min(15, o.minutes! / 2));
  // Setup, kills, drain, outage, burst and its processing, with room for a loaded machine.
  o['timeout-minutes'] ||= o.minutes! + o['drain-minutes']! + 15 + (o['burst-seconds']! > 0 ? 8 : 0);
  return o;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const resultsDir = path.join(HERE, 'results');
const logDir = path.join(resultsDir, `logs-${stamp}`);
let phase = 'start-up';
const log = (msg: string): void => void process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

interface Report {
  options: Record<string, number>;
  machine: { cores: number; loadAverageStart: number[]; loadAverageEnd?: number[] };
  startedAt: string;
  finishedAt?: string;
  phase?: string;
  error?: string;
  kills?: { total: number; start: number; worker: number };
  crashes?: SettleCluster['crashes'];
  faults?: Record<string, number>;
  traffic?: Record<string, ActionTally>;
  drain?: { ms: number; left: Record<string, number> };
  invariants?: InvariantReport;
  outage?: OutageResult;
  burst?: BurstResult | { skipped: string };
  pass?: boolean;
  logs: string;
}

async function main(report: Report): Promise<boolean> {
  const o = report.options;
  fs.mkdirSync(logDir, { recursive: true });
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-soak-'));
  let keepDatabase = true;
  let database: SoakDatabase | null = null;
  let sims: SimProcesses | null = null;
  let cluster: SettleCluster | null = null;
  try {
    phase = 'setup';
    log(`setup: PostgreSQL, three simulators in their own processes, a workspace (logs in ${path.relative(process.cwd(), logDir)})`);
    database = await openSoakDatabase(workDir, logDir);
    sims = await startSimulators(logDir, { companies: 16, invoices: 48, seed: 23, paidShare: 0 });
    const port = await freePort();
    const settleUrl = `http://127.0.0.1:${port}`;
    const dataDir = path.join(workDir, 'settle');
    const ws = await setUpWorkspace({ dbUrl: database.url, dataDir, settleUrl, sims });
    // Stripe retries a failed delivery for days; here over a few minutes, long enough for a kill or an outage.
    await call(`${sims.stripe.baseUrl}/_sim/webhooks/options`, { body: { retry_delays_ms: [1000, 3000, 6000, 12000, 25000, 45000, 90000, 180000] } });
    cluster = startCluster({
      env: {
        DATABASE_URL: database.url,
        SETTLE_SECRET_KEY: ws.secretKeyHex,
        SETTLE_DATA_DIR: dataDir,
        SETTLE_DEMO: 'off',
        LOG_LEVEL: 'warn',
        // Checkouts the soak's clients open and leave (after a decline, or a tab closed) expire in 3 minutes
        // instead of a day, so that the drain sees them closed by the product's own path.
        SETTLE_CHECKOUT_EXPIRY_HOURS: '0.05',
      },
      port,
      logDir,
    });
    await cluster.ensureUp();
    log(`Settle up at ${settleUrl} (settle start pid ${cluster.pid('start')}, settle worker pid ${cluster.pid('worker')})`);

    // ---- the kill phase
    phase = 'kill phase';
    const c = cluster;
    const traffic = startTraffic({ ws, sims, settleUrl, concurrency: 4, paceMs: 250 });
    const faults = startFaults(sims, 3000);
    const endAt = Date.now() + o.minutes! * 60_000;
    const every = (o.minutes! * 60_000) / Math.max(1, o.kills!);
    let kills = 0;
    log(`kill phase: ${o.minutes} min, ${o.kills} SIGKILLs (one every ~${(every / 1000).toFixed(1)} s), vendor faults on`);
    const phaseStart = Date.now();
    while (Date.now() < endAt && kills < o.kills!) {
      // Each kill at its own moment of the phase (random within its slot), not a fixed pause after the last
      // one: a restart that is slow on a busy machine must not push the count below --kills (it did: 175 of 200).
      await sleep(Math.max(0, phaseStart + (kills + Math.random()) * every - Date.now()));
      const died = sims.died();
      if (died) throw new Error(died);
      const role: Role = Math.random() < 0.5 ? 'start' : 'worker';
      await c.kill(role, Math.random() * 2000);
      kills++;
      if (kills % 10 === 0) log(`${kills} kills; ${c.crashes.length} unexpected exits; faults ${Object.values(faults.counts).reduce((a, b) => a + b, 0)}`);
    }
    report.kills = { total: kills, start: c.kills.filter((k) => k.role === 'start').length, worker: c.kills.filter((k) => k.role === 'worker').length };

    // ---- PostgreSQL outage, under load (traffic still running, no kills, faults off)
    await faults.stop();
    report.faults = faults.counts;
    let outageEvents: string[] = [];
    if (o['outage-seconds']! > 0) {
      phase = 'PostgreSQL outage';
      log(`PostgreSQL stopped for ${o['outage-seconds']} s under load`);
      const r = await postgresOutage({ database, cluster: c, sims, ws, seconds: o['outage-seconds']! });
      outageEvents = r.eventIds;
      const { eventIds: _ids, ...rest } = r;
      report.outage = rest;
      log(
        r.skipped
          ? `outage skipped: ${r.skipped}`
          : `outage over: ready again after ${r.readyAgainMs ?? '—'} ms, ${r.exitsDuringOutage} exits, ${r.eventsDuringOutage} webhooks meanwhile`,
      );
    } else report.outage = { skipped: '--outage-seconds 0' };
    await traffic.stop();
    report.traffic = traffic.tally;

    // ---- drain
    phase = 'drain';
    log('drain: traffic stopped, every invoice exported to the books, waiting for Settle to finish its work');
    await c.ensureUp();
    await traffic.flushBooks(true);
    const t0 = Date.now();
    const drainEnd = t0 + o['drain-minutes']! * 60_000;
    let left = await leftovers(ws);
    let paidOut = false;
    while (Date.now() < drainEnd) {
      if (Object.values(left).every((n) => n === 0)) {
        if (paidOut) break;
        // One last payout once everything has settled, so every payment is in a payout and its deposit.
        await call(`${sims.stripe.baseUrl}/_sim/payouts/run`, { body: {} }).catch(() => null);
        paidOut = true;
        await sleep(5000);
      } else await sleep(3000);
      left = await leftovers(ws);
    }
    report.drain = { ms: Date.now() - t0, left };
    log(
      `drain ${Object.values(left).every((n) => n === 0) ? 'complete' : 'timed out'} after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${JSON.stringify(left)}`,
    );

    // ---- invariants
    phase = 'invariant check';
    report.invariants = await checkInvariants({ dbUrl: database.url, tenantId: ws.tenantId, sims });
    if (report.outage && !report.outage.skipped) {
      const missing = await outageEventsStored(ws, outageEvents);
      const problems = [...(report.outage.problems ?? [])].filter((p) => !p.includes('answered 2xx') || missing.length > 0);
      if (missing.length) problems.push(`webhooks sent during the outage never stored: ${missing.slice(0, 8).join(', ')}`);
      report.outage = { ...report.outage, problems, pass: problems.length === 0 };
    }

    // ---- webhook burst
    if (o['burst-seconds']! > 0) {
      phase = 'webhook burst';
      log(`webhook burst: ${o['burst-rate']}/s for ${o['burst-seconds']} s, 10 % duplicates, generator in its own process`);
      report.burst = await webhookBurst({ ws, settleUrl, rate: o['burst-rate']!, seconds: o['burst-seconds']!, processTimeoutMs: 5 * 60_000 });
    } else report.burst = { skipped: '--burst-seconds 0' };
    report.crashes = c.crashes;
    const burstOk = !('pass' in report.burst) || report.burst.pass;
    const pass =
      report.invariants.violations.length === 0 &&
      c.crashes.length === 0 &&
      (report.outage?.pass ?? true) &&
      burstOk &&
      Object.values(left).every((n) => n === 0);
    keepDatabase = !pass;
    return pass;
  } finally {
    phase = `stopping (after ${phase})`;
    await cluster?.stop().catch(() => {});
    for (const g of sims?.groups ?? []) g.kill('SIGKILL');
    // A failed run keeps its database for the post-mortem (the figures say what failed, the rows say why).
    const kept = await database?.close({ keep: keepDatabase }).catch(() => null);
    if (kept) log(`database kept for the post-mortem: ${kept}`);
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** What is still in flight: the drain is complete when every figure is 0. */
async function leftovers(ws: Workspace): Promise<Record<string, number>> {
  try {
    return await withTenant(ws.database.db, ws.tenantId, async (tx) => {
      const r = await sql<Record<string, string>>`
        SELECT (SELECT count(*) FROM postings WHERE status = 'pending')::text AS "pendingPostings",
               (SELECT count(*) FROM inbox_events WHERE processed_at IS NULL)::text AS "unprocessedInbox",
               (SELECT count(*) FROM payments WHERE state IN ('pending', 'processing', 'unknown') AND processor_payment_id IS NOT NULL)::text AS "paymentsInFlight",
               (SELECT count(*) FROM graphile_worker.jobs WHERE run_at <= now() AND attempts < max_attempts)::text AS "jobsDue"`.execute(tx);
      return Object.fromEntries(Object.entries(r.rows[0]!).map(([k, v]) => [k, Number(v)]));
    });
  } catch (e) {
    return { [`(could not read: ${(e as Error).message.slice(0, 60)})`]: 1 };
  }
}

/** The line of a crashed process's log that says why (full tails are in the JSON and the log files). */
function crashCause(logTail: string): string {
  const lines = logTail.split('\n').filter((l) => l.trim() && !l.startsWith('====='));
  const thrown = lines.findIndex((l) => /throw er|^\S*Error\b|^error:|^settle:/.test(l.trim()));
  const pick = thrown >= 0 ? lines.slice(thrown, thrown + 3).join(' | ') : (lines.at(-1) ?? 'no output');
  return pick.replace(/\s+/g, ' ').slice(0, 300);
}

function summary(r: Report): string {
  const lines: string[] = ['', '=== Settle soak ==='];
  lines.push(
    `options: ${JSON.stringify(r.options)}; load ${r.machine.loadAverageStart.join(' ')} → ${r.machine.loadAverageEnd?.join(' ') ?? '?'} on ${r.machine.cores} cores`,
  );
  if (r.kills)
    lines.push(`SIGKILLs: ${r.kills.total} (settle start ${r.kills.start}, settle worker ${r.kills.worker}); unexpected exits: ${r.crashes?.length ?? 0}`);
  for (const c of r.crashes ?? []) lines.push(`  ✗ settle ${c.role} exited by itself (${c.exit}) at ${c.at.slice(11, 19)}: ${crashCause(c.logTail)}`);
  if (r.faults)
    lines.push(
      `vendor faults injected: ${Object.values(r.faults).reduce((a, b) => a + b, 0)} (${Object.entries(r.faults)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
    );
  if (r.traffic)
    lines.push(
      `traffic (ok/refused/unavailable/failed): ${Object.entries(r.traffic)
        .map(([k, v]) => `${k} ${v.ok}/${v.refused}/${v.unavailable}/${v.failed}`)
        .join(', ')}`,
    );
  if (r.drain) lines.push(`drain: ${(r.drain.ms / 1000).toFixed(0)} s, left ${JSON.stringify(r.drain.left)}`);
  if (r.invariants) {
    lines.push(
      `checked: ${Object.entries(r.invariants.counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    lines.push(r.invariants.violations.length ? `✗ ${r.invariants.violations.length} invariant violation(s):` : '✓ every invariant held');
    for (const v of r.invariants.violations) lines.push(`  ✗ [${v.invariant}] ${v.message}`);
  }
  if (r.outage) {
    if (r.outage.skipped) lines.push(`PostgreSQL outage: skipped (${r.outage.skipped})`);
    else
      lines.push(
        `PostgreSQL outage ${((r.outage.outageMs ?? 0) / 1000).toFixed(0)} s: ${r.outage.pass ? '✓' : '✗'} ready again ${r.outage.readyAgainMs ?? '—'} ms after it was back, exits ${r.outage.exitsDuringOutage}, same pids ${r.outage.samePids}, webhooks meanwhile ${r.outage.eventsDuringOutage} (answers ${JSON.stringify(r.outage.webhookAnswersDuringOutage)})${(r.outage.problems ?? []).map((p) => `\n  ✗ ${p}`).join('')}`,
      );
  }
  if (r.burst) {
    if ('skipped' in r.burst) lines.push(`webhook burst: skipped (${r.burst.skipped})`);
    else {
      const g = r.burst.generator as Record<string, number>;
      lines.push(
        `webhook burst: ${r.burst.pass ? '✓' : '✗'} offered ${g.offeredPerSecond}/s, accepted ${g.acceptedPerSecond}/s (target ≥ ${r.options['burst-rate']}/s), p50 ${g.p50Ms} ms, p99 ${g.p99Ms} ms; sent ${g.sent} (${g.distinct} distinct, ${g.duplicatesSent} duplicates); stored ${r.burst.storedDistinct}, processed ${r.burst.processed}, duplicates processed ${r.burst.duplicatesStored}, lost ${r.burst.lost}, unacknowledged (vendor retries) ${r.burst.unacknowledged}${r.burst.problems.map((p) => `\n  ✗ ${p}`).join('')}`,
      );
    }
  }
  if (r.error) lines.push(`✗ the soak could not finish (${r.phase}): ${r.error}`);
  lines.push(r.pass ? 'RESULT: pass' : 'RESULT: FAIL', `logs: ${r.logs}`);
  return lines.join('\n');
}

function write(report: Report): void {
  fs.mkdirSync(resultsDir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  fs.writeFileSync(path.join(resultsDir, 'latest.json'), json);
  fs.writeFileSync(path.join(resultsDir, `${stamp}.json`), json);
}

let report: Report | null = null;
try {
  const o = options(process.argv.slice(2));
  report = {
    options: o,
    machine: { cores: os.cpus().length, loadAverageStart: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    startedAt: new Date().toISOString(),
    logs: path.relative(process.cwd(), logDir),
  };
  const r = report;
  killGroupsOnSignals((signal) => {
    r.error = `interrupted by ${signal} during the ${phase}`;
    r.pass = false;
    write(r);
  });
  const overall = setTimeout(() => {
    r.error = `overall timeout of ${o['timeout-minutes']} min reached during the ${phase}; every child process group was killed`;
    r.phase = phase;
    r.pass = false;
    killAllGroups();
    r.machine.loadAverageEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
    write(r);
    process.stderr.write(`${summary(r)}\n`);
    process.exit(1);
  }, o['timeout-minutes']! * 60_000);
  try {
    r.pass = await main(r);
  } catch (e) {
    r.pass = false;
    r.phase = phase;
    r.error = (e as Error).stack ?? String(e);
  }
  r.finishedAt = new Date().toISOString();
  r.machine.loadAverageEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  write(r);
  process.stdout.write(`${summary(r)}\nwrote soak/results/latest.json\n`);
  process.exitCode = r.pass ? 0 : 1;
} catch (e) {
  process.stderr.write(`soak: ${(e as Error).message}\n`);
  process.exitCode = 2;
} finally {
  killAllGroups();
}
process.exit(process.exitCode);
