// `settle keys rotate`: a new instance (master) key, and every sealed value re-sealed under it in one
// transaction (db/reseal.ts): connection credentials, bank account numbers, NACHA files, second-factor
// secrets and the portal link secrets. The portal secrets' values do not change, so every portal and
// update-method link already sent keeps working. Staff sessions are server-side and carry on; a staff form
// rendered before the rotation needs a reload (its CSRF token's key is derived from the instance key).
//
// Where the key lives decides the steps:
// - generated into <data dir>/secret.key (no SETTLE_SECRET_KEY): the new key is first written to
//   secret.key.next, the database is re-sealed, then secret.key.next replaces secret.key. A crash at any
//   point leaves a state every Settle process can open (SecretBox.load opens with both files' keys), and
//   running the command again finishes the rotation.
// - SETTLE_SECRET_KEY: pass the new key (--new-key, 64 hex: `openssl rand -hex 32`); after the command,
//   put it in SETTLE_SECRET_KEY for every Settle process.
// Every `settle start` / `settle worker` must be stopped first: a running process holds the old key.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Config } from '../config.ts';
import { SecretBox } from '../db/crypto.ts';
import type { Db } from '../db/pool.ts';
import { resealEverything } from '../db/reseal.ts';
import { withTenant } from '../db/tenant.ts';
import { audit } from '../engine/audit.ts';
import { flag, UsageError, type Args } from './args.ts';

export const KEYS_USAGE = 'usage: settle keys rotate [--new-key HEX]   (--new-key is required when SETTLE_SECRET_KEY is set)';

export async function runKeysRotate(db: Db, config: Config, args: Args, out: (line: string) => void): Promise<void> {
  const given = flag(args, 'new-key');
  if (given !== undefined && !/^[0-9a-f]{64}$/i.test(given)) throw new UsageError('--new-key must be 64 hex characters (32 bytes): openssl rand -hex 32');
  if (config.SETTLE_SECRET_KEY && !given)
    throw new UsageError('SETTLE_SECRET_KEY is set, so Settle cannot store a new key for you: pass it with --new-key $(openssl rand -hex 32)');
  if (config.SETTLE_SECRET_KEY && given && given.toLowerCase() === config.SETTLE_SECRET_KEY.toLowerCase())
    throw new UsageError('--new-key is the key in use now; generate a new one with openssl rand -hex 32');

  const running = await runningSettleProcesses(db);
  if (running > 0)
    throw new UsageError(
      `${running} Settle process(es) (settle start / settle worker) are connected to this database: stop them all, run this again, then start them`,
    );

  const dir = config.SETTLE_DATA_DIR;
  const nextFile = path.join(dir, 'secret.key.next');
  let nextHex: string;
  if (config.SETTLE_SECRET_KEY) {
    nextHex = given!.toLowerCase();
  } else {
    // An interrupted rotation left its key: finish that one (the database may already be sealed with it).
    nextHex = SecretBox.pendingKeyHex(dir) ?? given?.toLowerCase() ?? crypto.randomBytes(32).toString('hex');
    if (!fs.existsSync(nextFile)) fs.writeFileSync(nextFile, nextHex, { mode: 0o600, flag: 'wx' });
  }
  const from = SecretBox.load(config.SETTLE_SECRET_KEY, dir); // also opens with secret.key.next, if any
  const to = SecretBox.fromHex(nextHex);
  const counts = await resealEverything(db, from, to);
  for (const t of await db.selectFrom('tenants').select('id').execute()) {
    await withTenant(db, t.id, (tx) =>
      audit(tx, t.id, 'system:cli', 'instance_key.rotated', { type: 'tenant', id: t.id }, { key: to.fingerprint(), previous_key: from.fingerprint() }),
    );
  }
  if (!config.SETTLE_SECRET_KEY) fs.renameSync(nextFile, SecretBox.keyFile(dir)); // atomic: the old key is gone

  const values = Object.entries(counts.values)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  out(`re-sealed ${counts.portalSecrets} portal link secret(s) and ${values} under key ${to.fingerprint()} (was ${from.fingerprint()})`);
  out('portal and update-method links already sent keep working; staff pages open during the rotation need a reload');
  if (config.SETTLE_SECRET_KEY) out(`now set SETTLE_SECRET_KEY=${nextHex} for every Settle process, then start them`);
  else out(`the new key is in ${SecretBox.keyFile(dir)}; the old one has been removed`);
}

/**
 * Settle processes on this database: each job runner keeps a connection LISTENing for new jobs
 * (graphile-worker), and every `settle start` and `settle worker` runs one.
 */
async function runningSettleProcesses(db: Db): Promise<number> {
  const r = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'`.execute(db);
  return r.rows[0]?.n ?? 0;
}
