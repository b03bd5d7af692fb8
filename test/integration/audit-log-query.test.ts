// The audit log page's query (db/queries/audit-log.ts) on real PostgreSQL with row-level security: keyset
// pages walked both ways through many entries that share one created_at (one transaction's now()), the
// period read as days in the workspace's timezone, each filter, the list of actions present, another
// workspace's entries never seen, and the plan: the first page walks migration 0032's index, no sort.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import { createWorkspace } from '../../src/cli/workspace.ts';
import {
  auditPageQuery,
  distinctInLog,
  eachAuditRow,
  invoiceIdByNumber,
  listAuditPage,
  subjectNames,
  type AuditCursor,
  type AuditFilter,
} from '../../src/db/queries/audit-log.ts';

let t: TestDatabase;
let tenant: string;
let other: string;
const TZ = 'America/Chicago';
const TIED = '2026-03-10T15:00:00.123456Z';
const KEY = '11111111-2222-4333-8444-555555555555';
const inT = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => withTenant(t.db, tenant, fn);

async function log(
  tx: Tx,
  tenantId: string,
  row: { at: string; actor: string; action: string; type?: string; id?: string | null; detail?: object },
): Promise<void> {
  await tx
    .insertInto('audit_log')
    .values({
      tenant_id: tenantId,
      actor: row.actor,
      action: row.action,
      subject_type: row.type ?? 'payment',
      subject_id: row.id ?? null,
      detail: JSON.stringify(row.detail ?? {}),
      // As text, so the microseconds reach PostgreSQL (a JS Date would keep milliseconds only).
      created_at: sql<Date>`${row.at}::timestamptz`,
    })
    .execute();
}

beforeAll(async () => {
  t = await createTestDatabase();
  tenant = await createWorkspace(t.db, { slug: 'audit-a', name: 'A', adminEmail: 'a@a.test', adminPassword: 'correct horse battery', actor: 'system:test' });
  other = await createWorkspace(t.db, { slug: 'audit-b', name: 'B', adminEmail: 'b@b.test', adminPassword: 'correct horse battery', actor: 'system:test' });
  await inT(async (tx) => {
    // 130 entries of one instant: only the id orders them.
    for (let i = 0; i < 130; i++) await log(tx, tenant, { at: TIED, actor: 'system:record-payment', action: 'payment.succeeded', id: `p-${i}` });
    // Either side of midnight in Chicago on 14 March 2026 (CDT, UTC−5): 04:30Z is still the 13th there.
    await log(tx, tenant, { at: '2026-03-14T04:30:00Z', actor: `user:${KEY}`, action: 'settings.retry_policy_changed', type: 'tenant' });
    await log(tx, tenant, {
      at: '2026-03-14T05:30:00Z',
      actor: `api_key:${KEY}`,
      action: 'refund.requested',
      id: 'p-7',
      detail: { reason: '100% refund_now' },
    });
    await log(tx, tenant, { at: '2026-03-15T04:59:59Z', actor: 'apiXkey:x', action: 'odd.actor', detail: { reason: '100X refundXnow' } });
  });
  await withTenant(t.db, other, (tx) => log(tx, other, { at: '2026-03-14T06:00:00Z', actor: 'system:x', action: 'other.workspace' }));
}, 120_000);

afterAll(async () => {
  await t?.drop();
});

const base: AuditFilter = { timezone: TZ };
const ids = (f: AuditFilter, page: { after?: AuditCursor | null; before?: AuditCursor | null; limit: number }) =>
  inT(async (tx) => (await listAuditPage(tx, f, page)).rows.map((r) => r.action + ':' + (r.subject_id ?? '')));

