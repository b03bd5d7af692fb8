// Xero tracking categories on the payout's fee and income lines, against the Xero simulator over real HTTP:
// read live (archived ones marked), put on every line of the SPEND and RECEIVE, none on payments and
// transfers (Xero has no such property), nothing sent without a mapping, and an archived option named as
// the cause when Xero refuses the fee SPEND.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import { startXeroSimulator, type RunningXeroSimulator } from '../../../../simulators/xero/index.ts';
import type { MemoryTokenStore } from '../quickbooks-online/tokens.ts';
import type { XeroConnector, XeroConfig } from './connector.ts';
import { xeroConnectorFor, xeroTokenStore } from '../../../../test/helpers/xero-connector.ts';
import { lineTracking, trackingValue, xeroTrackingProblems, type XeroTrackingCategory } from './tracking.ts';

let x: RunningXeroSimulator;
let store: MemoryTokenStore; // one store: Xero rotates the refresh token on each use
beforeEach(async () => {
  x = await startXeroSimulator();
  store = xeroTokenStore(x);
});
afterEach(async () => {
  await x.close();
});

function connect(config: Partial<XeroConfig> = {}): XeroConnector {
  return xeroConnectorFor(x, { store, config });
}

const option = (cats: readonly XeroTrackingCategory[], category: string, name: string): string => {
  const c = cats.find((k) => k.name === category)!;
  return trackingValue(c.id, c.options.find((o) => o.name === name)!.id);
};

async function payout(books: XeroConnector, key: string) {
  x.sim.seedInvoice({ number: `INV-${key}`, contactName: 'Acme', amount: '100.00' });
  const [p] = await books.postPayments([
    { idempotencyKey: `pay-${key}`, invoiceNumber: `INV-${key}`, amount: money(10000, 'USD'), paidOn: '2026-12-01', reference: 'pi', memo: 'card' },
  ]);
  return books.postDeposit({
    idempotencyKey: `payout:${key}`,
    payoutId: `po_${key}`,
    depositedOn: '2026-12-03',
    payments: [{ paymentRemoteId: (p as { remoteId: string }).remoteId, amount: money(10000, 'USD') }],
    fees: money(320, 'USD'),
    adjustments: money(0, 'USD'),
    surcharges: money(300, 'USD'),
    memo: 'payout',
  });
}

describe('Xero tracking categories', () => {
  it('reads the categories and options live, archived ones included and marked', async () => {
    x.sim.archiveTracking('Region', 'South');
    const cats = await connect().trackingCategories();
    expect(cats.map((c) => [c.name, c.active, c.options.map((o) => `${o.name}${o.active ? '' : ' (archived)'}`)])).toEqual([
      ['Region', true, ['North', 'South (archived)']],
      ['Service line', true, ['Managed services', 'Projects']],
    ]);
  });

  it('puts the mapped options on every fee and income line; payments and the transfer carry none', async () => {
    const cats = await connect().trackingCategories();
    const books = connect({ tracking1: option(cats, 'Region', 'North'), tracking2: option(cats, 'Service line', 'Managed services') });
    expect(await payout(books, 'a')).toMatchObject({ ok: true });
    const state = x.sim.state() as { bankTransactions: { Type: string; LineItems: { Tracking: { Name: string; Option: string }[] }[] }[] };
    expect(state.bankTransactions.map((t) => t.Type).sort()).toEqual(['RECEIVE', 'SPEND']);
    for (const t of state.bankTransactions)
      for (const l of t.LineItems) expect(l.Tracking.map((k) => `${k.Name}: ${k.Option}`)).toEqual(['Region: North', 'Service line: Managed services']);
    const sent = JSON.stringify([...x.sim.store.payments, ...x.sim.store.transfers]);
    expect(sent).not.toContain('Tracking');
  });

  it('without a mapping no Tracking is sent', async () => {
    expect(await payout(connect(), 'b')).toMatchObject({ ok: true });
    const state = x.sim.state() as { bankTransactions: { LineItems: { Tracking: unknown[] }[] }[] };
    expect(state.bankTransactions.flatMap((t) => t.LineItems.map((l) => l.Tracking))).toEqual([[], []]);
    expect(lineTracking({})).toEqual({});
  });

  it('an option archived in Xero: the fee SPEND is refused, and the error names the option and the fix', async () => {
    const cats = await connect().trackingCategories();
    const books = connect({ tracking1: option(cats, 'Region', 'South') });
    x.sim.archiveTracking('Region', 'South');
    const r = await payout(books, 'c');
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect((r as { error: string }).error).toMatch(
      /^The Region option “South” mapped as tracking1 is archived in Xero: restore it in Xero, or choose another option or “None” in Settings → Accounts \(Xero refused the payout's income/,
    );
  });

  it('names each kind of stale mapping: unknown category, archived category, unknown option, malformed value', async () => {
    const cats = await connect().trackingCategories();
    const region = cats.find((c) => c.name === 'Region')!;
    x.sim.archiveTracking('Service line');
    const now = await connect().trackingCategories();
    const line = option(cats, 'Service line', 'Projects');
    expect(xeroTrackingProblems({ tracking1: `nope:${region.options[0]!.id}`, tracking2: line }, now)).toEqual([
      'the tracking category mapped as tracking1 (id nope) no longer exists in Xero: choose another option or “None” in Settings → Accounts',
      'the tracking category “Service line” mapped as tracking2 is archived in Xero: restore it in Xero, or choose another option or “None” in Settings → Accounts',
    ]);
    expect(xeroTrackingProblems({ tracking1: `${region.id}:gone`, tracking2: 'North' }, now)).toEqual([
      'the Region option mapped as tracking1 (id gone) no longer exists in Xero: choose another option or “None” in Settings → Accounts',
      'tracking2 “North” is not a tracking option (expected "<TrackingCategoryID>:<TrackingOptionID>"): choose another option or “None” in Settings → Accounts',
    ]);
    expect(xeroTrackingProblems({ tracking1: option(cats, 'Region', 'North') }, now)).toEqual([]);
  });
});
