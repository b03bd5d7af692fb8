// The seeded database bench/staff-pages.ts measures, fresh or from a cache.
// Fresh (the default, and what a new clone does): a new database on the benchmark's PostgreSQL server, migrated
// as Settle migrates it, seeded (bench/lib/staff-seed.ts), dropped at the end.
// Cached (BENCH_STAFF_CACHE=<folder>): an embedded PostgreSQL cluster of its own in that folder, kept between
// runs with the seeded database and a book.json saying how to sign in; the next run reuses it (a few seconds
// instead of minutes of seeding) after Settle's start-up has applied any migration added since. Delete the
// folder to seed again.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createBenchDatabase, freePort } from './pg.ts';
import { FULL_SHAPE, seedStaffBook, type SeedShape, type SeededWorkspace } from './staff-seed.ts';

export interface StaffBook extends SeededWorkspace {
  readonly url: string;
  /** Settle's SETTLE_SECRET_KEY for this database (secrets sealed with it must stay readable). */
  readonly secretKey: string;
  readonly shape: SeedShape;
  /** Seeding time in ms, per step; empty when the cache was used. */
  readonly seedSteps: Record<string, number>;
  readonly cached: boolean;
  close(): Promise<void>;
}

interface Marker extends SeededWorkspace {
  readonly database: string;
  readonly secretKey: string;
  readonly shape: SeedShape;
  readonly seededAt: string;
}

const shapeFromEnv = (): SeedShape => {
  const n = Number(process.env.BENCH_STAFF_INVOICES ?? FULL_SHAPE.invoices);
  if (!Number.isInteger(n) || n < 1000) throw new Error('BENCH_STAFF_INVOICES must be a whole number of at least 1000');
  return n === FULL_SHAPE.invoices ? FULL_SHAPE : { ...FULL_SHAPE, invoices: n, clients: Math.max(100, Math.round(n / 100)) };
};

async function migrateAndSeed(url: string, shape: SeedShape, log: (m: string) => void) {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return seedStaffBook(url, shape, log);
}

export async function openStaffBook(pgServerUrl: string, log: (m: string) => void): Promise<StaffBook> {
  const shape = shapeFromEnv();
  const cacheDir = process.env.BENCH_STAFF_CACHE;
  if (!cacheDir) {
    const db = await createBenchDatabase(pgServerUrl, 'staff_pages');
    try {
      const seeded = await migrateAndSeed(db.url, shape, log);
      return {
        ...seeded,
        url: db.url,
        secretKey: crypto.randomBytes(32).toString('hex'),
        shape,
        seedSteps: seeded.steps,
        cached: false,
        close: () => db.drop(),
      };
    } catch (e) {
      await db.drop();
      throw e;
    }
  }
  const dir = path.resolve(cacheDir);
  const markerFile = path.join(dir, 'book.json');
  const server = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), database: 'settle_bench_admin' });
  const urlOf = (database: string): string => {
    const u = new URL(server.appUrl);
    u.pathname = `/${database}`;
    return u.toString();
  };
  try {
    const marker = fs.existsSync(markerFile) ? (JSON.parse(fs.readFileSync(markerFile, 'utf8')) as Marker) : null;
    if (marker && JSON.stringify(marker.shape) === JSON.stringify(shape)) {
      log(`using the book seeded ${marker.seededAt} in ${dir}`);
      return { ...marker, url: urlOf(marker.database), seedSteps: {}, cached: true, close: () => server.stop() };
    }
    const database = `settle_bench_staff_${shape.invoices}`;
    const admin = new pg.Client({ connectionString: server.appUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${database}"`);
    } finally {
      await admin.end();
    }
    const seeded = await migrateAndSeed(urlOf(database), shape, log);
    const secretKey = crypto.randomBytes(32).toString('hex');
    const { steps, ...workspace } = seeded;
    const next: Marker = { ...workspace, database, secretKey, shape, seededAt: new Date().toISOString() };
    fs.writeFileSync(markerFile, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    return { ...next, url: urlOf(database), seedSteps: steps, cached: false, close: () => server.stop() };
  } catch (e) {
    await server.stop();
    throw e;
  }
}
