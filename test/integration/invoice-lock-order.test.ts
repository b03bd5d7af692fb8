// The soak's autopay-run "deadlock detected": planning inserts autopay schedules, whose foreign-key checks
// lock their invoices FOR KEY SHARE one after another; a payment being recorded held one of those invoices
// FOR UPDATE and then asked for another the plan had already key-share locked. Invoices are now locked
// FOR NO KEY UPDATE (invoice-locks.ts), which rows merely referring to an invoice do not wait for.
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createWorkspace } from '../../src/cli/workspace.ts';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import { lockInvoices } from '../../src/engine/invoice-locks.ts';

let database: TestDatabase | null = null;
afterAll(async () => {
  await database?.drop();
});

it('a payment holding invoices and an insert referring to them in the other order do not deadlock', { timeout: 120_000 }, async () => {
  database = await createTestDatabase();
  const { db } = database;
  const tenantId = await createWorkspace(db, {
    slug: 'acme-it',
    name: 'Acme IT',
    adminEmail: 'owner@acme.test',
    adminPassword: 'correct horse battery',
    actor: 'system:test',
  });
  const [a, b] = await withTenant(db, tenantId, async (tx) => {
    const client = await sql<{ id: string }>`
      INSERT INTO clients (tenant_id, name, identifier) VALUES (${tenantId}, 'Globex', 'GLOBEX') RETURNING id`.execute(tx);
    const ids: string[] = [];
    for (const n of ['INV-1', 'INV-2']) {
      const r = await sql<{ id: string }>`
        INSERT INTO invoices (tenant_id, client_id, number, type, currency, total_minor, psa_balance_minor, status, psa_status, issued_on, psa_updated_at)
        VALUES (${tenantId}, ${client.rows[0]!.id}, ${n}, 'standard', 'USD', 10000, 10000, 'open', 'Open', current_date, now())
        RETURNING id`.execute(tx);
      ids.push(r.rows[0]!.id);
    }
    return ids.sort();
  });
  // A row referring to an invoice (as an autopay schedule does): its foreign-key check locks the invoice.
  const refer = (tx: Tx, invoiceId: string): Promise<unknown> =>
    sql`INSERT INTO invoice_lines (tenant_id, invoice_id, version, line_no, external_id, kind, description, quantity, amount_minor)
        VALUES (${tenantId}, ${invoiceId}, 1, 1, 'x', 'product', 'Managed services', '1', 10000)`.execute(tx);

  let referredToA!: () => void;
  const aReferred = new Promise<void>((resolve) => (referredToA = resolve));
  let paymentHoldsB!: () => void;
  const bHeld = new Promise<void>((resolve) => (paymentHoldsB = resolve));
  // The payment: holds B, then — once the plan has referred to A — asks for A.
  const payment = withTenant(db, tenantId, async (tx) => {
    await sql`SET LOCAL lock_timeout = '60s'`.execute(tx);
    await lockInvoices(tx, [b!]);
    paymentHoldsB();
    await aReferred;
    await lockInvoices(tx, [a!]);
  });
  // The plan: refers to A, then to B (which the payment holds).
  const plan = withTenant(db, tenantId, async (tx) => {
    await sql`SET LOCAL lock_timeout = '60s'`.execute(tx);
    await bHeld;
    await refer(tx, a!);
    referredToA();
    await refer(tx, b!);
  });
  const results = await Promise.allSettled([payment, plan]);
  // With FOR UPDATE one of the two is chosen as the deadlock victim ("deadlock detected").
  expect(results.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message) : 'ok'))).toEqual(['ok', 'ok']);
  const lines = await withTenant(db, tenantId, (tx) => tx.selectFrom('invoice_lines').select('invoice_id').execute());
  expect(lines).toHaveLength(2);
});
