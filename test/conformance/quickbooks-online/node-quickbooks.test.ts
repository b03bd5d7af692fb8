// Conformance of the QuickBooks Online simulator, from the outside: Intuit's community client
// `node-quickbooks` drives it (OAuth 2.0, base URL pointed at the simulator), every answer it gets — and
// every direct request's answer — is checked against Intuit's XSDs (../shared/specs/quickbooks-online/xsd),
// faults included (IntuitResponse › Fault / Error), and the last test fails if any route the simulator
// registered was never exercised (computed from its registered routes, so a new route needs a check here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Answer, type Harness } from './harness.ts';
import { XsdModel } from './xsd-validate.ts';

type Json = Record<string, any>;

const model = new XsdModel();
let h: Harness;
let checked = 0;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** The gateway's 401/403 body spells the fault in lower case; read as the XSD's Fault it must conform too. */
function gatewayFault(body: Json): Json {
  const f = body['fault'];
  return {
    Fault: {
      Error: (f['error'] as Json[]).map((e) => ({ Message: e['message'], Detail: e['detail'], code: String(e['code']) })),
      type: f['type'],
    },
  };
}

/** Every QuickBooks API answer recorded since the last call conforms to IntuitResponse. */
function checkAnswers(): void {
  const fresh: Answer[] = h.answers.slice(checked);
  checked = h.answers.length;
  for (const a of fresh) {
    const path = new URL(a.url).pathname;
    if (!path.startsWith('/v3/company/')) continue;
    const body = a.body as Json;
    const doc = body && typeof body === 'object' && 'fault' in body ? gatewayFault(body) : body;
    const errors = model.validate('IntuitResponse', doc, `${a.method} ${path} ${a.status}`);
    expect(errors, JSON.stringify(body).slice(0, 400)).toEqual([]);
    if (a.status >= 400) expect(doc['Fault'], `${a.method} ${path}: a ${a.status} answer carries a Fault`).toBeTypeOf('object');
  }
}

/** The Fault of an outcome: its first Error, after checking the answer is one. */
function faultOf(o: { status: number | null; body: unknown }, status = 400): Json {
  expect(o.status).toBe(status);
  const f = (o.body as Json)['Fault'];
  expect(f, JSON.stringify(o.body)).toBeTypeOf('object');
  return f['Error'][0];
}

const entity = (o: { body: unknown; status: number | null }, name: string): Json => {
  expect(o.status, JSON.stringify(o.body)).toBe(200);
  return (o.body as Json)[name];
};

describe('the XSD checker', () => {
  it('can fail: an unknown property, a wrong type, a missing required attribute', () => {
    expect(model.validate('Payment', { TotalAmt: '10.00' })).toEqual(['Payment.TotalAmt: expected a number, got "10.00"']);
    expect(model.validate('Payment', { PaymentRefNumber: 'x' })[0]).toMatch(/not defined by Payment/);
    expect(model.validate('Fault', { Error: [{ Message: 'm' }] })[0]).toMatch(/required attribute code is missing/);
    expect(model.validate('Invoice', { Line: { Amount: 1 } })[0]).toMatch(/JSON array/);
  });
});

