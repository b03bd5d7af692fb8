// Issue #11, QuickBooks Desktop: the three-way reconciliation's "deposit edited by hand" fix. A bookkeeper adds a
// line to the deposit Settle posted for a payout; Settle's books copy (the Web Connector's walk) shows it
// totalling more than the payout, the report says so and offers to restore it; applying the fix queues a
// DepositQuery + DepositMod (with the deposit's EditSequence) for the Web Connector's next run — the person is
// told it is on its way — and once it has run, applying it again reports it done. The deposit keeps its TxnID,
// its lines are Settle's again, and the next report finds no drift.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { runReconciliation } from '../../src/engine/three-way-reconciliation.ts';
import { applyOfferedFix } from '../../src/engine/reconciliation-fix.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { qbdBooksCopyAfter, useQbdBooks } from '../helpers/qbd-books.ts';
import { validateQbxml } from '../conformance/quickbooks-desktop/xsd-validate.ts';
import type { RunningQbdSimulator } from '../../simulators/quickbooks-desktop/index.ts';

let stack: Stack;
let qbd: RunningQbdSimulator;
beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 3, achSettleDelayMs: null });
  qbd = await useQbdBooks(stack, stack.settleUrl, { runEveryMs: 500 });
}, 120_000);
afterAll(async () => {
  await qbd?.close();
  await stack?.close();
});

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);

/** The books copy read by a Web Connector walk handed over after `since`, then the report. */
async function reportAfter(since: Date) {
  await qbdBooksCopyAfter(stack, since);
  const run = await runReconciliation(stack.settle!.ctx, stack.tenantId, 'on_demand', 'system:test');
  const drifts = await q((tx) => tx.selectFrom('reconciliation_drifts').selectAll().where('run_id', '=', run.runId).execute());
  return { run, drifts };
}

describe('QuickBooks Desktop: a deposit edited by hand, restored through DepositMod', () => {
  it('the report offers the restore; the Web Connector makes it; the deposit is Settle’s again and drift is zero', async () => {
    const [inv] = await openInvoices(stack);
    const paid = await payInPortal(stack, await stack.portalToken(inv!.client_id), [inv!.id]);
    await eventually(
      async () => qbd.company.payments.some((p) => p.memo.includes(paid.paymentId) || p.total === BigInt(inv!.total_minor)),
      60_000,
      'the payment in QuickBooks',
    );
    const payout = stack.sims.stripe.sim.runPayouts()!;
    const deposit = await eventually(async () => qbd.company.deposits.find((d) => d.memo.includes(payout.id)), 60_000, 'the payout’s deposit');
    await eventually(
      async () =>
        (await q((tx) => tx.selectFrom('postings').select('status').where('kind', '=', 'deposit').where('status', '=', 'posted').execute())).length === 1,
      60_000,
      'Settle to record the deposit posted',
    );
    const settleLines = deposit.lines.map((l) => ({ ...l }));
    expect(deposit.total).toBe(BigInt(payout.amount));

    const edited = new Date();
    const res = await fetch(`${qbd.baseUrl}/_sim/transactions/edit-deposit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ txnId: deposit.txnId, account: 'Services', amount: '10.00', memo: 'cash sale added by hand' }),
    });
    expect(res.status).toBe(200);
    expect(deposit.total).toBe(BigInt(payout.amount) + 1000n);

    const found = await reportAfter(edited);
    expect(found.drifts.map((d) => d.kind)).toEqual(['deposit_edited']);
    const drift = found.drifts[0]!;
    expect(drift.fix).toMatchObject({ action: 'restore_deposit' });
    expect(drift.advice).toMatch(/Settle can put the deposit back/);

    await expect(applyOfferedFix(stack.settle!.ctx, stack.tenantId, drift.id, 'system:test')).rejects.toThrow(
      /the restore is on its way to the books, not made yet: queued for QuickBooks Desktop/,
    );
    // Once the Web Connector has run it, the same fix reports it made (until then it keeps saying it is on its way).
    const applied = await eventually(
      () =>
        applyOfferedFix(stack.settle!.ctx, stack.tenantId, drift.id, 'system:test').catch((e: Error) => {
          if (/on its way to the books/.test(e.message)) return null;
          throw e;
        }),
      60_000,
      'the Web Connector’s DepositMod, reported by the fix',
    );
    expect(deposit.total).toBe(BigInt(payout.amount));
    expect(applied).toMatchObject({ action: 'restore_deposit' });
    await expect(applyOfferedFix(stack.settle!.ctx, stack.tenantId, drift.id, 'system:test')).rejects.toThrow(/fixed already/);

    expect(qbd.company.deposits.filter((d) => d.memo.includes(payout.id))).toHaveLength(1); // the same deposit, in place
    expect(deposit.lines.some((l) => l.memo === 'cash sale added by hand')).toBe(false);
    expect(deposit.lines.map((l) => [l.paymentTxnId ?? l.account, l.amount])).toEqual(settleLines.map((l) => [l.paymentTxnId ?? l.account, l.amount]));
    expect(qbd.webConnector.requests.join('')).toMatch(/<DepositModRq requestID="[^"]+"><DepositMod><TxnID>[^<]+<\/TxnID><EditSequence>2<\/EditSequence>/);

    const after = await reportAfter(new Date());
    expect(after.drifts.map((d) => `${d.kind}: ${d.cause}`)).toEqual([]);
  }, 300_000);

  it('every qbXML document the Web Connector carried is valid against qbxmlops130.xsd', async () => {
    expect((await validateQbxml(qbd.webConnector.requests)).errors).toEqual([]);
  }, 120_000);
});
