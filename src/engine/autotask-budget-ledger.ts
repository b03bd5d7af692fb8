// The Autotask API budget shared by Settle's processes (connectors/psa/autotask/budget.ts, migration 0038).
// Each process adds what it spent to a per-minute row of its own and reads the other processes' rows of the
// timeframe. Minutes are whole: a minute that is partly inside the window counts fully, so the reading errs
// towards spending less. Rows older than two hours are removed now and then by whoever records.
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import type { BudgetLedger } from '../connectors/psa/autotask/budget.ts';

const MINUTE = 60_000;
const KEEP_MS = 2 * 3_600_000;

export function postgresBudgetLedger(db: Db, processId = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`): BudgetLedger {
  let prunedAt = 0;
  return {
    async record(key, at) {
      const perMinute = new Map<number, number>();
      for (const t of at) {
        const m = Math.floor(t / MINUTE) * MINUTE;
        perMinute.set(m, (perMinute.get(m) ?? 0) + 1);
      }
      if (perMinute.size === 0) return;
      await db
        .insertInto('autotask_budget_use')
        .values([...perMinute].map(([m, n]) => ({ budget_key: key, process_id: processId, minute: new Date(m), requests: n })))
        .onConflict((oc) => oc.columns(['budget_key', 'minute', 'process_id']).doUpdateSet({ requests: sql`autotask_budget_use.requests + excluded.requests` }))
        .execute();
      if (Date.now() - prunedAt > 10 * MINUTE) {
        prunedAt = Date.now();
        await db
          .deleteFrom('autotask_budget_use')
          .where('minute', '<', new Date(Date.now() - KEEP_MS))
          .execute();
      }
    },
    async peers(key, sinceMs) {
      const row = await db
        .selectFrom('autotask_budget_use')
        .select(sql<string>`coalesce(sum(requests), 0)`.as('n'))
        .where('budget_key', '=', key)
        .where('process_id', '<>', processId)
        .where('minute', '>=', new Date(Math.floor(sinceMs / MINUTE) * MINUTE))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
  };
}