describe('QuickBooks Online simulator through node-quickbooks', () => {
  let customer: Json;
  let invoiceA: Json;

  it('company: CompanyInfo by realm id, Preferences, and both by query', async () => {
    const info = entity(await h.call('getCompanyInfo', h.sim.realmId), 'CompanyInfo');
    expect(info).toMatchObject({ Id: '1', Country: 'US' });
    const prefs = entity(await h.call('getPreferences'), 'Preferences');
    expect(prefs['SalesFormsPrefs']['CustomTxnNumbers']).toBe(false);
    expect(prefs['CurrencyPrefs']).toMatchObject({ MultiCurrencyEnabled: false, HomeCurrency: { value: 'USD' } });
    expect(((await h.call('findCompanyInfos')).data as Json)['QueryResponse']['CompanyInfo']).toHaveLength(1);
    expect(((await h.call('findPreferenceses')).data as Json)['QueryResponse']['Preferences']).toHaveLength(1);
    expect(faultOf(await h.call('getCompanyInfo', '999')).code).toBe('610');
    checkAnswers();
  });

  it('accounts by AccountType and AccountSubType (what the staff app’s dropdowns ask), create and sparse update', async () => {
    const banks = ((await h.call('findAccounts', { AccountType: 'Bank' })).data as Json)['QueryResponse']['Account'] as Json[];
    expect(banks.map((a) => a['Name'])).toEqual(['Checking']);
    const uf = ((await h.call('findAccounts', [{ field: 'AccountSubType', value: 'UndepositedFunds' }])).data as Json)['QueryResponse']['Account'];
    expect(uf[0]['Id']).toBe(h.sim.sim.accounts.undepositedFunds);
    const created = entity(
      await h.call('createAccount', { Name: 'Stripe Clearing', AccountType: 'Other Current Asset', AccountSubType: 'OtherCurrentAssets' }),
      'Account',
    );
    const renamed = entity(
      await h.call('updateAccount', { Id: created['Id'], SyncToken: created['SyncToken'], sparse: true, Name: 'Processor clearing' }),
      'Account',
    );
    expect(renamed).toMatchObject({ Name: 'Processor clearing', FullyQualifiedName: 'Processor clearing', SyncToken: '1' });
    expect(entity(await h.call('getAccount', created['Id']), 'Account')['Name']).toBe('Processor clearing');
    // Stale SyncToken: Intuit's 5010, nothing changed.
    expect(faultOf(await h.call('updateAccount', { Id: created['Id'], SyncToken: '0', sparse: true, Name: 'Late' })).code).toBe('5010');
    checkAnswers();
  });

  it('classes and locations: turned on in Preferences, created, found active, read, made inactive — then refused on a deposit', async () => {
    await h.raw('POST', '/_sim/seed', { body: { tracking: { classes: 'line', departments: true } }, headers: { 'content-type': 'application/json' } });
    const prefs = entity(await h.call('getPreferences'), 'Preferences');
    expect(prefs['AccountingInfoPrefs']).toMatchObject({ ClassTrackingPerTxnLine: true, TrackDepartments: true });
    const managed = entity(await h.call('createClass', { Name: 'Managed services' }), 'Class');
    const backup = entity(await h.call('createClass', { Name: 'Backup', ParentRef: { value: managed['Id'] } }), 'Class');
    expect(backup).toMatchObject({ SubClass: true, FullyQualifiedName: 'Managed services:Backup' });
    const east = entity(await h.call('createDepartment', { Name: 'East office' }), 'Department');
    expect(entity(await h.call('getDepartment', east['Id']), 'Department')['Name']).toBe('East office');
    expect(((await h.call('findDepartments', { Active: true })).data as Json)['QueryResponse']['Department']).toHaveLength(1);
    const retired = entity(await h.call('updateClass', { Id: backup['Id'], SyncToken: backup['SyncToken'], sparse: true, Active: false }), 'Class');
    expect(retired['Active']).toBe(false);
    const active = ((await h.call('findClasses', { Active: true })).data as Json)['QueryResponse']['Class'] as Json[];
    expect(active.map((c) => c['Name'])).toEqual(['Managed services']);
    const refused = await h.call('createDeposit', {
      DepositToAccountRef: { value: h.sim.sim.accounts.checking },
      DepartmentRef: { value: east['Id'] },
      Line: [
        {
          Amount: 5,
          DetailType: 'DepositLineDetail',
          DepositLineDetail: { AccountRef: { value: h.sim.sim.accounts.servicesIncome }, ClassRef: { value: backup['Id'] } },
        },
      ],
    });
    expect(faultOf(refused).code).toBe('610');
    checkAnswers();
  });

  it('invoices: numbered after the highest number when DocNumber is left out; sparse update; void; delete', async () => {
    await h.raw('POST', '/_sim/seed', {
      body: { invoices: [1001, 1002, 1003].map((n) => ({ docNumber: String(n), customerName: 'Acme Dental', amount: '100.00' })) },
      headers: { 'content-type': 'application/json' },
    });
    customer = ((await h.raw('GET', '/_sim/customers')).data as Json[]).find((c) => c['DisplayName'] === 'Acme Dental')!;
    const line = (amount: number) => ({
      Amount: amount,
      DetailType: 'SalesItemLineDetail',
      SalesItemLineDetail: { ItemRef: { value: h.sim.sim.accounts.servicesItem } },
    });
    invoiceA = entity(await h.call('createInvoice', { CustomerRef: { value: customer['Id'] }, Line: [line(250)] }), 'Invoice');
    expect(invoiceA['DocNumber']).toBe('1004');
    const noted = entity(
      await h.call('updateInvoice', { Id: invoiceA['Id'], SyncToken: invoiceA['SyncToken'], sparse: true, PrivateNote: 'April support' }),
      'Invoice',
    );
    expect(noted).toMatchObject({ PrivateNote: 'April support', TotalAmt: 250, SyncToken: '1' });
    invoiceA = noted;
    // Money-bearing properties are not changed by a sparse header update in the simulator.
    expect(faultOf(await h.call('updateInvoice', { Id: noted['Id'], SyncToken: noted['SyncToken'], sparse: true, Line: [line(1)] })).code).toBe('4004');
    const toVoid = entity(await h.call('createInvoice', { CustomerRef: { value: customer['Id'] }, Line: [line(80)] }), 'Invoice');
    expect(toVoid['DocNumber']).toBe('1005');
    const voided = entity(await h.call('voidInvoice', toVoid), 'Invoice');
    expect(voided).toMatchObject({ TotalAmt: 0, Balance: 0 });
    expect(voided['PrivateNote']).toMatch(/^Voided/);
    const toDelete = entity(await h.call('createInvoice', { CustomerRef: { value: customer['Id'] }, Line: [line(20)] }), 'Invoice');
    const deleted = entity(await h.call('deleteInvoice', toDelete), 'Invoice');
    expect(deleted).toEqual({ domain: 'QBO', status: 'Deleted', Id: toDelete['Id'] });
    expect(faultOf(await h.call('getInvoice', toDelete['Id'])).code).toBe('610');
    expect(faultOf(await h.call('deleteInvoice', { Id: invoiceA['Id'], SyncToken: '0' })).code).toBe('5010');
    checkAnswers();
  });

  it('queries refuse a WHERE or ORDERBY on a property Intuit does not mark filterable (PrivateNote), with 4001', async () => {
    const byNote = await h.call('findPayments', { PrivateNote: '[settle:abc]' });
    const err = (byNote.err as { response?: { data: Json } }).response?.data ?? (byNote.err as Json);
    expect(err['Fault']['Error'][0]).toMatchObject({ code: '4001', Detail: "QueryValidationError: property 'PrivateNote' is not queryable" });
    const sorted = await h.call('findInvoices', [{ field: 'asc', value: 'PrivateNote' }]);
    expect(((sorted.err as { response?: { data: Json } }).response?.data ?? (sorted.err as Json))['Fault']['Error'][0]['code']).toBe('4001');
    const ok = await h.call('findInvoices', [
      { field: 'DocNumber', value: ['1004', '1005'], operator: 'IN' },
      { field: 'desc', value: 'TxnDate' },
    ]);
    expect((ok.data as Json)['QueryResponse']['Invoice'].map((i: Json) => i['DocNumber']).sort()).toEqual(['1004', '1005']);
    // A query sent as a POST body (Content-Type application/text), as Intuit's SDKs do for long queries.
    const posted = await h.raw('POST', `/v3/company/${h.sim.realmId}/query?minorversion=75`, {
      body: "SELECT * FROM Payment WHERE PaymentRefNum = 'nope'",
      headers: { authorization: `Bearer ${h.qbo.token}`, 'content-type': 'application/text', accept: 'application/json' },
    });
    expect(posted.status).toBe(200);
    checkAnswers();
  });

  it('payments: create, find by PaymentRefNum, sparse update, void (operation=update&include=void), delete', async () => {
    const pay = (amount: number, ref: string) => ({
      CustomerRef: { value: customer['Id'] },
      TotalAmt: amount,
      PaymentRefNum: ref,
      PrivateNote: `[settle:${ref}]`,
      Line: [{ Amount: amount, LinkedTxn: [{ TxnId: invoiceA['Id'], TxnType: 'Invoice' }] }],
    });
    const p1 = entity(await h.call('createPayment', pay(50, 'ch_1')), 'Payment');
    const found = ((await h.call('findPayments', { PaymentRefNum: 'ch_1' })).data as Json)['QueryResponse']['Payment'];
    expect(found.map((p: Json) => p['Id'])).toEqual([p1['Id']]);
    const noted = entity(
      await h.call('updatePayment', { Id: p1['Id'], SyncToken: p1['SyncToken'], sparse: true, PrivateNote: '[settle:ch_1] checked' }),
      'Payment',
    );
    expect(noted['SyncToken']).toBe('1');
    // As node-quickbooks users often do: the whole record sent back with one property changed.
    const whole = entity(await h.call('updatePayment', { ...noted, sparse: true, PrivateNote: '[settle:ch_1] whole' }), 'Payment');
    expect(whole).toMatchObject({ SyncToken: '2', PrivateNote: '[settle:ch_1] whole', TotalAmt: 50 });
    expect(faultOf(await h.call('voidPayment', { Id: p1['Id'], SyncToken: '0' })).code).toBe('5010');
    const voided = entity(await h.call('voidPayment', { Id: p1['Id'], SyncToken: whole['SyncToken'] }), 'Payment');
    expect(voided).toMatchObject({ TotalAmt: 0, Line: [] });
    expect(entity(await h.call('getInvoice', invoiceA['Id']), 'Invoice')['Balance']).toBe(250);
    const p2 = entity(await h.call('createPayment', pay(30, 'ch_2')), 'Payment');
    expect(entity(await h.call('deletePayment', p2), 'Payment')).toEqual({ domain: 'QBO', status: 'Deleted', Id: p2['Id'] });
    expect(entity(await h.call('getInvoice', invoiceA['Id']), 'Invoice')['Balance']).toBe(250);
    // The bookkeeper's screens (simulator control): void and delete as in QuickBooks' UI.
    const p3 = entity(await h.call('createPayment', pay(10, 'ch_3')), 'Payment');
    const p4 = entity(await h.call('createPayment', pay(15, 'ch_4')), 'Payment');
    expect((await h.raw('POST', `/_sim/payments/${p3['Id']}/void`)).data).toMatchObject({ TotalAmt: 0 });
    expect((await h.raw('POST', `/_sim/payments/${p4['Id']}/delete`)).data).toEqual({ ok: true });
    expect(((await h.raw('GET', '/_sim/payments')).data as Json[]).map((p) => p['Id'])).not.toContain(p4['Id']);
    checkAnswers();
  });

  it('deposits: create from Undeposited Funds, sparse update, a deposited payment cannot be voided, delete frees it', async () => {
    const p = entity(
      await h.call('createPayment', {
        CustomerRef: { value: customer['Id'] },
        TotalAmt: 100,
        Line: [{ Amount: 100, LinkedTxn: [{ TxnId: invoiceA['Id'], TxnType: 'Invoice' }] }],
      }),
      'Payment',
    );
    const fees = { Amount: -2.9, DetailType: 'DepositLineDetail', DepositLineDetail: { AccountRef: { value: h.sim.sim.accounts.merchantFees } } };
    const dep = entity(
      await h.call('createDeposit', {
        DepositToAccountRef: { value: h.sim.sim.accounts.checking },
        Line: [{ Amount: 100, LinkedTxn: [{ TxnId: p['Id'], TxnType: 'Payment' }] }, fees],
      }),
      'Deposit',
    );
    expect(dep['TotalAmt']).toBe(97.1);
    const memo = entity(
      await h.call('updateDeposit', {
        Id: dep['Id'],
        SyncToken: dep['SyncToken'],
        sparse: true,
        DepositToAccountRef: dep['DepositToAccountRef'],
        PrivateNote: 'payout po_1',
      }),
      'Deposit',
    );
    expect(memo['PrivateNote']).toBe('payout po_1');
    const fresh = entity(await h.call('getPayment', p['Id']), 'Payment');
    expect(faultOf(await h.call('voidPayment', { Id: fresh['Id'], SyncToken: fresh['SyncToken'] })).Detail).toMatch(/part of Deposit/);
    expect(entity(await h.call('deleteDeposit', memo), 'Deposit')['status']).toBe('Deleted');
    expect(entity(await h.call('getPayment', p['Id']), 'Payment')['LinkedTxn']).toEqual([]);
    expect((await h.raw('GET', '/_sim/deposits')).data).toEqual([]);
    checkAnswers();
  });

  it('journal entries: create, read, delete', async () => {
    const je = entity(
      await h.call('createJournalEntry', {
        Line: [
          {
            Amount: 5,
            DetailType: 'JournalEntryLineDetail',
            JournalEntryLineDetail: { PostingType: 'Debit', AccountRef: { value: h.sim.sim.accounts.merchantFees } },
          },
          {
            Amount: 5,
            DetailType: 'JournalEntryLineDetail',
            JournalEntryLineDetail: { PostingType: 'Credit', AccountRef: { value: h.sim.sim.accounts.checking } },
          },
        ],
      }),
      'JournalEntry',
    );
    expect(entity(await h.call('getJournalEntry', je['Id']), 'JournalEntry')['TotalAmt']).toBe(5);
    expect(((await h.raw('GET', '/_sim/journal-entries')).data as Json[]).length).toBe(1);
    expect(entity(await h.call('deleteJournalEntry', je), 'JournalEntry')['status']).toBe('Deleted');
    checkAnswers();
  });

  it('vendors and purchases: one name list with customers, the right account per PaymentType, delete', async () => {
    const stripe = entity(await h.call('createVendor', { DisplayName: 'Stripe' }), 'Vendor');
    expect(faultOf(await h.call('createVendor', { DisplayName: 'Acme Dental' })).code).toBe('6240');
    const body = (paymentType: string) => ({
      PaymentType: paymentType,
      AccountRef: { value: h.sim.sim.accounts.checking },
      EntityRef: { value: stripe['Id'], type: 'Vendor' },
      Line: [
        {
          Amount: 12.5,
          DetailType: 'AccountBasedExpenseLineDetail',
          AccountBasedExpenseLineDetail: { AccountRef: { value: h.sim.sim.accounts.merchantFees } },
        },
      ],
    });
    expect(faultOf(await h.call('createPurchase', body('CreditCard'))).code).toBe('6000');
    const purchase = entity(await h.call('createPurchase', body('Check')), 'Purchase');
    expect(purchase).toMatchObject({ TotalAmt: 12.5, EntityRef: { value: stripe['Id'], type: 'Vendor' } });
    expect(entity(await h.call('getVendor', stripe['Id']), 'Vendor')['DisplayName']).toBe('Stripe');
    expect(((await h.call('findPurchases', { TxnDate: purchase['TxnDate'] })).data as Json)['QueryResponse']['Purchase']).toHaveLength(1);
    const byType = await h.call('findPurchases', { PaymentType: 'Check' }); // not marked filterable: refused
    expect(((byType.err as { response?: { data: Json } }).response?.data ?? (byType.err as Json))['Fault']['Error'][0]['code']).toBe('4001');
    const updated = entity(
      await h.call('updatePurchase', { Id: purchase['Id'], SyncToken: purchase['SyncToken'], sparse: true, DocNumber: 'FEE-04' }),
      'Purchase',
    );
    expect(entity(await h.call('deletePurchase', updated), 'Purchase')['status']).toBe('Deleted');
    checkAnswers();
  });

  it('Change Data Capture: changes since a time, voided and deleted included; Intuit’s limits refused', async () => {
    const since = new Date(Date.now() - 3600_000).toISOString();
    const cdc = await h.call('changeDataCapture', ['Payment', 'Invoice', 'Deposit', 'Purchase'], since);
    expect(cdc.status).toBe(200);
    const [payments, invoices, deposits, purchases] = (cdc.body as Json)['CDCResponse'][0]['QueryResponse'] as Json[];
    expect(payments!['Payment'].filter((p: Json) => p['status'] === 'Deleted').length).toBe(2);
    expect(payments!['Payment'].some((p: Json) => p['TotalAmt'] === 0 && /^Voided/.test(String(p['PrivateNote'])))).toBe(true);
    expect(invoices!['Invoice'].some((i: Json) => i['status'] === 'Deleted')).toBe(true);
    expect(deposits!['Deposit'].map((d: Json) => d['status'])).toEqual(['Deleted']);
    expect(purchases!['Purchase']).toHaveLength(1);
    const future = await h.call('changeDataCapture', ['Invoice'], new Date(Date.now() + 3600_000).toISOString());
    expect((future.body as Json)['CDCResponse'][0]['QueryResponse']).toEqual([{}]);
    expect(faultOf(await h.call('changeDataCapture', ['Invoice'], new Date(Date.now() - 31 * 86400_000).toISOString())).element).toBe('changedSince');
    expect(faultOf(await h.call('changeDataCapture', ['Invoices'], since)).code).toBe('4001');
    checkAnswers();
  });

  it('the drift control (three-way reconciliation demo): a cheque entered by hand, read back through the API, deleted', async () => {
    const json = { 'content-type': 'application/json' };
    const line = { Amount: 80, DetailType: 'SalesItemLineDetail', SalesItemLineDetail: { ItemRef: { value: h.sim.sim.accounts.servicesItem } } };
    const inv = entity(await h.call('createInvoice', { CustomerRef: { value: customer['Id'] }, Line: [line] }), 'Invoice');
    const hand = (await h.raw('POST', '/_sim/drift', { body: { kind: 'hand-payment', invoice: inv['DocNumber'], amount: '5.00' }, headers: json })).data as {
      payment: Json;
    };
    expect(entity(await h.call('getPayment', hand.payment['Id']), 'Payment')).toMatchObject({ TotalAmt: 5, PaymentRefNum: `CHK-${inv['DocNumber']}` });
    expect(entity(await h.call('getInvoice', inv['Id']), 'Invoice')['Balance']).toBe(75);
    expect((await h.raw('POST', '/_sim/drift', { body: { kind: 'delete-payment', payment: hand.payment['Id'] }, headers: json })).status).toBe(200);
    expect(entity(await h.call('getInvoice', inv['Id']), 'Invoice')['Balance']).toBe(80);
    expect((await h.raw('POST', '/_sim/drift', { body: { kind: 'rewrite-history' }, headers: json })).status).toBe(400);
    checkAnswers();
  });

  it('batch: up to 30 operations of mixed kinds (query, create, update, void, delete); 31 refused', async () => {
    const pay = entity(
      await h.call('createPayment', {
        CustomerRef: { value: customer['Id'] },
        TotalAmt: 1,
        Line: [{ Amount: 1, LinkedTxn: [{ TxnId: invoiceA['Id'], TxnType: 'Invoice' }] }],
      }),
      'Payment',
    );
    const acme = entity(await h.call('getCustomer', customer['Id']), 'Customer'); // a payment moves the customer's SyncToken
    const items = [
      { bId: 'q1', Query: "select * from Account where AccountType = 'Bank'" },
      { bId: 'c1', operation: 'create', Customer: { DisplayName: 'Birch Law LLP' } },
      { bId: 'bad', operation: 'create', Customer: { DisplayName: 'Acme Dental' } },
      { bId: 'u1', operation: 'update', Customer: { Id: acme['Id'], SyncToken: acme['SyncToken'], sparse: true, Notes: 'key account' } },
      { bId: 'v1', operation: 'void', Payment: { Id: pay['Id'], SyncToken: pay['SyncToken'], sparse: true } },
      { bId: 'v2', operation: 'delete', Payment: { Id: pay['Id'], SyncToken: pay['SyncToken'] } },
    ];
    const ok = await h.call('batch', items);
    expect(ok.status).toBe(200);
    const answers = (ok.body as Json)['BatchItemResponse'] as Json[];
    expect(answers.map((a) => a['bId'])).toEqual(['q1', 'c1', 'bad', 'u1', 'v1', 'v2']);
    expect(answers[2]!['Fault']['Error'][0]['code']).toBe('6240');
    expect(answers[3]!['Customer']['Notes']).toBe('key account');
    expect(answers[4]!['Payment']['TotalAmt']).toBe(0);
    // Items run one after another: the void moved the SyncToken, so the delete with the old one is stale.
    expect(answers[5]!['Fault']['Error'][0]['code']).toBe('5010');
    const many = Array.from({ length: 31 }, (_, i) => ({ bId: `q${i}`, Query: 'select * from Item' }));
    expect(faultOf(await h.call('batch', many)).Detail).toMatch(/maximum is 30/);
    checkAnswers();
  });

  it('minorversion: 75 answered; below 75, above the latest, or not a number refused with a Fault', async () => {
    for (const v of [65, 76, 'abc']) {
      const other = await h.client(v);
      expect(faultOf(await h.callOn(other, 'getPreferences')).code).toBe('4005');
    }
    const none = await h.raw('GET', `/v3/company/${h.sim.realmId}/preferences`);
    expect(none.status).toBe(200); // no minorversion: served as 75, as Intuit does
    checkAnswers();
  });

  it('throttles: over 10 requests a second per realm and app → 429 with Intuit’s ThrottleExceeded fault', async () => {
    await h.raw('POST', '/_sim/limits', { body: { requestsPerSecond: 1 }, headers: { 'content-type': 'application/json' } });
    await new Promise((r) => setTimeout(r, 1100)); // a fresh second
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => h.callNow('getPreferences')));
    await h.raw('POST', '/_sim/limits', { body: { requestsPerSecond: 10 }, headers: { 'content-type': 'application/json' } });
    const throttled = outcomes.filter((o) => o.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(1); // 6 at once against 1 a second (generous for a busy machine)
    expect(faultOf(throttled[0]!, 429)).toMatchObject({ code: '3001', Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429' });
    expect(((await h.raw('GET', '/_sim/stats')).data as Json)['throttled']['perSecond']).toBe(throttled.length);
    checkAnswers();
  });

  it('requestid: an answer lost after the write is replayed, not executed twice', async () => {
    await h.raw('POST', '/_sim/lose-answers', { body: { pathPattern: '/customer$', times: 1 }, headers: { 'content-type': 'application/json' } });
    const first = await h.call('createCustomer', { DisplayName: 'Cedar Clinic', requestId: 'rid-cedar-1' });
    expect(first.status).toBeNull(); // the connection dropped
    const again = entity(await h.call('createCustomer', { DisplayName: 'Cedar Clinic', requestId: 'rid-cedar-1' }), 'Customer');
    expect(((await h.raw('GET', '/_sim/customers')).data as Json[]).filter((c) => c['DisplayName'] === 'Cedar Clinic').map((c) => c['Id'])).toEqual([
      again['Id'],
    ]);
    checkAnswers();
  });

  it('OAuth: expired access token → gateway 401 (checked as a Fault); refresh; consent redirect; revoke', async () => {
    expect((await h.raw('GET', '/_sim/accounts')).data).toMatchObject({ checking: h.sim.sim.accounts.checking });
    expect(
      (
        await h.raw('POST', '/_sim/accounts', {
          body: { name: 'Checking', accountType: 'Bank', accountSubType: 'Checking' },
          headers: { 'content-type': 'application/json' },
        })
      ).data,
    ).toMatchObject({ Id: h.sim.sim.accounts.checking });
    expect((await h.raw('GET', '/_sim/invoices')).status).toBe(200);
    await h.raw('POST', '/_sim/tokens/expire');
    const expired = await h.call('getPreferences');
    expect(expired.status).toBe(401);
    expect((expired.body as Json)['fault']['error'][0]['code']).toBe('3200');
    expect((await h.call('refreshAccessToken')).err).toBeNull();
    expect((await h.call('getPreferences')).status).toBe(200);
    // The consent page: only for a registered redirect URI; "Connect" goes back with code, state and realmId.
    const consentQuery = `client_id=${h.sim.clientId}&redirect_uri=${encodeURIComponent('https://msp.example/cb')}&response_type=code&scope=com.intuit.quickbooks.accounting&state=s1`;
    expect((await h.raw('GET', `/connect/oauth2?${consentQuery}`, { maxRedirects: 0 })).status).toBe(400);
    expect(
      (await h.raw('POST', '/_sim/oauth/redirect-uris', { body: { uri: 'https://msp.example/cb' }, headers: { 'content-type': 'application/json' } })).status,
    ).toBe(200);
    const page = await h.raw('GET', `/connect/oauth2?${consentQuery}`, { maxRedirects: 0 });
    expect(page.status).toBe(200);
    expect(String(page.data)).toContain('name="decision" value="allow"');
    const consent = await h.raw('POST', '/connect/oauth2', {
      body: `${consentQuery}&decision=allow`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      maxRedirects: 0,
    });
    expect(consent.status).toBe(302);
    expect(String(consent.headers['location'])).toMatch(/^https:\/\/msp\.example\/cb\?code=.+&realmId=.+&state=s1$/);
    expect((await h.raw('POST', '/_sim/oauth/codes/expire')).status).toBe(200);
    expect((await h.call('revokeAccess', false)).err).toBeNull();
    expect((await h.raw('GET', `/v3/company/${h.sim.realmId}/preferences`)).status).toBe(401);
    checkAnswers();
  });

  it('every route the simulator registers was exercised above', () => {
    const missing = h.sim.routes.map((r) => `${r.method} ${r.url}`).filter((r) => !h.sim.routesHit.has(r));
    expect(h.sim.routes.length).toBeGreaterThan(20);
    expect(missing).toEqual([]);
    // …and their answers were checked against the XSDs as they came.
    expect(checked).toBeGreaterThan(80);
  });
});
