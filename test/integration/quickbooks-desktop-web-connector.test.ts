// QuickBooks Desktop end to end below the engine: Settle's connector queues work in PostgreSQL, Settle's SOAP
// endpoint (the Fastify route with the `soap` library) serves it, and the simulator plays the Web Connector
// (SOAP client from Intuit's WSDL) and the company file. Every qbXML document handed over is validated
// against qbxmlops130.xsd at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { TestDatabase } from '../helpers/db.ts';
import type { RunningQbdSimulator } from '../../simulators/quickbooks-desktop/index.ts';
import { QBWC_PATH, webConnectorUserName } from '../../src/connectors/accounting/quickbooks-desktop/web-connector.ts';
import { money } from '../../src/domain/money.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { validateQbxml } from '../conformance/quickbooks-desktop/xsd-validate.ts';
import { checkQbdWebConnector } from '../../src/engine/qbd-checks.ts';
import { qwcFile } from '../../src/connectors/accounting/quickbooks-desktop/qwc.ts';
import { QBD_CONFIG, QBD_PASSWORD, startQbdDirect, type QbdDirect } from '../helpers/qbd-web-connector.ts';
import { QuickBooksDesktopConnector } from '../../src/connectors/accounting/quickbooks-desktop/connector.ts';
import { qbdAccounts, qbdConfigSchema } from '../../src/connectors/accounting/quickbooks-desktop/settings.ts';

let direct: QbdDirect;
let t: TestDatabase;
let tenant: string;
let settle: FastifyInstance;
let sim: RunningQbdSimulator;
let books: QuickBooksDesktopConnector;
const usd = (minor: bigint) => money(minor, 'USD');

beforeAll(async () => {
  direct = await startQbdDirect();
  ({ t, tenant, settle, sim, books } = direct);
}, 120_000);

afterAll(async () => {
  await direct?.close();
});

