// Credit memos applied in ConnectWise, read through the connector over HTTP against the simulator: staff
// apply part of a credit memo to an invoice; the invoice's balance drops by it, and creditApplications names
// the memo (id and number), the amount and the day. Settle's own payment look-up (check-before-write) never
// takes the credit row for a payment of the same amount and day.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectWiseSimulator, type RunningConnectWiseSimulator } from '../../../../simulators/connectwise/index.ts';
import { money } from '../../../domain/money.ts';
import { createConnectWiseConnector } from './connector.ts';

let cw: RunningConnectWiseSimulator;
beforeAll(async () => {
  cw = await startConnectWiseSimulator({ seed: { companies: 1, invoices: 0, seed: 1 } });
});
afterAll(async () => cw.close());

describe('ConnectWise: credit memos applied to an invoice', () => {
  it('lists each applied credit with its memo’s number; the balance already shows it; a payment look-up skips it', async () => {
    const psa = createConnectWiseConnector({ baseUrl: cw.baseUrl, ...cw.credentials, apiMemberIdentifier: 'settle-api' });
    const companyId = cw.state.companies.all()[0]!.id;
    const invoice = cw.sim.createInvoice({ companyId, lines: [{ kind: 'product', description: 'Managed IT', quantity: 1, price: '500.00' }] });
    const memo = cw.sim.createInvoice({
      companyId,
      type: 'CreditMemo',
      lines: [{ kind: 'product', description: 'Outage credit', quantity: 1, price: '-80.00' }],
    });
    expect(await psa.creditApplications(String(invoice.id))).toEqual([]);

    cw.state.applyCreditMemo(invoice.id, memo.id, 5000n, '2026-12-01');
    expect((await psa.getInvoice(String(invoice.id)))!.balance).toEqual(money(45000, 'USD'));
    expect((await psa.getInvoice(String(memo.id)))!.balance).toEqual(money(-3000, 'USD'));
    const [app] = await psa.creditApplications(String(invoice.id));
    expect(app).toMatchObject({
      creditMemoExternalId: String(memo.id),
      creditMemoNumber: memo.invoiceNumber,
      amount: money(5000, 'USD'),
      appliedOn: '2026-12-01',
    });

    // Settle records a client payment of the same amount and day: a new payment, not the credit row.
    const paid = await psa.recordPayment({
      invoiceExternalId: String(invoice.id),
      amount: money(5000, 'USD'),
      paidOn: '2026-12-01',
      reference: 'pi_1',
      idempotencyKey: 'k1',
    });
    expect(paid.alreadyRecorded).toBe(false);
    expect(paid.remoteId).not.toBe(app!.remoteId);

    // More than the credit left is refused in ConnectWise, and nothing changes.
    expect(() => cw.state.applyCreditMemo(invoice.id, memo.id, 3001n, '2026-12-02')).toThrow(/exceeds the credit left/);
    expect(await psa.creditApplications(String(invoice.id))).toHaveLength(1);
  });
});
