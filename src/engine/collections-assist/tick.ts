// cron `collections-tick` (every 15 minutes): one `collections-run` per workspace, each in a queue of its own
// so a workspace never has two runs at once (the run is safe twice anyway: its claims are keyed). A workspace
// with Collections Assist off returns at once; one outside its sending hours only settles promises.
import type { JobHelpers } from 'graphile-worker';
import type { EngineContext } from '../context.ts';

export async function queueCollectionRuns(ctx: EngineContext, helpers: JobHelpers): Promise<number> {
  const tenants = await ctx.db.selectFrom('tenants').select('id').execute();
  for (const t of tenants)
    await helpers.addJob('collections-run', { tenantId: t.id }, { jobKey: `collections-run:${t.id}`, queueName: `collections:${t.id}`, maxAttempts: 5 });
  return tenants.length;
}
