// A payment's write-back to HaloPSA and Autotask through the vendor's bad moments, in a running Settle (real
// PostgreSQL, the simulators over HTTP): 503s and a 429 are retried with backoff and the payment is written
// once; an answer lost after the vendor stored the write is found again by check-before-write (Halo: our
// `thirdpartyid`; Autotask: the note naming the payment) and not written twice; a vendor that keeps failing
// becomes an exception a person sees, which closes itself once the write-back gets through.
import { afterEach, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { mirrorInvoicesIntoBooks } from '../../src/cli/demo/demo-activity.ts';
import { eventually, openInvoices, payInPortal, type Stack } from '../helpers/stack.ts';
import { startHaloSimulator, type RunningHaloSimulator } from '../../simulators/halopsa/index.ts';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../simulators/autotask/index.ts';
import type { CallLog, Faults } from '../../simulators/kit.ts';
import { psaWorkspace } from './psa-guard-helpers.ts';

let stack: Stack | null = null;
let closeSim: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stack?.close();
  await closeSim?.();
  [stack, closeSim] = [null, null];
});

interface Vendor {
  readonly name: 'halopsa' | 'autotask';
  /** The request that writes the payment, as a fault path pattern. */
  readonly writePath: string;
  start(): Promise<{ faults: Faults; lostAnswers: Faults; calls: CallLog; writes: (remote: string) => number; w: Awaited<ReturnType<typeof psaWorkspace>> }>;
}

const halo: Vendor = {
  name: 'halopsa',
  writePath: '^/api/InvoicePayment$',
  async start() {
    const sim: RunningHaloSimulator = await startHaloSimulator({ seed: { clients: 2, invoices: 3, seed: 5, paidShare: 0 } });
    closeSim = () => sim.close();
    const w = await psaWorkspace({ vendor: 'halopsa', sim }, { settle: true });
    return {
      faults: sim.sim.faults,
      lostAnswers: sim.sim.lostAnswers,
      calls: sim.sim.calls,
      writes: (remote) => sim.sim.paymentsFor(Number(remote)).length,
      w,
    };
  },
};

const autotask: Vendor = {
  name: 'autotask',
  writePath: '/V1\\.0/CompanyNotes$',
  async start() {
    const sim: RunningAutotaskSimulator = await startAutotaskSimulator({
      seed: { companies: 2, invoices: 3 },
      limits: { latencyAtHalfMs: 0, latencyAtThreeQuartersMs: 0 },
    });
    closeSim = () => sim.close();
    const w = await psaWorkspace({ vendor: 'autotask', sim }, { settle: true });
    const writes = (remote: string) => sim.sim.notes().filter((n) => String(n.Note).includes(`settle:payment invoice=${remote} `)).length;
    return { faults: sim.sim.faults, lostAnswers: sim.sim.lostAnswers, calls: sim.sim.calls, writes, w };
  },
};

async function paidOnce(v: Vendor) {
  const s = await v.start();
  stack = s.w.stack;
  await mirrorInvoicesIntoBooks((await s.w.connectors.psa(s.w.tenantId))!, stack.sims.quickbooks);
  await syncPsa(stack.settle!.ctx, s.w.tenantId);
  const [invoice] = await openInvoices(stack);
  const pay = async () => {
    const token = await stack!.portalToken(invoice!.client_id);
    return (await payInPortal(stack!, token, [invoice!.id])).paymentId;
  };
  const posting = async (paymentId: string) =>
    withTenant(s.w.db, s.w.tenantId, (tx) =>
      tx.selectFrom('postings').select(['id', 'status', 'attempts']).where('payment_id', '=', paymentId).where('target', '=', 'psa').executeTakeFirst(),
    );
  return { ...s, invoice: invoice!, pay, posting };
}

describe.each([halo, autotask])('$name write-back through vendor failures', (v) => {
  it('two 503s and a 429: retried with backoff, written once', async () => {
    const t = await paidOnce(v);
    t.faults.add({ method: 'POST', pathPattern: v.writePath, fault: { kind: 'status', status: 503 }, times: 2 });
    t.faults.add({ method: 'POST', pathPattern: v.writePath, fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } }, times: 1 });
    const paymentId = await t.pay();
    await eventually(async () => (await t.posting(paymentId))?.status === 'posted', 120_000, 'the PSA posting posted');
    // The vendor answered the write 503, 503, 429 (the connector checks before each new try), then took it once.
    expect(t.calls.statuses.get(503)).toBe(2);
    expect(t.calls.statuses.get(429)).toBe(1);
    expect(t.writes(t.invoice.remote)).toBe(1);
  }, 240_000);

  it('the answer to the write lost after the vendor stored it: found again, not written twice', async () => {
    const t = await paidOnce(v);
    t.lostAnswers.add({ method: 'POST', pathPattern: v.writePath, fault: { kind: 'drop' }, times: 1 });
    const paymentId = await t.pay();
    await eventually(async () => (await t.posting(paymentId))?.status === 'posted', 120_000, 'the PSA posting posted');
    expect(t.writes(t.invoice.remote)).toBe(1);
    const posted = await withTenant(t.w.db, t.w.tenantId, (tx) => tx.selectFrom('audit_log').select('detail').where('action', '=', 'posting.posted').execute());
    const mine = posted.map((r) => r.detail as { vendor: string; already_recorded: boolean }).filter((d) => d.vendor === v.name);
    expect(mine.map((d) => d.already_recorded)).toEqual([true]);
  }, 240_000);

  it('a vendor that keeps failing: an exception a person sees, closed by itself once the write-back gets through', async () => {
    const t = await paidOnce(v);
    t.faults.add({ method: 'POST', pathPattern: v.writePath, fault: { kind: 'status', status: 503 }, times: 1_000 });
    const paymentId = await t.pay();
    const p = await eventually(async () => t.posting(paymentId), 60_000, 'the PSA posting');
    const exception = async () =>
      withTenant(t.w.db, t.w.tenantId, (tx) =>
        tx.selectFrom('exceptions').select(['id', 'kind', 'title', 'detail', 'status']).where('dedupe_key', '=', `posting:${p.id}`).executeTakeFirst(),
      );
    const open = await eventually(async () => ((await exception())?.status === 'open' ? exception() : null), 120_000, 'an open exception for the posting');
    expect(open).toMatchObject({ kind: 'posting_failing' });
    expect(open!.title).toMatch(v.name === 'halopsa' ? /HaloPSA/ : /Autotask/);
    expect(open!.detail).toMatch(/503/);
    expect(t.writes(t.invoice.remote)).toBe(0);
    t.faults.clear();
    await eventually(async () => (await t.posting(paymentId))?.status === 'posted', 180_000, 'the PSA posting posted once the vendor recovers');
    expect((await exception())?.status).toBe('resolved');
    expect(t.writes(t.invoice.remote)).toBe(1);
  }, 360_000);
});
