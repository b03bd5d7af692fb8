// The class / location mapping on what Settle posts to QuickBooks Online, against the simulator over HTTP:
// the live lists the settings page shows, the refs on a payout's deposit, a reversal's journal entry, a
// bank withdrawal and a payment, and a clear refusal when the mapped class was made inactive.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import { startQuickBooksSimulator, type RunningQuickBooksSimulator } from '../../../../simulators/quickbooks-online/index.ts';
import { QuickBooksOnlineConnector, type QboConfig } from './connector.ts';
import { QboRequestLimiter } from './limiter.ts';
import { depositBody, paymentBody } from './mapping.ts';
import { tokensFromRefreshToken, type QboTokens, type TokenStore } from './tokens.ts';

type Json = Record<string, any>;

class MemoryTokens implements TokenStore {
  constructor(private tokens: QboTokens) {}
  async load(): Promise<QboTokens> {
    return this.tokens;
  }
  async save(t: QboTokens): Promise<void> {
    this.tokens = t;
  }
}

let qbo: RunningQuickBooksSimulator;
let tokens: MemoryTokens;
beforeEach(async () => {
  qbo = await startQuickBooksSimulator();
  tokens = new MemoryTokens(tokensFromRefreshToken(qbo.initialRefreshToken));
});
afterEach(async () => {
  await qbo.close();
});

function connect(mapping: Partial<Pick<QboConfig, 'classId' | 'departmentId'>> = {}): QuickBooksOnlineConnector {
  return new QuickBooksOnlineConnector(
    {
      baseUrl: qbo.baseUrl,
      tokenUrl: qbo.oauthTokenUrl,
      realmId: qbo.realmId,
      clientId: qbo.clientId,
      clientSecret: qbo.clientSecret,
      bankAccountId: qbo.sim.accounts.checking,
      feeExpenseAccountId: qbo.sim.accounts.merchantFees,
      minorVersion: 75,
      ...mapping,
    },
    tokens,
    { limiter: new QboRequestLimiter(), throttleWaitMs: 20 },
  );
}

const usd = (cents: number) => money(cents, 'USD');

async function paid(books: QuickBooksOnlineConnector, n: number): Promise<string> {
  qbo.sim.seedInvoice({ docNumber: `INV-${n}`, customerName: 'Acme Dental', amount: '100.00' });
  const [r] = await books.postPayments([
    { idempotencyKey: `payment:${n}`, invoiceNumber: `INV-${n}`, amount: usd(10000), paidOn: '2026-03-02', reference: `pi_${n}`, memo: `Card payment ${n}` },
  ]);
  expect(r).toMatchObject({ ok: true });
  return (r as { remoteId: string }).remoteId;
}

const deposit = (n: number, paymentRemoteId: string) => ({
  idempotencyKey: `payout:po_${n}:qbo:deposit`,
  payoutId: `po_${n}`,
  depositedOn: '2026-03-03',
  payments: [{ paymentRemoteId, amount: usd(10000) }],
  fees: usd(320),
  adjustments: usd(0),
  memo: `Stripe payout po_${n}`,
});

