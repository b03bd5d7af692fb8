// Connecting a workspace to an outside system, as every door does it (`settle connect`, the demo wiring, and
// any future API route): save the connection (validated, sealed, audited), then finish the set-up the
// connection needs to work — for a PSA, register its callback to Settle and queue the first import, so a
// workspace connected while Settle runs works at once, without a restart or a wait for the minute poll.
import type { Db } from '../db/pool.ts';
import type { SecretBox } from '../db/crypto.ts';
import type { Logger } from 'pino';
import type { ConnectionRole } from '../connectors/registry.ts';
import type { TenantConnectors } from './context.ts';
import type { Actor } from './audit.ts';
import { saveConnection } from './connections.ts';
import { ensurePsaCallback, type CallbackResult } from './psa-callbacks.ts';
import { enqueue } from './enqueue.ts';
import { checkPayLinkField } from './write-pay-link.ts';

export interface ConnectResult {
  /** The PSA callback as registered (null: not a PSA, or it could not be registered — see callbackError). */
  readonly callback: CallbackResult | null;
  readonly callbackError: string | null;
  /** Whether the first import was queued for the worker (false when no worker has ever run on this database). */
  readonly importQueued: boolean;
  /** The invoice field pay links go into (write-pay-link.ts): found, or a warning with the fix; null: not a PSA. */
  readonly payLinkField?: string | { warning: string } | null;
}

export async function connectSystem(
  deps: { readonly db: Db; readonly box: SecretBox; readonly connectors: TenantConnectors; readonly log: Logger },
  tenantId: string,
  input: { role: ConnectionRole; vendor: string; config: Record<string, unknown>; secrets: Record<string, unknown>; actor: Actor },
  /** Settle's public base URL: where the PSA must send its callbacks. */
  publicUrl: string,
  /** queueImport false: the set-up wizard starts the first import itself, after the pilot clients are chosen. */
  opts: { queueImport?: boolean } = {},
): Promise<ConnectResult> {
  await saveConnection(deps.db, deps.box, tenantId, input);
  deps.connectors.forget(tenantId);
  if (input.role !== 'psa') return { callback: null, callbackError: null, importQueued: false };
  let callback: CallbackResult | null = null;
  let callbackError: string | null = null;
  try {
    callback = await ensurePsaCallback(deps, tenantId, publicUrl, input.actor);
  } catch (e) {
    callbackError = (e as Error).message;
  }
  // Told now, not when the first invoice's link waits: the MSP may still have to make the field in the PSA.
  const payLinkField = await checkPayLinkField(deps, tenantId).catch((e: unknown) => ({
    warning: `the pay link field was not checked: ${(e as Error).message}`,
  }));
  let importQueued = false;
  if (opts.queueImport === false) return { callback, callbackError, importQueued, payLinkField };
  try {
    // Same key and queue as the minute poll's fan-out, so the two never run side by side.
    await enqueue(deps.db, 'sync-psa', { tenantId }, { jobKey: `sync-psa:${tenantId}`, queueName: `psa-sync:${tenantId}` });
    importQueued = true;
  } catch (e) {
    deps.log.debug({ err: e }, 'first import not queued (no worker has set up its queue yet); the first poll imports');
  }
  return { callback, callbackError, importQueued, payLinkField };
}
