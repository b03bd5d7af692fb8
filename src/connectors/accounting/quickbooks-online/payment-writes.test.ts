// How postPayments spends QuickBooks' allowance (issue #11): a payment alone or a few together go as
// separate POST /payment calls after one round of look-ups (no check-before-write for a first send), a backlog 30 to a /batch with its look-ups
// shared, and each write's answers are handed to the caller before the next write is sent.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import { startQuickBooksSimulator, type RunningQuickBooksSimulator } from '../../../../simulators/quickbooks-online/index.ts';
import type { PostPaymentInput, PostResult } from '../types.ts';
import { QuickBooksOnlineConnector } from './connector.ts';
import { QboRequestLimiter } from './limiter.ts';
import { tokensFromRefreshToken, type QboTokens, type TokenStore } from './tokens.ts';

class MemoryStore implements TokenStore {
  constructor(private tokens: QboTokens) {}
  async load(): Promise<QboTokens> {
    return this.tokens;
  }
  async save(t: QboTokens): Promise<void> {
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

function connect(): QuickBooksOnlineConnector {
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
    new MemoryStore(tokensFromRefreshToken(qbo.initialRefreshToken)),
    { limiter: new QboRequestLimiter(), throttleWaitMs: 20 },
  );
}

const payment = (n: number, invoiceNumber: string): PostPaymentInput => ({
  idempotencyKey: `payment:${n}:qbo:payment`,
  invoiceNumber,
  amount: money(1000, 'USD'),
  paidOn: '2026-12-06',
  reference: `pi_${n}`,
  memo: `Card payment ${n}`,
});

const count = (route: string): number => qbo.sim.calls.counts.get(route) ?? 0;
const queries = (): number => count('GET /v3/company/:realmId/query');
const creates = (): number => count('POST /v3/company/:realmId/:entity');
const batches = (): number => count('POST /v3/company/:realmId/batch');

describe('postPayments: the write follows how many are ready', () => {
  it('posts a payment alone as one POST /payment after its two look-ups, and a few as separate calls, never a batch', async () => {
    for (let n = 0; n < 4; n++) qbo.sim.seedInvoice({ docNumber: `INV-${n}`, customerName: `Client ${n}`, amount: '10.00' });
    const c = connect();
    const [alone] = await c.postPayments([payment(0, 'INV-0')]);
    expect(alone).toMatchObject({ ok: true });
    expect({ queries: queries(), creates: creates(), batches: batches() }).toEqual({ queries: 2, creates: 1, batches: 0 });

    const three = await c.postPayments([1, 2, 3].map((n) => payment(n, `INV-${n}`)));
    expect(three.every((r) => r.ok)).toBe(true);
    expect({ queries: queries(), creates: creates(), batches: batches() }).toEqual({ queries: 4, creates: 4, batches: 0 });
    expect(qbo.sim.payments()).toHaveLength(4);
  });

  it('skips the check-before-write look-up for a first send (2 calls for a payment alone), and does it for any other', async () => {
    qbo.sim.seedInvoice({ docNumber: 'INV-1', customerName: 'Client 1', amount: '10.00' });
    qbo.sim.seedInvoice({ docNumber: 'INV-2', customerName: 'Client 2', amount: '10.00' });
    const c = connect();
    const [first] = await c.postPayments([{ ...payment(1, 'INV-1'), firstSend: true }]);
    expect(first).toMatchObject({ ok: true });
    expect({ queries: queries(), creates: creates() }).toEqual({ queries: 1, creates: 1 });
    // Not a first send (its answer was lost, say): looked up first, found, not written again.
    const [again] = await c.postPayments([payment(1, 'INV-1'), { ...payment(2, 'INV-2'), firstSend: true }]);
    expect(again).toEqual(first);
    expect({ queries: queries(), creates: creates() }).toEqual({ queries: 3, creates: 2 });
    expect(qbo.sim.payments()).toHaveLength(2);
  });

  it('reports each write to the caller before sending the next, and those already in the books with the first', async () => {
    for (let n = 0; n < 65; n++) qbo.sim.seedInvoice({ docNumber: `INV-${n}`, customerName: `Client ${n % 9}`, amount: '10.00' });
    const c = connect();
    // Two already posted by an earlier run (check-before-write finds them); one key twice in this call.
    await c.postPayments([payment(0, 'INV-0'), payment(1, 'INV-1')]);
    const inputs = [...Array.from({ length: 65 }, (_, n) => payment(n, `INV-${n}`)), payment(7, 'INV-7')];
    const reports: { positions: number[]; inBooks: number }[] = [];
    const results = await c.postPayments(inputs, {
      onAnswered: async (answered: ReadonlyMap<number, PostResult>) => {
        expect([...answered.values()].every((r) => r.ok)).toBe(true);
        reports.push({ positions: [...answered.keys()].sort((a, b) => a - b), inBooks: qbo.sim.payments().length });
      },
    });
    expect(results.every((r) => r.ok)).toBe(true);
    // 63 to write: 30 + 30 + 3; when each report came, only the writes before it had reached the books.
    expect(reports.map((r) => r.positions.length)).toEqual([30 + 2 + 1, 30, 3]); // + the 2 found, + the repeat of INV-7's
    expect(reports.map((r) => r.inBooks)).toEqual([2 + 30, 2 + 60, 65]);
    expect(reports[0]!.positions.slice(0, 2)).toEqual([0, 1]);
    expect(reports.flatMap((r) => r.positions).sort((a, b) => a - b)).toEqual(inputs.map((_, i) => i));
    expect(results[65]).toEqual(results[7]);
    // 65 references and 65 numbers: the look-ups are one batch (2 IN-queries) and one plain query.
    expect(batches()).toBe(1 + 2);
    expect(qbo.sim.payments()).toHaveLength(65);
  });
});
