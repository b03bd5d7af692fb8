// When the books copy is refreshed and the reconciliation runs. The copy: every five minutes per workspace
// with books (cron books-copy-tick), in the workspace's own `books-copy:<tenant>` queue so it never waits
// behind the books flush. The report: nightly at 02:30 in each workspace's own timezone (cron reconcile-tick
// every 15 minutes asks domain/reconciliation-nightly.ts which workspaces are due) right after a refresh of
// the copy in the same queue, once per local date (0045's index), and on demand — a person's run refreshes the copy first for at most
// ON_DEMAND_REFRESH_MS (a throttled or unreachable ledger must not hold the page), then reports over what
// the copy holds; the run records how current that was.
import type { JobHelpers } from 'graphile-worker';
import { withTenant } from '../db/tenant.ts';
import { nightlyDueDate } from '../domain/reconciliation-nightly.ts';
import { workspaceTimezone } from '../domain/timezone.ts';
import type { Actor } from './audit.ts';
import type { EngineContext } from './context.ts';
import { booksCopyJobKey, booksCopyQueue, syncBooksCopy } from './sync-books-copy.ts';
import { runReconciliation, type RunSummary } from './three-way-reconciliation.ts';

export const ON_DEMAND_REFRESH_MS = 15_000;

async function tenantsWithBooks(ctx: EngineContext): Promise<string[]> {
  // connections is a tenant table: read through each workspace's own context.
  const tenants = await ctx.db.selectFrom('tenants').select('id').execute();
  return tenants.map((t) => t.id);
}

export async function queueBooksCopySyncs(ctx: EngineContext, helpers: JobHelpers): Promise<number> {
  const tenants = await tenantsWithBooks(ctx);
  for (const t of tenants)
    await helpers.addJob('sync-books-copy', { tenantId: t }, { jobKey: booksCopyJobKey(t), queueName: booksCopyQueue(t), maxAttempts: 5 });
  return tenants.length;
}

/** The tick: queues the copy refresh and the report of each workspace whose 02:30 local has come today. */
export async function queueNightlyReconciliations(ctx: EngineContext, helpers: JobHelpers): Promise<number> {
  const tenants = await ctx.db.selectFrom('tenants').select(['id', 'settings']).execute();
  const now = ctx.now();
  let queued = 0;
  for (const t of tenants) {
    const timezone = workspaceTimezone(t.settings as Record<string, unknown> | null);
    const last = await withTenant(ctx.db, t.id, (tx) =>
      tx
        .selectFrom('reconciliation_runs')
        .select('local_date')
        .where('trigger', '=', 'nightly')
        .where('local_date', 'is not', null)
        .orderBy('local_date', 'desc')
        .limit(1)
        .executeTakeFirst(),
    );
    const localDate = nightlyDueDate(now, timezone, last?.local_date ?? null);
    if (!localDate) continue;
    await helpers.addJob('sync-books-copy', { tenantId: t.id }, { jobKey: booksCopyJobKey(t.id), queueName: booksCopyQueue(t.id), maxAttempts: 5 });
    // Keyed by the local date: queued again by the next tick while it waits, it is the same job; made twice
    // all the same (a crash after the run committed), the second finds the date's run and does nothing.
    await helpers.addJob(
      'reconcile-three-way',
      { tenantId: t.id, trigger: 'nightly', localDate, timezone },
      { jobKey: `reconcile-three-way:${t.id}:${localDate}`, queueName: booksCopyQueue(t.id), maxAttempts: 3 },
    );
    queued++;
  }
  return queued;
}

export interface OnDemandRun extends RunSummary {
  /** Null when the copy was refreshed; otherwise why the report ran over the copy as it was. */
  readonly refreshProblem: string | null;
}

/** A person's run: refresh the copy (bounded), then the report. */
export async function refreshAndReconcile(ctx: EngineContext, tenantId: string, actor: Actor): Promise<OnDemandRun> {
  let refreshProblem: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      syncBooksCopy(ctx, tenantId),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the books did not answer within ${ON_DEMAND_REFRESH_MS / 1000} s`)), ON_DEMAND_REFRESH_MS);
      }),
    ]);
  } catch (e) {
    refreshProblem = e instanceof Error ? e.message : String(e);
    ctx.log.warn({ tenantId, err: refreshProblem }, 'reconciliation: the books copy could not be refreshed; reporting over the copy as it is');
  } finally {
    clearTimeout(timer);
  }
  return { ...(await runReconciliation(ctx, tenantId, 'on_demand', actor)), refreshProblem };
}
