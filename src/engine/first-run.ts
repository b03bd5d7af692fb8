// The first-run set-up of a workspace (the staff app's wizard, /app/setup): which steps are done, the pilot
// clients, and the first import. The connections themselves are made by the same engine functions as
// everywhere (connect-with-keys.ts, quickbooks-connect.ts, books-accounts.ts); what the wizard adds is kept
// in tenants.settings.setup (times the accounts were confirmed, the pilot chosen, the import started).
import { sql } from 'kysely';
import { withTenant } from '../db/tenant.ts';
import type { Db } from '../db/pool.ts';
import type { EngineContext } from './context.ts';
import { UseCaseError } from './context.ts';
import { syncClients } from './sync-psa.ts';
import { saveClientAutopay } from './manage-autopay.ts';
import { enqueue } from './enqueue.ts';
import { audit, type Actor } from './audit.ts';

export type SetupMark = 'accounts' | 'pilot' | 'import';

export interface SetupState {
  readonly psa: string | null;
  readonly payments: string | null;
  readonly accounting: string | null;
  readonly marks: Readonly<Partial<Record<SetupMark, string>>>;
}

export async function setupState(db: Db, tenantId: string): Promise<SetupState> {
  return withTenant(db, tenantId, async (tx) => {
    const conns = await tx.selectFrom('connections').select(['role', 'vendor']).where('status', '!=', 'disabled').execute();
    const t = await tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirstOrThrow();
    const marks = ((t.settings as Record<string, unknown>)['setup'] ?? {}) as Partial<Record<SetupMark, string>>;
    const vendor = (role: string): string | null => conns.find((c) => c.role === role)?.vendor ?? null;
    return { psa: vendor('psa'), payments: vendor('payments'), accounting: vendor('accounting'), marks };
  });
}

export async function markSetup(db: Db, tenantId: string, mark: SetupMark): Promise<void> {
  await withTenant(db, tenantId, (tx) =>
    sql`UPDATE tenants SET settings = jsonb_set(jsonb_set(coalesce(settings, '{}'::jsonb), '{setup}', coalesce(settings->'setup', '{}'::jsonb)), ${sql.lit(`{setup,${mark}}`)}::text[], to_jsonb(now()))
        WHERE id = ${tenantId}`.execute(tx),
  );
}

/** Read the PSA's clients into Settle now (the first part of the import), so the pilot can be chosen from them. */
export async function importClients(ctx: EngineContext, tenantId: string): Promise<number> {
  const psa = await ctx.connectors.psa(tenantId);
  if (!psa) throw new UseCaseError('not_configured', 'Connect the PSA first: the clients come from it.');
  return syncClients(ctx, tenantId, psa);
}

/**
 * The pilot: Settle collects (portal links, reminders, autopay) only for the chosen clients while the MSP tries
 * it; every other client is switched off and can be switched on later on its page. Audited per client changed.
 */
export async function choosePilotClients(db: Db, tenantId: string, chosen: readonly string[], actor: Actor): Promise<{ pilot: number; others: number }> {
  const pick = new Set(chosen);
  const r = await withTenant(db, tenantId, async (tx) => {
    const clients = await tx.selectFrom('clients').select(['id', 'collection_enabled']).execute();
    for (const id of pick)
      if (!clients.some((c) => c.id === id)) throw new UseCaseError('invalid', 'a chosen client is not in this workspace; reload the page');
    for (const c of clients) {
      const want = pick.has(c.id);
      if (c.collection_enabled !== want) await saveClientAutopay(tx, tenantId, c.id, { collection_enabled: want }, actor);
    }
    await audit(tx, tenantId, actor, 'setup.pilot_chosen', { type: 'workspace', id: tenantId }, { pilot_clients: [...pick] });
    return { pilot: pick.size, others: clients.length - pick.size };
  });
  await markSetup(db, tenantId, 'pilot');
  return r;
}

/** Queue the first import (the same job, key and queue as the minute poll, so the two never run side by side). */
export async function startFirstImport(db: Db, tenantId: string, actor: Actor): Promise<void> {
  await withTenant(db, tenantId, async (tx) => {
    if (!(await tx.selectFrom('connections').select('id').where('role', '=', 'psa').where('status', '!=', 'disabled').executeTakeFirst()))
      throw new UseCaseError('not_configured', 'Connect the PSA first: the invoices come from it.');
    await audit(tx, tenantId, actor, 'setup.import_started', { type: 'workspace', id: tenantId });
  });
  await enqueue(db, 'sync-psa', { tenantId }, { jobKey: `sync-psa:${tenantId}`, queueName: `psa-sync:${tenantId}` });
  await markSetup(db, tenantId, 'import');
}
