// A payout's Deposit posted before one of its payments is in the books (clearing line), then that line
// moved onto the payment: the connector against the QuickBooks Online simulator over real HTTP, and the
// simulator's Deposit update rules (SyncToken, DepositToAccountRef, Line replaces all lines). And the same
// update putting a Deposit edited by hand back as Settle posted it (restoreDeposit, deposit-restore.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { money, type Money } from '../../../domain/money.ts';
import { startQuickBooksSimulator, type RunningQuickBooksSimulator } from '../../../../simulators/quickbooks-online/index.ts';
import { editDepositByHand } from '../../../../simulators/quickbooks-online/drift.ts';
import type { PostDepositInput } from '../types.ts';
import { QuickBooksOnlineConnector } from './connector.ts';
import { QboRequestLimiter } from './limiter.ts';
import { tokensFromRefreshToken, type QboTokens, type TokenStore } from './tokens.ts';

type Json = Record<string, unknown>;
const usd = (cents: number): Money => money(cents, 'USD');

let qbo: RunningQuickBooksSimulator;
beforeEach(async () => {
  qbo = await startQuickBooksSimulator();
});
afterEach(async () => {
  await qbo.close();
});

function connect(): QuickBooksOnlineConnector {
  let tokens = tokensFromRefreshToken(qbo.initialRefreshToken);
  const store: TokenStore = { load: async () => tokens, save: async (t: QboTokens) => void (tokens = t) };
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
    },
    store,
    { limiter: new QboRequestLimiter(), throttleWaitMs: 20 },
  );
}

const payment = (n: number, invoiceNumber: string, cents: number) => ({
  idempotencyKey: `payment:${n}`,
  invoiceNumber,
  amount: usd(cents),
  paidOn: '2025-03-15',
  reference: `pi_${n}`,
  memo: `Settle payment ${n}`,
});

async function setup(c: QuickBooksOnlineConnector): Promise<{ linkedId: string; depositId: string }> {
  qbo.sim.seedInvoice({ docNumber: 'A', customerName: 'Acme', amount: '120.00' });
  const [a] = await c.postPayments([payment(1, 'A', 12000)]);
  // Invoice B is not in the books yet: its payment waits, named as such.
  const [b] = await c.postPayments([payment(2, 'B', 8050)]);
  expect(b).toMatchObject({ ok: false, retryable: true, waitingForInvoice: 'B' });
  const r = await c.postDeposit({
    idempotencyKey: 'payout:po_1:deposit',
    payoutId: 'po_1',
    depositedOn: '2025-03-16',
    payments: [{ paymentRemoteId: a!.ok ? a!.remoteId : '', amount: usd(12000) }],
    awaiting: [{ key: 'payment:2', amount: usd(8050), description: 'Payment for invoice B not in the books yet' }],
    fees: usd(612),
    adjustments: usd(0),
    memo: 'Stripe payout po_1',
  });
  expect(r).toEqual({ ok: true, remoteId: expect.any(String), onClearing: ['payment:2'] });
  return { linkedId: a!.ok ? a!.remoteId : '', depositId: r.ok ? r.remoteId : '' };
}