describe('QuickBooks Desktop through the Web Connector', () => {
  it('serves the WSDL with its own address', async () => {
    const res = await settle.inject({ method: 'GET', url: QBWC_PATH });
    expect(res.body).toContain('name="authenticate"');
    expect(res.body).toContain('location="http://127.0.0.1/webhooks/qbwc"');
  });

  it('a wrong password is refused (nvu) and nothing is handed over', async () => {
    const good = sim.webConnector.settings!;
    sim.webConnector.configure({ ...good, password: 'wrong-password-wrong' });
    expect((await sim.webConnector.runNow()).outcome).toBe('nvu');
    sim.webConnector.configure(good);
    expect((await sim.webConnector.runNow()).outcome).toBe('none');
  });

  it('posts a payment against the invoice found by number, then the payout as one deposit with the fee line', async () => {
    sim.company.addInvoice({ refNumber: '1042', customer: 'Acme Dental', amountCents: 50000n });
    sim.company.addInvoice({ refNumber: '1043', customer: 'Birch Legal', amountCents: 12050n });
    const pay = (key: string, invoiceNumber: string, minor: bigint) => ({
      idempotencyKey: key,
      invoiceNumber,
      amount: usd(minor),
      paidOn: '2026-12-06',
      reference: `pi_${key}`,
      memo: `Card payment for invoice ${invoiceNumber}`,
    });
    const first = await books.postPayments([pay('p1', '1042', 50000n), pay('p2', '1043', 12050n)]);
    expect(first.every((r) => !r.ok && r.retryable)).toBe(true);
    expect((await sim.webConnector.runNow()).outcome).toBe('done');
    const posted = await books.postPayments([pay('p1', '1042', 50000n), pay('p2', '1043', 12050n)]);
    expect(posted.map((r) => r.ok)).toEqual([true, true]);
    expect(sim.company.payments).toHaveLength(2);
    expect(sim.company.invoices.map((i) => i.balance)).toEqual([0n, 0n]);
    const ids = posted.map((r) => (r.ok ? r.remoteId : ''));
    const deposit = () =>
      books.postDeposit({
        idempotencyKey: 'deposit:po_1',
        payoutId: 'po_1',
        depositedOn: '2026-12-08',
        payments: [
          { paymentRemoteId: ids[0]!, amount: usd(50000n) },
          { paymentRemoteId: ids[1]!, amount: usd(12050n) },
        ],
        fees: usd(1829n),
        adjustments: usd(0n),
        memo: 'Stripe payout po_1',
      });
    expect((await deposit()).ok).toBe(false);
    await sim.webConnector.runNow();
    const d = await deposit();
    expect(d.ok).toBe(true);
    expect(sim.company.deposits).toHaveLength(1);
    const dep = sim.company.deposits[0]!;
    expect(dep.total).toBe(50000n + 12050n - 1829n); // equals the bank line
    expect(dep.lines.find((l) => l.account === 'Merchant Fees')?.amount).toBe(-1829n);
  }, 120_000);

  it('a refund becomes a balanced journal entry (A/R with the customer, clearing credited)', async () => {
    const paymentId = sim.company.payments[0]!.txnId;
    const rev = () =>
      books.reversePayment({
        idempotencyKey: 'reversal:re_1',
        paymentRemoteId: paymentId,
        invoiceNumber: '1042',
        amount: usd(5000n),
        reversedOn: '2026-12-09',
        memo: 'Refund re_1',
      });
    expect((await rev()).ok).toBe(false);
    await sim.webConnector.runNow();
    expect((await rev()).ok).toBe(true);
    const j = sim.company.journals[0]!;
    expect(j.debits[0]).toMatchObject({ account: 'Accounts Receivable', amount: 5000n });
    expect(j.credits[0]).toMatchObject({ account: 'Payments Clearing', amount: 5000n });
  }, 120_000);

  it('a payment whose invoice is not in QuickBooks waits for it, and is posted once the export brings it', async () => {
    const p = { idempotencyKey: 'p3', invoiceNumber: '2001', amount: usd(7500n), paidOn: '2026-12-06', reference: 'pi_p3', memo: 'Card payment' };
    await books.postPayments([p]);
    await sim.webConnector.runNow();
    const waiting = (await books.postPayments([p]))[0]!;
    expect(!waiting.ok && waiting.waitingForInvoice).toBe('2001');
    sim.company.addInvoice({ refNumber: '2001', customer: 'Cedar Clinic', amountCents: 7500n });
    await sim.webConnector.runNow();
    expect((await books.postPayments([p]))[0]!.ok).toBe(true);
  }, 120_000);

  it('a write whose answer was lost is checked before it is sent again: still one payment', async () => {
    sim.company.addInvoice({ refNumber: '3001', customer: 'Delta Dental', amountCents: 9900n });
    const p = { idempotencyKey: 'p4', invoiceNumber: '3001', amount: usd(9900n), paidOn: '2026-12-06', reference: 'pi_p4', memo: 'Card payment' };
    await books.postPayments([p]);
    sim.webConnector.faults.loseResponse = 1; // QuickBooks writes the payment; its answer never reaches Settle
    expect((await sim.webConnector.runNow()).outcome).toBe('error');
    expect(sim.company.payments.filter((x) => x.refNumber === 'pi_p4')).toHaveLength(1);
    expect((await books.postPayments([p]))[0]!.ok).toBe(false);
    expect((await sim.webConnector.runNow()).outcome).toBe('done');
    const r = (await books.postPayments([p]))[0]!;
    expect(r.ok).toBe(true);
    expect(sim.company.payments.filter((x) => x.refNumber === 'pi_p4')).toHaveLength(1);
    expect(sim.webConnector.requests.some((x) => x.includes('ReceivePaymentQueryRq'))).toBe(true);
  }, 120_000);

  it('QuickBooks errors: a record in use is retried on a later run; an HRESULT error is reported through getLastError; a refusal is final', async () => {
    sim.company.addInvoice({ refNumber: '4001', customer: 'Elm Vets', amountCents: 1000n });
    const p = { idempotencyKey: 'p5', invoiceNumber: '4001', amount: usd(1000n), paidOn: '2026-12-06', reference: 'pi_p5', memo: 'Card payment' };
    await books.postPayments([p]);
    sim.webConnector.faults.hresult = 1;
    const failed = await sim.webConnector.runNow();
    expect(failed).toMatchObject({ outcome: 'error' });
    expect(failed.error).toContain('0x80040408');
    sim.webConnector.faults.inUse = 1;
    await sim.webConnector.runNow();
    expect((await books.postPayments([p]))[0]!.ok).toBe(false);
    await sim.webConnector.runNow();
    expect((await books.postPayments([p]))[0]!.ok).toBe(true);
    // more than the open balance: QuickBooks refuses (3180), Settle reports it as final with QuickBooks' words
    const over = { ...p, idempotencyKey: 'p6', reference: 'pi_p6', amount: usd(99999n) };
    await books.postPayments([over]);
    await sim.webConnector.runNow();
    const refused = (await books.postPayments([over]))[0]!;
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.retryable).toBe(false);
    expect(!refused.ok && refused.error).toMatch(/status 3180/);
  }, 120_000);

  it('one document, one answer per message: a refusal (statusSeverity Error) beside a success settles each on its own', async () => {
    sim.company.addInvoice({ refNumber: '5001', customer: 'Fir Dental', amountCents: 2000n });
    sim.company.addInvoice({ refNumber: '5002', customer: 'Fir Dental', amountCents: 3000n });
    const ok = { idempotencyKey: 'p7', invoiceNumber: '5001', amount: usd(2000n), paidOn: '2026-12-06', reference: 'pi_p7', memo: 'Card payment' };
    const over = { idempotencyKey: 'p8', invoiceNumber: '5002', amount: usd(3001n), paidOn: '2026-12-06', reference: 'pi_p8', memo: 'Card payment' };
    await books.postPayments([ok, over]);
    const from = sim.webConnector.requests.length;
    expect((await sim.webConnector.runNow()).outcome).toBe('done');
    const adds = sim.webConnector.requests.slice(from).filter((x) => x.includes('ReceivePaymentAddRq'));
    expect(adds).toHaveLength(1); // both writes in one document (continueOnError)
    expect(adds[0]!.match(/<ReceivePaymentAddRq/g)).toHaveLength(2);
    const [a, b] = await books.postPayments([ok, over]);
    expect(a!.ok).toBe(true);
    expect(b).toMatchObject({ ok: false, retryable: false });
    expect(!b!.ok && b!.error).toMatch(/status 3180 \(Error\)/);
  }, 120_000);

  it('a response cut short on the way: receiveResponseXML fails (-1), getLastError says why, the next run checks and writes once', async () => {
    sim.company.addInvoice({ refNumber: '6001', customer: 'Gum Tree Vets', amountCents: 4400n });
    const p = { idempotencyKey: 'p9', invoiceNumber: '6001', amount: usd(4400n), paidOn: '2026-12-06', reference: 'pi_p9', memo: 'Card payment' };
    await books.postPayments([p]);
    sim.webConnector.faults.truncate = 1; // QuickBooks writes the payment; Settle receives half of its answer
    const failed = await sim.webConnector.runNow();
    expect(failed.outcome).toBe('error');
    expect(failed.error).toMatch(/not a well-formed qbXML response/);
    expect(sim.company.payments.filter((x) => x.refNumber === 'pi_p9')).toHaveLength(1);
    expect((await books.postPayments([p]))[0]).toMatchObject({ ok: false, retryable: true });
    const from = sim.webConnector.requests.length;
    expect((await sim.webConnector.runNow()).outcome).toBe('done');
    expect(sim.webConnector.requests.slice(from).join('')).toContain('<ReceivePaymentQueryRq'); // checked, not re-sent blind
    expect((await books.postPayments([p]))[0]!.ok).toBe(true);
    expect(sim.company.payments.filter((x) => x.refNumber === 'pi_p9')).toHaveLength(1);
  }, 120_000);

  it('ACH discounts with an account of their own (Settings → Accounts) are a negative deposit line, out of adjustments', async () => {
    const services = sim.company.accounts.find((a) => a.fullName === 'Services')!;
    const config = qbdConfigSchema.parse({ ...QBD_CONFIG, achDiscountAccountId: services.listId });
    const mapped = new QuickBooksDesktopConnector({ accounts: qbdAccounts(config), home: 'USD' }, t.db, tenant, QBD_PASSWORD);
    sim.company.addInvoice({ refNumber: '8001', customer: 'Hazel Dental', amountCents: 10000n });
    const p = { idempotencyKey: 'p12', invoiceNumber: '8001', amount: usd(9800n), paidOn: '2026-12-06', reference: 'pi_p12', memo: 'Bank payment' };
    await mapped.postPayments([p]);
    await sim.webConnector.runNow();
    const pay = (await mapped.postPayments([p]))[0]!;
    const deposit = () =>
      mapped.postDeposit({
        idempotencyKey: 'deposit:po_ach',
        payoutId: 'po_ach',
        depositedOn: '2026-12-08',
        payments: [{ paymentRemoteId: pay.ok ? pay.remoteId : '', amount: usd(9800n) }],
        fees: usd(80n),
        adjustments: usd(-250n), // 2.00 of ACH discount and 0.50 of other movements
        achDiscounts: usd(200n),
        memo: 'ACH settlement po_ach',
      });
    await deposit();
    await sim.webConnector.runNow();
    expect((await deposit()).ok).toBe(true);
    const d = sim.company.deposits.find((x) => x.memo.includes('po_ach'))!;
    expect(d.total).toBe(9800n - 80n - 250n);
    expect(d.lines.find((l) => l.account === 'Services')?.amount).toBe(-200n);
    expect(d.lines.find((l) => /Refunds and adjustments/.test(l.memo))?.amount).toBe(-50n);
  }, 120_000);

  it('settle doctor reports when the Web Connector last ran, and never queues work to check', async () => {
    const before = await withTenant(t.db, tenant, (tx) => tx.selectFrom('qbd_work').select('id').execute());
    const r = await checkQbdWebConnector(t.db, tenant, 'qbd', 5);
    expect(typeof r === 'string' ? r : r.warning).toMatch(/last ran \d+ min ago/);
    const after = await withTenant(t.db, tenant, (tx) => tx.selectFrom('qbd_work').select('id').execute());
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBe(before.length);
  });

  it('the .qwc file names the endpoint, the workspace user and the schedule, and refuses a plain-http address', () => {
    const f = qwcFile({ tenantId: tenant, workspaceName: 'QBD & Co', publicUrl: 'https://settle.example.com/', runEveryMinutes: 5 });
    expect(f).toContain('<AppURL>https://settle.example.com/webhooks/qbwc</AppURL>');
    expect(f).toContain(`<UserName>${webConnectorUserName(tenant)}</UserName>`);
    expect(f).toContain('<RunEveryNMinutes>5</RunEveryNMinutes>');
    expect(f).toContain('QBD &amp; Co');
    expect(() => qwcFile({ tenantId: tenant, workspaceName: 'x', publicUrl: 'http://settle.example.com', runEveryMinutes: 5 })).toThrow(/https/);
  });

  it('every qbXML document handed to the Web Connector is valid against qbxmlops130.xsd', async () => {
    expect(sim.webConnector.requests.length).toBeGreaterThan(5);
    const result = await validateQbxml(sim.webConnector.requests);
    expect(result.errors).toEqual([]);
  }, 120_000);
});
