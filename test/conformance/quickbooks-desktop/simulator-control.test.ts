// The QuickBooks Desktop simulator has no vendor routes of its own (the Web Connector calls Settle, not the other
// way round): its routes are the /_sim control plane. Each is exercised over HTTP here, and every route it
// registers must have answered 2xx at least once (computed from the registered routes: a new one fails here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQbdSimulator, type RunningQbdSimulator } from '../../../simulators/quickbooks-desktop/index.ts';
import { handleQbxml } from '../../../simulators/quickbooks-desktop/qbxml.ts';
import { depositModRequest } from '../../../src/connectors/accounting/quickbooks-desktop/qbxml/deposit-mod.ts';
import { qbxmlDocument } from '../../../src/connectors/accounting/quickbooks-desktop/qbxml/xml.ts';
import { money } from '../../../src/domain/money.ts';

let sim: RunningQbdSimulator;
const answered = new Set<string>();
async function call(method: 'GET' | 'POST', path: string, body?: object): Promise<unknown> {
  const res = await fetch(`${sim.baseUrl}${path}`, {
    method,
    ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  if (res.status < 300) answered.add(`${method} ${path}`);
  return res.json();
}

beforeAll(async () => {
  sim = await startQbdSimulator();
});
afterAll(async () => {
  await sim?.close();
});

describe('QuickBooks Desktop simulator control (/_sim)', () => {
  it('adds invoices and credit memos as the PSA export would, sets faults, and reports its state', async () => {
    expect(await call('POST', '/_sim/invoices', { refNumber: '9001', customer: 'Acme Dental', amount: '125.50' })).toMatchObject({ txnId: expect.any(String) });
    expect(await call('POST', '/_sim/credit-memos', { refNumber: 'CM-9', customer: 'Acme Dental', amount: '10' })).toMatchObject({ txnId: expect.any(String) });
    const faults = await call('POST', '/_sim/faults/qbd', { inUse: 1, expireIterators: 2 });
    expect(faults).toMatchObject({ ok: true, faults: { inUse: 1, expireIterators: 2 } });
    const state = (await call('GET', '/_sim/state')) as { invoices: { balance: string }[]; creditMemos: { remaining: string }[] };
    expect(state.invoices[0]!.balance).toBe('125.50');
    expect(state.creditMemos[0]!.remaining).toBe('10.00');
  });

  it('the Web Connector: refuses a configuration without the .qwc values, runs on demand, lists runs and requests', async () => {
    expect(await call('POST', '/_sim/web-connector', { appUrl: 'http://127.0.0.1:9/webhooks/qbwc' })).toMatchObject({ ok: false });
    expect(
      await call('POST', '/_sim/web-connector', { appUrl: 'http://127.0.0.1:9/webhooks/qbwc', userName: 'settle-x', password: 'p', runEveryMs: 3_600_000 }),
    ).toEqual({
      ok: true,
    });
    const run = await call('POST', '/_sim/poll-now');
    expect(run).toMatchObject({ outcome: 'error' }); // nothing listens there: the run fails, as the real one would
    expect(await call('GET', '/_sim/runs')).toHaveLength(1);
    expect(await call('GET', '/_sim/requests')).toEqual([]);
  });

  it('a person deletes or voids a transaction: refused for what QuickBooks refuses, listed by TxnDeletedQuery', async () => {
    const inv = sim.company.addInvoice({ refNumber: '9002', customer: 'Acme Dental', amountCents: 5_000n });
    expect(await call('POST', '/_sim/transactions/void', { type: 'Invoice', txnId: inv.txnId })).toMatchObject({ ok: false });
    expect(await call('POST', '/_sim/transactions/void', { type: 'Deposit', txnId: 'nope' })).toMatchObject({ ok: false });
    expect(await call('POST', '/_sim/transactions/delete', { type: 'Invoice', txnId: inv.txnId })).toMatchObject({
      ok: true,
      deleted: { type: 'Invoice', txnId: inv.txnId, refNumber: '9002' },
    });
    expect(sim.company.invoices.some((i) => i.txnId === inv.txnId)).toBe(false);
    const dep = sim.company.deposits.push({
      txnId: 'DEP-1',
      txnDate: '2026-12-07',
      account: 'Checking',
      memo: 'cash',
      externalGuid: undefined,
      lines: [{ account: 'Services', amount: 1_000n, memo: 'cash' }],
      total: 1_000n,
      timeModified: sim.company.timeModified(),
    });
    expect(dep).toBe(1);
    expect(await call('POST', '/_sim/transactions/edit-deposit', { txnId: 'DEP-1', account: 'Nowhere', amount: '1.00' })).toMatchObject({ ok: false });
    expect(await call('POST', '/_sim/transactions/edit-deposit', { txnId: 'DEP-1', account: 'Services', amount: '2.50' })).toEqual({
      ok: true,
      total: '12.50',
    });
    // DepositMod needs the EditSequence the deposit has now (the edit moved it on to 2).
    const mod = (seq: string) =>
      handleQbxml(
        sim.company,
        qbxmlDocument(
          [
            depositModRequest('1', {
              txnId: 'DEP-1',
              editSequence: seq,
              idempotencyKey: 'k',
              txnDate: '2026-12-07',
              depositTo: { fullName: 'Checking' },
              memo: 'cash',
              paymentTxnIds: [],
              otherLines: [{ account: { fullName: 'Services' }, amount: money(1_000n, 'USD'), memo: 'cash' }],
            }),
          ],
          'stopOnError',
        ),
        { inUse: 0 },
      );
    expect(mod('1')).toMatch(/statusCode="3200"/);
    expect(mod('2')).toMatch(/statusCode="0"[^>]*>.*<DepositTotal>10\.00<\/DepositTotal>/);
    expect(await call('POST', '/_sim/transactions/void', { type: 'Deposit', txnId: 'DEP-1' })).toEqual({ ok: true });
    expect(sim.company.deposits[0]).toMatchObject({ total: 0n, memo: expect.stringMatching(/^VOID: cash/), lines: [] });
  });

  it('classes: added (and made inactive) as a person would; a nameless one refused', async () => {
    expect(await call('POST', '/_sim/classes', {})).toMatchObject({ ok: false });
    expect(await call('POST', '/_sim/classes', { fullName: 'Managed Services' })).toMatchObject({
      ok: true,
      class: { fullName: 'Managed Services', active: true },
    });
    expect(await call('POST', '/_sim/classes', { fullName: 'Old Projects', active: false })).toMatchObject({ class: { active: false } });
    expect(sim.company.classOf({ fullName: 'Old Projects' })).toBeUndefined();
  });

  it('every route it registers answered 2xx at least once', () => {
    expect(sim.routes.length).toBeGreaterThan(5);
    expect(sim.routes.filter((r) => !answered.has(r))).toEqual([]);
  });
});