describe('deposit clearing lines', () => {
  it('posts the deposit equal to the payout with the waiting payment on clearing, then moves the line onto it (total unchanged, safe to repeat)', async () => {
    const c = connect();
    const { depositId } = await setup(c);
    let deposit = qbo.sim.deposits()[0]!;
    expect(deposit['TotalAmt']).toBe(194.38); // 120.00 + 80.50 − 6.12
    const clearing = (deposit['Line'] as Json[]).find((l) => String(l['Description']).includes('[settle-line:payment:2]'))!;
    expect(clearing['Amount']).toBe(80.5);

    // A retry of the deposit finds it and reports the line still on clearing.
    const again = await c.postDeposit({
      idempotencyKey: 'payout:po_1:deposit',
      payoutId: 'po_1',
      depositedOn: '2025-03-16',
      payments: [],
      awaiting: [
        { key: 'payment:1', amount: usd(12000), description: 'x' },
        { key: 'payment:2', amount: usd(8050), description: 'x' },
      ],
      fees: usd(612),
      adjustments: usd(0),
      memo: 'Stripe payout po_1',
    });
    expect(again).toEqual({ ok: true, remoteId: depositId, onClearing: ['payment:2'] });
    expect(qbo.sim.deposits()).toHaveLength(1);

    qbo.sim.seedInvoice({ docNumber: 'B', customerName: 'Acme', amount: '80.50' });
    expect(await c.invoicesInBooks(['A', 'B', 'C'])).toEqual(new Set(['A', 'B']));
    const [b] = await c.postPayments([payment(2, 'B', 8050)]);
    const bId = b!.ok ? b!.remoteId : '';
    const link = { depositRemoteId: depositId, links: [{ key: 'payment:2', paymentRemoteId: bId, amount: usd(8050) }] };
    expect(await c.linkDepositPayments(link)).toEqual({ ok: true, remoteId: depositId });
    deposit = qbo.sim.deposits()[0]!;
    expect(deposit['TotalAmt']).toBe(194.38);
    expect((deposit['Line'] as Json[]).some((l) => String(l['Description'] ?? '').includes('[settle-line:'))).toBe(false);
    expect((deposit['Line'] as Json[]).filter((l) => l['LinkedTxn'])).toHaveLength(2);
    const bPayment = qbo.sim.payments().find((p) => p['Id'] === bId)!;
    expect(bPayment['LinkedTxn']).toEqual([{ TxnId: depositId, TxnType: 'Deposit' }]);
    // Repeating it changes nothing.
    const token = deposit['SyncToken'];
    expect(await c.linkDepositPayments(link)).toEqual({ ok: true, remoteId: depositId });
    expect(qbo.sim.deposits()[0]!['SyncToken']).toBe(token);
  });

  it('refuses to move a line that is gone (deposit edited by hand) or of another amount, as final failures naming the deposit', async () => {
    const c = connect();
    const { depositId } = await setup(c);
    qbo.sim.seedInvoice({ docNumber: 'B', customerName: 'Acme', amount: '80.50' });
    const [b] = await c.postPayments([payment(2, 'B', 8050)]);
    const bId = b!.ok ? b!.remoteId : '';
    const wrong = await c.linkDepositPayments({ depositRemoteId: depositId, links: [{ key: 'payment:2', paymentRemoteId: bId, amount: usd(8000) }] });
    expect(wrong).toMatchObject({ ok: false, retryable: false });
    const gone = await c.linkDepositPayments({ depositRemoteId: depositId, links: [{ key: 'payment:9', paymentRemoteId: bId, amount: usd(8050) }] });
    expect(gone).toMatchObject({ ok: false, retryable: false });
    expect(gone.ok ? '' : gone.error).toMatch(new RegExp(`Deposit ${depositId}`));
  });
});

describe('simulator: Deposit sparse update', () => {
  it('wants the current SyncToken and DepositToAccountRef; a Line list replaces all lines and unlinks payments taken out', async () => {
    const c = connect();
    const { depositId, linkedId } = await setup(c);
    const d = qbo.sim.deposits()[0]!;
    const update = async (body: Json) => {
      const res = await c.api
        .create('Deposit', body, `t-${Math.random()}`)
        .then((x) => ({ ok: true as const, x }))
        .catch((e: Error) => ({ ok: false as const, e }));
      return res;
    };
    const stale = await update({ Id: depositId, SyncToken: '7', sparse: true, DepositToAccountRef: d['DepositToAccountRef'], Line: d['Line'] });
    expect(stale.ok ? '' : stale.e.message).toMatch(/Stale Object/);
    const noBank = await update({ Id: depositId, SyncToken: d.SyncToken, sparse: true, Line: d['Line'] });
    expect(noBank.ok ? '' : noBank.e.message).toMatch(/DepositToAccountRef/);
    const full = await update({ Id: depositId, SyncToken: d.SyncToken, DepositToAccountRef: d['DepositToAccountRef'], Line: d['Line'] });
    expect(full.ok).toBe(false);
    // Take payment A out: only a fee line remains would be negative → refused, nothing changed.
    const negative = await update({
      Id: depositId,
      SyncToken: d.SyncToken,
      sparse: true,
      DepositToAccountRef: d['DepositToAccountRef'],
      Line: (d['Line'] as Json[]).filter((l) => Number(l['Amount']) < 0),
    });
    expect(negative.ok ? '' : negative.e.message).toMatch(/negative/);
    expect(qbo.sim.payments().find((p) => p['Id'] === linkedId)!['LinkedTxn']).toEqual([{ TxnId: depositId, TxnType: 'Deposit' }]);
    // Take it out with the clearing line kept: A is back in Undeposited Funds, the total recomputed.
    const out = await update({
      Id: depositId,
      SyncToken: d.SyncToken,
      sparse: true,
      DepositToAccountRef: d['DepositToAccountRef'],
      Line: (d['Line'] as Json[]).filter((l) => !l['LinkedTxn']),
    });
    expect(out.ok).toBe(true);
    expect(qbo.sim.deposits()[0]!['TotalAmt']).toBe(74.38);
    expect(qbo.sim.payments().find((p) => p['Id'] === linkedId)!['LinkedTxn']).toEqual([]);
  });
});

