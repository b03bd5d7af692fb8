// Issue #6 item 4: a payment whose invoice the PSA has not exported to QuickBooks yet. The books posting
// waits (never 'failed', however long), an exception says which invoice to export; the payout's deposit
// posts the day it lands, equal to the payout, with that payment on a clearing line; when the invoice
// appears in QuickBooks the look-up brings the posting forward, the Payment is created against the
// invoice, the deposit's clearing line is moved onto it (total unchanged) and the exception closes by
// itself. And the same through the API's retry, for a person who exported the invoice and will not wait.
// Time is driven as production drives it: postings' next_attempt_at and the jobs' run_at in the database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { enqueue } from '../../src/engine/enqueue.ts';
import { invoiceWatchJobKey } from '../../src/engine/watch-books-invoices.ts';
import { eventually, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 3 });
});
afterAll(async () => stack?.close());

type Json = Record<string, unknown>;
const cents = (v: unknown): number => Math.round(Number(v) * 100);
const db = () => stack.database.db;

/** A new invoice in ConnectWise that its accounting export has not sent to QuickBooks; Settle hears of it by callback (or poll). */
async function invoiceOnlyInPsa(): Promise<{ id: string; number: string; client_id: string; total_minor: bigint; companyName: string }> {
  const company = stack.sims.connectwise.state.companies.all()[0]!;
  const cw = stack.sims.connectwise.sim.createInvoice({
    companyId: company.id,
    lines: [{ kind: 'product', description: 'Managed services', quantity: '3', price: '45.00' }],
  });
  expect(stack.sims.quickbooks.sim.invoices().some((i) => i['DocNumber'] === cw.invoiceNumber)).toBe(false);
  const inv = await eventually(
    () =>
      withTenant(db(), stack.tenantId, (tx) =>
        tx
          .selectFrom('invoices')
          .select(['id', 'number', 'client_id', 'total_minor'])
          .where('number', '=', cw.invoiceNumber)
          .where('status', '=', 'open')
          .executeTakeFirst(),
      ),
    90_000,
    `invoice ${cw.invoiceNumber} in Settle`,
  );
  return { ...inv, companyName: company.name };
}

async function booksPosting(paymentId: string) {
  return withTenant(db(), stack.tenantId, (tx) =>
    tx
      .selectFrom('postings')
      .selectAll()
      .where('payment_id', '=', paymentId)
      .where('target', '=', 'accounting')
      .where('kind', '=', 'payment')
      .executeTakeFirstOrThrow(),
  );
}

async function exceptionFor(postingId: string) {
  return withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('exceptions').selectAll().where('dedupe_key', '=', `posting:${postingId}`).executeTakeFirst());
}

/** Time passes for a waiting posting: its next attempt is due now, and the flush job runs now (as the scheduler would). */
async function makePostingDue(postingId: string): Promise<void> {
  await withTenant(db(), stack.tenantId, (tx) =>
    tx
      .updateTable('postings')
      .set({ next_attempt_at: sql<Date>`now() - interval '1 second'` })
      .where('id', '=', postingId)
      .execute(),
  );
  await enqueue(
    db(),
    'flush-accounting',
    { tenantId: stack.tenantId },
    { queueName: `accounting:${stack.tenantId}`, jobKey: `flush-accounting:${stack.tenantId}`, runAt: new Date() },
  );
}

function depositFor(payoutId: string): Json | undefined {
  return stack.sims.quickbooks.sim.deposits().find((d) => String(d['PrivateNote'] ?? '').includes(payoutId));
}

async function payAndWaitUntilWaiting(inv: { id: string; client_id: string; number: string }): Promise<{ paymentId: string; postingId: string }> {
  const token = await stack.portalToken(inv.client_id);
  const { paymentId } = await payInPortal(stack, token, [inv.id]);
  const posting = await eventually(
    async () => {
      const p = await withTenant(db(), stack.tenantId, (tx) =>
        tx.selectFrom('postings').selectAll().where('payment_id', '=', paymentId).where('target', '=', 'accounting').executeTakeFirst(),
      );
      return p && p.waiting_for === 'invoice_in_books' ? p : null;
    },
    60_000,
    'the books posting waiting for its invoice',
  );
  return { paymentId, postingId: posting.id };
}

async function payoutDeposit(): Promise<{ payoutId: string; amount: number; deposit: Json }> {
  const payout = stack.sims.stripe.sim.runPayouts();
  expect(payout).not.toBeNull();
  const deposit = await eventually(async () => depositFor(payout!.id), 60_000, 'the payout deposit in QuickBooks').catch(async (e: unknown) => {
    const rows = await withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('postings').selectAll().where('kind', '=', 'deposit').execute());
    const payouts = await withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('payouts').selectAll().execute());
    console.error(
      JSON.stringify({ rows, payouts, deposits: stack.sims.quickbooks.sim.deposits() }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 1),
    );
    throw e;
  });
  return { payoutId: payout!.id, amount: payout!.amount, deposit };
}

