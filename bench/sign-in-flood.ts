// Benchmark — a sign-in flood must not stall the rest of Settle (issue #8 items 1 and 2).
// 50 keep-alive connections from 10 loopback addresses (127.0.0.2–11, five each) post wrong passwords to
// /login for 10 s (bench/lib/sign-in-flooder.ts, in a process of its own: its CPU is not Settle's), while an
// API client in this process sends one keyed GET /api/v1/clients after another and times each, from just
// before the request to the end of its body. The same client's latency on a quiet Settle is measured first.
// Two floods: with the default limits (the headline — most posts are answered 429 by the per-address and
// per-account limits, and the owner's e-mail is locked per address), then on a second Settle with every
// sign-in limit and the lockout lifted, so that every post reaches the password-check slots (scrypt on the
// thread pool, a few at a time; beyond a short queue a post is answered 429 at once).
// Password checks run a few at a time (sign-in-guard.ts): beyond a short queue a post is answered 429 at once.
// Target (issue #8): p50 < 50 ms during the flood.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createApiKey } from '../src/cli/workspace.ts';
import { benchMain, isMain } from './lib/main.ts';
import type { BenchResult } from './lib/result.ts';
import { startBenchStack, type BenchStack } from './lib/stack.ts';
import { summarize, type LatencySummary } from './lib/stats.ts';

const CONNECTIONS = 50;
const ADDRESSES = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 2}`);
const FLOOD_SECONDS = 10;
const QUIET_SECONDS = 3;
const TARGET_P50_MS = 50;
const OWNER = 'owner@bench.test';
const LIFTED: Record<string, string> = {
  SETTLE_LIMIT_SIGNIN_ADDRESS: '1000000/1s',
  SETTLE_LIMIT_SIGNIN_ACCOUNT: '1000000/1s',
  SETTLE_LIMIT_PAGES_ADDRESS: '1000000/1s',
  SETTLE_LOCKOUT_AFTER: '1000',
};

interface Flood {
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly posts: number;
  readonly postsPerSecond: number;
}

/** Keyed GETs one after another until `stop()` says so; each timed on its own. */
async function apiClient(url: string, key: string, stop: () => boolean): Promise<number[]> {
  const samples: number[] = [];
  while (!stop()) {
    const t0 = performance.now();
    const r = await fetch(`${url}/api/v1/clients`, { headers: { authorization: `Bearer ${key}` } });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`GET /api/v1/clients answered ${r.status} during the benchmark`);
    samples.push(performance.now() - t0);
  }
  return samples;
}

function flood(stack: BenchStack, onStart: () => void): Promise<Flood> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'lib/sign-in-flooder.ts')], {
    env: {
      ...process.env,
      FLOOD_URL: stack.settleUrl,
      FLOOD_WORKSPACE: stack.slug,
      FLOOD_EMAIL: OWNER,
      FLOOD_CONNECTIONS: String(CONNECTIONS),
      FLOOD_ADDRESSES: ADDRESSES.join(','),
      FLOOD_SECONDS: String(FLOOD_SECONDS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('START')) onStart();
  });
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Flood) : reject(new Error(`flooder exited ${code}: ${err}`)),
    ),
  );
}

async function measure(
  pgServerUrl: string,
  label: string,
  env: Record<string, string>,
): Promise<{ quiet: LatencySummary; flooded: LatencySummary; flood: Flood }> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env); // read by the server as it is built (http/rate-limits.ts)
  let stack: BenchStack;
  try {
    stack = await startBenchStack({ pgServerUrl, label, companies: 20, invoices: 2, mirrorBooks: false, worker: false });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  try {
    const key = await createApiKey(stack.db, stack.tenantId, 'bench', 'system:bench', { role: 'viewer' });
    const warm = Date.now() + 1000;
    await apiClient(stack.settleUrl, key, () => Date.now() > warm);
    const quietUntil = Date.now() + QUIET_SECONDS * 1000;
    const quiet = await apiClient(stack.settleUrl, key, () => Date.now() > quietUntil);
    // The flooder opens its 50 sign-in pages first (its start-up is not the flood); measure while it posts.
    let posting = false;
    let done = false;
    const attack = flood(stack, () => (posting = true)).finally(() => (done = true));
    while (!posting && !done) await new Promise((r) => setTimeout(r, 20));
    const during = await apiClient(stack.settleUrl, key, () => done);
    return { quiet: summarize(quiet), flooded: summarize(during), flood: await attack };
  } finally {
    await stack.close();
  }
}

export async function run(pgServerUrl: string): Promise<BenchResult> {
  const started = performance.now();
  const limited = await measure(pgServerUrl, 'signin', {});
  const lifted = await measure(pgServerUrl, 'signin_nolimit', LIFTED);
  const pass = limited.flooded.p50Ms < TARGET_P50_MS && limited.flood.errors === 0;
  const ms = (x: number): string => `${x} ms`;
  return {
    name: 'sign-in-flood',
    figures: {
      quietP50Ms: limited.quiet.p50Ms,
      quietP99Ms: limited.quiet.p99Ms,
      p50Ms: limited.flooded.p50Ms,
      p99Ms: limited.flooded.p99Ms,
      apiCalls: limited.flooded.n,
      signInPosts: limited.flood.posts,
      signInPostsPerSecond: limited.flood.postsPerSecond,
      signInAnswers: limited.flood.statuses,
      floodErrors: limited.flood.errors,
      liftedQuietP50Ms: lifted.quiet.p50Ms,
      liftedP50Ms: lifted.flooded.p50Ms,
      liftedP99Ms: lifted.flooded.p99Ms,
      liftedApiCalls: lifted.flooded.n,
      liftedSignInPosts: lifted.flood.posts,
      liftedSignInAnswers: lifted.flood.statuses,
      connections: CONNECTIONS,
      addresses: ADDRESSES.length,
      floodSeconds: FLOOD_SECONDS,
    },
    target: `keyed GET /api/v1/clients p50 < ${TARGET_P50_MS} ms while ${CONNECTIONS} connections from ${ADDRESSES.length} addresses post wrong passwords for ${FLOOD_SECONDS} s`,
    pass,
    primary: 'p50Ms',
    headline: [
      { label: 'API p50 quiet', value: ms(limited.quiet.p50Ms), target: '', pass },
      { label: 'API p50 in flood', value: ms(limited.flooded.p50Ms), target: `< ${TARGET_P50_MS} ms`, pass },
      { label: 'API p99 in flood', value: ms(limited.flooded.p99Ms), target: '', pass },
      { label: 'p50 / p99, limits lifted', value: `${ms(lifted.flooded.p50Ms)} / ${ms(lifted.flooded.p99Ms)}`, target: '', pass },
    ],
    notes: [
      `default limits: ${limited.flood.posts} sign-in posts (${limited.flood.postsPerSecond}/s) answered ${JSON.stringify(limited.flood.statuses)}`,
      `sign-in limits and lockout lifted (the password-check slots remain; a post beyond their queue is a 429): ${lifted.flood.posts} posts (${lifted.flood.postsPerSecond}/s) answered ${JSON.stringify(lifted.flood.statuses)}`,
    ],
    wallMs: Math.round(performance.now() - started),
  };
}

if (isMain(import.meta.url)) await benchMain(run);
