// QuickBooksOnlineConnector against the QuickBooks Online simulator over real HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { money, type Money } from '../../../domain/money.ts';
import { startQuickBooksSimulator, type RunningQuickBooksSimulator } from '../../../../simulators/quickbooks-online/index.ts';
import type { PostPaymentInput } from '../types.ts';
import { QuickBooksOnlineConnector, type QboConnectorOptions } from './connector.ts';
import { QboRequestLimiter } from './limiter.ts';
import { onVendorRetry, type VendorRetry } from '../../http.ts';
import { tokensFromRefreshToken, type QboTokens, type TokenStore } from './tokens.ts';

const usd = (cents: number): Money => money(cents, 'USD');

class RecordingStore implements TokenStore {
  readonly saved: QboTokens[] = [];
  failNextSave = false;
  constructor(
    private tokens: QboTokens,
    private readonly onSave: (t: QboTokens) => void = () => {},
  ) {}
  async load(): Promise<QboTokens> {
    return this.tokens;
  }
  async save(t: QboTokens): Promise<void> {
    this.onSave(t);
    if (this.failNextSave) {
      this.failNextSave = false;
      throw new Error('disk full');
    }
    this.saved.push(t);
    this.tokens = t;
  }
}

let qbo: RunningQuickBooksSimulator;
beforeEach(async () => {
  qbo = await startQuickBooksSimulator();
});
afterEach(async () => {
  await qbo.close();
});

function connect(store?: TokenStore, options: QboConnectorOptions = {}): QuickBooksOnlineConnector {
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
    store ?? new RecordingStore(tokensFromRefreshToken(qbo.initialRefreshToken)),
    { limiter: new QboRequestLimiter(), throttleWaitMs: 20, ...options },
  );
}

