// Credit memos on QuickBooks Desktop through the Web Connector: the credit memo the PSA's export created is found by
// its number and applied to the same invoice (ReceivePaymentAdd of 0.00 with SetCredit) — never created; it waits
// for a credit memo or invoice not exported yet; QuickBooks' refusals (another customer's credit memo, more than
// is left, already used) are final with QuickBooks' words; a lost answer is checked before any re-send.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQbdDirect, type QbdDirect } from '../helpers/qbd-web-connector.ts';
import { money } from '../../src/domain/money.ts';
import type { ApplyCreditMemoInput } from '../../src/connectors/accounting/types.ts';
import { validateQbxml } from '../conformance/quickbooks-desktop/xsd-validate.ts';

let q: QbdDirect;
const usd = (minor: bigint) => money(minor, 'USD');
const apply = (key: string, creditMemoNumber: string, invoiceNumber: string, minor: bigint): ApplyCreditMemoInput => ({
  idempotencyKey: key,
  creditMemoNumber,
  invoiceNumber,
  amount: usd(minor),
  appliedOn: '2026-12-06',
  memo: `Credit memo ${creditMemoNumber} applied to invoice ${invoiceNumber}`,
});
const zeroPayments = () => q.sim.company.payments.filter((p) => p.total === 0n);

beforeAll(async () => {
  q = await startQbdDirect('qbd-credits');
  q.sim.company.addInvoice({ refNumber: '7001', customer: 'Acme Dental', amountCents: 30000n });
  q.sim.company.addInvoice({ refNumber: '7002', customer: 'Acme Dental', amountCents: 8000n });
}, 120_000);

afterAll(async () => {
  await q?.close();
});

describe('credit memos applied in QuickBooks Desktop', () => {
  it('finds the credit memo by number and applies it to the invoice with a zero payment; asking again changes nothing', async () => {
    const memo = q.sim.company.addCreditMemo({ refNumber: 'CM-100', customer: 'Acme Dental', amountCents: 5000n });
    const first = await q.books.applyCreditMemo(apply('credit:cm-100:7001', 'CM-100', '7001', 5000n));
    expect(first).toMatchObject({ ok: false, retryable: true });
    expect((await q.sim.webConnector.runNow()).outcome).toBe('done');
    const done = await q.books.applyCreditMemo(apply('credit:cm-100:7001', 'CM-100', '7001', 5000n));
    expect(done.ok).toBe(true);
    expect(q.sim.company.invoices.find((i) => i.refNumber === '7001')!.balance).toBe(25000n);
    expect(memo.remaining).toBe(0n);
    expect(q.sim.company.creditMemos).toHaveLength(1); // never created one
    const [payment] = zeroPayments();
    expect(payment).toMatchObject({ total: 0n, refNumber: 'CM CM-100' });
    expect(payment!.memo).toContain('[settle:credit:cm-100:7001]');
    expect(payment!.applied[0]!.credits).toEqual([{ creditTxnId: memo.txnId, amount: 5000n }]);
    await q.sim.webConnector.runNow();
    expect(await q.books.applyCreditMemo(apply('credit:cm-100:7001', 'CM-100', '7001', 5000n))).toEqual(done);
    expect(zeroPayments()).toHaveLength(1);
  }, 120_000);

  it('waits for a credit memo the export has not created yet, and for an invoice not in the books', async () => {
    await q.books.applyCreditMemo(apply('credit:cm-200:7002', 'CM-200', '7002', 1000n));
    await q.books.applyCreditMemo(apply('credit:cm-201:7999', 'CM-201', '7999', 1000n));
    await q.sim.webConnector.runNow();
    const waiting = await q.books.applyCreditMemo(apply('credit:cm-200:7002', 'CM-200', '7002', 1000n));
    expect(waiting).toMatchObject({ ok: false, retryable: true, waitingForCreditMemo: 'CM-200' });
    const noInvoice = await q.books.applyCreditMemo(apply('credit:cm-201:7999', 'CM-201', '7999', 1000n));
    expect(noInvoice).toMatchObject({ ok: false, retryable: true, waitingForInvoice: '7999' });
    q.sim.company.addCreditMemo({ refNumber: 'CM-200', customer: 'Acme Dental', amountCents: 1000n });
    await q.sim.webConnector.runNow();
    expect((await q.books.applyCreditMemo(apply('credit:cm-200:7002', 'CM-200', '7002', 1000n))).ok).toBe(true);
    expect(q.sim.company.invoices.find((i) => i.refNumber === '7002')!.balance).toBe(7000n);
  }, 120_000);

  it("QuickBooks' refusals are final with its words: another customer's credit memo, more than is left, already used", async () => {
    q.sim.company.addCreditMemo({ refNumber: 'CM-300', customer: 'Birch Legal', amountCents: 2000n });
    q.sim.company.addCreditMemo({ refNumber: 'CM-301', customer: 'Acme Dental', amountCents: 1000n });
    const cases = [
      [apply('credit:cm-300:7001', 'CM-300', '7001', 2000n), /status 3140.*CreditMemo "CM-300": it belongs to another customer/],
      [apply('credit:cm-301:7001', 'CM-301', '7001', 2500n), /status 3180.*25\.00 is more than the 10\.00 left on credit memo CM-301/],
      [apply('credit:cm-100:7001:again', 'CM-100', '7001', 100n), /status 3180.*credit memo CM-100 has already been used/],
    ] as const;
    for (const [input] of cases) await q.books.applyCreditMemo(input);
    const before = q.sim.company.payments.length;
    await q.sim.webConnector.runNow();
    for (const [input, words] of cases) {
      const r = await q.books.applyCreditMemo(input);
      expect(r).toMatchObject({ ok: false, retryable: false });
      expect(!r.ok && r.error).toMatch(words);
    }
    expect(q.sim.company.payments.length).toBe(before);
    expect(q.sim.company.invoices.find((i) => i.refNumber === '7001')!.balance).toBe(25000n);
  }, 120_000);

  it('an application whose answer was lost is looked for before it is sent again: applied once', async () => {
    q.sim.company.addCreditMemo({ refNumber: 'CM-400', customer: 'Acme Dental', amountCents: 700n });
    const input = apply('credit:cm-400:7002', 'CM-400', '7002', 700n);
    await q.books.applyCreditMemo(input);
    q.sim.webConnector.faults.loseResponse = 1; // QuickBooks applies it; the answer never reaches Settle
    expect((await q.sim.webConnector.runNow()).outcome).toBe('error');
    expect(zeroPayments().filter((p) => p.refNumber === 'CM CM-400')).toHaveLength(1);
    const from = q.sim.webConnector.requests.length;
    expect((await q.sim.webConnector.runNow()).outcome).toBe('done');
    expect(q.sim.webConnector.requests.slice(from).join('')).toMatch(/<ReceivePaymentQueryRq[^>]*>.*<RefNumberRangeFilter><FromRefNumber>CM CM-400</);
    expect((await q.books.applyCreditMemo(input)).ok).toBe(true);
    expect(zeroPayments().filter((p) => p.refNumber === 'CM CM-400')).toHaveLength(1);
    expect(q.sim.company.invoices.find((i) => i.refNumber === '7002')!.balance).toBe(6300n);
  }, 120_000);

  it('every document is valid qbXML 13.0, the credit applications included', async () => {
    const all = q.sim.webConnector.requests;
    expect(all.join('')).toContain('<CreditMemoQueryRq');
    expect(all.join('')).toContain('<SetCredit><CreditTxnID>');
    expect((await validateQbxml(all)).errors).toEqual([]);
  }, 120_000);
});
