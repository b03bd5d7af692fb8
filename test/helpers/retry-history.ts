// A workspace's failed-payment history written straight into PostgreSQL for the retry-policy backtest tests:
// rows shaped as handle-payment-failure.ts and retry-failed-payment.ts leave them (a failed root payment,
// one payment_failures row per failed payment of the chain, each retry a new payment with its attempt).
// The soft declines are the ones worked out by hand in src/domain/retry-backtest/backtest.test.ts.
import type { Db } from '../../src/db/pool.ts';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import { addBankingDays, atTimeOfDay, utcDateOf } from '../../src/domain/rules/index.ts';

const DAY = 86_400_000;

/** Monday 14:00 UTC five to six weeks before `now`: every retry of the reference schedule is in the past. */
export function historyMonday(now: Date): Date {
  const d = new Date(now.getTime() - 35 * DAY);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  d.setUTCHours(14, 0, 0, 0);
  return d;
}
export const afterBusinessDays = (first: Date, n: number): Date => atTimeOfDay(addBankingDays(utcDateOf(first), n), first);

export interface Chain {
  code: string;
  cls: 'soft' | 'technical' | 'hard' | 'fix_data';
  amountMinor: bigint;
  currency?: string;
  /** Retry times; the last one collected when `recoveredBy` is 'retry'. */
  retries: Date[];
  end: { kind: 'retry' } | { kind: 'portal'; at: Date } | { kind: 'void'; at: Date } | { kind: 'open' } | { kind: 'scheduled' };
  reason?: string;
  /** From this retry on, the client's new card is charged (saved through the update link). */
  newCardFrom?: number;
}

let seq = 0;

