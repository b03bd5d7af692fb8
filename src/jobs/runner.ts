// Starts graphile-worker with Settle's tasks, registers its worker ids in worker_heartbeats every few
// seconds, and unlocks jobs held by workers that stopped beating (see engine/sweep.ts).
//
// The runner is supervised: graphile-worker stops its runner for good when the per-minute cron cannot reach
// the database (and its promise then rejects, which unhandled would end the process). A database outage
// must not end Settle, so when the runner ends we start a new one, with back-off, until the database
// answers again — logging each attempt.
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { Logger, run, runMigrations, type Runner, type WorkerEvents } from 'graphile-worker';
import type pg from 'pg';
import type { EngineContext } from '../engine/context.ts';
import { enqueue } from '../engine/enqueue.ts';
import { releaseOrphanedQueueLocks, sweep, unlockJobsOfDeadWorkers } from '../engine/sweep.ts';
import { startDeliveryRunner } from '../engine/webhooks-out/runner.ts';
import { crontab, taskList } from './tasks.ts';

export interface WorkerHandle {
  stop(): Promise<void>;
}

const RESTART_BACKOFF_MS = [1000, 2000, 5000, 10_000, 15_000];
/**
 * Workers of their own for inbound events (PSA notices, processor webhooks), beside the general ones. A
 * general worker may spend seconds on a vendor (a write-back or pay link at 100–300 ms a call, a books
 * flush), and with all of them busy a new invoice waited for one before it became payable: HaloPSA's
 * webhook → payable p99 was 665 ms where one fetch takes at most 300 ms (bench psa-change-latency).
 * Four: an intake job is one vendor fetch and a short transaction, so it waits far more than it computes, and
 * notices come in bursts (a billing run creates invoices back to back). With two, the third and fourth of a
 * burst of four waited for a whole fetch: p99 464 ms (one run of three 514 ms) against 500.
 */
const INTAKE_TASKS = ['process-inbox-event'] as const;
const INTAKE_CONCURRENCY = 4;
const BEAT_EVERY_MS = 5000;
/** A worker whose heartbeat is older than this is taken for dead (by a process that could beat meanwhile). */
const STALE_AFTER_MS = 15_000;
/**
 * How long a runner that lost a worker may take to finish its other jobs before a new runner starts anyway.
 * graphile-worker's stop waits for every running job, without limit: in the soak one job never ended after a
 * PostgreSQL outage, the stop never returned, and the worker process ran nothing for the remaining 17
 * minutes while looking alive.
 */
const STOP_GRACE_MS = 30_000;

