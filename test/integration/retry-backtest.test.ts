// Retry-policy backtest (issue #12) against Settle running as its own process on real PostgreSQL: a history
// of failed payments and how each ended (collected by a retry, paid in the portal, written off, never), the
// proposed schedule replayed through POST /api/v1/retry-policy/backtest. The soft-decline figures are the
// ones worked out by hand in src/domain/retry-backtest/backtest.test.ts; here they must come out of the
// database the same. Nothing is saved or audited, another workspace's failures are never counted, and bad
// input is refused with what to fix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createWorkspace } from '../../src/cli/workspace.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { loadFailureHistory } from '../../src/engine/retry-backtest.ts';
import { OWNER, startLeanSettle, type LeanSettle } from '../security/lean-settle.ts';
import { afterBusinessDays, handWorkedHistory, historyMonday, seedRetryHistory } from '../helpers/retry-history.ts';

let s: LeanSettle;
let key: string;
let otherTenant: string;
const FIRST = historyMonday(new Date());
const PROPOSED = {
  soft_steps: [{ businessDays: 1 }, { businessDays: 3 }, { businessDays: 10 }],
  technical_steps: [{ minutes: 15 }, { minutes: 60 }, { minutes: 360 }],
};

const backtest = async (body: unknown, apiKey = key) => {
  const res = await fetch(`${s.base}/api/v1/retry-policy/backtest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};
const unchanged = async () => {
  const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(s.database.db, s.tenantId, fn);
  expect(await q((tx) => tx.selectFrom('retry_policies').selectAll().executeTakeFirst())).toBeUndefined();
  expect(await q((tx) => tx.selectFrom('audit_log').select('id').where('action', '=', 'settings.retry_policy_changed').execute())).toHaveLength(0);
};
const usd = (minor: number) => [{ currency: 'USD', amount_minor: String(minor) }];

beforeAll(async () => {
  s = await startLeanSettle({});
  key = await s.apiKey();
  const [bayside, cobalt] = s.clientIds as [string, string];
  await seedRetryHistory(s.database.db, s.tenantId, bayside, FIRST, handWorkedHistory(FIRST));
  // Still being retried (outcome unknown) and superseded by a later payment (never in the retry path): left out.
  await seedRetryHistory(s.database.db, s.tenantId, cobalt, FIRST, [
    { code: 'insufficient_funds', cls: 'soft', amountMinor: 99_900n, retries: [afterBusinessDays(FIRST, 1)], end: { kind: 'scheduled' } },
    { code: 'insufficient_funds', cls: 'soft', amountMinor: 88_800n, retries: [], end: { kind: 'open' }, reason: 'superseded' },
    // Retried once on the declined card, then at once on the card the client saved through the update link:
    // the client fixed it, and only the first retry is a trial of the schedule.
    {
      code: 'processing_error',
      cls: 'technical',
      amountMinor: 6_600n,
      retries: [new Date(FIRST.getTime() + 15 * 60_000), new Date(FIRST.getTime() + 3 * 3_600_000)],
      end: { kind: 'retry' },
      newCardFrom: 1,
    },
  ]);
  // Another MSP's collected soft decline: never in this workspace's rates.
  otherTenant = await createWorkspace(s.database.db, {
    slug: 'other-it',
    name: 'Other IT',
    adminEmail: 'o@other.test',
    adminPassword: 'other horse battery',
    actor: 'system:test',
  });
  const otherClient = await withTenant(
    s.database.db,
    otherTenant,
    async (tx) =>
      (
        await tx
          .insertInto('clients')
          .values({ tenant_id: otherTenant, name: 'Elsewhere', identifier: 'E1', billing_email: 'ap@else.test' })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
  );
  await seedRetryHistory(s.database.db, otherTenant, otherClient, FIRST, [
    { code: 'insufficient_funds', cls: 'soft', amountMinor: 77_700n, retries: [afterBusinessDays(FIRST, 1)], end: { kind: 'retry' } },
  ]);
}, 180_000);

afterAll(async () => {
  await s?.close();
});

describe('retry-policy backtest on real PostgreSQL', () => {
  it('reads each failure, its class and how it ended from the tables the retries write', async () => {
    const h = await withTenant(s.database.db, s.tenantId, (tx) => loadFailureHistory(tx, new Date(FIRST.getTime() - 86_400_000)));
    expect(h.inProgress).toBe(1);
    expect(h.failures).toHaveLength(14);
    const kinds = (cls: string) => h.failures.filter((f) => f.class === cls).map((f) => f.outcome.kind);
    expect(kinds('soft').sort()).toEqual(['client_fixed', ...Array(4).fill('not_recovered'), ...Array(4).fill('retry_recovered')].sort());
    expect(kinds('fix_data').sort()).toEqual(['not_recovered', 'written_off']);
    expect(kinds('hard')).toEqual(['client_fixed']);
    expect(kinds('technical').sort()).toEqual(['client_fixed', 'retry_recovered']);
    const newCard = h.failures.find((f) => f.amount.amountMinor === 6_600n)!;
    expect(newCard.retriesAt).toEqual([new Date(FIRST.getTime() + 15 * 60_000)]);
    expect(newCard.outcome).toEqual({ kind: 'client_fixed', at: new Date(FIRST.getTime() + 3 * 3_600_000) });
    const collected = h.failures.filter((f) => f.outcome.kind === 'retry_recovered' && f.class === 'soft');
    expect(collected.map((f) => (f.outcome as { retryNumber: number }).retryNumber).sort()).toEqual([1, 1, 2, 2]);
    expect(h.failures.find((f) => f.retriesAt.length === 4)!.retriesAt).toEqual([1, 3, 5, 7].map((d) => afterBusinessDays(FIRST, d)));
    // The other workspace's $777.00 is not here (row-level security), nor are the left-out chains.
    expect(h.failures.map((f) => f.amount.amountMinor)).not.toContain(77_700n);
    expect(h.failures.map((f) => f.amount.amountMinor)).not.toContain(99_900n);
  });

  it('replays the history under the proposed schedule and shows current against proposed per class, saving nothing', async () => {
    const { status, body } = await backtest(PROPOSED);
    expect(status).toBe(200);
    expect(body['failures']).toBe(14);
    expect(body['in_progress']).toBe(1);
    const row = (c: string) => (body['classes'] as { class: string }[]).find((x) => x.class === c) as Record<string, any>;
    const soft = row('soft');
    expect(soft['rates']['by_retry']).toEqual([
      { retry: 1, tried: 9, recovered: 2 },
      { retry: 2, tried: 6, recovered: 2 },
      { retry: 3, tried: 4, recovered: 0 },
      { retry: 4, tried: 4, recovered: 0 },
    ]);
    // The hand-worked figures (backtest.test.ts): 40,742 ¢ now, 47,958 ¢ proposed, by retries.
    expect(soft['current']).toMatchObject({ planned_retries: 33, recovered_by_retries: usd(40_742), recovered_in_total: usd(48_520) });
    expect(soft['proposed']).toMatchObject({ planned_retries: 25, recovered_by_retries: usd(47_958), recovered_in_total: usd(55_736) });
    expect(soft['actual']).toMatchObject({ retries: 23, recovered_by_retries: usd(40_000) });
    expect(row('fix_data')['outcomes']).toMatchObject({ written_off: 1, not_recovered: 1 });
    expect(row('hard')['proposed']).toMatchObject({ planned_retries: 0, recovered_by_retries: usd(0) });
    // Two technical errors are not enough history: counted, left out of the amounts.
    expect(row('technical')).toMatchObject({ failures: 2, not_estimated: 2, rates: { all: { tried: 2, recovered: 1 } } });
    expect(body['totals']['proposed']['recovered_by_retries']).toEqual(usd(47_958));
    expect(body['current']).toEqual({ soft_steps: [1, 3, 5, 7].map((d) => ({ businessDays: d })), technical_steps: PROPOSED.technical_steps });
    await unchanged();
  });

  it('with detail, lists every past failure with the retries each schedule makes of it', async () => {
    const { status, body } = await backtest({ ...PROPOSED, detail: true });
    expect(status).toBe(200);
    const all = body['failures_detail'] as Record<string, any>[];
    expect(all).toHaveLength(14);
    const never = all.find((f) => f['class'] === 'soft' && f['outcome']['kind'] === 'not_recovered')!;
    expect(never['retries_made']).toBe(4);
    expect(never['current']['retries'].map((r: { at: string }) => r.at)).toEqual([1, 3, 5, 7].map((d) => afterBusinessDays(FIRST, d).toISOString()));
    expect(never['proposed']).toMatchObject({ stop: 'schedule_exhausted', expected_recovered: usd(5_717) });
    expect(never['proposed']['retries'].map((r: { at: string }) => r.at)).toEqual([1, 3, 10].map((d) => afterBusinessDays(FIRST, d).toISOString()));
    expect(never['current']['expected_recovered']).toEqual(usd(4_815));
    const lost = all.find((f) => f['decline_code'] === 'lost_card')!;
    expect(lost['proposed']).toMatchObject({ retries: [], stop: 'hard_decline' });
    expect((await backtest(PROPOSED)).body['failures_detail']).toBeUndefined();
  });

  it('refuses a bad schedule with what to fix, and changes nothing', async () => {
    const negative = await backtest({ ...PROPOSED, soft_steps: [{ businessDays: -2 }] });
    expect(negative.status).toBe(400);
    expect(negative.body['error']['message']).toContain('/soft_steps/0/businessDays: Number must be greater than or equal to 1');
    const nine = await backtest({ ...PROPOSED, soft_steps: Array.from({ length: 9 }, (_, i) => ({ businessDays: i + 1 })) });
    expect(nine.status).toBe(400);
    expect(nine.body['error']['message']).toContain('/soft_steps: Array must contain at most 8 element(s)');
    const unknownClass = await backtest({ ...PROPOSED, hard_steps: [{ businessDays: 1 }] });
    expect(unknownClass.status).toBe(400);
    expect(unknownClass.body['error']['message']).toContain('there is no "hard" schedule');
    const tooFar = await backtest({ ...PROPOSED, history_days: 5000 });
    expect(tooFar.status).toBe(400);
    expect(tooFar.body['error']['message']).toContain('history_days');
    await unchanged();
  });

  it('is the owner’s, like changing the policy', async () => {
    const viewerKey = await createApiKey(s.database.db, s.tenantId, 'viewer', 'system:test', { role: 'viewer' });
    expect((await backtest(PROPOSED, viewerKey)).status).toBe(403);
    expect(OWNER.workspace).toBe('acme-it');
  });
});
