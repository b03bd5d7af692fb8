// Which workspaces the bank ACH cron works for: those with an active bank ACH connection on the
// 'cutoffs' schedule. A connection on 'manual' is only acted on when staff ask (POST /api/v1/ach/run).
import { withTenant } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { enqueue } from './enqueue.ts';

export async function tenantsOnAchSchedule(ctx: EngineContext): Promise<string[]> {
  const tenants = await ctx.db.selectFrom('tenants').select('id').execute();
  const out: string[] = [];
  for (const t of tenants) {
    const conn = await withTenant(ctx.db, t.id, (tx) =>
      tx.selectFrom('connections').select('config').where('role', '=', 'bank_ach').where('status', '=', 'active').executeTakeFirst(),
    );
    if (conn && (conn.config as { schedule?: string }).schedule !== 'manual') out.push(t.id);
  }
  return out;
}

/** Queue a cut-off run (forced: build now) and a poll of the bank, in the workspace's bank-ACH queue. */
export async function requestAchRun(ctx: EngineContext, tenantId: string): Promise<void> {
  const opts = { queueName: `bank-ach:${tenantId}`, maxAttempts: 10 };
  await enqueue(ctx.db, 'ach-run-cutoff', { tenantId, force: true }, { ...opts, jobKey: `ach-run-cutoff-now:${tenantId}` });
  await enqueue(ctx.db, 'ach-poll-bank', { tenantId }, { ...opts, jobKey: `ach-poll-bank:${tenantId}` });
}
