// What Settle's Xero connector SENDS, against Xero's OpenAPI (schema-check.ts › checkRequests): every write
// body of every flow — payments (many and after a look-up), a payout's income RECEIVE, fee SPEND with
// tracking and BankTransfer, a partial reversal (delete and remainder), a credit-note allocation, a bank
// withdrawal — is valid against its operation's requestBody, with objects closed (no field Xero does not
// describe) and dates as Xero takes them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { money } from '../../../src/domain/money.ts';
import { startXeroSimulator, type RunningXeroSimulator } from '../../../simulators/xero/index.ts';
import { xeroConnectorFor } from '../../helpers/xero-connector.ts';
import { trackingValue } from '../../../src/connectors/accounting/xero/tracking.ts';
import { XeroSchemaCheck } from './schema-check.ts';

let x: RunningXeroSimulator;
const check = new XeroSchemaCheck();
const usd = (cents: number) => money(cents, 'USD');

beforeAll(async () => {
  x = await startXeroSimulator({ recordRequests: true, limits: { perMinute: 10_000 } });
});
afterAll(async () => x?.close());

describe('the Xero connector’s requests', () => {
  it('every write body is valid against its operation’s requestBody in the Xero OpenAPI', async () => {
    const region = x.sim.store.trackingCategories[0]!;
    const books = xeroConnectorFor(x, { config: { tracking1: trackingValue(region.TrackingCategoryID, region.Options[0]!.TrackingOptionID) } });
    x.sim.seedInvoice({ number: 'R-1', contactName: 'Acme', amount: '100.00' });
    x.sim.seedInvoice({ number: 'R-2', contactName: 'Acme', amount: '60.00' });
    x.sim.seedCreditNote({ number: 'RCN-1', contactName: 'Acme', amount: '10.00' });
    const pay = (n: string, cents: number, key: string, firstSend = false) => ({
      idempotencyKey: key,
      invoiceNumber: n,
      amount: usd(cents),
      paidOn: '2026-12-01',
      reference: `pi_${key}`,
      memo: 'card',
      firstSend,
    });
    const [a, b] = await books.postPayments([pay('R-1', 10000, 'a', true), pay('R-2', 5000, 'b')]);
    expect([a!.ok, b!.ok]).toEqual([true, true]);
    const id = (r: typeof a) => (r as { remoteId: string }).remoteId;
    const dep = await books.postDeposit({
      idempotencyKey: 'payout:r1',
      payoutId: 'po_r1',
      depositedOn: '2026-12-03',
      payments: [
        { paymentRemoteId: id(a), amount: usd(10000) },
        { paymentRemoteId: id(b), amount: usd(5000) },
      ],
      fees: usd(465),
      adjustments: usd(0),
      surcharges: usd(300),
      memo: 'payout',
    });
    expect(dep.ok).toBe(true);
    const rev = await books.reversePayment({
      idempotencyKey: 'refund:b',
      paymentRemoteId: id(b),
      invoiceNumber: 'R-2',
      amount: usd(2000),
      reversedOn: '2026-12-04',
      memo: 'refund',
    });
    expect(rev.ok).toBe(true);
    const cn = await books.applyCreditMemo({
      idempotencyKey: 'cm:1',
      creditMemoNumber: 'RCN-1',
      invoiceNumber: 'R-2',
      amount: usd(1000),
      appliedOn: '2026-12-04',
      memo: 'credit',
    });
    expect(cn.ok).toBe(true);
    const wd = await books.postBankWithdrawal({
      idempotencyKey: 'ach-return:1',
      amount: usd(700),
      withdrawnOn: '2026-12-05',
      reference: 'R01',
      memo: 'return',
    });
    expect(wd.ok).toBe(true);
    await books.readLedgerChanges(null);
    await books.readChart();
    expect(await books.creditMemosInBooks(['RCN-1', 'RCN-9'])).toEqual(new Set(['RCN-1']));

    const writes = x.requests.filter((r) => r.method !== 'GET');
    expect(new Set(writes.map((r) => `${r.method} ${r.route}`))).toEqual(
      new Set([
        'PUT /api.xro/2.0/Payments',
        'PUT /api.xro/2.0/BankTransactions',
        'PUT /api.xro/2.0/BankTransfers',
        'POST /api.xro/2.0/Payments/:id',
        'PUT /api.xro/2.0/CreditNotes/:id/Allocations',
      ]),
    );
    expect(check.checkRequests(x.requests)).toEqual([]);
  });

  it('the request check can fail: a field Xero does not describe, a date it does not take', () => {
    const body = { Payments: [{ Invoice: { InvoiceNumber: 'R-1' }, Account: { Code: '091' }, Date: '2026-12-01', Amount: 1 }] };
    expect(check.checkRequests([{ method: 'PUT', route: '/api.xro/2.0/Payments', body }])).toEqual([]);
    const invented = { Payments: [{ ...body.Payments[0]!, Colour: 'red' }] };
    expect(check.checkRequests([{ method: 'PUT', route: '/api.xro/2.0/Payments', body: invented }])[0]).toContain('additional properties');
    const badDate = { Payments: [{ ...body.Payments[0]!, Date: '1/12/2026' }] };
    expect(check.checkRequests([{ method: 'PUT', route: '/api.xro/2.0/Payments', body: badDate }])[0]).toContain('must match pattern');
  });
});