describe('audit log query', () => {
  it('pages by keyset through entries sharing one instant, newest first, forwards and back, with nothing lost or repeated', async () => {
    const seen: string[] = [];
    const pages: { next: AuditCursor | null; prev: AuditCursor | null; first: string }[] = [];
    let after: AuditCursor | null = null;
    for (let n = 0; n < 10; n++) {
      const page = await inT((tx) => listAuditPage(tx, base, { after, limit: 50 }));
      seen.push(...page.rows.map((r) => r.id));
      pages.push({ next: page.next, prev: page.prev, first: page.rows[0]!.id });
      if (!page.next) break;
      after = page.next;
    }
    expect(pages).toHaveLength(3); // 134 entries of this workspace (with workspace.created): 50 + 50 + 34
    expect(seen).toHaveLength(134);
    expect(new Set(seen).size).toBe(134);
    expect(pages[0]!.prev).toBeNull();
    // Newest first: the workspace made today, the three March entries, then the tied ones by id descending.
    const all = await inT((tx) => listAuditPage(tx, base, { limit: 500 }));
    expect(all.rows.slice(0, 4).map((r) => r.action)).toEqual(['workspace.created', 'odd.actor', 'refund.requested', 'settings.retry_policy_changed']);
    const tiedIds = all.rows.slice(4).map((r) => BigInt(r.id));
    expect(tiedIds).toHaveLength(130);
    expect(tiedIds).toEqual([...tiedIds].sort((a, b) => (a > b ? -1 : 1)));
    expect(all.rows[4]!.at).toBe(TIED);
    // Back from the third page: the second page again, and from there the first.
    const third = await inT((tx) => listAuditPage(tx, base, { after: pages[1]!.next, limit: 50 }));
    const second = await inT((tx) => listAuditPage(tx, base, { before: third.prev, limit: 50 }));
    expect(second.rows[0]!.id).toBe(pages[1]!.first);
    expect(second.rows).toHaveLength(50);
    const first = await inT((tx) => listAuditPage(tx, base, { before: second.prev, limit: 50 }));
    expect(first.rows[0]!.id).toBe(pages[0]!.first);
    expect(first.prev).toBeNull();
  });

  it('reads the period as whole days in the workspace timezone', async () => {
    expect(await ids({ ...base, fromDate: '2026-03-14', toDate: '2026-03-14' }, { limit: 50 })).toEqual(['odd.actor:', 'refund.requested:p-7']);
    expect(await ids({ ...base, toDate: '2026-03-13', fromDate: '2026-03-11' }, { limit: 50 })).toEqual(['settings.retry_policy_changed:']);
    expect(await ids({ ...base, fromDate: '2026-03-14', toDate: '2026-03-14', timezone: 'UTC' }, { limit: 50 })).toEqual([
      'refund.requested:p-7',
      'settings.retry_policy_changed:',
    ]);
  });

  it('filters by actor, actor kind, action, subject and text in the detail (LIKE characters taken literally)', async () => {
    expect(await ids({ ...base, actor: `user:${KEY}` }, { limit: 50 })).toEqual(['settings.retry_policy_changed:']);
    expect(await ids({ ...base, actorKind: 'api_key' }, { limit: 50 })).toEqual(['refund.requested:p-7']);
    expect(await ids({ ...base, actorKind: 'system' }, { limit: 500 })).toHaveLength(131); // with system:test's workspace.created
    expect(await ids({ ...base, action: 'refund.requested' }, { limit: 50 })).toEqual(['refund.requested:p-7']);
    expect(await ids({ ...base, subjectType: 'payment', subjectId: 'p-7' }, { limit: 50 })).toEqual(['refund.requested:p-7', 'payment.succeeded:p-7']);
    expect(await ids({ ...base, text: '100% REFUND_now' }, { limit: 50 })).toEqual(['refund.requested:p-7']);
    expect(await ids({ ...base, action: 'other.workspace' }, { limit: 50 })).toEqual([]);
  });

  it('reads every row for the CSV in keyset batches, in the page order', async () => {
    const pageOrder = (await inT((tx) => listAuditPage(tx, base, { limit: 500 }))).rows.map((r) => r.id);
    const streamed: string[] = [];
    for await (const r of eachAuditRow(inT, base, 40)) streamed.push(r.id);
    expect(streamed).toEqual(pageOrder);
    expect(streamed).toHaveLength(134);
  });

  it('finds an invoice by its number (any case) and names invoices and clients by number and name', async () => {
    const { invoiceId, clientId } = await inT(async (tx) => {
      const c = await tx
        .insertInto('clients')
        .values({ tenant_id: tenant, name: 'Bayside Dental', identifier: 'C1' })
        .returning('id')
        .executeTakeFirstOrThrow();
      const i = await tx
        .insertInto('invoices')
        .values({
          tenant_id: tenant,
          client_id: c.id,
          number: 'INV-1042',
          type: 'Standard',
          currency: 'USD',
          total_minor: 1000n,
          psa_balance_minor: 1000n,
          status: 'open',
          psa_status: 'Sent',
          issued_on: '2026-03-01',
          due_on: null,
          psa_updated_at: new Date(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { invoiceId: i.id, clientId: c.id };
    });
    expect(await inT((tx) => invoiceIdByNumber(tx, 'inv-1042'))).toBe(invoiceId);
    expect(await inT((tx) => invoiceIdByNumber(tx, 'INV-104'))).toBeNull();
    expect(await withTenant(t.db, other, (tx) => invoiceIdByNumber(tx, 'INV-1042'))).toBeNull();
    const names = await inT((tx) =>
      subjectNames(tx, [
        { subject_type: 'invoice', subject_id: invoiceId },
        { subject_type: 'client', subject_id: clientId },
        { subject_type: 'invoice', subject_id: 'not-a-uuid' },
      ]),
    );
    expect(Object.fromEntries(names)).toEqual({ [`invoice:${invoiceId}`]: 'Invoice INV-1042', [`client:${clientId}`]: 'Bayside Dental' });
  });

  it('lists the actions and record kinds present in this workspace only', async () => {
    expect(await inT((tx) => distinctInLog(tx, 'action'))).toEqual([
      'odd.actor',
      'payment.succeeded',
      'refund.requested',
      'settings.retry_policy_changed',
      'workspace.created',
    ]);
    expect(await inT((tx) => distinctInLog(tx, 'subject_type'))).toContain('tenant');
  });

  it('walks the (tenant_id, created_at DESC, id DESC) index for a page, with no sort step', async () => {
    const plan = await inT(async (tx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(tx);
      const cursor = { at: TIED, id: '100' };
      const rows = await auditPageQuery(tx, base, { after: cursor, limit: 50 }).explain();
      return rows.map((r) => String(Object.values(r)[0])).join('\n');
    });
    expect(plan).toContain('audit_log_recent');
    expect(plan).not.toMatch(/\bSort\b/);
    expect(plan).toMatch(/Index Cond: .*created_at/);
    // One action, one person: their own indexes, still in order (no sort).
    for (const [f, index] of [
      [{ ...base, action: 'refund.requested' }, 'audit_log_action'],
      [{ ...base, actor: `user:${KEY}` }, 'audit_log_actor'],
    ] as const) {
      const p = await inT(async (tx) => {
        await sql`SET LOCAL enable_seqscan = off`.execute(tx);
        const rows = await auditPageQuery(tx, f, { limit: 50 }).explain();
        return rows.map((r) => String(Object.values(r)[0])).join('\n');
      });
      expect(p).toContain(index);
      expect(p).not.toMatch(/\bSort\b/);
    }
  });
});
