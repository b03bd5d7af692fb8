// `settle connect` and the start-up half of keeping PSA callbacks registered (engine/psa-callbacks.ts).
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db/pool.ts';
import { SecretBox } from '../db/crypto.ts';
import { ConnectorCache } from '../engine/connections.ts';
import { connectSystem } from '../engine/connect-system.ts';
import { ensureAllPsaCallbacks } from '../engine/psa-callbacks.ts';
import type { ConnectionRole } from '../connectors/registry.ts';
import type { Running } from './runtime.ts';

/** Where vendors reach this Settle: PUBLIC_URL, else the address it listens on. */
export const publicBaseUrl = (config: Config, listening?: string | null): string => config.PUBLIC_URL ?? listening ?? config.publicUrl;

export async function runConnect(
  db: Db,
  config: Config,
  log: Logger,
  tenantId: string,
  input: { role: ConnectionRole; vendor: string; config: Record<string, unknown>; secrets: Record<string, unknown> },
): Promise<number> {
  const box = SecretBox.load(config.SETTLE_SECRET_KEY, config.SETTLE_DATA_DIR);
  const r = await connectSystem({ db, box, connectors: new ConnectorCache(db, box), log }, tenantId, { ...input, actor: 'system:cli' }, publicBaseUrl(config));
  console.log(`${input.role} connection to ${input.vendor} saved`);
  if (r.callback) console.log(`${r.callback.vendor} callback: ${r.callback.url} (${r.callback.outcome})`);
  if (r.callbackError) {
    console.error(
      `the connection is saved, but ${input.vendor} did not accept Settle's callback: ${r.callbackError}\n` +
        `Settle polls every minute meanwhile. Fix the settings (or PUBLIC_URL, the address ${input.vendor} reaches Settle at) and run \`settle doctor\`.`,
    );
    return 1;
  }
  if (typeof r.payLinkField === 'string') console.log(`pay links: ${r.payLinkField}`);
  else if (r.payLinkField) console.log(`warning: ${r.payLinkField.warning}`);
  if (r.importQueued) console.log('first import queued for the worker');
  console.log('run `settle doctor` to check it');
  return 0;
}

/**
 * On `settle start`: every workspace's PSA callback checked and repaired, in the background (start is not held
 * up). Workspaces whose PSA could not be reached are tried again after 1, 2, 4 … minutes (at most hourly) until
 * it works; the minute poll covers them meanwhile and their exception says so.
 */
export function registerCallbacksOnStart(running: Running, config: Config, log: Logger): void {
  const url = publicBaseUrl(config, running.url);
  const deps = { db: running.ctx.db, connectors: running.ctx.connectors, log };
  const attempt = (only: readonly string[] | undefined, delayMs: number): void => {
    ensureAllPsaCallbacks(deps, url, only).then(
      (failed) => {
        if (failed.length === 0) return;
        setTimeout(() => attempt(failed, Math.min(delayMs * 2, 3_600_000)), delayMs).unref();
      },
      (e: unknown) => log.warn({ err: e }, 'checking PSA callbacks at start failed; settle doctor checks them'),
    );
  };
  attempt(undefined, 60_000);
  // A callback deleted or changed at the PSA while Settle runs (an admin tidying up) is put back within the
  // check interval; until then the one-minute poll carries new invoices. Only the HTTP process does this: it
  // knows the address the PSA reaches it at, a worker alone does not.
  setInterval(
    () => void ensureAllPsaCallbacks(deps, url).catch((e: unknown) => log.warn({ err: e }, 'checking PSA callbacks failed; retried at the next check')),
    config.SETTLE_CALLBACK_CHECK_MINUTES * 60_000,
  ).unref();
}
