// The autopay run, one tenant at a time (the `autopay-run` job; cron fans it out). Safe to run twice and
// to kill at any point: schedules are unique per invoice, every step is a conditional update under a row
// lock, notices are keyed, and a charge commits its payment, attempt and key before the processor is called
// (charge-autopay-schedule.ts). Steps:
//   1. pull the PSA's changes, so notices and charges follow its current version (if the PSA cannot be
//      reached, nothing is charged this run: the amount could be stale);
//   2. schedule newly matching invoices;
//   3. settle or re-send what a crash left charging;
//   4. move every open schedule forward (cancel / approval / notice), and charge those due, several at a
//      time, paced under the processor's rate limit.
import { sql } from 'kysely';
import { withTenant } from '../db/tenant.ts';
import { today, type EngineContext } from './context.ts';
import { loadAutopaySettings, loadRules } from './autopay-store.ts';
import { planAutopaySchedules } from './plan-autopay-schedules.ts';
import { ACTIVE_STATES, advanceAutopaySchedule, type ReadyCharge, type RunEnv } from './advance-autopay-schedule.ts';
import { screenDueSchedules } from './screen-due-autopay.ts';
import { chargeAutopaySchedule, resumeAutopayCharges, type ChargeResult } from './charge-autopay-schedule.ts';
import { syncPsa } from './sync-psa.ts';
import { TokenBucket } from './token-bucket.ts';

export interface AutopayRunOptions {
  /** Override the workspace's pacing (requests per second to the processor) and parallel charges. */
  readonly requestsPerSecond?: number;
  readonly concurrency?: number;
  /** Skip the PSA pull (the caller just did one). */
  readonly skipPsaSync?: boolean;
}

export interface AutopayRunSummary {
  scheduled: number;
  resumed: number;
  looked: number;
  waiting: number;
  cancelled: number;
  charged: number;
  failed: number;
  pending: number;
  skipped: number;
  errors: number;
  processorRequests: number;
  psaSynced: boolean;
  ms: number;
}

const MAX_CHARGES_PER_SCHEDULE_PER_RUN = 2; // the default, then the fallback

/**
 * One run per tenant at a time. Runs through the job queue were already serial (the tenant's own queue),
 * but a run started directly (tests, the benchmark, an operator) could overlap a queued one, and two
 * overlapping runs race on the same schedules: one re-sends the other's charge while it is in flight
 * (resumeAutopayCharges cannot tell an in-flight `sending` attempt from one a crash left; Stripe answers
 * 409 idempotency_key_in_use and the attempt is marked unknown), and both plan the same invoices, queueing
 * on each other's row locks — two such runs reported errors under load (issue #6 item 14). A session
 * advisory lock per tenant makes the second run wait for the first and then find everything done; the lock
 * goes with its connection if the process dies.
 */