describe('a books posting whose invoice is not in QuickBooks yet', () => {
  it('waits (never failed), the deposit posts at once with a clearing line, and everything falls into place when the invoice appears', async () => {
    const inv = await invoiceOnlyInPsa();
    const { paymentId, postingId } = await payAndWaitUntilWaiting(inv);

    // Waiting, with a person told which invoice to export; the PSA already has the payment.
    let posting = await booksPosting(paymentId);
    expect(posting.status).toBe('pending');
    expect(posting.next_attempt_at.getTime()).toBeGreaterThan(Date.now());
    const open = await exceptionFor(postingId);
    expect(open).toMatchObject({ status: 'open', kind: 'posting_waiting_for_invoice', payment_id: paymentId });
    expect(open!.title).toBe(`Waiting for invoice #${inv.number} to appear in QuickBooks — export it from the PSA`);
    expect(open!.detail).toContain(`/api/v1/postings/${postingId}/retry`);
    await eventually(
      async () =>
        (
          await withTenant(db(), stack.tenantId, (tx) =>
            tx.selectFrom('postings').select('status').where('payment_id', '=', paymentId).where('target', '=', 'psa').executeTakeFirst(),
          )
        )?.status === 'posted',
      60_000,
      'the PSA posting',
    );

    // Weeks go by in attempts (the old code gave up after 12, ~68 minutes): still waiting, backing off.
    const delays: number[] = [];
    for (let n = 0; n < 13; n++) {
      const before = (await booksPosting(paymentId)).attempts;
      await makePostingDue(postingId);
      posting = await eventually(
        async () => {
          const p = await booksPosting(paymentId);
          return p.attempts > before ? p : null;
        },
        60_000,
        `attempt ${before + 1}`,
      );
      expect(posting.status).toBe('pending');
      expect(posting.waiting_for).toBe('invoice_in_books');
      delays.push(Math.round((posting.next_attempt_at.getTime() - Date.now()) / 60_000));
    }
    expect(posting.attempts).toBeGreaterThanOrEqual(14);
    expect(delays.at(-1)).toBeGreaterThan(23 * 60); // checked daily by now
    expect(delays.at(-1)).toBeLessThanOrEqual(24 * 60);
    expect(stack.sims.quickbooks.sim.payments().filter((p) => String(p['PrivateNote'] ?? '').includes(paymentId))).toHaveLength(0);

    // The payout lands: its deposit posts now, equal to the payout, the payment on a clearing line.
    const { payoutId, amount, deposit } = await payoutDeposit();
    expect(cents(deposit['TotalAmt'])).toBe(amount);
    const clearingLines = (deposit['Line'] as Json[]).filter((l) => String(l['Description'] ?? '').includes(`[settle-line:${posting.idempotency_key}]`));
    expect(clearingLines).toHaveLength(1);
    expect(cents(clearingLines[0]!['Amount'])).toBe(Number(inv.total_minor));
    expect(clearingLines[0]!['LinkedTxn']).toBeUndefined();
    const depositPosting = await eventually(
      () =>
        withTenant(db(), stack.tenantId, (tx) =>
          tx.selectFrom('postings').selectAll().where('kind', '=', 'deposit').where('remote_id', '=', String(deposit['Id'])).executeTakeFirst(),
        ),
      30_000,
      'the deposit posting recorded',
    );
    expect(depositPosting.status).toBe('posted');
    const lines = await withTenant(db(), stack.tenantId, (tx) =>
      tx.selectFrom('deposit_lines').selectAll().where('deposit_posting_id', '=', depositPosting.id).execute(),
    );
    expect(lines.map((l) => [l.payment_posting_id, l.status])).toEqual([[postingId, 'clearing']]);
    expect((await booksPosting(paymentId)).status).toBe('pending');

    // The PSA's export runs: the invoice appears in QuickBooks. The look-up production scheduled is due.
    stack.sims.quickbooks.sim.seedInvoice({ docNumber: inv.number, customerName: inv.companyName, amount: (Number(inv.total_minor) / 100).toFixed(2) });
    const job = await sql<{ run_at: Date }>`SELECT run_at FROM graphile_worker.jobs WHERE key = ${invoiceWatchJobKey(stack.tenantId)}`.execute(db());
    expect(job.rows).toHaveLength(1); // scheduled by the flush / sweep, not by this test
    await enqueue(
      db(),
      'watch-books-invoices',
      { tenantId: stack.tenantId },
      { jobKey: invoiceWatchJobKey(stack.tenantId), runAt: new Date(), queueName: `accounting:${stack.tenantId}` },
    );

    posting = await eventually(
      async () => {
        const p = await booksPosting(paymentId);
        return p.status === 'posted' ? p : null;
      },
      60_000,
      'the books posting posted after the invoice appeared',
    );
    const qboInvoice = stack.sims.quickbooks.sim.invoices().find((i) => i['DocNumber'] === inv.number)!;
    const payment = stack.sims.quickbooks.sim.payments().find((p) => p['Id'] === posting.remote_id)!;
    expect((payment['Line'] as { LinkedTxn: { TxnId: string; TxnType: string }[] }[])[0]!.LinkedTxn[0]).toEqual({
      TxnId: qboInvoice['Id'],
      TxnType: 'Invoice',
    });
    expect(cents(qboInvoice['Balance'])).toBe(0);

    // The deposit now links the payment instead of the clearing line, and still equals the payout.
    const relinked = await eventually(
      async () => {
        const d = depositFor(payoutId)!;
        return (d['Line'] as Json[]).some((l) => (l['LinkedTxn'] as Json[] | undefined)?.some((t) => t['TxnId'] === posting.remote_id)) ? d : null;
      },
      60_000,
      'the deposit linking the payment',
    );
    expect(cents(relinked['TotalAmt'])).toBe(amount);
    expect((relinked['Line'] as Json[]).some((l) => String(l['Description'] ?? '').includes('[settle-line:'))).toBe(false);
    expect(Number(relinked['SyncToken'])).toBeGreaterThan(0);
    expect((payment['LinkedTxn'] as Json[]).some((t) => t['TxnType'] === 'Deposit' && t['TxnId'] === relinked['Id'])).toBe(true);
    expect(stack.sims.quickbooks.sim.deposits().filter((d) => String(d['PrivateNote'] ?? '').includes(payoutId))).toHaveLength(1);
    await eventually(
      async () =>
        (
          await withTenant(db(), stack.tenantId, (tx) =>
            tx.selectFrom('deposit_lines').select('status').where('deposit_posting_id', '=', depositPosting.id).executeTakeFirst(),
          )
        )?.status === 'linked',
      30_000,
      'deposit line linked',
    );

    // The exception closed by itself; nothing failed along the way.
    expect(await exceptionFor(postingId)).toMatchObject({ status: 'resolved', resolution: 'posted' });
    const failed = await withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('postings').select('id').where('status', '=', 'failed').execute());
    expect(failed).toHaveLength(0);
  }, 400_000);

  it('can be retried on demand through the API (audited), which posts it and moves its deposit line', async () => {
    const key = await stack.apiKey();
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${stack.settleUrl}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers ?? {}) } });

    const inv = await invoiceOnlyInPsa();
    const { paymentId, postingId } = await payAndWaitUntilWaiting(inv);
    const shown = (await (await api(`/postings/${postingId}`)).json()) as Json;
    expect(shown).toMatchObject({ status: 'pending', waiting_for: 'invoice_in_books', target: 'accounting', payment_id: paymentId });
    const { payoutId, amount } = await payoutDeposit();

    // The look-up's job is lost (say, a worker died with it): the per-minute sweep puts it back.
    const watchKey = invoiceWatchJobKey(stack.tenantId);
    const removed = await sql<{ id: string | null }>`SELECT (graphile_worker.remove_job(${watchKey})).id`.execute(db());
    expect(removed.rows[0]?.id).toBeTruthy();
    expect((await sql`SELECT 1 FROM graphile_worker.jobs WHERE key = ${watchKey}`.execute(db())).rows).toHaveLength(0);
    await eventually(
      async () => (await sql`SELECT 1 FROM graphile_worker.jobs WHERE key = ${watchKey}`.execute(db())).rows.length === 1,
      150_000,
      'the sweep re-scheduling the look-up for the awaited invoice',
    );

    // Retrying before the invoice is exported: it is attempted, and keeps waiting.
    const attemptsBefore = (await booksPosting(paymentId)).attempts;
    const early = await api(`/postings/${postingId}/retry`, { method: 'POST' });
    expect(early.status).toBe(202);
    expect(await early.json()).toMatchObject({ id: postingId, status: 'pending', waiting_for: 'invoice_in_books', retried: 'posting' });
    await eventually(async () => (await booksPosting(paymentId)).attempts > attemptsBefore, 60_000, 'the early retry attempted');
    expect(await booksPosting(paymentId)).toMatchObject({ status: 'pending', waiting_for: 'invoice_in_books' });

    stack.sims.quickbooks.sim.seedInvoice({ docNumber: inv.number, customerName: inv.companyName, amount: (Number(inv.total_minor) / 100).toFixed(2) });
    // The person exported it and retries now rather than wait for the look-up or the back-off.
    const res = await api(`/postings/${postingId}/retry`, { method: 'POST' });
    expect(res.status).toBe(202);
    const posting = await eventually(
      async () => {
        const p = await booksPosting(paymentId);
        return p.status === 'posted' ? p : null;
      },
      60_000,
      'the retried posting posted',
    );
    const deposit = await eventually(
      async () => {
        const d = depositFor(payoutId)!;
        return (d['Line'] as Json[]).some((l) => (l['LinkedTxn'] as Json[] | undefined)?.some((t) => t['TxnId'] === posting.remote_id)) ? d : null;
      },
      60_000,
      'the deposit linking the retried payment',
    );
    expect(cents(deposit['TotalAmt'])).toBe(amount);
    expect(await exceptionFor(postingId)).toMatchObject({ status: 'resolved' });
    const audited = await withTenant(db(), stack.tenantId, (tx) =>
      tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', 'posting.retry_requested').where('subject_id', '=', postingId).execute(),
    );
    expect(audited).toHaveLength(2);
    expect(audited[0]!.actor).toMatch(/^api_key:/);

    // A posted payment has nothing to retry; an unknown posting is not found.
    const again = await api(`/postings/${postingId}/retry`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/already posted/);
    expect((await api(`/postings/00000000-0000-4000-8000-000000000000/retry`, { method: 'POST' })).status).toBe(404);
  }, 300_000);

  it('a refusal by the books is never silent: failed with an exception naming the fix; the deposit still posts; a retry after the fix posts it and closes the exception', async () => {
    const key = await stack.apiKey();
    const inv = await invoiceOnlyInPsa();
    // The export sent the invoice with a wrong (smaller) amount: QuickBooks refuses a payment above its balance.
    const total = Number(inv.total_minor);
    stack.sims.quickbooks.sim.seedInvoice({ docNumber: inv.number, customerName: inv.companyName, amount: ((total - 1000) / 100).toFixed(2) });
    const token = await stack.portalToken(inv.client_id);
    const { paymentId } = await payInPortal(stack, token, [inv.id]);
    const failed = await eventually(
      async () => {
        const p = await withTenant(db(), stack.tenantId, (tx) =>
          tx.selectFrom('postings').selectAll().where('payment_id', '=', paymentId).where('target', '=', 'accounting').executeTakeFirst(),
        );
        return p?.status === 'failed' ? p : null;
      },
      60_000,
      'the refused posting',
    );
    expect(failed.last_error).toMatch(/more than its open balance/);
    const told = await exceptionFor(failed.id);
    expect(told).toMatchObject({ status: 'open', kind: 'posting_failed', payment_id: paymentId });
    expect(told!.title).toBe(`A payment for invoice #${inv.number} could not be posted to QuickBooks`);
    expect(told!.detail).toContain(`POST /api/v1/postings/${failed.id}/retry`);

    // The payout does not wait for it: the deposit equals the payout, the refused payment on clearing.
    const { payoutId, amount, deposit } = await payoutDeposit();
    expect(cents(deposit['TotalAmt'])).toBe(amount);
    expect((deposit['Line'] as Json[]).some((l) => String(l['Description'] ?? '').includes(`[settle-line:${failed.idempotency_key}]`))).toBe(true);

    // Someone corrects the invoice in QuickBooks, then retries.
    const qboInvoice = stack.sims.quickbooks.sim.invoices().find((i) => i['DocNumber'] === inv.number)!;
    qboInvoice['TotalAmt'] = total / 100;
    qboInvoice['Balance'] = total / 100;
    const res = await fetch(`${stack.settleUrl}/api/v1/postings/${failed.id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(202);
    const posted = await eventually(
      async () => {
        const p = await booksPosting(paymentId);
        return p.status === 'posted' ? p : null;
      },
      60_000,
      'the corrected posting posted',
    ).catch(async (e: unknown) => {
      console.error(await booksPosting(paymentId));
      throw e;
    });
    await eventually(
      async () => {
        const d = depositFor(payoutId)!;
        return (
          cents(d['TotalAmt']) === amount &&
          (d['Line'] as Json[]).some((l) => (l['LinkedTxn'] as Json[] | undefined)?.some((t) => t['TxnId'] === posted.remote_id))
        );
      },
      60_000,
      'the deposit linking the corrected payment',
    );
    expect(await exceptionFor(failed.id)).toMatchObject({ status: 'resolved', resolution: 'posted' });
  }, 300_000);
});