describe('class and location on QuickBooks postings', () => {
  it('lists active classes and locations only where tracking is on', async () => {
    const books = connect();
    expect(await books.trackingLists()).toEqual({ classesOn: false, departmentsOn: false, departmentLabel: 'Location', classes: [], departments: [] });
    qbo.sim.setTracking({ classes: 'line', departments: true });
    const managed = qbo.sim.ensureTracking('Class', 'Managed services');
    qbo.sim.ensureTracking('Class', 'Backup', 'Managed services');
    qbo.sim.setTrackingActive('Class', qbo.sim.ensureTracking('Class', 'Retired').Id, false);
    const east = qbo.sim.ensureTracking('Department', 'East office');
    const lists = await books.trackingLists();
    expect(lists.classes).toEqual([
      { id: managed.Id, name: 'Managed services' },
      { id: expect.any(String), name: 'Managed services:Backup' },
    ]);
    expect(lists.departments).toEqual([{ id: east.Id, name: 'East office' }]);
    expect(lists).toMatchObject({ classesOn: true, departmentsOn: true });
  });

  it('a deposit, a reversal, a bank withdrawal and a payment carry the mapped class and location', async () => {
    qbo.sim.setTracking({ classes: 'line', departments: true });
    const cls = qbo.sim.ensureTracking('Class', 'Managed services');
    const loc = qbo.sim.ensureTracking('Department', 'East office');
    const books = connect({ classId: cls.Id, departmentId: loc.Id });

    const paymentId = await paid(books, 1);
    expect((qbo.sim.payments().find((p) => p.Id === paymentId) as Json)['DepartmentRef']).toEqual({ value: loc.Id, name: 'East office' });

    const dep = await books.postDeposit(deposit(1, paymentId));
    expect(dep).toMatchObject({ ok: true });
    const stored = qbo.sim.deposits()[0] as Json;
    expect(stored['DepartmentRef']).toEqual({ value: loc.Id, name: 'East office' });
    const feeLine = (stored['Line'] as Json[]).find((l) => l['DepositLineDetail'])!;
    expect(feeLine['DepositLineDetail']['ClassRef']).toEqual({ value: cls.Id, name: 'Managed services' });

    const rev = await books.reversePayment({
      idempotencyKey: 'refund:r1:qbo:refund',
      paymentRemoteId: paymentId,
      invoiceNumber: 'INV-1',
      amount: usd(2500),
      reversedOn: '2026-03-04',
      memo: 'Refund r1',
    });
    expect(rev).toMatchObject({ ok: true });
    const je = qbo.sim.journalEntries()[0] as Json;
    expect(je['DepartmentRef']).toEqual({ value: loc.Id, name: 'East office' });
    for (const l of je['Line'] as Json[]) {
      expect(l['JournalEntryLineDetail']).toMatchObject({ ClassRef: { value: cls.Id }, DepartmentRef: { value: loc.Id } });
    }

    const wd = await books.postBankWithdrawal({
      idempotencyKey: 'bank-return:1',
      amount: usd(5000),
      withdrawnOn: '2026-03-05',
      reference: 'R01',
      memo: 'ACH return',
    });
    expect(wd).toMatchObject({ ok: true });
    const withdrawal = qbo.sim.journalEntries().find((j) => j.Id === (wd as { remoteId: string }).remoteId) as Json;
    expect(withdrawal['Line'][0]['JournalEntryLineDetail']).toMatchObject({ ClassRef: { value: cls.Id }, DepartmentRef: { value: loc.Id } });
  });

  it('the bodies: ClassRef on every deposit line with a detail (none on a linked payment line), DepartmentRef on the deposit and payment', () => {
    const tracking = { classId: '7', departmentId: '9' };
    const { body } = depositBody(
      {
        ...deposit(9, '41'),
        surcharges: usd(300),
        clientCredit: usd(500),
        adjustments: usd(-1000),
        awaiting: [{ key: 'payment:x', amount: usd(2000), description: 'Payment for invoice 1042' }],
      },
      {
        bankAccountId: '1',
        feeExpenseAccountId: '2',
        adjustmentAccountId: '3',
        surchargeIncomeAccountId: '4',
        clientCreditAccountId: '5',
        clearingAccountId: '6',
        tracking,
      },
    );
    expect(body['DepartmentRef']).toEqual({ value: '9' });
    const lines = body['Line'] as Json[];
    expect(lines).toHaveLength(6); // payment, clearing, fees, surcharges, credit, adjustments
    expect(lines[0]).toEqual({ Amount: 100, LinkedTxn: [{ TxnId: '41', TxnType: 'Payment' }] });
    for (const l of lines.slice(1)) expect(l['DepositLineDetail']['ClassRef']).toEqual({ value: '7' });
    const pay = paymentBody(
      { idempotencyKey: 'p', invoiceNumber: 'INV-1', amount: usd(100), paidOn: '2026-03-02', reference: 'pi_1', memo: '' },
      { remoteId: '3', number: 'INV-1', customerRemoteId: '8', total: usd(100), balance: usd(100) },
      { tracking },
    );
    expect(pay['DepartmentRef']).toEqual({ value: '9' });
    expect(pay['ClassRef']).toBeUndefined(); // no such property on a Payment (Finance.xsd)
  });

  it('without a mapping nothing changes: no ClassRef or DepartmentRef is sent', async () => {
    const books = connect();
    const paymentId = await paid(books, 2);
    expect(await books.postDeposit(deposit(2, paymentId))).toMatchObject({ ok: true });
    const stored = qbo.sim.deposits()[0] as Json;
    expect(stored['DepartmentRef']).toBeUndefined();
    expect(JSON.stringify(stored)).not.toContain('ClassRef');
  });

  it('a class made inactive in QuickBooks: the deposit is refused with what to do, not posted, not retried as is', async () => {
    qbo.sim.setTracking({ classes: 'line', departments: false });
    const cls = qbo.sim.ensureTracking('Class', 'Managed services');
    const books = connect({ classId: cls.Id });
    const paymentId = await paid(books, 3);
    qbo.sim.setTrackingActive('Class', cls.Id, false);
    const r = await books.postDeposit(deposit(3, paymentId));
    expect(r).toMatchObject({ ok: false, retryable: false });
    const error = (r as { error: string }).error;
    expect(error).toMatch(/^The class “Managed services” mapped in Settings → Accounts is inactive in QuickBooks/);
    expect(error).toContain('choose another class or “None” in Settings → Accounts, then retry');
    expect(error).toContain('has been made inactive'); // QuickBooks' own words kept
    expect(qbo.sim.deposits()).toEqual([]);

    // Tracking turned off altogether: said so, too.
    qbo.sim.setTrackingActive('Class', cls.Id, true);
    qbo.sim.setTracking({ classes: false });
    const off = await books.postDeposit(deposit(3, paymentId));
    expect((off as { error: string }).error).toMatch(/^Class tracking is turned off in QuickBooks/);
  });
});
