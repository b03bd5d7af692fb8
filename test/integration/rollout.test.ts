// The rollout view's figures over a small hand-worked book: a pilot client (Settle collects for it) and one
// that is not, seen on Tuesday 10 March 2026 in Chicago. Weekly DSO (28-day formula), days to pay, manual
// touches with their time to resolve, and the pilot check (a payment whose books posting failed is listed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import { insertInvoice, insertPayment } from '../helpers/ar-book.ts';
import { rolloutReport, type RolloutReport } from '../../src/http/staff/rollout.ts';

const NOW = new Date('2026-03-10T18:00:00Z');
let t: TestDatabase;
let tenant: string;
let report: RolloutReport;
let failedBooksPayment: string;

async function posting(tx: Tx, paymentId: string, invoiceId: string, target: 'psa' | 'accounting', status: 'posted' | 'failed'): Promise<void> {
  await tx
    .insertInto('postings')
    .values({
      tenant_id: tenant,
      target,
      vendor: target === 'psa' ? 'connectwise' : 'quickbooks-online',
      kind: 'payment',
      payment_id: paymentId,
      invoice_id: invoiceId,
      amount_minor: 1n,
      currency: 'USD',
      idempotency_key: `${target}:${paymentId}`,
      status,
    })
    .execute();
}

async function exception(tx: Tx, client: string, key: string, opened: string, resolved: string, by: string): Promise<void> {
  await tx
    .insertInto('exceptions')
    .values({
      tenant_id: tenant,
      kind: 'test',
      dedupe_key: key,
      status: 'resolved',
      client_id: client,
      title: key,
      detail: key,
      opened_at: new Date(opened),
      resolved_at: new Date(resolved),
      resolved_by: by,
    })
    .execute();
}

beforeAll(async () => {
  t = await createTestDatabase();
  tenant = (
    await t.db
      .insertInto('tenants')
      .values({ slug: 'rollout', name: 'Rollout MSP', settings: JSON.stringify({ timezone: 'America/Chicago' }) as never })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  await withTenant(t.db, tenant, async (tx) => {
    const [p, r] = (
      await tx
        .insertInto('clients')
        .values([
          { tenant_id: tenant, name: 'Pilot Dental', identifier: 'PIL', collection_enabled: true },
          { tenant_id: tenant, name: 'Later Law', identifier: 'LAT', collection_enabled: false },
        ])
        .returning('id')
        .execute()
    ).map((x) => x.id) as [string, string];
    // P1: issued Monday 2 March, paid Wednesday 4 March (2 days); in the PSA and the books.
    const p1 = await insertInvoice(tx, tenant, {
      client: p,
      number: 'P1',
      total: 10000n,
      psaBalance: 0n,
      paid: 10000n,
      status: 'paid',
      issued: '2026-03-02',
      due: '2026-03-16',
      psaUpdatedAt: '2026-03-04T19:00:00Z',
    });
    const pay1 = await insertPayment(tx, tenant, {
      client: p,
      amount: 10000n,
      state: 'succeeded',
      at: '2026-03-04T18:00:00Z',
      kind: 'card',
      pays: [[p1, 10000n]],
    });
    await posting(tx, pay1, p1, 'psa', 'posted');
    await posting(tx, pay1, p1, 'accounting', 'posted');
    // P2: issued 20 February, paid 5 March (13 days); in the PSA, but the books refused it.
    const p2 = await insertInvoice(tx, tenant, {
      client: p,
      number: 'P2',
      total: 20000n,
      psaBalance: 0n,
      paid: 20000n,
      status: 'paid',
      issued: '2026-02-20',
      due: '2026-03-06',
      psaUpdatedAt: '2026-03-05T19:00:00Z',
    });
    failedBooksPayment = await insertPayment(tx, tenant, {
      client: p,
      amount: 20000n,
      state: 'succeeded',
      at: '2026-03-05T18:00:00Z',
      kind: 'card',
      pays: [[p2, 20000n]],
    });
    await posting(tx, failedBooksPayment, p2, 'psa', 'posted');
    await posting(tx, failedBooksPayment, p2, 'accounting', 'failed');
    // R1: the other client's invoice of 23 February, still open.
    await insertInvoice(tx, tenant, {
      client: r,
      number: 'R1',
      total: 30000n,
      psaBalance: 30000n,
      status: 'open',
      issued: '2026-02-23',
      due: '2026-03-09',
      psaUpdatedAt: '2026-02-23T15:00:00Z',
    });
    // Touches in the week of 2 March: a person closed one of each client's (24 h and 3 h); Settle cleared another.
    await exception(tx, p, 'x1', '2026-03-03T15:00:00Z', '2026-03-04T15:00:00Z', 'user:11111111-1111-1111-1111-111111111111');
    await exception(tx, r, 'x2', '2026-03-05T10:00:00Z', '2026-03-05T13:00:00Z', 'user:11111111-1111-1111-1111-111111111111');
    await exception(tx, p, 'x3', '2026-03-03T15:00:00Z', '2026-03-04T16:00:00Z', 'system:invoice-paid');
  });
  report = await withTenant(t.db, tenant, (tx) => rolloutReport(tx, tenant, NOW));
}, 120_000);
afterAll(async () => t?.drop());

describe('rollout view', () => {
  it('13 weeks, Mondays in Chicago, the last one this week', () => {
    expect(report.weeks).toHaveLength(13);
    expect(report.weeks[0]!.weekStart).toBe('2025-12-15');
    expect(report.weeks.at(-1)!.weekStart).toBe('2026-03-09');
    expect([report.pilotClients, report.otherClients]).toEqual([1, 1]);
  });

  it('weekly DSO, days to pay and touches, pilot against the rest', () => {
    const week = (ws: string) => report.weeks.find((w) => w.weekStart === ws)!;
    // Week of 23 Feb: P2 (200.00) open at its end, invoiced 200.00 in the 28 days → 28; R1 likewise.
    expect(week('2026-02-23').pilot).toMatchObject({ dso: 28, collectionDays: null, touches: 0 });
    expect(week('2026-02-23').rest).toMatchObject({ dso: 28 });
    // Week of 2 March: the pilot's invoices are paid (DSO 0), in 2 and 13 days; one touch each side.
    expect(week('2026-03-02').pilot).toEqual({ dso: 0, collectionDays: 7.5, paid: 2, touches: 1, resolveHours: 24 });
    expect(week('2026-03-02').rest).toEqual({ dso: 28, collectionDays: null, paid: 0, touches: 1, resolveHours: 3 });
    // This week, measured up to now.
    expect(week('2026-03-09').rest.dso).toBe(28);
    expect(week('2026-03-09').pilot.dso).toBe(0);
  });

  it('the pilot check lists the payment the books refused', () => {
    expect(report.check.payments).toBe(2);
    expect(report.check.reachedBoth).toBe(1);
    expect(report.check.notYet.map((p) => [p.id, p.psa, p.books])).toEqual([[failedBooksPayment, 'posted', 'failed']]);
  });
});
