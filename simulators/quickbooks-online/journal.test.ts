// Journal entries and the re-application of a deposited payment, over HTTP: what a reversal in the books
// (refund, ACH return, lost dispute) relies on.
import { afterEach, describe, expect, it } from 'vitest';
import { startQuickBooksSimulator, type RunningQuickBooksSimulator } from './index.ts';

type Json = Record<string, any>;
let qbo: RunningQuickBooksSimulator | undefined;
afterEach(async () => {
  await qbo?.close();
  qbo = undefined;
});

async function setup() {
  qbo = await startQuickBooksSimulator();
  const s = qbo;
  const res = await fetch(s.oauthTokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${s.clientId}:${s.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: s.initialRefreshToken }).toString(),
  });
  const tok = ((await res.json()) as Json)['access_token'];
  const base = `${s.baseUrl}/v3/company/${s.realmId}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${tok}`, accept: 'application/json', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as Json };
  };
  const inv = s.sim.seedInvoice({ docNumber: 'INV-1', customerName: 'Acme', amount: '100.00' });
  const pay = (
    await call('POST', '/payment', {
      CustomerRef: { value: (inv['CustomerRef'] as Json).value },
      TotalAmt: 100,
      Line: [{ Amount: 100, LinkedTxn: [{ TxnId: inv.Id, TxnType: 'Invoice' }] }],
    })
  ).body['Payment'];
  const a = s.sim.accounts;
  const dep = await call('POST', '/deposit', {
    DepositToAccountRef: { value: a.checking },
    Line: [{ Amount: 100, LinkedTxn: [{ TxnId: pay.Id, TxnType: 'Payment' }] }],
  });
  expect(dep.status).toBe(200);
  return { s, call, inv, pay, a, customer: (inv['CustomerRef'] as Json).value as string };
}

const je = (customer: string, ar: string, other: string, amount: number) => ({
  TxnDate: '2026-03-02',
  PrivateNote: 'ACH return R01 [settle:x]',
  Line: [
    {
      Amount: amount,
      DetailType: 'JournalEntryLineDetail',
      JournalEntryLineDetail: { PostingType: 'Debit', AccountRef: { value: ar }, Entity: { Type: 'Customer', EntityRef: { value: customer } } },
    },
    { Amount: amount, DetailType: 'JournalEntryLineDetail', JournalEntryLineDetail: { PostingType: 'Credit', AccountRef: { value: other } } },
  ],
});

describe('JournalEntry and re-applying a deposited payment', () => {
  it('a deposited payment cannot be voided, but can be re-applied from its invoice to an A/R journal entry', async () => {
    const { s, call, inv, pay, a, customer } = await setup();
    expect(
      (await call('POST', '/payment?operation=void', { Id: pay.Id, SyncToken: s.sim.payments()[0]!.SyncToken })).body['Fault']['Error'][0]['Detail'],
    ).toMatch(/part of Deposit \d+; remove it from the deposit/);

    const entry = (await call('POST', '/journalentry', je(customer, a.accountsReceivable, a.merchantFees, 40))).body['JournalEntry'];
    expect(entry.TotalAmt).toBe(40);
    expect(s.sim.customers().find((c) => c.Id === customer)!['Balance']).toBe(40);

    const current = (await call('GET', `/payment/${pay.Id}`)).body['Payment'];
    const upd = await call('POST', '/payment', {
      Id: pay.Id,
      SyncToken: current.SyncToken,
      sparse: true,
      Line: [
        { Amount: 60, LinkedTxn: [{ TxnId: inv.Id, TxnType: 'Invoice' }] },
        { Amount: 40, LinkedTxn: [{ TxnId: entry.Id, TxnType: 'JournalEntry' }] },
      ],
    });
    expect(upd.status).toBe(200);
    expect(upd.body['Payment'].TotalAmt).toBe(100);
    expect(s.sim.invoices().find((i) => i.Id === inv.Id)!['Balance']).toBe(40); // the invoice owes the reversed part again
    expect(s.sim.customers().find((c) => c.Id === customer)!['Balance']).toBe(40);
    expect(s.sim.deposits()[0]!['TotalAmt']).toBe(100); // the deposit is untouched

    // Applying more to the journal entry than it has open is refused, and nothing changes.
    const again = (await call('GET', `/payment/${pay.Id}`)).body['Payment'];
    const over = await call('POST', '/payment', {
      Id: pay.Id,
      SyncToken: again.SyncToken,
      sparse: true,
      Line: [
        { Amount: 50, LinkedTxn: [{ TxnId: entry.Id, TxnType: 'JournalEntry' }] },
        { Amount: 50, LinkedTxn: [{ TxnId: inv.Id, TxnType: 'Invoice' }] },
      ],
    });
    expect(over.status).toBe(400);
    expect(s.sim.invoices().find((i) => i.Id === inv.Id)!['Balance']).toBe(40);
  });

  it('refuses an unbalanced entry, and an A/R line without its customer', async () => {
    const { call, a, customer } = await setup();
    const bad = je(customer, a.accountsReceivable, a.merchantFees, 10);
    (bad.Line[1] as Json)['Amount'] = 9;
    expect((await call('POST', '/journalentry', bad)).body['Fault']['Error'][0]['Detail']).toMatch(/unbalanced/);
    const noCustomer = je(customer, a.accountsReceivable, a.merchantFees, 10);
    delete (noCustomer.Line[0]!.JournalEntryLineDetail as Json)['Entity'];
    expect((await call('POST', '/journalentry', noCustomer)).body['Fault']['Error'][0]['Detail']).toMatch(/must choose a customer/);
  });
});