async function seedChain(tx: Tx, tenantId: string, clientId: string, first: Date, c: Chain): Promise<string> {
  const n = ++seq;
  const currency = c.currency ?? 'USD';
  const closed = c.end.kind === 'retry' || c.end.kind === 'portal' ? 'paid' : c.end.kind === 'void' ? 'void' : 'open';
  const invoice = await tx
    .insertInto('invoices')
    .values({
      tenant_id: tenantId,
      client_id: clientId,
      number: `RB-${n}`,
      type: 'invoice',
      currency,
      total_minor: c.amountMinor,
      psa_balance_minor: closed === 'paid' ? 0n : c.amountMinor,
      status: closed,
      psa_status: closed,
      issued_on: utcDateOf(new Date(first.getTime() - 30 * DAY)),
      psa_updated_at: first,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const planned = JSON.stringify([{ invoiceId: invoice.id, amountMinor: c.amountMinor.toString() }]);
  const card = { method_kind: 'card', method_brand: 'visa', method_last4: String(1000 + (n % 9000)) };
  const pay = async (at: Date, ok: boolean, source: 'autopay' | 'portal' = 'autopay', newCard = false) => {
    const p = await tx
      .insertInto('payments')
      .values({
        tenant_id: tenantId,
        client_id: clientId,
        currency,
        amount_minor: c.amountMinor,
        state: ok ? 'succeeded' : 'failed',
        planned_allocations: planned,
        source,
        processor: 'stripe',
        ...card,
        ...(newCard ? { method_last4: '9999' } : {}),
        failure_code: ok ? null : c.code,
        succeeded_at: ok ? at : null,
        created_at: at,
        updated_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx
      .insertInto('payment_attempts')
      .values({
        tenant_id: tenantId,
        payment_id: p.id,
        attempt_no: 1,
        idempotency_key: `rb-${p.id}`,
        outcome: ok ? 'succeeded' : 'declined',
        decline_code: ok ? null : c.code,
        created_at: at,
      })
      .execute();
    if (ok)
      await tx
        .insertInto('allocations')
        .values({ tenant_id: tenantId, payment_id: p.id, invoice_id: invoice.id, amount_minor: c.amountMinor, created_at: at })
        .execute();
    return p.id;
  };
  const root = await pay(first, false);
  const failed = [root];
  const retryIds: string[] = [];
  for (const [i, at] of c.retries.entries()) {
    const ok = c.end.kind === 'retry' && i === c.retries.length - 1;
    const id = await pay(at, ok, 'autopay', c.newCardFrom !== undefined && i >= c.newCardFrom);
    retryIds.push(id);
    if (!ok) failed.push(id);
  }
  const closedAt = c.end.kind === 'portal' || c.end.kind === 'void' ? c.end.at : null;
  for (const [i, paymentId] of failed.entries()) {
    const retryPaymentId = retryIds[i] ?? null;
    const last = i === failed.length - 1;
    const status = c.end.kind === 'scheduled' && last ? 'scheduled' : retryPaymentId ? 'retried' : closedAt ? 'resolved' : 'stopped';
    await tx
      .insertInto('payment_failures')
      .values({
        tenant_id: tenantId,
        payment_id: paymentId,
        root_payment_id: root,
        client_id: clientId,
        invoice_ids: [invoice.id],
        method_kind: 'card',
        method_label: `Visa ending ${card.method_last4}`,
        failure_code: c.code,
        failure_class: c.cls,
        decision: retryPaymentId || status === 'scheduled' ? 'retry' : 'no_retry',
        reason: c.reason ?? (retryPaymentId ? 'scheduled' : 'schedule_exhausted'),
        detail: 'seeded for the retry backtest',
        retry_number: retryPaymentId ? i + 1 : null,
        retry_payment_id: retryPaymentId,
        status,
        created_at: i === 0 ? first : c.retries[i - 1]!,
        updated_at: last && closedAt ? closedAt : i === 0 ? first : c.retries[i - 1]!,
      })
      .execute();
  }
  if (c.end.kind === 'portal') await pay(c.end.at, true, 'portal');
  return root;
}

/** Seeds the chains for `clientId` in one transaction; returns the root payment ids. */
export function seedRetryHistory(db: Db, tenantId: string, clientId: string, first: Date, chains: readonly Chain[]): Promise<string[]> {
  return withTenant(db, tenantId, async (tx) => {
    const out: string[] = [];
    for (const c of chains) out.push(await seedChain(tx, tenantId, clientId, first, c));
    return out;
  });
}

/**
 * The hand-worked history: nine soft declines of $100.00 (two collected by retry 1, two by retry 2, one paid
 * in the portal the day after retry 1, four never collected after four retries), a lost card the client
 * replaced, an expired card never fixed, one written off, a CAD technical error collected 15 minutes later.
 */
export function handWorkedHistory(first: Date): Chain[] {
  const r = [1, 3, 5, 7].map((d) => afterBusinessDays(first, d));
  const soft = (retries: number, end: Chain['end']): Chain => ({
    code: 'insufficient_funds',
    cls: 'soft',
    amountMinor: 10_000n,
    retries: r.slice(0, retries),
    end,
  });
  return [
    soft(1, { kind: 'retry' }),
    soft(1, { kind: 'retry' }),
    soft(2, { kind: 'retry' }),
    soft(2, { kind: 'retry' }),
    soft(1, { kind: 'portal', at: new Date(r[0]!.getTime() + 20 * 3_600_000) }),
    ...Array.from({ length: 4 }, () => soft(4, { kind: 'open' })),
    {
      code: 'lost_card',
      cls: 'hard',
      amountMinor: 10_000n,
      retries: [],
      end: { kind: 'portal', at: new Date(first.getTime() + 19 * 3_600_000) },
      reason: 'hard_decline',
    },
    { code: 'expired_card', cls: 'fix_data', amountMinor: 7_500n, retries: [], end: { kind: 'open' }, reason: 'needs_new_card_data' },
    {
      code: 'expired_card',
      cls: 'fix_data',
      amountMinor: 2_500n,
      retries: [],
      end: { kind: 'void', at: new Date(first.getTime() + 10 * DAY) },
      reason: 'needs_new_card_data',
    },
    {
      code: 'processing_error',
      cls: 'technical',
      amountMinor: 5_000n,
      currency: 'CAD',
      retries: [new Date(first.getTime() + 15 * 60_000)],
      end: { kind: 'retry' },
    },
  ];
}
