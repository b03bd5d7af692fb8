// Issue #11, QuickBooks Desktop: Settle's books copy sees what a person deleted or voided in QuickBooks. The
// Web Connector's books-copy walk ends with a TxnDeletedQuery (ReceivePayment, Deposit, Invoice, from its own
// cursor by TimeDeleted), and a voided payment or deposit (kept by QuickBooks with its amounts zeroed and
// "VOID:" before its memo) is copied as voided — so the three-way reconciliation can say "deleted / voided in
// the books". The people's actions go through the simulator's /_sim control, as a demo would drive them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQbdDirect, type QbdDirect } from '../helpers/qbd-web-connector.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { money } from '../../src/domain/money.ts';
import { handleQbxml } from '../../simulators/quickbooks-desktop/qbxml.ts';
import { depositAdd, receivePaymentAdd } from '../../src/connectors/accounting/quickbooks-desktop/qbxml/requests.ts';
import { qbxmlDocument } from '../../src/connectors/accounting/quickbooks-desktop/qbxml/xml.ts';
import { validateQbxml } from '../conformance/quickbooks-desktop/xsd-validate.ts';

let q: QbdDirect;
const usd = (minor: bigint) => money(minor, 'USD');
beforeAll(async () => {
  q = await startQbdDirect('qbd-deletions');
}, 120_000);
afterAll(async () => q?.close());

/** A bookkeeper's own entry in QuickBooks (not Settle's): straight into the company file. */
function enterByHand(rq: string): string {
  const rs = handleQbxml(q.sim.company, qbxmlDocument([rq], 'stopOnError'), { inUse: 0 });
  expect(rs).toMatch(/statusCode="0"/);
  return /<TxnID>([^<]+)<\/TxnID>/.exec(rs)![1]!;
}
const payByHand = (key: string, customer: string, invoiceTxnId: string, minor: bigint) =>
  enterByHand(
    receivePaymentAdd('1', {
      idempotencyKey: key,
      customer: { listId: customer },
      txnDate: '2026-12-07',
      refNumber: key,
      totalAmount: usd(minor),
      memo: 'cheque',
      applied: [{ txnId: invoiceTxnId, paymentAmount: usd(minor) }],
    }),
  );
async function sim(path: string, body: object): Promise<Response> {
  return fetch(`${q.sim.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}
/** Queue a books-copy walk and let the Web Connector run it. */
async function readTheBooks(): Promise<void> {
  await q.books.readLedgerChanges(null).catch(() => null);
  expect((await q.sim.webConnector.runNow()).outcome).toBe('done');
}
const copyOf = (table: 'books_payments' | 'books_deposits' | 'books_invoices', remoteId: string) =>
  withTenant(q.t.db, q.tenant, (tx) => tx.selectFrom(table).select(['remote_id', 'deleted', 'voided']).where('remote_id', '=', remoteId).executeTakeFirst());

describe('QuickBooks Desktop books copy: deletions and voids', () => {
  it('a deleted payment, invoice and deposit are marked deleted; a voided payment and deposit voided', async () => {
    const c = q.sim.company;
    const [a, b, gone, d] = ['D-1', 'D-2', 'D-3', 'D-4'].map((n) => c.addInvoice({ refNumber: n, customer: 'Acme Dental', amountCents: 10_000n }));
    const p1 = payByHand('hand-1', a!.customerListId, a!.txnId, 10_000n);
    const p2 = payByHand('hand-2', b!.customerListId, b!.txnId, 10_000n);
    const p4 = payByHand('hand-4', d!.customerListId, d!.txnId, 10_000n);
    const dep = enterByHand(
      depositAdd('1', {
        idempotencyKey: 'dep-1',
        txnDate: '2026-12-07',
        depositTo: { fullName: 'Checking' },
        memo: 'cheques',
        paymentTxnIds: [p4],
        otherLines: [],
      }),
    );
    await readTheBooks();
    await readTheBooks(); // the first run brings the chart as well; make sure a whole walk has ended
    for (const id of [p1, p2, p4]) expect(await copyOf('books_payments', id)).toMatchObject({ deleted: false, voided: false });
    expect(await copyOf('books_deposits', dep)).toMatchObject({ deleted: false, voided: false });

    // In QuickBooks: the deposit is voided (its payment goes back to Undeposited Funds), payment 1 deleted,
    // payment 2 voided, invoice D-3 (nothing applied) deleted.
    expect((await sim('/_sim/transactions/void', { type: 'Deposit', txnId: dep })).status).toBe(200);
    expect((await sim('/_sim/transactions/delete', { type: 'ReceivePayment', txnId: p1 })).status).toBe(200);
    expect((await sim('/_sim/transactions/void', { type: 'ReceivePayment', txnId: p2 })).status).toBe(200);
    expect((await sim('/_sim/transactions/delete', { type: 'Invoice', txnId: gone!.txnId })).status).toBe(200);
    // QuickBooks refuses to delete an invoice with a payment applied, and an unknown kind is no request at all.
    expect((await sim('/_sim/transactions/delete', { type: 'Invoice', txnId: d!.txnId })).status).toBe(400);
    expect((await sim('/_sim/transactions/delete', { type: 'Check', txnId: p4 })).status).toBe(400);
    expect(a!.balance).toBe(10_000n); // the deleted payment no longer pays invoice D-1

    const from = q.sim.webConnector.requests.length;
    await readTheBooks();
    const sent = q.sim.webConnector.requests.slice(from).join('\n');
    expect(sent).toMatch(/<TxnDeletedQueryRq [^>]*><TxnDelType>Invoice<\/TxnDelType><TxnDelType>ReceivePayment<\/TxnDelType><TxnDelType>Deposit<\/TxnDelType>/);
    expect(await copyOf('books_payments', p1)).toMatchObject({ deleted: true });
    expect(await copyOf('books_payments', p2)).toMatchObject({ deleted: false, voided: true });
    expect(await copyOf('books_payments', p4)).toMatchObject({ deleted: false, voided: false });
    expect(await copyOf('books_deposits', dep)).toMatchObject({ deleted: false, voided: true });
    expect(await copyOf('books_invoices', gone!.txnId)).toMatchObject({ deleted: true });

    // The next walk asks only for deletions since its cursor (less the overlap), and finds nothing new to change.
    const again = q.sim.webConnector.requests.length;
    await readTheBooks();
    expect(q.sim.webConnector.requests.slice(again).join('\n')).toMatch(/<TxnDeletedQueryRq [^>]*>.*<DeletedDateRangeFilter><FromDeletedDate>/s);
    expect(await copyOf('books_payments', p1)).toMatchObject({ deleted: true });
  }, 180_000);

  it('every qbXML document the Web Connector carried is valid against qbxmlops130.xsd', async () => {
    expect((await validateQbxml(q.sim.webConnector.requests)).errors).toEqual([]);
  }, 120_000);
});