export async function startWorker(
  ctx: EngineContext,
  pool: pg.Pool,
  opts: { concurrency: number; pollIntervalMs?: number; stopGraceMs?: number },
): Promise<WorkerHandle> {
  const logger = new Logger((scope) => (level, message, meta) => {
    const l = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
    ctx.log[l]({ scope, ...meta }, message);
  });
  await runMigrations({ pgPool: pool, logger });
  tolerateGraphileWorkerRejections(ctx);
  const workerIds = new Set<string>();
  const events = new EventEmitter() as WorkerEvents;
  events.on('worker:create', ({ worker }) => {
    workerIds.add(worker.workerId);
  });
  // What each worker is running, so that a stop that does not finish can say which job holds it up.
  const running = new Map<string, { id: string; task: string; since: number }>();
  events.on('job:start', ({ worker, job }) => {
    running.set(worker.workerId, { id: String(job.id), task: job.task_identifier, since: Date.now() });
  });
  events.on('job:complete', ({ worker }) => {
    running.delete(worker.workerId);
  });
  // A worker that could not record its job ends without 'job:complete': it must not beat on for ever, or
  // its unrecorded job would stay locked to it.
  events.on('worker:fatalError', ({ worker }) => {
    running.delete(worker.workerId);
  });
  events.on('worker:stop', ({ worker }) => {
    running.delete(worker.workerId);
  });
  events.on('worker:release', ({ worker }) => {
    // A worker of the running pool that ends while we are not stopping it has died: graphile-worker ends
    // a worker for good when it cannot record its job's outcome (the database went away mid-job) and
    // never replaces it, so after an outage a process could keep running with fewer or no workers.
    if (workerIds.delete(worker.workerId) && !stopping && runner) lostWorker(runner);
  });
  // Since when our own heartbeats have reached the database every few seconds without a gap. Only then is
  // another worker's stale heartbeat evidence that it is gone rather than that the database (or this
  // machine) was unavailable to everyone — after an outage, live workers are still finishing their jobs.
  let beatingSince: number | null = null;
  let lastBeat = 0;
  const beat = async (): Promise<void> => {
    // A worker of a stopped runner whose job is still running is alive too: it beats until its job ends.
    // Otherwise that job is taken for abandoned and run a second time beside it (the soak saw a books flush
    // run twice at once that way, the two halving each other's QuickBooks budget into 429s).
    const ids = new Set([...workerIds, ...running.keys()]);
    if (ids.size === 0) return;
    try {
      await ctx.db
        .insertInto('worker_heartbeats')
        .values([...ids].map((id) => ({ worker_id: id, host: os.hostname(), pid: process.pid })))
        .onConflict((oc) => oc.column('worker_id').doUpdateSet({ seen_at: new Date() }))
        .execute();
    } catch (e) {
      beatingSince = null;
      throw e;
    }
    const now = Date.now();
    if (beatingSince === null || now - lastBeat > STALE_AFTER_MS - BEAT_EVERY_MS) beatingSince = now;
    lastBeat = now;
    await ctx.db
      .deleteFrom('worker_heartbeats')
      .where('seen_at', '<', new Date(Date.now() - 3_600_000))
      .execute();
    const dead = await unlockJobsOfDeadWorkers(ctx.db, STALE_AFTER_MS, { trustStaleness: now - beatingSince >= STALE_AFTER_MS });
    if (dead.length) ctx.log.warn({ workers: dead }, 'unlocked jobs of workers that stopped');
    const queues = await releaseOrphanedQueueLocks(ctx.db, STALE_AFTER_MS);
    if (queues.length) ctx.log.warn({ queues }, 'released queue locks that no running job held (a job had run twice)');
  };

  let runner: Runner | null = null;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | null = null;
  let failures = 0;

  const launch = async (): Promise<void> => {
    // Workers of a runner that ended are gone: stop beating for them, so their jobs get unlocked.
    workerIds.clear();
    const tasks = taskList(ctx);
    const main = await run({
      events,
      pgPool: pool,
      concurrency: opts.concurrency,
      pollInterval: opts.pollIntervalMs ?? 1000,
      noHandleSignals: true,
      taskList: tasks,
      crontab,
      logger,
    });
    // graphile-worker fetches only jobs of the tasks a runner knows: this one takes inbound events only.
    const intake = await run({
      events,
      pgPool: pool,
      concurrency: INTAKE_CONCURRENCY,
      pollInterval: opts.pollIntervalMs ?? 1000,
      noHandleSignals: true,
      taskList: Object.fromEntries(INTAKE_TASKS.map((t) => [t, tasks[t]!])),
      logger,
    }).catch(async (e: unknown) => {
      await main.stop().catch(() => {});
      throw e;
    });
    // The two are supervised as one: either ending (or losing a worker) restarts both.
    const r = {
      stop: async () => {
        await Promise.all([main.stop(), intake.stop()]);
      },
      promise: Promise.race([main.promise, intake.promise]),
    } as unknown as Runner;
    runner = r;
    r.promise.then(
      () => ended(r, null),
      (e: unknown) => ended(r, e),
    );
    await beat(); // register our workers before unlocking anyone else's jobs
    await sweep(ctx, { olderThanMs: 0 }).catch((e: unknown) => ctx.log.error({ err: e }, 'start-up sweep failed'));
    // The PSA poll runs now, not only from the next minute tick (after a start or an outage).
    await pollPsaNow(ctx).catch((e: unknown) => ctx.log.error({ err: e }, 'start-up PSA poll failed'));
  };

  const lostWorker = (r: Runner): void => {
    runner = null;
    ctx.log.error('the job runner stopped: one of its workers ended (it could not record its job while the database was away); restarting it');
    // The runner's other workers finish their jobs first; then a new runner with all its workers starts —
    // but not later than the grace period: a job that takes long must not hold every other job back.
    const graceMs = opts.stopGraceMs ?? STOP_GRACE_MS;
    let graceTimer: NodeJS.Timeout | null = null;
    const grace = new Promise<'late'>((resolve) => {
      graceTimer = setTimeout(() => resolve('late'), graceMs);
    });
    void Promise.race([
      r.stop().then(
        () => 'stopped' as const,
        () => 'stopped' as const,
      ),
      grace,
    ]).then((how) => {
      if (graceTimer) clearTimeout(graceTimer);
      if (how === 'late') {
        const jobs = [...running.values()].map((j) => `${j.task} #${j.id} (running ${Math.round((Date.now() - j.since) / 1000)} s)`);
        ctx.log.error(
          { jobs, graceMs },
          `the stopped job runner still has jobs running after ${Math.round(graceMs / 1000)} s (${jobs.join(', ') || 'none known'}); starting a new runner anyway — those jobs keep their workers' heartbeats (and their queues) until they end`,
        );
      }
      if (!stopping && !restartTimer && !runner) scheduleRestart();
    });
  };

  const ended = (r: Runner, e: unknown): void => {
    if (stopping || runner !== r) return;
    runner = null;
    ctx.log.error({ err: e }, 'the job runner stopped (is the database reachable?); restarting it');
    if (!restartTimer) scheduleRestart();
  };

  const scheduleRestart = (): void => {
    const delay = RESTART_BACKOFF_MS[Math.min(failures, RESTART_BACKOFF_MS.length - 1)]!;
    failures++;
    restartTimer = setTimeout(() => {
      restartTimer = null;
      if (stopping) return;
      ctx.log.warn({ attempt: failures, afterMs: delay }, 'restarting the job runner');
      launch().then(
        () => {
          ctx.log.warn({ attempt: failures }, 'the job runner is running again');
          failures = 0;
        },
        (err: unknown) => {
          ctx.log.error({ err, attempt: failures }, 'the job runner could not restart; trying again');
          if (runner) {
            const r = runner;
            runner = null;
            void r.stop().catch(() => {});
          }
          if (!stopping && !restartTimer) scheduleRestart();
        },
      );
    }, delay);
  };

  await launch();
  // Outbound webhooks are delivered by a runner of their own (its own pool and concurrency), never by the
  // workers above: a burst of deliveries or a slow receiver cannot hold up payments and postings.
  const webhooks = await startDeliveryRunner(ctx, pool.options.connectionString ?? '');
  const timer = setInterval(() => {
    beat().catch((e: unknown) => ctx.log.warn({ err: (e as Error).message }, 'worker heartbeat failed'));
  }, BEAT_EVERY_MS);
  return {
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      if (restartTimer) clearTimeout(restartTimer);
      const ids = [...workerIds, ...running.keys()];
      await Promise.all([runner?.stop().catch(() => {}), webhooks.stop()]);
      if (ids.length)
        await ctx.db
          .deleteFrom('worker_heartbeats')
          .where('worker_id', 'in', ids)
          .execute()
          .catch(() => {});
    },
  };
}