/** Writes to the company (every POST: creates and updates alike). */
const writes = () => qbo.sim.calls.total('POST ');

describe('restoreDeposit', () => {
  it('puts an edited Deposit back to the payout in place; again is a no-op; not Settle’s is refused', async () => {
    const c = connect();
    qbo.sim.seedInvoice({ docNumber: 'A', customerName: 'Acme', amount: '120.00' });
    const [a] = await c.postPayments([
      { idempotencyKey: 'payment:1', invoiceNumber: 'A', amount: usd(12000), paidOn: '2025-03-15', reference: 'pi_1', memo: 'Settle payment 1' },
    ]);
    const input: PostDepositInput = {
      idempotencyKey: 'payout:po_1:deposit',
      payoutId: 'po_1',
      depositedOn: '2025-03-16',
      payments: [{ paymentRemoteId: a!.ok ? a!.remoteId : '', amount: usd(12000) }],
      fees: usd(378),
      adjustments: usd(0),
      memo: 'stripe payout po_1',
    };
    const posted = await c.postDeposit(input);
    expect(posted).toMatchObject({ ok: true });
    const id = posted.ok ? posted.remoteId : '';
    const before = qbo.sim.store.get('Deposit', id);
    const lines = JSON.stringify(before['Line']);

    editDepositByHand(qbo.sim.store, id, '2.50');
    expect(Number(qbo.sim.store.get('Deposit', id)['TotalAmt'])).toBe(113.72);

    const m = writes();
    const r = await c.restoreDeposit({ ...input, depositRemoteId: id });
    expect(writes()).toBe(m + 1); // one sparse update
    expect(r).toEqual({ ok: true, remoteId: id, onClearing: [] });
    const after = qbo.sim.store.get('Deposit', id);
    expect(Number(after['TotalAmt'])).toBe(116.22);
    expect(JSON.stringify((after['Line'] as Json[]).map(({ Id: _, ...l }) => l))).toBe(
      JSON.stringify((JSON.parse(lines) as Json[]).map(({ Id: _, ...l }) => l)),
    );
    expect(qbo.sim.deposits()).toHaveLength(1);
    const payment = qbo.sim.payments().find((p) => p['Id'] === (a!.ok ? a!.remoteId : ''))!;
    expect(payment['LinkedTxn']).toEqual([{ TxnId: id, TxnType: 'Deposit' }]);

    const n = writes();
    expect(await c.restoreDeposit({ ...input, depositRemoteId: id })).toEqual({ ok: true, remoteId: id, onClearing: [] });
    expect(writes()).toBe(n);

    const other = await c.restoreDeposit({ ...input, idempotencyKey: 'payout:po_2:deposit', depositRemoteId: id });
    expect(other).toMatchObject({ ok: false, retryable: false });
    expect(other.ok ? '' : other.error).toMatch(/does not carry Settle's note/);
  });
});