export async function runAutopay(ctx: EngineContext, tenantId: string, opts: AutopayRunOptions = {}): Promise<AutopayRunSummary> {
  const key = `settle:autopay-run:${tenantId}`;
  return ctx.db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(hashtextextended(${key}, 0))`.execute(conn);
    try {
      return await runLocked(ctx, tenantId, opts);
    } finally {
      await sql`SELECT pg_advisory_unlock(hashtextextended(${key}, 0))`.execute(conn);
    }
  });
}

async function runLocked(ctx: EngineContext, tenantId: string, opts: AutopayRunOptions): Promise<AutopayRunSummary> {
  const started = performance.now();
  const sum: AutopayRunSummary = {
    scheduled: 0,
    resumed: 0,
    looked: 0,
    waiting: 0,
    cancelled: 0,
    charged: 0,
    failed: 0,
    pending: 0,
    skipped: 0,
    errors: 0,
    processorRequests: 0,
    psaSynced: false,
    ms: 0,
  };
  const { rules, settings, mspName, open } = await withTenant(ctx.db, tenantId, async (tx) => ({
    rules: await loadRules(tx),
    settings: await loadAutopaySettings(tx),
    mspName: (await tx.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirstOrThrow()).name,
    open: await tx
      .selectFrom('autopay_schedules')
      .select('id')
      .where('state', 'in', [...ACTIVE_STATES, 'charging'])
      .limit(1)
      .execute(),
  }));
  if (rules.length === 0 && open.length === 0) return { ...sum, ms: Math.round(performance.now() - started) };

  if (opts.skipPsaSync) sum.psaSynced = true;
  else {
    try {
      await syncPsa(ctx, tenantId);
      sum.psaSynced = true;
    } catch (e) {
      ctx.log.warn({ err: e, tenantId }, 'autopay: the PSA could not be read; no charges this run (amounts could be stale)');
    }
  }
  const env: RunEnv = { rules, settings, today: today(ctx.now()), mspName };
  sum.scheduled = await withTenant(ctx.db, tenantId, (tx) => planAutopaySchedules(tx, tenantId, rules, settings));

  const bucket = new TokenBucket(opts.requestsPerSecond ?? settings.requestsPerSecond);
  const canCharge = sum.psaSynced && (await ctx.connectors.payments(tenantId)) !== null;
  if (canCharge) sum.resumed = await resumeAutopayCharges(ctx, tenantId, bucket);

  // Due today and unchanged since the notice: straight to the charge (screen-due-autopay.ts). The rest —
  // and any of those the screen doubts — take the full step first.
  const ready = canCharge ? await withTenant(ctx.db, tenantId, (tx) => screenDueSchedules(tx, env)) : [];
  const fast = new Set(ready.map((r) => r.scheduleId));
  const ids = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('autopay_schedules')
      .select('id')
      .where('state', 'in', [...ACTIVE_STATES])
      .orderBy('not_before', 'asc')
      .orderBy('charge_on', 'asc')
      .orderBy('id')
      .execute(),
  );
  const work: { id: string; ready: ReadyCharge | null }[] = [
    ...ready.map((r) => ({ id: r.scheduleId, ready: r })),
    ...ids.filter((x) => !fast.has(x.id)).map((x) => ({ id: x.id, ready: null })),
  ];
  sum.looked = work.length;
  await forEachConcurrent(work, opts.concurrency ?? settings.concurrency, async (item) => {
    try {
      await step(item.id, item.ready);
    } catch (e) {
      // One schedule's failure must not hold up the others; it is looked at again next run.
      sum.errors++;
      ctx.log.error({ err: e, schedule: item.id }, 'autopay: a schedule could not be moved forward');
    }
  });
  async function step(id: string, first: ReadyCharge | null): Promise<void> {
    let readyCharge = first;
    for (let n = 0; n < MAX_CHARGES_PER_SCHEDULE_PER_RUN; n++) {
      if (!readyCharge) {
        const step = await advanceAutopaySchedule(ctx, tenantId, id, env);
        if (step === 'cancelled') sum.cancelled++;
        if (step === 'waiting' || step === 'busy') sum.waiting++;
        if (typeof step === 'string') return;
        readyCharge = step;
      }
      if (!canCharge) {
        sum.waiting++;
        return;
      }
      const r: ChargeResult = await chargeAutopaySchedule(ctx, tenantId, readyCharge, bucket);
      readyCharge = null;
      // The fallback method; or the fast path's claim refused (something moved since the screen): full step.
      if (r === 'retry_with_fallback' || (r === 'skipped' && first !== null && n === 0)) continue;
      count(sum, r);
      return;
    }
  }
  sum.processorRequests = bucket.requests;
  sum.ms = Math.round(performance.now() - started);
  ctx.log.info({ tenantId, ...sum }, 'autopay run done');
  return sum;
}

function count(sum: AutopayRunSummary, r: ChargeResult): void {
  if (r === 'charged') sum.charged++;
  else if (r === 'failed') sum.failed++;
  else if (r === 'pending') sum.pending++;
  else if (r === 'skipped') sum.skipped++;
}

/** Run `fn` over `items` with at most `n` at a time. */
async function forEachConcurrent<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
}
