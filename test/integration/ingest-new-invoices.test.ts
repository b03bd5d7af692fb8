// The bulk path for invoices Settle has never seen (ingestNewInvoices: one json parameter per statement):
// every column lands with its own type, lines keep their contract, the snapshot is the invoice object, and
// numbers inserted meanwhile by another ingestion come back as "raced" instead of failing or doubling.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { money } from '../../src/domain/money.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { ingestNewInvoices } from '../../src/engine/ingest-invoice.ts';
import type { PsaInvoice } from '../../src/connectors/psa/types.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let t: TestDatabase;
let tenantId: string;
let clientId: string;
beforeAll(async () => {
  t = await createTestDatabase();
  tenantId = (await t.db.insertInto('tenants').values({ slug: 'bulk-test', name: 'Bulk test' }).returning('id').executeTakeFirstOrThrow()).id;
  clientId = await withTenant(
    t.db,
    tenantId,
    async (tx) =>
      (await tx.insertInto('clients').values({ tenant_id: tenantId, name: 'Client', identifier: 'C1' }).returning('id').executeTakeFirstOrThrow()).id,
  );
});
afterAll(async () => t.drop());

function invoice(n: number): PsaInvoice {
  return {
    externalId: String(n),
    number: `INV-${n}`,
    type: 'standard',
    status: 'Sent',
    clientExternalId: '1',
    issuedOn: '2026-11-01',
    dueOn: '2026-12-01',
    currency: 'USD',
    subtotal: money(12_345_678_901_234n, 'USD'),
    tax: money(0n, 'USD'),
    total: money(12_345_678_901_234n, 'USD'), // bigint minor units, sent as text inside the json parameter
    balance: money(12_345_678_901_234n, 'USD'),
    lines: [
      {
        externalId: `product:${n}`,
        kind: 'product',
        description: 'Managed "Workstation" \\ 10',
        quantity: '10',
        amount: money(12_345_678_900_241n, 'USD'),
        contract: { externalId: 'agreement:7', name: 'Managed Services', kind: 'managed_services' },
      },
      { externalId: `time:${n}`, kind: 'time', description: 'Remote support ✓', quantity: '1.5', amount: money(993n, 'USD') },
    ],
    updatedAt: '2026-11-01T10:00:00Z',
  };
}

const bulk = (ns: number[]) =>
  withTenant(t.db, tenantId, (tx) =>
    ingestNewInvoices(
      tx,
      tenantId,
      'connectwise',
      ns.map((n) => ({ inv: invoice(n), clientId })),
    ),
  );

describe('ingestNewInvoices', () => {
  it('stores invoices, refs, versions and lines exactly; numbers already there come back as raced', async () => {
    expect((await bulk([1, 2, 3])).inserted).toBe(3);
    const again = await bulk([2, 3, 4]);
    expect(again.inserted).toBe(1);
    expect(again.raced.map((r) => r.inv.number).sort()).toEqual(['INV-2', 'INV-3']);
    const rows = await withTenant(t.db, tenantId, async (tx) => ({
      invoices: await tx.selectFrom('invoices').select(['number', 'total_minor', 'status', 'due_on']).orderBy('number').execute(),
      refs: await tx.selectFrom('external_refs').select(['remote_id']).where('entity', '=', 'invoice').execute(),
      lines: await tx
        .selectFrom('invoice_lines')
        .select(['description', 'quantity', 'amount_minor', 'line_no', 'contract_ref', 'contract_kind'])
        .orderBy('amount_minor')
        .execute(),
      snapshot: (
        await sql<{
          kind: string;
          total: string;
        }>`SELECT jsonb_typeof(snapshot) AS kind, snapshot->'total'->>'amountMinor' AS total FROM invoice_versions LIMIT 1`.execute(tx)
      ).rows[0],
    }));
    expect(rows.invoices.map((i) => i.number)).toEqual(['INV-1', 'INV-2', 'INV-3', 'INV-4']);
    expect(rows.invoices.every((i) => i.total_minor === 12_345_678_901_234n && i.status === 'open')).toBe(true);
    expect(rows.refs).toHaveLength(4);
    expect(rows.lines).toHaveLength(8);
    expect(rows.lines[0]).toMatchObject({ description: 'Remote support ✓', quantity: '1.5', amount_minor: 993n, line_no: 2, contract_ref: null });
    expect(rows.lines[7]).toMatchObject({
      description: 'Managed "Workstation" \\ 10',
      amount_minor: 12_345_678_900_241n,
      line_no: 1,
      contract_ref: 'agreement:7',
      contract_kind: 'managed_services',
    });
    expect(rows.snapshot).toEqual({ kind: 'object', total: '12345678901234' });
  });
});
