// Starts graphile-worker with Settle's tasks, registers its worker ids in worker_heartbeats every few
// seconds, and unlocks jobs held by workers that stopped beating (see engine/sweep.ts).
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { Logger, run, runMigrations, type Runner, type WorkerEvents } from 'graphile-worker';
import type pg from 'pg';
import type { EngineContext } from '../engine/context.ts';
import { sweep, unlockJobsOfDeadWorkers } from '../engine/sweep.ts';
import { crontab, taskList } from './tasks.ts';

export interface WorkerHandle {
  stop(): Promise<void>;
}

export async function startWorker(ctx: EngineContext, pool: pg.Pool, opts: { concurrency: number; pollIntervalMs?: number }): Promise<WorkerHandle> {
  const logger = new Logger((scope) => (level, message, meta) => {
    const l = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
    ctx.log[l]({ scope, ...meta }, message);
  });
  await runMigrations({ pgPool: pool, logger });
  const workerIds = new Set<string>();
  const events = new EventEmitter() as WorkerEvents;
  events.on('worker:create', ({ worker }) => {
    workerIds.add(worker.workerId);
  });
  events.on('worker:release', ({ worker }) => {
    workerIds.delete(worker.workerId);
  });
  const runner: Runner = await run({
    events,
    pgPool: pool,
    concurrency: opts.concurrency,
    pollInterval: opts.pollIntervalMs ?? 1000,
    noHandleSignals: true,
    taskList: taskList(ctx),
    crontab,
    logger,
  });
  const beat = async (): Promise<void> => {
    if (workerIds.size === 0) return;
    await ctx.db
      .insertInto('worker_heartbeats')
      .values([...workerIds].map((id) => ({ worker_id: id, host: os.hostname(), pid: process.pid })))
      .onConflict((oc) => oc.column('worker_id').doUpdateSet({ seen_at: new Date() }))
      .execute();
    await ctx.db
      .deleteFrom('worker_heartbeats')
      .where('seen_at', '<', new Date(Date.now() - 3_600_000))
      .execute();
    const dead = await unlockJobsOfDeadWorkers(ctx.db);
    if (dead.length) ctx.log.warn({ workers: dead }, 'unlocked jobs of workers that stopped');
  };
  await beat(); // register our workers before unlocking anyone else's jobs
  await sweep(ctx, { olderThanMs: 0 }).catch((e: unknown) => ctx.log.error({ err: e }, 'start-up sweep failed'));
  const timer = setInterval(() => {
    beat().catch((e: unknown) => ctx.log.error({ err: e }, 'worker heartbeat failed'));
  }, 5000);
  return {
    stop: async () => {
      clearInterval(timer);
      await runner.stop();
      if (workerIds.size)
        await ctx.db
          .deleteFrom('worker_heartbeats')
          .where('worker_id', 'in', [...workerIds])
          .execute()
          .catch(() => {});
    },
  };
}
