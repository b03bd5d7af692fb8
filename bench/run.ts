// `npm run bench` (= tsx bench/run.ts [name ...]): runs the benchmarks of issue #2, each in its own child
// process against one PostgreSQL server (embedded in a temp folder, or DATABASE_URL), prints a summary
// table with the machine it ran on, and writes bench/results/latest.json plus a timestamped copy.
// Exit status: 1 if a benchmark could not run (its cause is printed); a missed target is reported, not an error.
// Options: --repeat N (each benchmark N times, the median run reported; autopay-run defaults to 3),
// --timeout S (per run; defaults below). Every run's load average is printed and kept in the JSON.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPgServer } from './lib/pg.ts';
import { machine, type BenchResult } from './lib/result.ts';
import { killAllGroups, killGroupsOnSignals, spawnGroup } from './lib/process-group.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const BENCHMARKS = [
  'callback-latency',
  'payment-to-postings',
  'initial-import',
  'qbo-calls-per-payment',
  'nacha',
  'autopay-run',
  'sign-in-flood',
  'staff-pages',
  'psa-import-autotask',
  'psa-import-halopsa',
  'connectwise-import-100k',
  'psa-change-latency',
  'reconciliation-report',
  'xero-backlog',
  'qbd-requests-per-payment',
  'collections-assist',
  'webhook-fanout',
  'cash-forecast',
] as const;
// Per run, generous for a loaded 2-core machine: the autopay run alone is ~110–160 s of charging plus setup.
const TIMEOUT_MS: Record<(typeof BENCHMARKS)[number], number> = {
  'callback-latency': 180_000,
  'payment-to-postings': 180_000,
  'initial-import': 300_000,
  'qbo-calls-per-payment': 300_000,
  nacha: 180_000,
  'autopay-run': 600_000,
  'sign-in-flood': 240_000,
  // Seeding 1,000,000 invoices and 5,000,000 lines is most of it (minutes on 2 busy cores); BENCH_STAFF_CACHE skips it.
  'staff-pages': 2_400_000,
  // 20,000 invoices at 100–300 ms a vendor call (issue #10).
  'psa-import-autotask': 400_000,
  'psa-import-halopsa': 400_000,
  // Seeding 100,000 invoices, the import, then the raw COPY of the same rows.
  'connectwise-import-100k': 900_000,
  // 200 Halo webhooks, then 4 Autotask minute polls.
  'psa-change-latency': 600_000,
  // Seeding 100,000 invoices with their payments, postings and books copy, then two reports (issue #11).
  'reconciliation-report': 600_000,
  // 1,000 payments built (~1–2 min), then posted within Xero's 60 calls a minute (~2–3 min at today's calls).
  'xero-backlog': 900_000,
  // 1,000 payments built (~1–2 min), then Web Connector runs: ~200 qbXML documents (100 payments took 1.3 s here).
  'qbd-requests-per-payment': 600_000,
  // 50,000 invoices seeded by SQL (seconds), the run, then 5,000 e-mails through the SMTP test server (issue #12).
  'collections-assist': 900_000,
  // 10,000 events written, 100,000 deliveries to 10 local receivers (~4–6 min on a busy 2-core machine).
  'webhook-fanout': 900_000,
  // 300,000 invoices and 200,000 payments seeded by SQL, then the forecast four times (issue #12).
  'cash-forecast': 900_000,
};
const DEFAULT_REPEAT: Partial<Record<(typeof BENCHMARKS)[number], number>> = { 'autopay-run': 3 };

type Outcome =
  | { ok: true; result: BenchResult; load: { before: number[]; after: number[] }; repeats?: Record<string, number | string | boolean>[] }
  | { ok: false; name: string; error: string; wallMs: number };

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const option = (name: string): number | null => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return null;
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a whole number of at least 1`);
    argv.splice(i, 2);
    return v;
  };
  const repeatOption = option('repeat');
  const timeoutOption = option('timeout');
  const wanted = argv.filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !(BENCHMARKS as readonly string[]).includes(w));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${BENCHMARKS.join(', ')}\n`);
    return 2;
  }
  const names = wanted.length ? BENCHMARKS.filter((b) => wanted.includes(b)) : [...BENCHMARKS];
  const startedAt = new Date();
  const m = machine();
  process.stdout.write(`Settle benchmarks — ${m.cpu}, ${m.cores} cores, ${m.totalMemoryMb} MB, node ${m.node}, load ${m.loadAverage.join(' ')}\n`);
  const server = await startPgServer();
  const database = { source: server.embedded ? 'embedded PostgreSQL (temp data dir)' : 'DATABASE_URL', version: await serverVersion(server.url) };
  process.stdout.write(`database: ${database.source}, PostgreSQL ${database.version}\n\n`);
  const outcomes: Outcome[] = [];
  try {
    for (const name of names) {
      process.stdout.write(`running ${name} … `);
      const repeat = repeatOption ?? DEFAULT_REPEAT[name] ?? 1;
      const o = await runRepeated(name, server.url, repeat, (timeoutOption ?? 0) * 1000 || TIMEOUT_MS[name]);
      process.stdout.write(
        o.ok
          ? `${o.result.pass ? 'pass' : 'MISS'} (${(o.result.wallMs / 1000).toFixed(1)} s${repeat > 1 ? `, median of ${repeat}` : ''}; load ${o.load.before.join(' ')} → ${o.load.after.join(' ')})\n`
          : `ERROR (${o.error.split('\n')[0]})\n`,
      );
      outcomes.push(o);
    }
  } finally {
    await server.stop().catch(() => {});
  }
  printTable(outcomes);
  const report = {
    machine: m,
    database,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    results: Object.fromEntries(
      outcomes.map((o) =>
        o.ok
          ? [
              o.result.name,
              {
                ...o.result.figures,
                target: o.result.target,
                pass: o.result.pass,
                headline: o.result.headline,
                notes: o.result.notes,
                wallMs: o.result.wallMs,
                loadBefore: o.load.before,
                loadAfter: o.load.after,
                ...(o.repeats ? { medianOf: o.repeats.length, repeats: o.repeats } : {}),
              },
            ]
          : [o.name, { error: o.error, target: null, pass: false, wallMs: o.wallMs }],
      ),
    ),
  };
  const dir = path.join(HERE, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  fs.writeFileSync(path.join(dir, 'latest.json'), json);
  const stamped = path.join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(stamped, json);
  process.stdout.write(`\nwrote ${path.relative(ROOT, path.join(dir, 'latest.json'))} and ${path.relative(ROOT, stamped)}\n`);
  for (const o of outcomes) if (!o.ok) process.stderr.write(`\n${o.name} failed: ${o.error}\n`);
  return outcomes.every((o) => o.ok) ? 0 : 1;
}

