// Settle as a real child process (`settle start`), for tests that kill it with SIGKILL and start it again.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Stack } from './stack.ts';
import type { DemoPsa } from '../../src/cli/demo/psa-simulators.ts';

export interface SettleProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the signal or exit code when the process ends. */
  readonly exited: Promise<NodeJS.Signals | number | null>;
}

export async function startSettleProcess<P extends DemoPsa>(stack: Stack<P>, port: number, env: Record<string, string> = {}): Promise<SettleProcess> {
  return startSettleCommand(port, {
    DATABASE_URL: stack.database.url,
    SETTLE_SECRET_KEY: stack.secretKeyHex,
    SETTLE_DATA_DIR: stack.config.SETTLE_DATA_DIR,
    ...env,
  });
}

/** `settle start` with only the given environment (no stack: e.g. a database the test starts and stops itself). */
export async function startSettleCommand(
  port: number,
  env: Record<string, string>,
  opts: { cwd?: string; readyTimeoutMs?: number } = {},
): Promise<SettleProcess> {
  const root = path.resolve(import.meta.dirname, '../..');
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href, path.join(root, 'src/cli/main.ts'), 'start'],
    {
      cwd: opts.cwd ?? root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        PORT: String(port),
        SETTLE_DEMO: 'off',
        LOG_LEVEL: process.env.SETTLE_TEST_LOG ?? 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  // Generous: on a busy machine (CI shares two cores) a cold start compiles TypeScript and migrates for well over 30 s.
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`settle exited during start-up:\n${out}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`settle did not become ready in ${readyTimeoutMs / 1000} s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => out, exited };
}

/** Stop a Settle child as a process manager does: SIGTERM, up to 20 s to finish, then SIGKILL. */
export async function stopSettleProcess(settle: SettleProcess | undefined | null): Promise<void> {
  if (!settle || settle.child.exitCode !== null) return;
  settle.child.kill('SIGTERM');
  await Promise.race([settle.exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (settle.child.exitCode === null) settle.child.kill('SIGKILL');
}
