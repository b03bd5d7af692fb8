// Issue #9 "Needs attention", over real PostgreSQL, the simulators and the API: GET /api/v1/exceptions lists
// exactly the queue the staff page shows (one query) and the badge counts it; every item names client,
// invoice, amount, where and why; items clear themselves when their cause clears (a refused books posting
// once it is posted, a waiting one once its invoice appears, a decline once the invoice is paid — also
// when it was paid before the decline was handled); the fixes (retry one or many, resolve with a note,
// dismiss with a reason) go through the engine, are audited and keep who/when/why; a viewer changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { attentionItems, openAttentionCount } from '../../src/db/queries/attention.ts';
import { enqueue } from '../../src/engine/enqueue.ts';
import { raiseException } from '../../src/engine/exceptions.ts';
import { invoiceWatchJobKey } from '../../src/engine/watch-books-invoices.ts';
import { createApiKey } from '../../src/cli/workspace.ts';
import { faultBody, faults } from '../../simulators/quickbooks-online/faults.ts';
import { api, charge, savedCard } from '../helpers/failed-payments.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let key = '';
let viewerKey = '';
beforeAll(async () => {
  stack = await startStack({ companies: 4, invoices: 12 });
  key = await stack.apiKey();
  viewerKey = await createApiKey(stack.database.db, stack.tenantId, 'viewer', 'system:test', { role: 'viewer' });
}, 240_000);
afterAll(async () => stack?.close());

const LONG = 90_000;
const db = () => stack.database.db;
const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(db(), stack.tenantId, fn);
type Item = Record<string, any>;

async function openItems(): Promise<Item[]> {
  const r = await api(stack, key, 'GET', '/exceptions?limit=500');
  expect(r.status).toBe(200);
  return r.body.data;
}

/** The QuickBooks Payments applied to the books' invoice with this number. */
function booksPaymentsFor(number: string): unknown[] {
  const qbo = stack.sims.quickbooks.sim;
  const inv = qbo.invoices().find((i) => i['DocNumber'] === number);
  if (!inv) return [];
  return qbo.payments().filter((p) => JSON.stringify(p['Line']).includes(`"TxnId":"${String(inv['Id'])}"`));
}

/** QuickBooks refuses the next Payment: the customer was made inactive (Intuit's 610 ValidationFault). */
function refuseNextBooksPayment(): void {
  const fault = faults.objectNotFound('Customer', '58');
  stack.sims.quickbooks.sim.faults.add({ method: 'POST', pathPattern: '/payment$', fault: { kind: 'status', status: 400, body: faultBody(fault) }, times: 1 });
}

async function itemForPayment(paymentId: string, kind: string): Promise<Item> {
  return eventually(async () => (await openItems()).find((e) => e.payment_id === paymentId && e.kind === kind), LONG, `${kind} for ${paymentId}`);
}

