// `settle doctor`: checks the database and every connection of every workspace with harmless calls — the
// credentials, the PSA's callback to Settle (re-created if it was deleted or changed), the books accounts
// named in the settings, the processor's webhook endpoint, the bank's SFTP directories — and says exactly what
// is wrong and how to fix it.
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../db/pool.ts';
import { SecretBox } from '../db/crypto.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from './logger.ts';
import { publicBaseUrl } from './connect.ts';
import type { TenantConnectors } from '../engine/context.ts';
import { checkConnections, type Finding } from '../engine/connection-checks.ts';

export type { Finding };

function defaultOptions(): DoctorOptions {
  const config = loadConfig();
  return { box: SecretBox.load(config.SETTLE_SECRET_KEY, config.SETTLE_DATA_DIR), publicUrl: publicBaseUrl(config), log: createLogger('warn') };
}

export interface DoctorOptions {
  readonly box: SecretBox;
  /** Settle's public base URL (PUBLIC_URL): where the PSA and the processor must send their notifications. */
  readonly publicUrl: string;
  readonly log: Logger;
}

export async function doctor(db: Db, connectors: TenantConnectors, options?: DoctorOptions): Promise<Finding[]> {
  const opts = options ?? defaultOptions();
  const out: Finding[] = [];
  try {
    const r = await sql<{ v: string }>`SELECT version() AS v`.execute(db);
    out.push({ ok: true, what: 'database', detail: r.rows[0]?.v.split(' on ')[0] ?? 'reachable' });
  } catch (e) {
    out.push({ ok: false, what: 'database', detail: `cannot query PostgreSQL: ${(e as Error).message}. Check DATABASE_URL.` });
    return out;
  }
  // Archived demo workspaces (renamed demo-…) have their connections switched off; they are not checked.
  const tenants = await db.selectFrom('tenants').select(['id', 'slug']).where('slug', 'not like', 'demo-%').execute();
  if (tenants.length === 0) out.push({ ok: false, what: 'workspaces', detail: 'none yet: run `settle start` for the demo, or `settle workspace create`.' });
  for (const t of tenants) out.push(...(await checkConnections({ db, connectors, box: opts.box, publicUrl: opts.publicUrl, log: opts.log }, t)));
  return out;
}