async function tokenEndpoint(refreshToken: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(qbo.oauthTokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${qbo.clientId}:${qbo.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const payment = (n: number, invoiceNumber: string, cents: number): PostPaymentInput => ({
  idempotencyKey: `payment:${n}:qbo:payment`,
  invoiceNumber,
  amount: usd(cents),
  paidOn: '2025-03-14',
  reference: `pi_${n}`,
  memo: `Card payment ${n}`,
});

const paymentCalls = (): number => qbo.sim.calls.counts.get('POST /v3/company/:realmId/:entity') ?? 0;
const batchCalls = (): number => qbo.sim.calls.counts.get('POST /v3/company/:realmId/batch') ?? 0;

describe('findInvoiceByNumber', () => {
  it('queries DocNumber with the quote escaped and maps amounts to minor units', async () => {
    qbo.sim.seedInvoice({ docNumber: "O'BR-7", customerName: "O'Brien IT", amount: '1234.56' });
    const c = connect();
    const inv = await c.findInvoiceByNumber("O'BR-7");
    expect(inv).toMatchObject({ number: "O'BR-7", total: usd(123456), balance: usd(123456) });
    expect(await c.findInvoiceByNumber('NOPE')).toBeNull();
  });
});

describe('OAuth tokens', () => {
  it('refreshes an expired token, saves the rotated refresh token before using it, and the old one is then refused', async () => {
    qbo.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '10.00' });
    const usesAtSave: number[] = [];
    const store = new RecordingStore(tokensFromRefreshToken(qbo.initialRefreshToken), (t) => usesAtSave.push(qbo.sim.accessTokenUses(t.accessToken)));
    const c = connect(store);
    expect(await c.findInvoiceByNumber('1001')).not.toBeNull();
    const first = store.saved[0]!;
    expect(first.refreshToken).not.toBe(qbo.initialRefreshToken);
    expect(qbo.sim.accessTokenUses(first.accessToken)).toBeGreaterThan(0);
    // Once the new pair is in use, the rotated-out refresh token is refused.
    expect(await tokenEndpoint(qbo.initialRefreshToken)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    qbo.sim.expireAccessTokens(); // the next call meets 401 AuthenticationFailed
    expect(await c.findInvoiceByNumber('1001')).not.toBeNull();
    const second = store.saved[1]!;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(usesAtSave).toEqual([0, 0]); // saved while the new access token had never been sent
    expect(qbo.sim.accessTokenUses(second.accessToken)).toBeGreaterThan(0);

    expect(await tokenEndpoint(first.refreshToken)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('runs one refresh for many concurrent calls', async () => {
    qbo.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '10.00' });
    const store = new RecordingStore(tokensFromRefreshToken(qbo.initialRefreshToken));
    const c = connect(store);
    await c.findInvoiceByNumber('1001');
    qbo.sim.expireAccessTokens();
    const found = await Promise.all(Array.from({ length: 6 }, () => c.findInvoiceByNumber('1001')));
    expect(found.every((f) => f?.number === '1001')).toBe(true);
    expect(qbo.sim.auth.log.filter((l) => l.grant === 'refresh_token' && !l.error)).toHaveLength(2);
    expect(store.saved).toHaveLength(2);
  });

  it('never uses a token pair it could not save, and saves it before the next use', async () => {
    qbo.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '10.00' });
    let offered: QboTokens | undefined;
    const store = new RecordingStore(tokensFromRefreshToken(qbo.initialRefreshToken), (t) => (offered = t));
    store.failNextSave = true;
    const c = connect(store);
    await expect(c.findInvoiceByNumber('1001')).rejects.toThrow('disk full');
    expect(qbo.sim.accessTokenUses(offered!.accessToken)).toBe(0);
    expect(await c.findInvoiceByNumber('1001')).not.toBeNull();
    expect(store.saved).toEqual([offered]); // the same pair, saved on the second try
    expect(qbo.sim.auth.log.filter((l) => l.grant === 'refresh_token')).toHaveLength(1);
  });
});

/** Intuit's answer over a throttle (429, no Retry-After). */
const THROTTLED = {
  Fault: { Error: [{ Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429', Detail: '', code: '003001' }], type: 'SERVICE' },
};

describe('retries', () => {
  it('waits after 429 ThrottleExceeded and then succeeds', async () => {
    qbo.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '100.00' });
    const retries: string[] = [];
    const c = connect(undefined, { throttleWaitMs: 30, onRetry: (r) => retries.push(`${r.reason}/${r.delayMs}`) });
    qbo.sim.faults.add({
      method: 'POST',
      pathPattern: '/payment$',
      times: 1,
      fault: {
        kind: 'status',
        status: 429,
        body: THROTTLED,
      },
    });
    const [r] = await c.postPayments([payment(1, '1001', 10000)]);
    expect(r).toMatchObject({ ok: true });
    expect(retries).toEqual(['rate limited (429)/30']);
    expect(paymentCalls()).toBe(2);
    expect(qbo.sim.payments()).toHaveLength(1);
  });

  it('reports each wait to the process-wide listener the runtime logs from', async () => {
    qbo.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '100.00' });
    const waits: VendorRetry[] = [];
    onVendorRetry((r) => waits.push(r));
    try {
      const c = connect(undefined, { throttleWaitMs: 25 });
      qbo.sim.faults.add({
        method: 'POST',
        pathPattern: '/payment$',
        times: 1,
        fault: {
          kind: 'status',
          status: 429,
          body: THROTTLED,
        },
      });
      const [r] = await c.postPayments([payment(1, '1001', 10000)]);
      expect(r).toMatchObject({ ok: true });
      expect(waits).toEqual([{ vendor: 'quickbooks-online', path: '/payment', attempt: 1, reason: 'rate limited (429)', delayMs: 25 }]);
    } finally {
      onVendorRetry(null);
    }
  });

  it('retries a 500 with back-off and then succeeds', async () => {
    qbo.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '100.00' });
    const c = connect();
    qbo.sim.faults.add({ method: 'POST', pathPattern: '/payment$', times: 1, fault: { kind: 'status', status: 500 } });
    const [r] = await c.postPayments([payment(1, '1001', 10000)]);
    expect(r).toMatchObject({ ok: true });
    expect(paymentCalls()).toBe(2);
    expect(qbo.sim.payments()).toHaveLength(1);
  });

  it('replays by requestid when the answer to a processed write is lost: no duplicate Payment', async () => {
    qbo.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '100.00' });
    const c = connect();
    qbo.sim.loseAnswers('/payment$', 1);
    const [r] = await c.postPayments([payment(1, '1001', 4000)]);
    expect(qbo.sim.payments()).toHaveLength(1);
    expect(r).toEqual({ ok: true, remoteId: qbo.sim.payments()[0]!.Id });
    expect(qbo.sim.stats.replayed).toBe(1);
    expect(qbo.sim.invoices()[0]!['Balance']).toBe(60);
  });
});

