// `npm run bench` (= tsx bench/run.ts [name ...]): runs the benchmarks of issue #2, each in its own child
// process against one PostgreSQL server (embedded in a temp folder, or DATABASE_URL), prints a summary
// table with the machine it ran on, and writes bench/results/latest.json plus a timestamped copy.
// Exit status: 1 if a benchmark could not run; a missed target is reported, not an error.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPgServer } from './lib/pg.ts';
import { machine, type BenchResult } from './lib/result.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const BENCHMARKS = ['callback-latency', 'payment-to-postings', 'initial-import', 'qbo-calls-per-payment', 'nacha', 'autopay-run'] as const;
const PER_BENCH_TIMEOUT_MS = 180_000;

type Outcome = { ok: true; result: BenchResult } | { ok: false; name: string; error: string; wallMs: number };

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
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
      const o = await runChild(name, server.url);
      process.stdout.write(o.ok ? `${o.result.pass ? 'pass' : 'MISS'} (${(o.result.wallMs / 1000).toFixed(1)} s)\n` : `ERROR (${o.error.split('\n')[0]})\n`);
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
  return outcomes.every((o) => o.ok) ? 0 : 1;
}

/** One benchmark in a fresh node process (so memory figures and leftover timers stay its own). */
function runChild(name: string, pgUrl: string): Promise<Outcome> {
  const resultFile = path.join(os.tmpdir(), `settle-bench-${process.pid}-${name}.json`);
  fs.rmSync(resultFile, { force: true });
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, `${name}.ts`)], {
      cwd: ROOT,
      env: { ...process.env, BENCH_PG_URL: pgUrl, BENCH_RESULT_FILE: resultFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), PER_BENCH_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const wallMs = Math.round(performance.now() - started);
      if (code === 0 && fs.existsSync(resultFile)) {
        const result = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as BenchResult;
        fs.rmSync(resultFile, { force: true });
        resolve({ ok: true, result });
      } else {
        resolve({
          ok: false,
          name,
          wallMs,
          error: signal ? `killed by ${signal} after ${wallMs} ms${stderr ? `: ${stderr.trim()}` : ''}` : stderr.trim() || `exited with ${code}`,
        });
      }
    });
  });
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

process.exitCode = await main();
