// One bad PSA record must not stop a workspace's import (issue: a NUL byte in one company name made 8 sync
// runs fail with 0 clients and 0 invoices imported). Text PostgreSQL cannot store is cleaned at the mapping
// boundary; a record that still cannot be stored (or understood) becomes an exception naming it, and the rest
// of the import goes on. Real PostgreSQL, the ConnectWise simulator over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  // An empty PSA at wiring time; the records below arrive before the first real import.
  stack = await startStack({ companies: 0, invoices: 0 });
});
afterAll(async () => stack?.close());

const db = () => stack.database.db;

async function exceptions(): Promise<{ kind: string; title: string; detail: string; status: string; dedupe_key: string }[]> {
  return withTenant(db(), stack.tenantId, (tx) =>
    tx
      .selectFrom('exceptions')
      .select(['kind', 'title', 'detail', 'status', 'dedupe_key'])
      .where('kind', '=', 'psa_record_rejected')
      .orderBy('dedupe_key')
      .execute(),
  );
}

describe('PSA records PostgreSQL cannot store', () => {
  it('strips NUL and unpaired surrogates, quarantines a record that still fails, and imports everything else', async () => {
    const cw = stack.sims.connectwise;
    cw.sim.callbackOptions.drop = true; // the import path alone (callbacks are tested in callbacks.test.ts)
    cw.sim.seed({ companies: 3, invoices: 6, seed: 7, paidShare: 0 });
    const good = [...cw.state.companies.all()];
    const nul = cw.state.addCompany('NULCO', 'Contoso\u0000 Ltd');
    const surrogate = cw.state.addCompany('SURR', 'Fabrikam \uD83D Inc');
    cw.state.addContact(nul.id, 'Nia', 'Null', 'ap@contoso.test', { default: true, billing: true });
    const nulInvoice = cw.sim.createInvoice({ companyId: nul.id, lines: [{ kind: 'product', description: 'Backup\u0000 plan', quantity: 1, price: '99.00' }] });
    cw.sim.createInvoice({ companyId: surrogate.id });
    // Fails for another reason: a date that does not exist (the database refuses it, class 22 data exception).
    const badDate = cw.sim.createInvoice({ companyId: good[0]!.id, date: '2026-02-30', dueDate: '2026-03-30' });
    // Cannot even be understood: an invoice type ConnectWise does not have.
    const badType = cw.sim.createInvoice({ companyId: good[1]!.id });
    (badType as { type: string }).type = 'Mystery';
    // A company Settle cannot read (identifier not text), and so its invoice cannot be stored either.
    const badCompany = cw.state.addCompany('BADCO', 'Broken Co');
    const orphan = cw.sim.createInvoice({ companyId: badCompany.id });
    (badCompany as { identifier: unknown }).identifier = 42;
    const expectedInvoices = cw.state.invoices.all().length - 3;

    const summary = await syncPsa(stack.settle!.ctx, stack.tenantId);
    expect(summary.clients).toBe(good.length + 2); // the readable ones

    const { clients, invoices, lines } = await withTenant(db(), stack.tenantId, async (tx) => ({
      clients: await tx.selectFrom('clients').select(['name', 'identifier']).execute(),
      invoices: await tx.selectFrom('invoices').select('number').execute(),
      lines: await tx.selectFrom('invoice_lines').select('description').execute(),
    }));
    expect(clients).toHaveLength(good.length + 2);
    expect(clients.find((c) => c.identifier === 'NULCO')?.name).toBe('Contoso Ltd');
    expect(clients.find((c) => c.identifier === 'SURR')?.name).toBe('Fabrikam \uFFFD Inc');
    expect(invoices).toHaveLength(expectedInvoices);
    expect(invoices.map((i) => i.number)).toContain(nulInvoice.invoiceNumber);
    expect(invoices.map((i) => i.number)).not.toContain(badDate.invoiceNumber);
    expect(lines.map((l) => l.description)).toContain('Backup plan');

    const open = await exceptions();
    expect(open.map((e) => e.dedupe_key).sort()).toEqual(
      [
        `psa-record:connectwise:client:${badCompany.id}`,
        `psa-record:connectwise:invoice:${badDate.id}`,
        `psa-record:connectwise:invoice:${badType.id}`,
        `psa-record:connectwise:invoice:${orphan.id}`,
      ].sort(),
    );
    expect(open.find((e) => e.dedupe_key.endsWith(`client:${badCompany.id}`))!.detail).toMatch(/identifier/);
    expect(open.find((e) => e.dedupe_key.endsWith(`invoice:${orphan.id}`))!.detail).toMatch(/its company \(id \d+\) is not in Settle/);
    const dateEx = open.find((e) => e.dedupe_key.endsWith(`:${badDate.id}`))!;
    expect(dateEx.status).toBe('open');
    expect(dateEx.title).toContain(badDate.invoiceNumber);
    expect(dateEx.detail).toMatch(/date|out of range/i);
    expect(dateEx.detail).toMatch(/Correct the record in connectwise/);
    const typeEx = open.find((e) => e.dedupe_key.endsWith(`:${badType.id}`))!;
    expect(typeEx.detail).toContain('Mystery');

    // A second run finds nothing new and does not fail either.
    await expect(syncPsa(stack.settle!.ctx, stack.tenantId)).resolves.toBeTruthy();

    // Corrected in the PSA (which moves its last-updated stamp): imported, and the exception closes itself.
    const fixed = cw.state.invoices.get(badDate.id)!;
    fixed.date = '2026-02-28T00:00:00Z';
    cw.sim.updateInvoice(badDate.id, { status: 'New' });
    await syncPsa(stack.settle!.ctx, stack.tenantId);
    const after = await exceptions();
    expect(after.find((e) => e.dedupe_key.endsWith(`:${badDate.id}`))?.status).toBe('resolved');
    expect(after.find((e) => e.dedupe_key.endsWith(`:${badType.id}`))?.status).toBe('open');
    const numbers = await withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('invoices').select('number').execute());
    expect(numbers.map((i) => i.number)).toContain(badDate.invoiceNumber);
  });

  it('a callback about a record Settle cannot understand sets it aside as an exception instead of failing forever', async () => {
    const cw = stack.sims.connectwise;
    cw.sim.callbackOptions.drop = false;
    const inv = cw.sim.createInvoice({ companyId: cw.state.companies.all()[0]!.id });
    // One of its lines carries a billable option ConnectWise does not have.
    const line = cw.state.products.all().find((p) => p.invoice?.id === inv.id)!;
    (line as { billableOption: string }).billableOption = 'Sometimes';
    const ex = await eventually(
      async () => (await exceptions()).find((e) => e.dedupe_key === `psa-record:connectwise:invoice:${inv.id}`),
      30_000,
      'the exception for the invoice with an unknown line option',
    );
    expect(ex.status).toBe('open');
    expect(ex.detail).toMatch(/product line \d+: unknown billableOption "Sometimes"/);
    const inbox = () =>
      withTenant(db(), stack.tenantId, (tx) =>
        tx.selectFrom('inbox_events').select(['processed_at', 'last_error']).where('source', '=', 'connectwise').execute(),
      );
    await eventually(
      async () => {
        const rows = await inbox();
        return rows.length > 0 && rows.every((e) => e.processed_at !== null && e.last_error === null);
      },
      30_000,
      'the callback processed once, without an error to retry',
    );
  });
});
