// Issue #11: the three-way reconciliation. Real PostgreSQL, Settle in this process, ConnectWise, Stripe and
// QuickBooks Online simulators over HTTP. Settle's copy of the books is read in full once and then through
// QuickBooks' CDC; a history of real payments and a payout reconciles to zero drift. Then a bookkeeper and a
// PSA user change things by hand — a payment entered by hand in the books, Settle's payment deleted in the
// books, a deposit edited, Settle's payment deleted in the PSA — and the report finds each, with its cause,
// and nothing else; Settle's offered fixes (re-post) plus the people's own (void the hand payment, undo the
// deposit edit) bring the drift back to zero.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { syncBooksCopy } from '../../src/engine/sync-books-copy.ts';
import { runReconciliation } from '../../src/engine/three-way-reconciliation.ts';
import { applyDriftFix } from '../../src/engine/reconciliation-fix.ts';
import { enqueue } from '../../src/engine/enqueue.ts';
import { editDepositByHand, enterPaymentByHand } from '../../simulators/quickbooks-online/drift.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 6 });
}, 180_000);
afterAll(async () => stack?.close());

const db = () => stack.database.db;
const ctx = () => stack.settle!.ctx;
const qbo = () => stack.sims.quickbooks.sim;

async function postings(paymentId: string) {
  return withTenant(db(), stack.tenantId, (tx) =>
    tx.selectFrom('postings').selectAll().where('payment_id', '=', paymentId).where('kind', '=', 'payment').execute(),
  );
}
async function allPosted(paymentId: string) {
  return eventually(
    async () => {
      const ps = await postings(paymentId);
      return ps.length === 2 && ps.every((p) => p.status === 'posted') ? ps : null;
    },
    120_000,
    `the PSA and books postings of payment ${paymentId}`,
  );
}
async function report() {
  await syncBooksCopy(ctx(), stack.tenantId);
  const run = await runReconciliation(ctx(), stack.tenantId, 'on_demand', 'system:test');
  const drifts = await withTenant(db(), stack.tenantId, (tx) =>
    tx.selectFrom('reconciliation_drifts').selectAll().where('run_id', '=', run.runId).orderBy('kind').execute(),
  );
  return { run, drifts };
}

