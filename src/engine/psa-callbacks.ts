// The PSA's push notifications to Settle (ConnectWise callbacks), kept registered by the product itself: when
// a PSA is connected (`settle connect`), when Settle starts (every workspace), and by `settle doctor`. A
// callback deleted or changed at the PSA is re-created, and its URL follows Settle's public base URL. Without
// one Settle still polls every minute, so a failure here loses nothing; it is shown as an exception that says
// how to fix it, and closes itself the next time registration succeeds.
import { withTenant } from '../db/tenant.ts';
import type { Db } from '../db/pool.ts';
import type { Logger } from 'pino';
import type { CallbackCheck } from '../connectors/psa/types.ts';
import type { TenantConnectors } from './context.ts';
import { raiseException } from './exceptions.ts';
import { audit, type Actor } from './audit.ts';

export interface CallbackDeps {
  readonly db: Db;
  readonly connectors: TenantConnectors;
  readonly log: Logger;
}

export interface CallbackResult extends CallbackCheck {
  readonly url: string;
  readonly vendor: string;
}

const EXCEPTION_KEY = 'psa-callback';

/** Where the PSA must send its notifications for a workspace. */
export function psaCallbackUrl(publicUrl: string, slug: string, vendor: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/webhooks/${slug}/${vendor}`;
}

/**
 * Make sure the workspace's PSA pushes to Settle at `publicUrl`. Null when the workspace has no PSA
 * connection. Throws (after raising the exception) when the PSA cannot be reached or refuses.
 */
export async function ensurePsaCallback(deps: CallbackDeps, tenantId: string, publicUrl: string, actor: Actor): Promise<CallbackResult | null> {
  const psa = await deps.connectors.psa(tenantId);
  if (!psa) return null;
  const tenant = await deps.db.selectFrom('tenants').select('slug').where('id', '=', tenantId).executeTakeFirstOrThrow();
  const url = psaCallbackUrl(publicUrl, tenant.slug, psa.vendor);
  let check: CallbackCheck;
  try {
    check = await psa.ensureCallback(url);
  } catch (e) {
    const reason = (e as Error).message;
    deps.log.warn({ tenantId, vendor: psa.vendor, url, err: e }, 'PSA callback could not be registered; polling every minute meanwhile');
    await withTenant(deps.db, tenantId, (tx) =>
      raiseException(tx, tenantId, actor, {
        kind: 'psa_callback_missing',
        dedupeKey: EXCEPTION_KEY,
        clientId: null,
        invoiceIds: [],
        paymentId: null,
        title: `${psa.vendor} does not notify Settle of new invoices`,
        detail:
          `Settle could not register its callback ${url} at ${psa.vendor}: ${reason}. New and changed invoices arrive ` +
          `by the one-minute poll until it is. Check the connection (\`settle doctor\` says what is wrong and registers ` +
          `the callback once it can), and that PUBLIC_URL is the address ${psa.vendor} can reach Settle at.`,
        data: { vendor: psa.vendor, url, reason },
      }),
    );
    throw e;
  }
  await withTenant(deps.db, tenantId, async (tx) => {
    if (check.outcome === 'created' || check.outcome === 'repaired')
      await audit(
        tx,
        tenantId,
        actor,
        'connection.callback_registered',
        { type: 'connection', id: 'psa' },
        {
          vendor: psa.vendor,
          url,
          outcome: check.outcome,
          replaced: check.replaced,
        },
      );
    const open = await tx
      .updateTable('exceptions')
      .set({ status: 'resolved', resolved_at: new Date(), resolved_by: actor, resolution: 'callback_registered', updated_at: new Date() })
      .where('dedupe_key', '=', EXCEPTION_KEY)
      .where('status', '=', 'open')
      .returning('id')
      .execute();
    for (const r of open) await audit(tx, tenantId, actor, 'exception.resolved', { type: 'exception', id: r.id }, { resolution: 'callback_registered' });
  });
  if (check.outcome !== 'present') deps.log.info({ tenantId, vendor: psa.vendor, url, ...check }, 'PSA callback registered');
  return { ...check, url, vendor: psa.vendor };
}

/**
 * On start: every workspace with an active PSA connection. One workspace's failure does not stop the others.
 * Returns the workspaces whose registration failed (each has its exception).
 */
export async function ensureAllPsaCallbacks(deps: CallbackDeps, publicUrl: string, only?: readonly string[]): Promise<string[]> {
  const tenants = only ?? (await deps.db.selectFrom('tenants').select('id').execute()).map((t) => t.id);
  const failed: string[] = [];
  for (const id of tenants) {
    // Logged and raised as an exception in ensurePsaCallback.
    await ensurePsaCallback(deps, id, publicUrl, 'system:start').catch(() => failed.push(id));
  }
  return failed;
}
