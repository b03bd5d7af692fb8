// Issue #8 item 9: the embedded cluster's superuser has a password of its own, not the app role's (whoever
// reads the app's connection URL must not be able to sign in as the superuser, which bypasses row-level
// security), and a cluster made before that (superuser sharing the app role's password) keeps working and is
// moved to its own password at the next start. Real PostgreSQL binaries, a real cluster.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { freePort } from '../helpers/ports.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-superuser-'));
let running: EmbeddedDatabase | null = null;

afterAll(async () => {
  await running?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const read = (f: string): string => fs.readFileSync(path.join(dataDir, f), 'utf8').trim();

/** Whether `user` can sign in with `password` (false on a refused password, 28P01). */
async function signsIn(port: number, user: string, password: string): Promise<boolean> {
  const c = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'postgres' });
  try {
    await c.connect();
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === '28P01') return false;
    throw e;
  } finally {
    await c.end().catch(() => {});
  }
}

describe('the embedded cluster superuser', () => {
  it('a new cluster: the superuser and the app role have different passwords, each file 0600', async () => {
    const port = await freePort();
    running = await startEmbeddedPostgres({ dataDir, port, database: 'settle_su' });
    const app = read('pg-password');
    const su = read('pg-superuser-password');
    expect(su).not.toBe(app);
    for (const f of ['pg-password', 'pg-superuser-password']) expect(fs.statSync(path.join(dataDir, f)).mode & 0o077).toBe(0);
    expect(running.appUrl).not.toContain(encodeURIComponent(su));
    expect(await signsIn(port, 'postgres', app)).toBe(false);
    expect(await signsIn(port, 'postgres', su)).toBe(true);
    expect(await signsIn(port, 'settle', app)).toBe(true);

    // Make it a cluster from before the split: the superuser shares the app role's password, no file of its own.
    const admin = new pg.Client({ connectionString: running.adminUrl });
    await admin.connect();
    await admin.query(`ALTER ROLE postgres PASSWORD ${admin.escapeLiteral(app)}`);
    await admin.end();
    await running.stop();
    running = null;
    fs.rmSync(path.join(dataDir, 'pg-superuser-password'));
  }, 180_000);

  it('an older cluster keeps working and its superuser is moved to a password of its own', async () => {
    const port = await freePort();
    running = await startEmbeddedPostgres({ dataDir, port, database: 'settle_su' });
    const app = read('pg-password');
    const su = read('pg-superuser-password');
    expect(su).not.toBe(app);
    expect(await signsIn(port, 'postgres', app)).toBe(false);
    expect(await signsIn(port, 'postgres', su)).toBe(true);
    // The application's own connection is unchanged.
    const c = new pg.Client({ connectionString: running.appUrl });
    await c.connect();
    expect((await c.query<{ u: string }>('SELECT current_user AS u')).rows[0]?.u).toBe('settle');
    await c.end();
  }, 180_000);
});