/**
 * One benchmark in a fresh node process (so memory figures and leftover timers stay its own), leader of its
 * own process group: on timeout the whole group is killed — the benchmark and every simulator or database
 * it started — so nothing is left running and holding this process open.
 */
/** BENCH_CPU_PROFILE=<folder>: each benchmark's process writes a V8 CPU profile there (open it in Chrome's DevTools). */
function cpuProfile(): string[] {
  const dir = process.env.BENCH_CPU_PROFILE;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`] : [];
}

function runChild(name: string, pgUrl: string, timeoutMs: number): Promise<Outcome> {
  const resultFile = path.join(os.tmpdir(), `settle-bench-${process.pid}-${name}.json`);
  fs.rmSync(resultFile, { force: true });
  const started = performance.now();
  const loadBefore = load();
  const g = spawnGroup(process.execPath, [...cpuProfile(), '--import', 'tsx', path.join(HERE, `${name}.ts`)], {
    cwd: ROOT,
    env: { ...process.env, BENCH_PG_URL: pgUrl, BENCH_RESULT_FILE: resultFile },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  g.child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    g.kill('SIGKILL');
  }, timeoutMs);
  return g.exited.then(({ code, signal }) => {
    clearTimeout(timer);
    g.kill('SIGKILL'); // anything the benchmark left behind (a forked simulator) goes with it
    g.child.stderr?.destroy();
    const wallMs = Math.round(performance.now() - started);
    if (code === 0 && fs.existsSync(resultFile)) {
      const result = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as BenchResult;
      fs.rmSync(resultFile, { force: true });
      return { ok: true, result, load: { before: loadBefore, after: load() } };
    }
    const tail = stderr.trim();
    const error = timedOut
      ? `timed out after ${Math.round(timeoutMs / 1000)} s (load ${loadBefore.join(' ')} → ${load().join(' ')}); killed with all its child processes${tail ? `\n${tail}` : ''}`
      : signal
        ? `killed by ${signal} after ${wallMs} ms${tail ? `\n${tail}` : ''}`
        : tail || `exited with ${code} and no output`;
    return { ok: false, name, wallMs, error };
  });
}

const load = (): number[] => os.loadavg().map((x) => Math.round(x * 100) / 100);

/**
 * The benchmark run `repeat` times; the run whose headline figure is the median is the one reported
 * (all runs' figures and loads are kept). A run that could not complete makes the benchmark an error.
 */
async function runRepeated(name: string, pgUrl: string, repeat: number, timeoutMs: number): Promise<Outcome> {
  const runs: Outcome[] = [];
  for (let i = 0; i < repeat; i++) {
    if (repeat > 1) process.stdout.write(`${i ? ', ' : '['}run ${i + 1}/${repeat}`);
    const o = await runChild(name, pgUrl, timeoutMs);
    runs.push(o);
    if (!o.ok) break;
  }
  if (repeat > 1) process.stdout.write('] ');
  const failed = runs.find((o) => !o.ok);
  if (failed || runs.length === 1) return failed ?? runs[0]!;
  const ok = runs as Extract<Outcome, { ok: true }>[];
  const key = ok[0]!.result.primary;
  const value = (o: (typeof ok)[number]): number => (key ? Number(o.result.figures[key]) : o.result.wallMs);
  const sorted = [...ok].sort((a, b) => value(a) - value(b));
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return {
    ...median,
    repeats: ok.map((o) => ({
      [key ?? 'wallMs']: value(o),
      pass: o.result.pass,
      wallMs: o.result.wallMs,
      loadBefore: o.load.before.join(' '),
      loadAfter: o.load.after.join(' '),
    })),
  };
}

function printTable(outcomes: readonly Outcome[]): void {
  const rows: string[][] = [['benchmark', 'figure', 'measured', 'target', 'result']];
  for (const o of outcomes) {
    if (!o.ok) {
      rows.push([o.name, 'error', o.error.split('\n')[0]!.slice(0, 60), '', 'ERROR']);
      continue;
    }
    o.result.headline.forEach((h, i) => rows.push([i === 0 ? o.result.name : '', h.label, h.value, h.target, h.target ? (h.pass ? 'pass' : 'MISS') : '']));
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`\n${line(rows[0]!)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of rows.slice(1)) process.stdout.write(`${line(r)}\n`);
  for (const o of outcomes) if (o.ok) for (const n of o.result.notes) process.stdout.write(`  · ${o.result.name}: ${n}\n`);
}

async function serverVersion(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  } finally {
    await c.end();
  }
}

killGroupsOnSignals();
try {
  process.exitCode = await main();
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
} finally {
  killAllGroups();
}
// A handle left open by a dead child (a pipe, a socket) must never keep the run from ending.
process.exit(process.exitCode);
