// Two reads of the same invoice that the PSA's timestamp cannot order (ConnectWise keeps whole seconds, and
// a PSA clock may run ahead of ours): the read that was sent later must win, so a fetch that started before
// our own payment write-back can never undo the read-back that followed it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { money } from '../../src/domain/money.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { ingestInvoice } from '../../src/engine/ingest-invoice.ts';
import type { PsaInvoice } from '../../src/connectors/psa/types.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let t: TestDatabase;
let tenantId: string;
let clientId: string;
beforeAll(async () => {
  t = await createTestDatabase();
  tenantId = (await t.db.insertInto('tenants').values({ slug: 'order-test', name: 'Order test' }).returning('id').executeTakeFirstOrThrow()).id;
  clientId = await withTenant(
    t.db,
    tenantId,
    async (tx) =>
      (await tx.insertInto('clients').values({ tenant_id: tenantId, name: 'Client', identifier: 'C1' }).returning('id').executeTakeFirstOrThrow()).id,
  );
});
afterAll(async () => t.drop());

function invoice(updatedAt: string, balanceMinor: bigint, status = 'Sent'): PsaInvoice {
  return {
    externalId: '77',
    number: 'INV-77',
    type: 'standard',
    status,
    clientExternalId: '1',
    issuedOn: '2026-11-01',
    dueOn: '2026-12-01',
    currency: 'USD',
    subtotal: money(10000n, 'USD'),
    tax: money(0n, 'USD'),
    total: money(10000n, 'USD'),
    balance: money(balanceMinor, 'USD'),
    lines: [{ externalId: 'product:1', kind: 'product', description: 'Support', quantity: '1', amount: money(10000n, 'USD') }],
    updatedAt,
  };
}

const stored = () =>
  withTenant(t.db, tenantId, (tx) =>
    tx.selectFrom('invoices').select(['psa_balance_minor', 'status']).where('number', '=', 'INV-77').executeTakeFirstOrThrow(),
  );
const ingest = (inv: PsaInvoice, fetchedAt: Date) => withTenant(t.db, tenantId, (tx) => ingestInvoice(tx, tenantId, 'connectwise', inv, clientId, fetchedAt));

describe('ordering reads of the same invoice', () => {
  it('same PSA second: the later read wins, whatever order they are stored in', async () => {
    const second = '2026-11-27T02:07:16Z';
    await ingest(invoice(second, 10000n), new Date('2026-11-27T02:07:16.100Z'));
    // The read-back after our payment (sent later) is stored first ...
    await ingest(invoice(second, 0n, 'Paid'), new Date('2026-11-27T02:07:16.300Z'));
    expect(await stored()).toEqual({ psa_balance_minor: 0n, status: 'paid' });
    // ... and a read that was sent before it, stored late, changes nothing.
    const r = await ingest(invoice(second, 10000n), new Date('2026-11-27T02:07:16.200Z'));
    expect(r.change).toBe('stale');
    expect(await stored()).toEqual({ psa_balance_minor: 0n, status: 'paid' });
  });

  it('a PSA stamp in the future does not freeze the invoice: our own read order decides', async () => {
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString();
    await ingest(invoice(future, 10000n), new Date(Date.now() - 1000));
    const r = await ingest(invoice(new Date().toISOString(), 0n, 'Paid'), new Date());
    expect(r.change).not.toBe('stale');
    expect((await stored()).psa_balance_minor).toBe(0n);
  });
});
