// Shared by the Autotask/HaloPSA guarantee tests: a workspace whose PSA connection is swapped for the
// Autotask or HaloPSA simulator before the first import (as autotask-sync / halopsa-write-back do), and
// `settle worker` as a child process beside a `settle start` child.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConnectorCache, saveConnection } from '../../src/engine/connections.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { createMailer } from '../../src/notify/mailer.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import type { SettleProcess } from '../helpers/settle-process.ts';
import type { RunningAutotaskSimulator } from '../../simulators/autotask/index.ts';
import type { RunningHaloSimulator } from '../../simulators/halopsa/index.ts';

export type PsaSim = { vendor: 'autotask'; sim: RunningAutotaskSimulator } | { vendor: 'halopsa'; sim: RunningHaloSimulator };

/** A stack (no Settle in this process unless `settle`), with the workspace's PSA connection on `psa`. */
export async function psaWorkspace(psa: PsaSim, opts: { settle?: boolean; settlePort?: number } = {}) {
  const stack = await startStack({ settle: opts.settle ?? false, ...(opts.settlePort ? { settlePort: opts.settlePort } : {}), companies: 1, invoices: 0 });
  const db = stack.database.db;
  const box = SecretBox.fromHex(stack.secretKeyHex);
  if (psa.vendor === 'autotask') {
    const at = psa.sim;
    await saveConnection(db, box, stack.tenantId, {
      role: 'psa',
      vendor: 'autotask',
      config: { username: at.credentials.username, integrationCode: at.credentials.integrationCode, globalUrl: at.baseUrl },
      secrets: { secret: at.credentials.secret },
      actor: 'system:test',
    });
  } else {
    const halo = psa.sim;
    await saveConnection(db, box, stack.tenantId, {
      role: 'psa',
      vendor: 'halopsa',
      config: { baseUrl: halo.baseUrl, clientId: halo.credentials.clientId, tenant: halo.credentials.tenant },
      secrets: { clientSecret: halo.credentials.clientSecret },
      actor: 'system:test',
    });
  }
  const connectors = stack.settle?.ctx.connectors ?? new ConnectorCache(db, box);
  connectors.forget(stack.tenantId); // a Settle in this process built the ConnectWise connector already
  const ctx = stack.settle?.ctx ?? {
    db,
    connectors,
    log: createLogger('silent'),
    publicUrl: stack.settleUrl,
    now: () => new Date(),
    mailer: createMailer(undefined),
    mailFrom: stack.config.SETTLE_MAIL_FROM,
  };
  return { stack, db, box, connectors, ctx, tenantId: stack.tenantId };
}

/** `settle worker` (no HTTP) as a child process on the stack's database; ready once its jobs run. */
export function startWorkerProcess(stack: Stack, env: Record<string, string> = {}): SettleProcess {
  const root = path.resolve(import.meta.dirname, '../..');
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href, path.join(root, 'src/cli/main.ts'), 'worker'],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        SETTLE_DEMO: 'off',
        LOG_LEVEL: process.env.SETTLE_TEST_LOG ?? 'warn',
        DATABASE_URL: stack.database.url,
        SETTLE_SECRET_KEY: stack.secretKeyHex,
        SETTLE_DATA_DIR: stack.config.SETTLE_DATA_DIR,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return { child, output: () => out, exited };
}

export async function killAll(...procs: (SettleProcess | null | undefined)[]): Promise<void> {
  for (const p of procs) {
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) continue;
    p.child.kill('SIGKILL');
    await p.exited;
  }
}