describe('the Needs-attention queue', () => {
  it('a refused books posting: named, explained, retried → exactly one QuickBooks Payment and the item is gone', async () => {
    const inv = (await openInvoices(stack))[0]!;
    refuseNextBooksPayment();
    const { paymentId } = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    const item = await itemForPayment(paymentId, 'posting_failed');
    const client = await q((tx) => tx.selectFrom('clients').select('name').where('id', '=', inv.client_id).executeTakeFirstOrThrow());

    expect(item).toMatchObject({
      status: 'open',
      client_name: client.name,
      invoices: [{ id: inv.id, number: inv.number }],
      amount_minor: inv.total_minor.toString(),
      currency: 'USD',
      where: 'books',
      fixes: ['retry', 'remap', 'resolve', 'dismiss'],
    });
    expect(item.why).toContain('QuickBooks refused it');
    expect(item.why).toContain('made inactive');
    expect(item.next).toMatch(/^Nothing until someone acts/);
    expect(booksPaymentsFor(inv.number)).toHaveLength(0);

    // One query: the API's list is the queue, and the badge counts it.
    const viaQuery = await q((tx) => attentionItems(tx, { limit: 500 }));
    expect((await openItems()).map((e) => e.id)).toEqual(viaQuery.map((e) => e.id));
    expect(await q((tx) => openAttentionCount(tx))).toBe(viaQuery.length);

    // A viewer may read but not retry: 403, nothing queued.
    expect((await api(stack, viewerKey, 'GET', '/exceptions')).status).toBe(200);
    expect((await api(stack, viewerKey, 'POST', `/exceptions/${item.id}/retry`)).status).toBe(403);
    const posting = () => q((tx) => tx.selectFrom('postings').selectAll().where('id', '=', item.posting_id).executeTakeFirstOrThrow());
    expect((await posting()).status).toBe('failed');

    // The cause is gone (the fault was used up: the customer is active again); Retry.
    const retried = await api(stack, key, 'POST', `/exceptions/${item.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: item.posting_id, status: 'pending', retried: 'posting' });
    await eventually(async () => (await posting()).status === 'posted', LONG, 'the posting posted');
    const closed = await q((tx) => tx.selectFrom('exceptions').selectAll().where('id', '=', item.id).executeTakeFirstOrThrow());
    expect(closed).toMatchObject({ status: 'resolved', resolution: 'posted', resolved_by: 'system:posting-posted' });
    expect(booksPaymentsFor(inv.number)).toHaveLength(1);
    expect((await openItems()).map((e) => e.id)).not.toContain(item.id);
    const audit = await q((tx) => tx.selectFrom('audit_log').select(['action', 'actor']).where('subject_id', 'in', [item.id, item.posting_id]).execute());
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['exception.retry_requested', 'posting.retry_requested', 'exception.resolved']));
    // Nothing left to retry.
    expect((await api(stack, key, 'POST', `/exceptions/${item.id}/retry`)).status).toBe(409);
  }, 300_000);

  it('a books posting waiting for its invoice clears itself when the invoice appears in QuickBooks', async () => {
    const company = stack.sims.connectwise.state.companies.all()[1]!;
    const cw = stack.sims.connectwise.sim.createInvoice({
      companyId: company.id,
      lines: [{ kind: 'product', description: 'Managed services', quantity: '2', price: '45.00' }],
    });
    const inv = await eventually(
      () => q((tx) => tx.selectFrom('invoices').select(['id', 'client_id', 'number']).where('number', '=', cw.invoiceNumber).executeTakeFirst()),
      LONG,
      'the new invoice in Settle',
    );
    const { paymentId } = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    const item = await itemForPayment(paymentId, 'posting_waiting_for_invoice');
    expect(item).toMatchObject({ where: 'books', amount_minor: '9000', invoices: [{ number: inv.number }] });
    expect(item.why).toBe(
      `Invoice #${inv.number} is not in QuickBooks yet: the PSA's accounting export has not sent it there, so the payment has nothing to be applied to.`,
    );
    expect(item.next).toMatch(/posts the payment by itself when it appears/);

    const before = await q((tx) => openAttentionCount(tx));
    stack.sims.quickbooks.sim.seedInvoice({ docNumber: inv.number, customerName: company.name, amount: '90.00' });
    // The look-up's next run (every few minutes) comes now.
    await enqueue(
      db(),
      'watch-books-invoices',
      { tenantId: stack.tenantId },
      { jobKey: invoiceWatchJobKey(stack.tenantId), runAt: new Date(), queueName: `accounting:${stack.tenantId}` },
    );
    await eventually(async () => !(await openItems()).some((e) => e.id === item.id), LONG, 'the waiting item gone');
    expect(booksPaymentsFor(inv.number)).toHaveLength(1);
    expect(await q((tx) => openAttentionCount(tx))).toBe(before - 1);
  }, 300_000);

  it('change the mapping: the invoice is in QuickBooks under another number; named there, the payment posts to it', async () => {
    const company = stack.sims.connectwise.state.companies.all()[2]!;
    const cw = stack.sims.connectwise.sim.createInvoice({
      companyId: company.id,
      lines: [{ kind: 'product', description: 'Firewall', quantity: '1', price: '120.00' }],
    });
    const inv = await eventually(
      () => q((tx) => tx.selectFrom('invoices').select(['id', 'client_id', 'number']).where('number', '=', cw.invoiceNumber).executeTakeFirst()),
      LONG,
      'the new invoice in Settle',
    );
    // The bookkeeper typed it into QuickBooks with a prefix.
    const booksNumber = `INV-${inv.number}`;
    stack.sims.quickbooks.sim.seedInvoice({ docNumber: booksNumber, customerName: company.name, amount: '120.00' });
    const { paymentId } = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    const item = await itemForPayment(paymentId, 'posting_waiting_for_invoice');
    expect(item.fixes).toContain('remap');

    const blank = await api(stack, key, 'POST', `/exceptions/${item.id}/remap`, { books_invoice_number: ' ' });
    expect(blank.status).toBe(422);
    expect(blank.body.error.message).toMatch(/books invoice number is missing/);
    expect((await api(stack, viewerKey, 'POST', `/exceptions/${item.id}/remap`, { books_invoice_number: booksNumber })).status).toBe(403);

    const remapped = await api(stack, key, 'POST', `/exceptions/${item.id}/remap`, { books_invoice_number: booksNumber });
    expect(remapped.status).toBe(202);
    expect(remapped.body).toMatchObject({ invoice_id: inv.id, books_invoice_number: booksNumber, previous: inv.number, posting: { status: 'pending' } });
    await eventually(async () => !(await openItems()).some((e) => e.id === item.id), LONG, 'the item gone once posted to the mapped invoice');
    expect(booksPaymentsFor(booksNumber)).toHaveLength(1);
    const audit = await q((tx) =>
      tx.selectFrom('audit_log').select('detail').where('action', '=', 'invoice.books_number_mapped').where('subject_id', '=', inv.id).execute(),
    );
    expect(audit.map((a) => a.detail)).toEqual([expect.objectContaining({ from: inv.number, to: booksNumber })]);
  }, 300_000);

  it('a declined charge stays listed until the invoice is paid, and never when it was paid already', async () => {
    const inv = (await openInvoices(stack))[1]!;
    const card = await savedCard(stack, inv.client_id, 'pm_card_chargeDeclined');
    const { paymentId } = await charge(stack, key, card, [inv.id]);
    const item = await itemForPayment(paymentId, 'payment_failed');
    expect(item).toMatchObject({ where: 'processor', invoices: [{ id: inv.id, number: inv.number }], amount_minor: inv.total_minor.toString() });

    // The client pays in the portal: the decline is no longer anyone's business.
    await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    await eventually(async () => !(await openItems()).some((e) => e.id === item.id), LONG, 'the decline gone once paid');
    const closed = await q((tx) => tx.selectFrom('exceptions').selectAll().where('id', '=', item.id).executeTakeFirstOrThrow());
    expect(closed).toMatchObject({ status: 'resolved', resolution: 'invoice_paid' });

    // A decline handled after the invoice was paid another way is stored closed at once.
    const late = await q((tx) =>
      raiseException(tx, stack.tenantId, 'system:test', {
        kind: 'payment_failed',
        dedupeKey: `payment_failed:late-${paymentId}`,
        clientId: inv.client_id,
        invoiceIds: [inv.id],
        paymentId,
        title: 'Payment failed (handled late)',
        detail: 'card declined',
      }),
    );
    const row = await q((tx) => tx.selectFrom('exceptions').selectAll().where('id', '=', late).executeTakeFirstOrThrow());
    expect(row).toMatchObject({ status: 'resolved', resolution: 'invoice_paid', resolved_by: 'system:invoice-paid' });
    expect((await openItems()).map((e) => e.id)).not.toContain(late);
  }, 300_000);

  it('resolve with a note, dismiss with a reason (kept with who and when), bad input changes nothing, bulk retry reports each', async () => {
    const raise = (n: number) =>
      q((tx) =>
        raiseException(tx, stack.tenantId, 'system:test', {
          kind: 'psa_record_rejected',
          dedupeKey: `test-note:${n}`,
          clientId: null,
          invoiceIds: [],
          paymentId: null,
          title: `ConnectWise sent a record Settle cannot take (${n})`,
          detail: 'invoice 77 has no company',
        }),
      );
    const a = await raise(1);
    const b = await raise(2);
    const row = (id: string) => q((tx) => tx.selectFrom('exceptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow());

    // Missing or blank reason: 422 with what to do, nothing changed. A viewer: 403, nothing changed.
    const blank = await api(stack, key, 'POST', `/exceptions/${a}/resolve`, { note: '   ' });
    expect(blank.status).toBe(422);
    expect(blank.body.error.message).toMatch(/note on what was done is missing/);
    expect((await api(stack, key, 'POST', `/exceptions/${b}/dismiss`, {})).status).toBe(422);
    expect((await api(stack, viewerKey, 'POST', `/exceptions/${a}/resolve`, { note: 'x' })).status).toBe(403);
    expect((await api(stack, viewerKey, 'POST', `/exceptions/${b}/dismiss`, { reason: 'x' })).status).toBe(403);
    expect((await row(a)).status).toBe('open');
    expect((await row(b)).status).toBe('open');

    expect((await api(stack, key, 'POST', `/exceptions/${a}/remap`, { books_invoice_number: 'X-1' })).status).toBe(409);
    // Bulk retry: neither is about a posting; each is reported, nothing changes.
    const bulk = await api(stack, key, 'POST', '/exceptions/retry', { ids: [a, b] });
    expect(bulk.status).toBe(202);
    expect(bulk.body.data).toEqual([
      { id: a, ok: false, error: expect.stringContaining('is not about a posting') },
      { id: b, ok: false, error: expect.stringContaining('is not about a posting') },
    ]);

    expect((await api(stack, key, 'POST', `/exceptions/${a}/resolve`, { note: 'Fixed the company in ConnectWise' })).status).toBe(200);
    expect((await api(stack, key, 'POST', `/exceptions/${b}/dismiss`, { reason: 'A test invoice, deleted' })).status).toBe(200);
    const [ra, rb] = [await row(a), await row(b)];
    expect(ra).toMatchObject({ status: 'resolved', resolution: 'resolved', resolution_note: 'Fixed the company in ConnectWise' });
    expect(rb).toMatchObject({ status: 'resolved', resolution: 'dismissed', resolution_note: 'A test invoice, deleted' });
    expect(ra.resolved_by).toMatch(/^api_key:/);
    expect(ra.resolved_at).toBeInstanceOf(Date);
    const resolved = await api(stack, key, 'GET', '/exceptions?status=resolved&limit=500');
    expect(resolved.body.data.find((e: Item) => e.id === b)).toMatchObject({ resolution: 'dismissed', resolution_note: 'A test invoice, deleted', fixes: [] });
    const audit = await q((tx) => tx.selectFrom('audit_log').select(['action', 'detail']).where('subject_id', 'in', [a, b]).orderBy('id').execute());
    expect(
      audit.filter((x) => x.action === 'exception.resolved' || x.action === 'exception.dismissed').map((x) => [x.action, (x.detail as Item).note]),
    ).toEqual([
      ['exception.resolved', 'Fixed the company in ConnectWise'],
      ['exception.dismissed', 'A test invoice, deleted'],
    ]);
    // Closed is closed.
    expect((await api(stack, key, 'POST', `/exceptions/${a}/dismiss`, { reason: 'again' })).status).toBe(409);
  }, 120_000);
});
