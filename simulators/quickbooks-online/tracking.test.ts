// Classes and locations (Class / Department) over HTTP: the lists, the Preferences that turn them on, and
// the references on the transactions Settle writes — refused while tracking is off, for an unknown id (2500)
// or an inactive one (610), in Intuit's Fault shape; carried on the records when accepted.
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
  s.sim.configureLimits({ requestsPerSecond: 1000 }); // many calls in a row; the throttle has tests of its own
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
  const query = async (q: string) => (await call('GET', `/query?query=${encodeURIComponent(q)}`)).body;
  return { s, call, query, a: s.sim.accounts };
}

const feeDeposit = (a: Json, extra: { classRef?: Json; departmentRef?: Json }) => ({
  DepositToAccountRef: { value: a.checking },
  ...(extra.departmentRef ? { DepartmentRef: extra.departmentRef } : {}),
  Line: [
    {
      Amount: 25,
      DetailType: 'DepositLineDetail',
      DepositLineDetail: { AccountRef: { value: a.servicesIncome }, ...(extra.classRef ? { ClassRef: extra.classRef } : {}) },
    },
  ],
});

describe('Class and Department', () => {
  it('are off in Preferences until turned on; created, queried, read and made inactive through the API', async () => {
    const { s, call, query } = await setup();
    const prefs = await call('GET', '/preferences');
    expect(prefs.body['Preferences']['AccountingInfoPrefs']).toMatchObject({
      ClassTrackingPerTxn: false,
      ClassTrackingPerTxnLine: false,
      TrackDepartments: false,
    });
    s.sim.setTracking({ classes: 'line', departments: true });
    const viaQuery = await query('SELECT * FROM Preferences');
    expect(viaQuery['QueryResponse']['Preferences'][0]['AccountingInfoPrefs']).toMatchObject({ ClassTrackingPerTxnLine: true, TrackDepartments: true });

    const managed = (await call('POST', '/class', { Name: 'Managed services' })).body['Class'];
    expect(managed).toMatchObject({ Name: 'Managed services', FullyQualifiedName: 'Managed services', SubClass: false, Active: true, SyncToken: '0' });
    const backup = (await call('POST', '/class', { Name: 'Backup', ParentRef: { value: managed.Id } })).body['Class'];
    expect(backup).toMatchObject({ SubClass: true, FullyQualifiedName: 'Managed services:Backup', ParentRef: { value: managed.Id } });
    const dup = await call('POST', '/class', { Name: 'managed SERVICES' });
    expect(dup.status).toBe(400);
    expect(dup.body['Fault']['Error'][0]['code']).toBe('6240');
    expect((await call('POST', '/class', { Name: 'x', Color: 'red' })).body['Fault']['Error'][0]['code']).toBe('2010');

    const east = (await call('POST', '/department', { Name: 'East office' })).body['Department'];
    expect(east).toMatchObject({ Name: 'East office', SubDepartment: false, Active: true });
    expect((await call('GET', `/department/${east.Id}`)).body['Department']['Name']).toBe('East office');

    const list = await query('SELECT * FROM Class WHERE Active = true ORDERBY Name');
    expect(list['QueryResponse']['Class'].map((c: Json) => c['FullyQualifiedName'])).toEqual(['Managed services:Backup', 'Managed services']);
    // Not a delete: QuickBooks makes a class inactive.
    const off = await call('POST', '/class', { Id: backup.Id, SyncToken: backup.SyncToken, sparse: true, Active: false });
    expect(off.body['Class']).toMatchObject({ Active: false, SyncToken: '1' });
    expect((await query('SELECT * FROM Class WHERE Active = true'))['QueryResponse']['Class'].map((c: Json) => c.Id)).toEqual([managed.Id]);
    expect((await call('POST', '/class?operation=delete', { Id: managed.Id, SyncToken: managed.SyncToken })).body['Fault']['Error'][0]['code']).toBe('4004');
    const stale = await call('POST', '/class', { Id: backup.Id, SyncToken: '0', sparse: true, Name: 'Later' });
    expect(stale.body['Fault']['Error'][0]['code']).toBe('5010');
  });

  it('a ClassRef or DepartmentRef is refused while tracking is off, and nothing is posted', async () => {
    const { s, call, a } = await setup();
    const cls = s.sim.ensureTracking('Class', 'Projects');
    const loc = s.sim.ensureTracking('Department', 'West');
    const byClass = await call('POST', '/deposit', feeDeposit(a, { classRef: { value: cls.Id } }));
    expect(byClass.status).toBe(400);
    expect(byClass.body['Fault']).toMatchObject({ type: 'ValidationFault', Error: [{ code: '6000', element: 'Line.DepositLineDetail.ClassRef' }] });
    expect(byClass.body['Fault']['Error'][0]['Detail']).toMatch(/Class tracking is turned off/);
    const byLocation = await call('POST', '/deposit', feeDeposit(a, { departmentRef: { value: loc.Id } }));
    expect(byLocation.body['Fault']['Error'][0]).toMatchObject({ code: '6000', element: 'DepartmentRef' });
    expect(s.sim.deposits()).toEqual([]);
  });

  it('deposits, journal entries and payments carry valid refs; unknown (2500) and inactive (610) ones are refused', async () => {
    const { s, call, a } = await setup();
    s.sim.setTracking({ classes: 'line', departments: true });
    const cls = s.sim.ensureTracking('Class', 'Projects');
    const loc = s.sim.ensureTracking('Department', 'West');

    const dep = await call('POST', '/deposit', feeDeposit(a, { classRef: { value: cls.Id }, departmentRef: { value: loc.Id } }));
    expect(dep.status).toBe(200);
    expect(dep.body['Deposit']['DepartmentRef']).toEqual({ value: loc.Id, name: 'West' });
    expect(dep.body['Deposit']['Line'][0]['DepositLineDetail']['ClassRef']).toEqual({ value: cls.Id, name: 'Projects' });

    const je = await call('POST', '/journalentry', {
      DepartmentRef: { value: loc.Id },
      Line: ['Debit', 'Credit'].map((posting) => ({
        Amount: 10,
        DetailType: 'JournalEntryLineDetail',
        JournalEntryLineDetail: {
          PostingType: posting,
          AccountRef: { value: posting === 'Debit' ? a.merchantFees : a.checking },
          ClassRef: { value: cls.Id },
          DepartmentRef: { value: loc.Id },
        },
      })),
    });
    expect(je.status).toBe(200);
    expect(je.body['JournalEntry']['Line'][1]['JournalEntryLineDetail']).toMatchObject({ ClassRef: { value: cls.Id }, DepartmentRef: { value: loc.Id } });

    const unknown = await call('POST', '/deposit', feeDeposit(a, { classRef: { value: '9999' } }));
    expect(unknown.body['Fault']['Error'][0]).toMatchObject({ code: '2500', element: 'Line.DepositLineDetail.ClassRef' });
    s.sim.setTrackingActive('Class', cls.Id, false);
    const inactive = await call('POST', '/deposit', feeDeposit(a, { classRef: { value: cls.Id } }));
    expect(inactive.status).toBe(400);
    expect(inactive.body['Fault']['Error'][0]).toMatchObject({ code: '610' });
    expect(inactive.body['Fault']['Error'][0]['Detail']).toContain(`Class Id=${cls.Id}`);
    expect(s.sim.deposits()).toHaveLength(1);

    // Payment: DepartmentRef yes, ClassRef is no property of a Payment (2010).
    const inv = s.sim.seedInvoice({ docNumber: 'INV-1', customerName: 'Acme', amount: '100.00' });
    const payment = (ref: Json) => ({
      CustomerRef: { value: (inv['CustomerRef'] as Json).value },
      TotalAmt: 100,
      ...ref,
      Line: [{ Amount: 100, LinkedTxn: [{ TxnId: inv.Id, TxnType: 'Invoice' }] }],
    });
    expect((await call('POST', '/payment', payment({ ClassRef: { value: cls.Id } }))).body['Fault']['Error'][0]['code']).toBe('2010');
    const paid = await call('POST', '/payment', payment({ DepartmentRef: { value: loc.Id } }));
    expect(paid.body['Payment']['DepartmentRef']).toEqual({ value: loc.Id, name: 'West' });
  });

  it('the control seed turns tracking on and creates classes and locations', async () => {
    const { s } = await setup();
    const res = await fetch(`${s.baseUrl}/_sim/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        tracking: { classes: 'transaction', departments: true },
        classes: [{ name: 'Managed' }, { name: 'Old', active: false }],
        departments: [{ name: 'North' }],
      }),
    });
    const body = (await res.json()) as Json;
    expect(body['tracking']).toMatchObject({ ClassTrackingPerTxn: true, ClassTrackingPerTxnLine: false, TrackDepartments: true });
    expect(body['classes'].map((c: Json) => [c['Name'], c['Active']])).toEqual([
      ['Managed', true],
      ['Old', false],
    ]);
    expect(body['departments'][0]['Name']).toBe('North');
  });
});
