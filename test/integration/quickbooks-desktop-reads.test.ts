// QuickBooks Desktop's reads through the Web Connector: the chart of accounts (AccountQuery) for the GL mapping
// and `settle doctor`, and Settle's copy of the books for the three-way reconciliation (InvoiceQuery /
// ReceivePaymentQuery / DepositQuery by ModifiedDateRangeFilter, paged with qbXML iterators), including an
// iterator QuickBooks no longer knows and a run that fails mid-walk. Every document is validated at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startQbdDirect, type QbdDirect } from '../helpers/qbd-web-connector.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { money } from '../../src/domain/money.ts';
import { WaitingForWebConnector } from '../../src/connectors/accounting/quickbooks-desktop/chart.ts';
import { LEDGER_PAGE, OVERLAP_MS, type LedgerReadContext } from '../../src/connectors/accounting/quickbooks-desktop/ledger-read.ts';
import { checkQbdGlMapping } from '../../src/engine/qbd-checks.ts';
import { DoctorProblem } from '../../src/engine/vendor-checks.ts';
import { handleQbxml } from '../../simulators/quickbooks-desktop/qbxml.ts';
import { validateQbxml } from '../conformance/quickbooks-desktop/xsd-validate.ts';

let q: QbdDirect;
const usd = (minor: bigint) => money(minor, 'USD');
const requestsSince = (n: number) => q.sim.webConnector.requests.slice(n).join('\n');
const copied = (table: 'books_invoices' | 'books_payments' | 'books_deposits') =>
  withTenant(
    q.t.db,
    q.tenant,
    async (tx) => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE NOT deleted`.execute(tx)).rows[0]!.n,
  );

/** Forget the cursors and the copied invoices, and queue a walk: a full read again, so there are several pages. */
async function fullReadAgain(): Promise<void> {
  await withTenant(q.t.db, q.tenant, async (tx) => {
    await tx
      .updateTable('qbd_work')
      .set({ context: sql`context - 'from'` as never })
      .where('key', '=', 'ledger-read')
      .execute();
    await tx.deleteFrom('books_invoices').where('vendor', '=', 'quickbooks-desktop').execute();
  });
  await q.books.readLedgerChanges(null);
}

beforeAll(async () => {
  q = await startQbdDirect('qbd-reads');
}, 120_000);

afterAll(async () => {
  await q?.close();
});

describe('the chart of accounts', () => {
  it('before the Web Connector brought one: readChart and settle doctor say they wait for its next poll', async () => {
    await expect(q.books.readChart()).rejects.toThrow(WaitingForWebConnector);
    await expect(q.books.readChart()).rejects.toThrow(/waiting for the Web Connector's next poll \(it has never called Settle/);
    const r = await checkQbdGlMapping(q.books, { bankAccount: 'Checking', feeAccount: 'Merchant Fees' });
    expect(typeof r === 'string' ? r : r.warning).toMatch(/has not been read yet/);
  });

  it('the next poll carries an AccountQuery; the stored chart then offers each account for the roles it may take', async () => {
    const from = q.sim.webConnector.requests.length;
    expect((await q.sim.webConnector.runNow()).outcome).toBe('done');
    expect(requestsSince(from)).toContain('<AccountQueryRq');
    const chart = await q.books.readChart();
    const byName = new Map(chart.accounts.map((a) => [a.name, a]));
    expect(byName.get('Checking')).toMatchObject({ type: 'Bank' });
    expect(byName.get('Checking')!.fits).toContain('bank');
    expect(byName.get('Undeposited Funds')).toMatchObject({ subType: 'UndepositedFunds', fits: ['undeposited_funds'] });
    expect(byName.get('Merchant Fees')!.fits).toContain('processing_fees');
    expect(byName.get('Merchant Fees')!.fits).not.toContain('bank');
    expect(byName.get('Accounts Receivable')!.fits).toEqual([]);
    expect(byName.get('Client Credit')).toMatchObject({ type: 'Other Current Liability' });
    // Read from the store: no new request is queued while the chart is fresh.
    const queued = await withTenant(q.t.db, q.tenant, (tx) =>
      tx.selectFrom('qbd_work').select('state').where('key', '=', 'chart-read').executeTakeFirstOrThrow(),
    );
    expect(queued.state).toBe('done');
  }, 120_000);

  it('settle doctor checks the mapping (names from the keys form, ListIDs from Settings → Accounts) against it', async () => {
    const ok = await checkQbdGlMapping(q.books, { bankAccount: 'Checking', feeAccount: 'Merchant Fees', clearingAccount: 'Payments Clearing' });
    expect(ok).toMatch(/bankAccountId “Checking”.*feeExpenseAccountId “Merchant Fees”/);
    const checking = q.sim.company.accounts.find((a) => a.fullName === 'Checking')!;
    const fees = q.sim.company.accounts.find((a) => a.fullName === 'Merchant Fees')!;
    // A ListID chosen in Settings → Accounts takes the place of the name; an expense account cannot be the bank.
    await expect(checkQbdGlMapping(q.books, { bankAccount: 'Checking', feeAccount: 'Merchant Fees', bankAccountId: fees.listId })).rejects.toThrow(
      new RegExp(`names “Merchant Fees” \\(${fees.listId}\\), Expense, which cannot take this role — choose one of: “Checking” \\(${checking.listId}\\)`),
    );
    await expect(checkQbdGlMapping(q.books, { bankAccount: 'Chequing', feeAccount: 'Merchant Fees' })).rejects.toThrow(DoctorProblem);
    await expect(checkQbdGlMapping(q.books, { bankAccount: 'Chequing', feeAccount: 'Merchant Fees' })).rejects.toThrow(
      /names account Chequing, which is not an active account/,
    );
  });
});

describe("Settle's copy of the books (modified-date iterators)", () => {
  it('a first read walks invoices, payments and deposits page by page and stores every record once', async () => {
    for (let i = 0; i < 2 * LEDGER_PAGE + 50; i++)
      q.sim.company.addInvoice({ refNumber: `L${5000 + i}`, customer: `Client ${i % 7}`, amountCents: 10000n + BigInt(i) });
    const pay = { idempotencyKey: 'pay:L5000', invoiceNumber: 'L5000', amount: usd(10000n), paidOn: '2026-12-06', reference: 'pi_L5000', memo: 'Card payment' };
    await q.books.postPayments([pay]);
    await expect(q.books.readLedgerChanges(null)).rejects.toThrow(/has not been read yet: waiting for the Web Connector's next poll \(at about/);
    const from = q.sim.webConnector.requests.length;
    expect((await q.sim.webConnector.runNow()).outcome).toBe('done');
    const sent = requestsSince(from);
    expect(sent).toMatch(/<InvoiceQueryRq requestID="[^"]+" iterator="Start"><MaxReturned>200<\/MaxReturned><IncludeLinkedTxns>/);
    expect(sent.match(/<InvoiceQueryRq [^>]*iterator="Continue"/g)).toHaveLength(2);
    expect(sent).toContain('<ReceivePaymentQueryRq');
    expect(sent).toContain('<DepositQueryRq');
    const changes = await q.books.readLedgerChanges(null);
    expect(changes).toMatchObject({ complete: true, full: false, invoices: [], payments: [] });
    expect(await copied('books_invoices')).toBe(q.sim.company.invoices.length);
    expect(await copied('books_payments')).toBe(1);
    const p = await withTenant(q.t.db, q.tenant, (tx) =>
      tx.selectFrom('books_payments').select(['settle_key', 'total_minor']).where('vendor', '=', 'quickbooks-desktop').executeTakeFirstOrThrow(),
    );
    expect(p).toEqual({ settle_key: 'pay:L5000', total_minor: 10000n });
  }, 180_000);

  it('the next read starts from each entity’s cursor (inclusive) and brings what changed', async () => {
    const before = await q.books.readLedgerChanges(null); // queues the next walk
    const stored = await withTenant(
      q.t.db,
      q.tenant,
      async (tx) => (await tx.selectFrom('qbd_work').select('context').where('key', '=', 'ledger-read').executeTakeFirstOrThrow()).context as LedgerReadContext,
    );
    expect(stored.from?.Invoice).toMatch(/^\d{4}-\d\d-\d\dT/);
    q.sim.company.addInvoice({ refNumber: 'L9999', customer: 'Late Client', amountCents: 777n });
    const from = q.sim.webConnector.requests.length;
    expect((await q.sim.webConnector.runNow()).outcome).toBe('done');
    const sent = requestsSince(from);
    expect(sent).toMatch(
      /<InvoiceQueryRq [^>]*iterator="Start"><MaxReturned>200<\/MaxReturned><ModifiedDateRangeFilter><FromModifiedDate>[^<]+<\/FromModifiedDate>/,
    );
    // From the latest TimeModified the first walk saw: inclusive, so records stamped in that same second come again.
    const cursor = /<FromModifiedDate>([^<]+)</.exec(sent)![1]!;
    expect(Date.parse(cursor)).toBe(Date.parse(stored.from!.Invoice!) - OVERLAP_MS);
    const invoice = await withTenant(q.t.db, q.tenant, (tx) =>
      tx.selectFrom('books_invoices').select(['number', 'total_minor']).where('number', '=', 'L9999').executeTakeFirst(),
    );
    expect(invoice).toEqual({ number: 'L9999', total_minor: 777n });
    const after = await q.books.readLedgerChanges(null);
    expect(after.asOf.getTime()).toBeGreaterThan(before.asOf.getTime());
  }, 120_000);

  it('an iterator QuickBooks no longer knows (statusCode 3120) makes the entity start again; nothing is lost', async () => {
    await fullReadAgain();
    q.sim.company.iterators.expireNext = 1;
    const from = q.sim.webConnector.requests.length;
    expect((await q.sim.webConnector.runNow()).outcome).toBe('done');
    const starts = requestsSince(from).match(/<InvoiceQueryRq [^>]*iterator="Start"/g) ?? [];
    expect(starts.length).toBe(2); // the first walk's Continue was refused, so Invoice started again
    expect(await copied('books_invoices')).toBe(q.sim.company.invoices.length);
  }, 180_000);

  it('a run that fails mid-walk (HRESULT) drops the iterator; the next run starts the entity again', async () => {
    await fullReadAgain();
    // The first page is answered; the second document (the Continue) fails whole, and the run ends.
    q.sim.webConnector.faults.hresultAfter = 1;
    q.sim.webConnector.faults.hresult = 1;
    const failed = await q.sim.webConnector.runNow();
    expect(failed).toMatchObject({ outcome: 'error', documents: 2 });
    expect(failed.error).toContain('0x80040408'); // getLastError told the Web Connector why
    expect(q.sim.webConnector.requests.at(-1)).toContain('iterator="Continue"');
    const from = q.sim.webConnector.requests.length;
    expect((await q.sim.webConnector.runNow()).outcome).toBe('done');
    const firstInvoiceQuery = q.sim.webConnector.requests.slice(from).find((x) => x.includes('<InvoiceQueryRq'))!;
    expect(firstInvoiceQuery).toContain('iterator="Start"'); // never the dead run's iteratorID
    expect(await copied('books_invoices')).toBe(q.sim.company.invoices.length);
  }, 180_000);

  it('the simulator pages as QuickBooks does and refuses an unknown iteratorID with statusCode 3120', () => {
    const doc = (attrs: string) =>
      `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="continueOnError"><InvoiceQueryRq requestID="1" ${attrs}><MaxReturned>100</MaxReturned></InvoiceQueryRq></QBXMLMsgsRq></QBXML>`;
    q.sim.company.iterators.newSession();
    const first = handleQbxml(q.sim.company, doc('iterator="Start"'), { inUse: 0 });
    const id = /iteratorID="([^"]+)"/.exec(first)![1]!;
    expect(first).toMatch(/retCount="100" iteratorRemainingCount="\d+"/);
    const next = handleQbxml(q.sim.company, doc(`iterator="Continue" iteratorID="${id}"`), { inUse: 0 });
    expect(next).toContain(`iteratorID="${id}"`);
    const bad = handleQbxml(q.sim.company, doc('iterator="Continue" iteratorID="{00000000-0000-0000-0000-000000000000}"'), { inUse: 0 });
    expect(bad).toMatch(/statusCode="3120" statusSeverity="Error"/);
    q.sim.company.iterators.newSession(); // a new QuickBooks session: the old iterator is gone
    expect(handleQbxml(q.sim.company, doc(`iterator="Continue" iteratorID="${id}"`), { inUse: 0 })).toMatch(/statusCode="3120"/);
  });
});

describe('qbXML', () => {
  it('every document of these runs is valid against qbxmlops130.xsd', async () => {
    const all = q.sim.webConnector.requests;
    for (const rq of ['AccountQueryRq', 'InvoiceQueryRq', 'ReceivePaymentQueryRq', 'DepositQueryRq', 'ReceivePaymentAddRq'])
      expect(all.join('')).toContain(`<${rq}`);
    const result = await validateQbxml(all);
    expect(result.errors).toEqual([]);
  }, 120_000);
});
