// A payment's books flush is woken after its transaction commits (src/engine/wake-books-flush.ts), so that
// concurrent successes do not queue on the one job row. What must hold: the wake-up runs only after a commit,
// adds a flush when none is waiting, leaves a waiting flush alone (no write, its run time kept), and adds a new
// one when the flush is already running — that one may have read the postings before they committed. The flush
// is due at once (issue #11: no fixed coalescing wait).
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { afterCommit, withTenant } from '../../src/db/tenant.ts';
import { wakeBooksFlush, wakeBooksFlushAfterCommit } from '../../src/engine/wake-books-flush.ts';

let t: TestDatabase;
let tenant: string;

beforeAll(async () => {
  t = await createTestDatabase();
  tenant = (await t.db.insertInto('tenants').values({ slug: 'wake', name: 'Wake MSP' }).returning('id').executeTakeFirstOrThrow()).id;
});
afterAll(async () => t.drop());

interface FlushJob {
  id: string;
  key: string | null;
  run_at: Date;
  revision: number;
  locked_at: Date | null;
}
const flushJobs = async (): Promise<FlushJob[]> =>
  (
    await sql<FlushJob>`SELECT id::text, key, run_at, revision, locked_at FROM graphile_worker._private_jobs
      WHERE payload->>'tenantId' = ${tenant} ORDER BY id`.execute(t.db)
  ).rows;

describe('after-commit work', () => {
  it('runs after the commit and not at all after a rollback', async () => {
    const ran: string[] = [];
    await withTenant(t.db, tenant, async (tx) => {
      expect(afterCommit(tx, async () => void ran.push('committed'))).toBe(true);
      expect(ran).toEqual([]); // not before the commit
    });
    expect(ran).toEqual(['committed']);
    await expect(
      withTenant(t.db, tenant, async (tx) => {
        afterCommit(tx, async () => void ran.push('rolled back'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(ran).toEqual(['committed']);
  });

  it('is refused by a transaction not opened by withTenant (the caller then does the work inside it)', async () => {
    await t.db.transaction().execute(async (tx) => {
      expect(wakeBooksFlushAfterCommit(tx, tenant)).toBe(false);
    });
  });
});

describe('waking the books flush', () => {
  it('adds a flush when none waits, leaves a waiting one untouched, and adds another while one runs', async () => {
    await sql`DELETE FROM graphile_worker._private_jobs`.execute(t.db);
    await withTenant(t.db, tenant, async (tx) => {
      expect(wakeBooksFlushAfterCommit(tx, tenant)).toBe(true);
      expect(await flushJobs()).toEqual([]); // the job is added after the commit, not in the transaction
    });
    const [first, ...none] = await flushJobs();
    expect(none).toEqual([]);
    expect(first).toMatchObject({ key: `flush-accounting:${tenant}`, locked_at: null });

    await wakeBooksFlush(t.db, tenant);
    await wakeBooksFlush(t.db, tenant);
    expect(await flushJobs()).toEqual([first]); // same row, same run time, same revision: nothing written

    // The worker takes it: the postings it reads may predate a commit that comes after, so a new one is due.
    await sql`UPDATE graphile_worker._private_jobs SET locked_at = now(), locked_by = 'test-worker' WHERE id = ${first!.id}::bigint`.execute(t.db);
    await wakeBooksFlush(t.db, tenant);
    const after = await flushJobs();
    expect(after).toHaveLength(2);
    expect(after.filter((j) => j.locked_at === null && j.key === `flush-accounting:${tenant}`)).toHaveLength(1);
  });

  it('is due at once (no coalescing wait), and brings a flush set for later by another path forward to now', async () => {
    await sql`DELETE FROM graphile_worker._private_jobs`.execute(t.db);
    const before = await sql<{ now: Date }>`SELECT now()`.execute(t.db);
    await wakeBooksFlush(t.db, tenant);
    const [due] = await flushJobs();
    expect(due!.run_at.getTime()).toBeLessThanOrEqual(Date.now() + 50);
    expect(due!.run_at.getTime()).toBeGreaterThanOrEqual(before.rows[0]!.now.getTime() - 1000);

    // A payout or refund asks for the flush a little later (its own short window); a payment then wants it now.
    await sql`UPDATE graphile_worker._private_jobs SET run_at = now() + interval '10 minutes' WHERE id = ${due!.id}::bigint`.execute(t.db);
    await wakeBooksFlush(t.db, tenant);
    const [moved, ...none] = await flushJobs();
    expect(none).toEqual([]);
    expect(moved!.id).toBe(due!.id);
    expect(moved!.run_at.getTime()).toBeLessThan(Date.now() + 60_000);
  });
});
