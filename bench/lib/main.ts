// Lets every bench/<name>.ts run on its own (`npx tsx bench/<name>.ts`) as well as under bench/run.ts,
// which starts each one in a fresh child process so that one benchmark's memory and leftover timers
// cannot colour the next one's figures (the import's peak RSS above all).
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { startPgServer } from './pg.ts';
import type { BenchResult } from './result.ts';

export type BenchRun = (pgServerUrl: string) => Promise<BenchResult>;

export function isMain(moduleUrl: string): boolean {
  return moduleUrl === pathToFileURL(process.argv[1] ?? '').href;
}

/** Child-process entry: BENCH_PG_URL names the server (else one is started), BENCH_RESULT_FILE receives the JSON. */
export async function benchMain(run: BenchRun): Promise<void> {
  const server = process.env.BENCH_PG_URL ? { url: process.env.BENCH_PG_URL, stop: async () => {} } : await startPgServer();
  let code = 0;
  try {
    const result = await run(server.url);
    const json = JSON.stringify(result, null, 2);
    if (process.env.BENCH_RESULT_FILE) fs.writeFileSync(process.env.BENCH_RESULT_FILE, json);
    else process.stdout.write(`${json}\n`);
  } catch (e) {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    code = 1;
  } finally {
    await server.stop().catch(() => {});
  }
  // Pools, sockets and the worker's timers are closed by the benchmark; exit anyway so that a stray
  // keep-alive socket can never hold the run open.
  process.exit(code);
}
