// Settle's worker as a child process on a simulated clock (clocked-settle-child.ts): the test moves the clock,
// and can SIGKILL the process and start it again at the same simulated time.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Stack } from './stack.ts';

export interface ClockedSettle {
  /** Move Settle's clock; resolves once the process has taken it. */
  setClock(ms: number): Promise<void>;
  kill(): Promise<NodeJS.Signals | number | null>;
  readonly output: () => string;
}

export async function startClockedSettle(stack: Stack, clockMs: number, env: Record<string, string> = {}): Promise<ClockedSettle> {
  const root = path.resolve(import.meta.dirname, '../..');
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href, path.join(import.meta.dirname, 'clocked-settle-child.ts')],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        DATABASE_URL: stack.database.url,
        SETTLE_SECRET_KEY: stack.secretKeyHex,
        SETTLE_DATA_DIR: stack.config.SETTLE_DATA_DIR,
        SETTLE_DEMO: 'off',
        LOG_LEVEL: process.env.SETTLE_TEST_LOG ?? 'warn',
        SETTLE_TEST_CLOCK_MS: String(clockMs),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean }) => m.ready && resolve());
    void exited.then((how) => reject(new Error(`the clocked Settle ended during start-up (${how}):\n${out}`)));
  });
  return {
    setClock: (ms) =>
      new Promise<void>((resolve) => {
        const taken = (m: { now?: number }): void => {
          if (m.now !== ms) return;
          child.off('message', taken);
          resolve();
        };
        child.on('message', taken);
        child.send({ now: ms });
      }),
    kill: async () => {
      child.kill('SIGKILL');
      return exited;
    },
    output: () => out,
  };
}