describe('postPayments', () => {
  it('posts one payment with PaymentRefNum, our key in PrivateNote, and leaves it in Undeposited Funds', async () => {
    qbo.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '100.00' });
    const [r] = await connect().postPayments([{ ...payment(1, '1001', 2550), reference: 'pi_3PqRsTuVwXyZ0123456789' }]);
    expect(r).toMatchObject({ ok: true });
    const p = qbo.sim.payments()[0]!;
    expect(p['PaymentRefNum']).toBe('PqRsTuVwXyZ0123456789'.slice(-21));
    expect(p['PrivateNote']).toBe('Card payment 1 [settle:payment:1:qbo:payment]');
    expect(p['DepositToAccountRef']).toEqual({ value: qbo.sim.accounts.undepositedFunds });
    expect(p['TotalAmt']).toBe(25.5);
    expect(qbo.sim.invoices()[0]!['Balance']).toBe(74.5);
  });

  it('sends 45 payments as 2 write batches (plus one look-up batch), and a second run finds them all instead of posting again', async () => {
    for (let n = 0; n < 45; n++) qbo.sim.seedInvoice({ docNumber: `INV-${n}`, customerName: `Client ${n % 7}`, amount: '20.00' });
    const c = connect();
    const inputs = Array.from({ length: 45 }, (_, n) => payment(n, `INV-${n}`, 2000));
    const results = await c.postPayments(inputs);
    expect(results.every((r) => r.ok)).toBe(true);
    // 45 references need two IN (…) look-ups, packed into one batch request; then 30 + 15 writes.
    expect(batchCalls()).toBe(3);
    expect(qbo.sim.payments()).toHaveLength(45);
    expect(qbo.sim.invoices().every((i) => i['Balance'] === 0)).toBe(true);

    const again = await c.postPayments(inputs);
    expect(again).toEqual(results);
    expect(batchCalls()).toBe(4); // only the look-up batch: nothing written again
    expect(paymentCalls()).toBe(0);
    expect(qbo.sim.payments()).toHaveLength(45);
  });

  it('reports over-application as a non-retryable ValidationFault, alone and inside a batch', async () => {
    qbo.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '100.00' });
    qbo.sim.seedInvoice({ docNumber: '1002', customerName: 'Acme', amount: '100.00' });
    const c = connect();
    const [alone] = await c.postPayments([payment(1, '1001', 15000)]);
    expect(alone).toMatchObject({ ok: false, retryable: false });
    expect(alone && !alone.ok && alone.error).toMatch(/open balance/);

    // Five ready at once go as one batch (a few go as separate calls: payment-writes.ts).
    const good = [2, 3, 4, 5].map((n) => payment(n, '1002', 1000));
    const results = await c.postPayments([...good, payment(6, '1001', 10001)]);
    expect(batchCalls()).toBe(1);
    expect(results.slice(0, 4).every((r) => r.ok)).toBe(true);
    const bad = results[4];
    expect(bad).toMatchObject({ ok: false, retryable: false });
    expect(bad && !bad.ok && bad.error).toMatch(/^QuickBooks 6000 /);
    expect(qbo.sim.payments()).toHaveLength(4);
  });

  it('says retryable when the invoice is not in the books yet', async () => {
    const [r] = await connect().postPayments([payment(1, 'NOT-YET', 100)]);
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(paymentCalls()).toBe(0);
  });
});

describe('postDeposit', () => {
  it('posts one Deposit equal to payments − fees + adjustments, linking the payments; a retry finds it', async () => {
    for (const [n, amt] of [
      ['A', '120.00'],
      ['B', '80.50'],
      ['C', '99.99'],
    ] as const)
      qbo.sim.seedInvoice({ docNumber: n, customerName: 'Acme', amount: amt });
    const c = connect();
    const posted = await c.postPayments([payment(1, 'A', 12000), payment(2, 'B', 8050), payment(3, 'C', 9999)]);
    const ids = posted.map((r) => (r.ok ? r.remoteId : ''));
    const input = {
      idempotencyKey: 'payout:po_1:qbo:deposit',
      payoutId: 'po_1',
      depositedOn: '2025-03-16',
      payments: [
        { paymentRemoteId: ids[0]!, amount: usd(12000) },
        { paymentRemoteId: ids[1]!, amount: usd(8050) },
        { paymentRemoteId: ids[2]!, amount: usd(9999) },
      ],
      fees: usd(912),
      adjustments: usd(-1000),
      memo: 'Stripe payout po_1',
    };
    const r = await c.postDeposit(input);
    expect(r).toMatchObject({ ok: true });
    const [deposit] = qbo.sim.deposits();
    expect(deposit!['TotalAmt']).toBe(281.37); // 300.49 − 9.12 − 10.00
    expect(deposit!['DepositToAccountRef']).toMatchObject({ value: qbo.sim.accounts.checking });
    const lines = deposit!['Line'] as Record<string, unknown>[];
    expect(lines.map((l) => l['Amount'])).toEqual([120, 80.5, 99.99, -9.12, -10]);
    expect(lines[3]!['DepositLineDetail']).toMatchObject({ AccountRef: { value: qbo.sim.accounts.merchantFees } });
    expect(qbo.sim.payments().every((p) => (p['LinkedTxn'] as unknown[]).length === 1)).toBe(true);

    expect(await c.postDeposit(input)).toEqual(r);
    expect(qbo.sim.deposits()).toHaveLength(1);
  });

  it('refuses to deposit a payment twice (a different payout naming an already-deposited payment)', async () => {
    qbo.sim.seedInvoice({ docNumber: 'A', customerName: 'Acme', amount: '50.00' });
    const c = connect();
    const [p] = await c.postPayments([payment(1, 'A', 5000)]);
    const id = p && p.ok ? p.remoteId : '';
    const base = { depositedOn: '2025-03-16', payments: [{ paymentRemoteId: id, amount: usd(5000) }], fees: usd(150), adjustments: usd(0), memo: '' };
    expect(await c.postDeposit({ ...base, idempotencyKey: 'payout:1', payoutId: '1' })).toMatchObject({ ok: true });
    const second = await c.postDeposit({ ...base, idempotencyKey: 'payout:2', payoutId: '2' });
    expect(second).toMatchObject({ ok: false, retryable: false });
    expect(second.ok ? '' : second.error).toMatch(/already been deposited/);
  });
});
