// Issue #11: the three-way reconciliation. Real PostgreSQL, Settle in this process, ConnectWise, Stripe and
// QuickBooks Online simulators over HTTP. Settle's copy of the books is read in full once and then through
// QuickBooks' CDC; a history of real payments and a payout reconciles to zero drift. Then a bookkeeper and a
// PSA user change things by hand — a payment entered by hand in the books, Settle's payment deleted in the
// books, a deposit edited, an invoice's amount edited in the books, Settle's payment deleted in the PSA — and
// the report finds each, with its cause, and nothing else; Settle's offered fixes (re-post, restore the
// deposit) plus the people's own (void the hand payment, put the invoice back) bring the drift back to zero.
// The nightly tick runs the report at 02:30 in the workspace's own timezone, once per local date.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { syncBooksCopy } from '../../src/engine/sync-books-copy.ts';
import { runReconciliation } from '../../src/engine/three-way-reconciliation.ts';
import { applyDriftFix, applyOfferedFix } from '../../src/engine/reconciliation-fix.ts';
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

/** A bookkeeper edits an invoice's amount in QuickBooks (its balance moves with it). */
function editInvoiceTotalByHand(number: string, deltaMinor: bigint): void {
  const inv = qbo()
    .store.list('Invoice')
    .find((i) => i['DocNumber'] === number)!;
  const cents = (v: unknown) => BigInt(Math.round(Number(v) * 100));
  inv['TotalAmt'] = qbo().store.amount(cents(inv['TotalAmt']) + deltaMinor);
  inv['Balance'] = qbo().store.amount(cents(inv['Balance']) + deltaMinor);
  qbo().store.touch(inv);
}

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
    // 4. An invoice's amount edited in the books after the export (10.00 more).
    const editedInvoice = others[1]!;
    editInvoiceTotalByHand(editedInvoice.number, 1000n);
    // 5. Settle's payment deleted in ConnectWise; the PSA tells Settle, which reads the invoice again.
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
        { kind: 'deposit_edited', reference: expect.any(String), fix: expect.any(String) },
        { kind: 'invoice_amount_differs', reference: `#${editedInvoice.number}`, fix: null },
        { kind: 'psa_payment_deleted', reference: `#${psaVictim!.number}`, fix: psaPosting.id },
      ].sort((a, b) => a.kind.localeCompare(b.kind)),
    );
    expect(run.zeroDrift).toBe(false);
    const byKind = new Map(drifts.map((d) => [d.kind, d]));
    expect(byKind.get('books_payment_by_hand')!.cause).toContain(`entered by hand in the books on invoice #${handInvoice.number} (books id ${hand.Id})`);
    expect(byKind.get('books_payment_removed')!.cause).toContain('was deleted in the books');
    expect(byKind.get('deposit_edited')!.cause).toContain('edited by hand');
    expect(byKind.get('deposit_edited')!.difference_minor).toBe(-100n);
    expect(byKind.get('deposit_edited')!.fix).toMatchObject({ action: 'restore_deposit' });
    expect(byKind.get('invoice_amount_differs')!.cause).toContain('edited in one after the export');
    expect(byKind.get('invoice_amount_differs')!.difference_minor).toBe(1000n);
    expect(byKind.get('psa_payment_deleted')!.cause).toContain('deleted in the PSA');
    expect(deposited).toBeDefined();

    // Settle's fixes, through the engine the staff page calls, audited; each applied once only.
    const depositId = String(qbo().deposits().at(-1)!['Id']);
    for (const d of drifts.filter((x) => x.fix)) await applyOfferedFix(ctx(), stack.tenantId, d.id, 'user:test-finance' as never);
    await expect(applyOfferedFix(ctx(), stack.tenantId, byKind.get('deposit_edited')!.id, 'system:test')).rejects.toThrow(/fixed already/);
    await expect(
      withTenant(db(), stack.tenantId, (tx) => applyDriftFix(tx, stack.tenantId, byKind.get('invoice_amount_differs')!.id, 'system:test', new Date())),
    ).rejects.toThrow(/Settle cannot post this again/);
    // The deposit is the same record, back to the payout: the hand-added line gone, the payments linked again.
    const restored = qbo().store.get('Deposit', depositId);
    expect(Math.round(Number(restored['TotalAmt']) * 100)).toBe(Number(byKind.get('deposit_edited')!.psa_minor));
    expect((restored['Line'] as Record<string, unknown>[]).some((l) => String(l['Description'] ?? '').includes('bank charge'))).toBe(false);
    // The people's own: void the hand-entered payment, put the invoice's amount back.
    qbo().voidPayment(hand.Id);
    editInvoiceTotalByHand(editedInvoice.number, -1000n);
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
    expect(fixes).toHaveLength(3);
  }, 600_000);
  it('the nightly tick refreshes the copy and runs the report as a durable job, kept as a nightly run', async () => {
    const before = await withTenant(db(), stack.tenantId, (tx) =>
      tx.selectFrom('sync_cursors').select('updated_at').where('name', '=', 'books-copy:quickbooks-online').executeTakeFirstOrThrow(),
    );
    // The workspace's own timezone, chosen so that it is past 02:30 there now (Etc/GMT-N is UTC+N).
    const offset = Math.max(-12, Math.min(14, 12 - new Date().getUTCHours()));
    const timezone = offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
    await db()
      .updateTable('tenants')
      .set({ settings: JSON.stringify({ timezone }) as never })
      .where('id', '=', stack.tenantId)
      .execute();
    const localDate = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
    // What the cron does every 15 minutes: the tick queues, per workspace due, a refresh of the copy and then the report.
    await enqueue(db(), 'reconcile-tick', {}, { jobKey: 'reconcile-tick-test' });
    const nightly = await eventually(
      () => withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('reconciliation_runs').selectAll().where('trigger', '=', 'nightly').executeTakeFirst()),
      120_000,
      'a nightly run',
    );
    expect(nightly).toMatchObject({ requested_by: 'system:reconciliation', zero_drift: true, drift_count: 0, local_date: localDate, timezone });
    // Ticked again the same night: nothing more (one dated summary per local date).
    await enqueue(db(), 'reconcile-tick', {}, { jobKey: 'reconcile-tick-test-2' });
    await eventually(
      async () => {
        const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM graphile_worker.jobs
          WHERE task_identifier IN ('reconcile-tick', 'reconcile-three-way', 'sync-books-copy')`.execute(db());
        return r.rows[0]!.n === 0 ? true : null;
      },
      120_000,
      'the second tick done',
    );
    const nights = await withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('reconciliation_runs').select('id').where('trigger', '=', 'nightly').execute());
    expect(nights).toHaveLength(1);
    const after = await withTenant(db(), stack.tenantId, (tx) =>
      tx.selectFrom('sync_cursors').select('updated_at').where('name', '=', 'books-copy:quickbooks-online').executeTakeFirstOrThrow(),
    );
    expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
    expect(nightly.books_copy_as_of!.getTime()).toBeGreaterThan(before.updated_at.getTime() - 60_000);
  }, 200_000);
});
