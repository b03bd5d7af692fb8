// Settle as a deployment that outgrew one process runs it: a `settle start` (HTTP + worker) and a separate
// `settle worker`, both child processes (each the leader of its own process group) sharing one PostgreSQL.
// The soak kills either with SIGKILL at random moments and starts it again; an exit nobody asked for is
// recorded as a crash with the end of its log.
import fs from 'node:fs';
import path from 'node:path';
import { spawnGroup, type GroupChild } from '../../bench/lib/process-group.ts';

export type Role = 'start' | 'worker';

export interface Crash {
  readonly role: Role;
  readonly at: string;
  readonly exit: string;
  readonly logTail: string;
}

export interface SettleCluster {
  readonly url: string;
  readonly kills: { role: Role; at: string; uptimeMs: number }[];
  readonly crashes: Crash[];
  readonly starts: Record<Role, number>;
  /** Current pid of each role (null while down). */
  pid(role: Role): number | null;
  /** SIGKILL the role's process group now, then start it again after `restartAfterMs`. */
  kill(role: Role, restartAfterMs: number): Promise<void>;
  /** Resolves when `settle start` answers /readyz 200 (or throws after timeoutMs). */
  waitReady(timeoutMs: number): Promise<void>;
  /** Both running (restarts whatever is down). */
  ensureUp(): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

export function startCluster(opts: { env: Record<string, string>; port: number; logDir: string }): SettleCluster {
  const url = `http://127.0.0.1:${opts.port}`;
  const current: Record<Role, { g: GroupChild; startedAt: number; expected: boolean } | null> = { start: null, worker: null };
  const kills: SettleCluster['kills'] = [];
  const crashes: Crash[] = [];
  const starts: Record<Role, number> = { start: 0, worker: 0 };
  let stopping = false;

  const logFile = (role: Role): string => path.join(opts.logDir, `settle-${role}.log`);
  const launch = (role: Role): void => {
    starts[role]++;
    const out = fs.openSync(logFile(role), 'a');
    fs.writeSync(out, `\n===== ${new Date().toISOString()} start #${starts[role]} (settle ${role}) =====\n`);
    const g = spawnGroup(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', role], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...opts.env, PORT: String(opts.port), HOST: '127.0.0.1', PUBLIC_URL: url },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    const entry = { g, startedAt: Date.now(), expected: false };
    current[role] = entry;
    void g.exited.then(({ code, signal }) => {
      if (current[role] === entry) current[role] = null;
      if (entry.expected || stopping) return;
      crashes.push({ role, at: new Date().toISOString(), exit: signal ?? `exit code ${code}`, logTail: tail(logFile(role), 3000) });
      // A crash is a finding; the deployment's supervisor would start it again, and so does the soak.
      setTimeout(() => {
        if (!stopping && !current[role]) launch(role);
      }, 1000);
    });
  };

  const cluster: SettleCluster = {
    url,
    kills,
    crashes,
    starts,
    pid: (role) => current[role]?.g.pid ?? null,
    kill: async (role, restartAfterMs) => {
      const c = current[role];
      if (c) {
        c.expected = true;
        kills.push({ role, at: new Date().toISOString(), uptimeMs: Date.now() - c.startedAt });
        c.g.kill('SIGKILL');
        await c.g.exited;
      }
      await new Promise((r) => setTimeout(r, restartAfterMs));
      if (!stopping && !current[role]) launch(role);
    },
    waitReady: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer';
      for (;;) {
        try {
          const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
          if (r.ok) return;
          last = `HTTP ${r.status}`;
        } catch (e) {
          last = (e as Error).message;
        }
        if (Date.now() > deadline)
          throw new Error(`settle start not ready after ${Math.round(timeoutMs / 1000)} s (${last}); log tail:\n${tail(logFile('start'), 2000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    ensureUp: async () => {
      for (const role of ['start', 'worker'] as const) if (!current[role]) launch(role);
      await cluster.waitReady(120_000);
    },
    stop: async () => {
      stopping = true;
      await Promise.all(
        (['start', 'worker'] as const).map(async (role) => {
          const c = current[role];
          if (!c) return;
          c.expected = true;
          c.g.kill('SIGTERM');
          const t = setTimeout(() => c.g.kill('SIGKILL'), 10_000);
          await c.g.exited;
          clearTimeout(t);
        }),
      );
    },
  };
  return cluster;
}

export function tail(file: string, chars: number): string {
  try {
    const s = fs.readFileSync(file, 'utf8');
    return s.slice(-chars);
  } catch {
    return '';
  }
}