/** One PSA poll per workspace, keyed like the minute tick's so the two never run twice. */
async function pollPsaNow(ctx: EngineContext): Promise<void> {
  const tenants = await ctx.db.selectFrom('tenants').select('id').execute();
  for (const t of tenants) await enqueue(ctx.db, 'sync-psa', { tenantId: t.id }, { jobKey: `sync-psa:${t.id}`, queueName: `psa-sync:${t.id}` });
}

/**
 * graphile-worker 0.16 chains `.finally()` on its cron's and worker pool's own promises without handling the
 * derived promise, so when the cron cannot reach the database that rejection is unhandled even though the
 * runner's promise (which we handle, and restart from) carries the same error — and Node ends the process.
 * We let rejections raised inside graphile-worker pass (logged); any other unhandled rejection still ends
 * the process as it would without this listener.
 */
let tolerating = false;
function tolerateGraphileWorkerRejections(ctx: EngineContext): void {
  if (tolerating) return;
  tolerating = true;
  process.on('unhandledRejection', (reason) => {
    const stack = reason instanceof Error ? (reason.stack ?? '') : '';
    if (/[\\/]graphile-worker[\\/]/.test(stack)) {
      ctx.log.warn({ err: (reason as Error).message }, 'job runner error (the runner is restarted)');
      return;
    }
    throw reason;
  });
}