describe('three-way reconciliation over Settle’s copy of the books', () => {
  let paid: Awaited<ReturnType<typeof openInvoices>>;
  let paymentIds: string[] = [];

  it('copies the books in full, then incrementally through CDC', async () => {
    const first = await syncBooksCopy(ctx(), stack.tenantId);
    expect(first.vendor).toBe('quickbooks-online');
    const copied = await withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('books_invoices').select(['number', 'total_minor', 'balance_minor']).execute());
    expect(copied.map((c) => c.number).sort()).toEqual(
      qbo()
        .invoices()
        .map((i) => String(i['DocNumber']))
        .sort(),
    );
    const cdcCalls = () => [...qbo().calls.counts].filter(([k]) => /cdc/i.test(k)).reduce((n, [, v]) => n + v, 0);
    const before = cdcCalls();
    const second = await syncBooksCopy(ctx(), stack.tenantId);
    expect(second.rounds).toBe(1);
    expect(cdcCalls()).toBe(before + 1);
  }, 120_000);

  it('a history of real payments and a payout reconciles to zero drift, kept as a dated summary', async () => {
    paid = (await openInvoices(stack)).slice(0, 4);
    for (const inv of paid.slice(0, 3)) {
      const { paymentId } = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
      paymentIds.push(paymentId);
      await allPosted(paymentId);
    }
    expect(stack.sims.stripe.sim.runPayouts()).not.toBeNull();
    await eventually(
      async () => {
        const d = await withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('postings').selectAll().where('kind', '=', 'deposit').executeTakeFirst());
        return d?.status === 'posted' ? d : null;
      },
      120_000,
      'the payout deposit posted',
    );
    // One more payment after the payout: undeposited, so a bookkeeper may delete it.
    const { paymentId } = await payInPortal(stack, await stack.portalToken(paid[3]!.client_id), [paid[3]!.id]);
    paymentIds.push(paymentId);
    await allPosted(paymentId);
    const { run, drifts } = await report();
    expect(drifts.map((d) => `${d.kind} ${d.reference}: ${d.cause}`)).toEqual([]);
    expect(run.zeroDrift).toBe(true);
    expect(run.invoicesChecked).toBeGreaterThanOrEqual(6);
    expect(run.payoutsChecked).toBe(1);
    const kept = await withTenant(db(), stack.tenantId, (tx) =>
      tx.selectFrom('reconciliation_runs').selectAll().where('id', '=', run.runId).executeTakeFirstOrThrow(),
    );
    expect(kept).toMatchObject({ zero_drift: true, drift_count: 0, books_vendor: 'quickbooks-online' });
    expect(kept.books_copy_as_of).not.toBeNull();
    const audited = await withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('audit_log').select('action').where('subject_id', '=', run.runId).execute());
    expect(audited.map((a) => a.action)).toEqual(['reconciliation.zero_drift']);
  }, 400_000);

  it('finds each drift injected by hand with its cause, and nothing else; the fixes bring it back to zero', async () => {
    const [deposited, psaVictim, , undeposited] = paid;
    const others = (await openInvoices(stack)).filter((i) => !paid.some((p) => p.id === i.id));
    const handInvoice = others[0]!;
    // 1. A payment entered by hand in the books on an invoice nobody paid in the PSA.
    const hand = enterPaymentByHand(qbo().store, handInvoice.number, '25.00');
    // 2. Settle's books payment (not yet deposited) deleted in QuickBooks.
    const booksPosting = (await postings(paymentIds[3]!)).find((p) => p.target === 'accounting')!;
    qbo().deletePayment(booksPosting.remote_id!);
    // 3. The payout's deposit edited by hand: a bank charge of 1.00 added.
    editDepositByHand(qbo().store, undefined, '1.00');
    // 4. Settle's payment deleted in ConnectWise; the PSA tells Settle, which reads the invoice again.
    const psaPosting = (await postings(paymentIds[1]!)).find((p) => p.target === 'psa')!;
    const cw = stack.sims.connectwise.sim;
    expect(cw.state.deletePayment(Number(psaVictim!.remote), Number(psaPosting.remote_id))).toBe(true);
    await eventually(
      async () => {
        const i = await withTenant(db(), stack.tenantId, (tx) =>
          tx.selectFrom('invoices').selectAll().where('id', '=', psaVictim!.id).executeTakeFirstOrThrow(),
        );
        return i.psa_balance_minor === i.total_minor && i.psa_fetched_at && i.psa_fetched_at > psaPosting.posted_at! ? i : null;
      },
      120_000,
      'the PSA copy to show the deleted payment',
    );

    const { run, drifts } = await report();
    const found = drifts.map((d) => ({ kind: d.kind, reference: d.reference, fix: d.fix?.posting_id ?? null }));
    expect(found).toEqual(
      [
        { kind: 'books_payment_by_hand', reference: `#${handInvoice.number}`, fix: null },
        { kind: 'books_payment_removed', reference: `#${undeposited!.number}`, fix: booksPosting.id },
        { kind: 'deposit_edited', reference: expect.any(String), fix: null },
        { kind: 'psa_payment_deleted', reference: `#${psaVictim!.number}`, fix: psaPosting.id },
      ].sort((a, b) => a.kind.localeCompare(b.kind)),
    );
    expect(run.zeroDrift).toBe(false);
    const byKind = new Map(drifts.map((d) => [d.kind, d]));
    expect(byKind.get('books_payment_by_hand')!.cause).toContain(`entered by hand in the books on invoice #${handInvoice.number} (books id ${hand.Id})`);
    expect(byKind.get('books_payment_removed')!.cause).toContain('was deleted in the books');
    expect(byKind.get('deposit_edited')!.cause).toContain('edited by hand');
    expect(byKind.get('deposit_edited')!.difference_minor).toBe(-100n);
    expect(byKind.get('psa_payment_deleted')!.cause).toContain('deleted in the PSA');
    expect(deposited).toBeDefined();

    // Settle's fixes, through the engine, audited.
    for (const d of drifts.filter((x) => x.fix))
      await withTenant(db(), stack.tenantId, (tx) => applyDriftFix(tx, stack.tenantId, d.id, 'user:test-finance' as never, new Date()));
    await expect(
      withTenant(db(), stack.tenantId, (tx) => applyDriftFix(tx, stack.tenantId, byKind.get('deposit_edited')!.id, 'system:test', new Date())),
    ).rejects.toThrow(/cannot fix this drift itself/);
    // The people's own: void the hand-entered payment, undo the deposit edit.
    qbo().voidPayment(hand.Id);
    editDepositByHand(qbo().store, undefined, '-1.00');
    await eventually(
      async () => {
        const ps = [...(await postings(paymentIds[3]!)), ...(await postings(paymentIds[1]!))];
        return ps.every((p) => p.status === 'posted') ? ps : null;
      },
      120_000,
      're-posted records',
    );
    // Wait for the PSA copy to have read the re-posted payment, then report again.
    const after = await eventually(
      async () => {
        const r = await report();
        return r.run.zeroDrift ? r : null;
      },
      180_000,
      'zero drift after the fixes',
    );
    expect(after.drifts).toEqual([]);
    const fixes = await withTenant(db(), stack.tenantId, (tx) =>
      tx.selectFrom('audit_log').select('action').where('action', '=', 'reconciliation.fix_applied').execute(),
    );
    expect(fixes).toHaveLength(2);
  }, 600_000);
  it('the nightly tick refreshes the copy and runs the report as a durable job, kept as a nightly run', async () => {
    const before = await withTenant(db(), stack.tenantId, (tx) =>
      tx.selectFrom('sync_cursors').select('updated_at').where('name', '=', 'books-copy:quickbooks-online').executeTakeFirstOrThrow(),
    );
    // What the cron does at 02:30 UTC: the tick queues, per workspace, a refresh of the copy and then the report.
    await enqueue(db(), 'reconcile-tick', {}, { jobKey: 'reconcile-tick-test' });
    const nightly = await eventually(
      () => withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('reconciliation_runs').selectAll().where('trigger', '=', 'nightly').executeTakeFirst()),
      120_000,
      'a nightly run',
    );
    expect(nightly).toMatchObject({ requested_by: 'system:reconciliation', zero_drift: true, drift_count: 0 });
    const after = await withTenant(db(), stack.tenantId, (tx) =>
      tx.selectFrom('sync_cursors').select('updated_at').where('name', '=', 'books-copy:quickbooks-online').executeTakeFirstOrThrow(),
    );
    expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
    expect(nightly.books_copy_as_of!.getTime()).toBeGreaterThan(before.updated_at.getTime() - 60_000);
  }, 200_000);
});
