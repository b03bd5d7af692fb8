// Issue #11, QuickBooks Desktop: an invoice paid, then partly refunded, then paid again by the client. The
// refund's reversal is a JournalEntryAdd (Dr A/R for the customer), which leaves the invoice paid in QuickBooks
// and the customer owing on the journal entry instead — so the second payment cannot go to the invoice
// (QuickBooks refuses: no open balance). Settle applies it to the open journal entry, as a person would in
// QuickBooks' Receive Payments window: exactly one ReceivePaymentAdd, the invoice and the entry both closed,
// nothing refused, and the three-way reconciliation over Settle's copy of the books finds no drift.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { runReconciliation } from '../../src/engine/three-way-reconciliation.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { qbdBooksCopyAfter, useQbdBooks } from '../helpers/qbd-books.ts';
import { refundThroughApi } from '../helpers/api-refund.ts';
import { validateQbxml } from '../conformance/quickbooks-desktop/xsd-validate.ts';
import type { RunningQbdSimulator } from '../../simulators/quickbooks-desktop/index.ts';

let stack: Stack;
let qbd: RunningQbdSimulator;
let key: string;
beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 3, achSettleDelayMs: null });
  qbd = await useQbdBooks(stack, stack.settleUrl, { runEveryMs: 500 });
  key = await stack.apiKey();
}, 120_000);
afterAll(async () => {
  await qbd?.close();
  await stack?.close();
});

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const posted = (paymentId: string, kind: 'payment' | 'refund') =>
  eventually(
    async () =>
      (
        await q((tx) =>
          tx.selectFrom('postings').selectAll().where('payment_id', '=', paymentId).where('target', '=', 'accounting').where('kind', '=', kind).execute(),
        )
      ).find((r) => r.status === 'posted') ?? null,
    90_000,
    `the ${kind} of ${paymentId} posted to QuickBooks Desktop`,
  );

describe('QuickBooks Desktop: paying again an invoice whose payment was reversed', () => {
  it('the second payment applies to the open reversal entry: one ReceivePayment, all closed, zero drift', async () => {
    const [inv] = await openInvoices(stack);
    const token = await stack.portalToken(inv!.client_id);
    const first = await payInPortal(stack, token, [inv!.id]);
    await posted(first.paymentId, 'payment');
    const invoice = qbd.company.invoices.find((i) => i.refNumber === inv!.number)!;
    expect(invoice.balance).toBe(0n);

    const part = BigInt(inv!.total_minor) / 4n;
    await refundThroughApi(stack.settleUrl, key, first.paymentId, part);
    await posted(first.paymentId, 'refund');
    const entry = qbd.company.journals.find((j) => j.debits.some((l) => l.memo.includes(`invoice ${inv!.number}`)))!;
    expect(entry.debits[0]!.amount).toBe(part);
    expect(invoice.balance).toBe(0n); // QuickBooks still shows the invoice paid: the customer owes on the entry

    const paymentsBefore = qbd.company.payments.length;
    const again = await payInPortal(stack, token, [inv!.id]);
    const secondPosted = await posted(again.paymentId, 'payment');
    expect(secondPosted.amount_minor).toBe(part);

    const added = qbd.company.payments.slice(paymentsBefore);
    expect(added).toHaveLength(1);
    expect(added[0]!.total).toBe(part);
    expect(added[0]!.applied).toEqual([expect.objectContaining({ txnId: entry.txnId, amount: part })]);
    expect(qbd.company.openOnJournal(entry.txnId)).toBe(0n);
    expect(invoice.balance).toBe(0n);
    const refused = await q((tx) => tx.selectFrom('qbd_work').select(['key', 'last_error']).where('state', '=', 'refused').execute());
    expect(refused).toEqual([]);

    await qbdBooksCopyAfter(stack, secondPosted.posted_at!);
    const run = await runReconciliation(stack.settle!.ctx, stack.tenantId, 'on_demand', 'system:test');
    const drifts = await q((tx) => tx.selectFrom('reconciliation_drifts').select(['kind', 'reference', 'cause']).where('run_id', '=', run.runId).execute());
    expect(drifts).toEqual([]);
    expect(run.zeroDrift).toBe(true);
  }, 300_000);

  it('every qbXML document the Web Connector carried is valid against qbxmlops130.xsd', async () => {
    const all = qbd.webConnector.requests;
    expect(all.join('')).toMatch(/<AppliedToTxnAdd><TxnID>[^<]+<\/TxnID>/);
    expect((await validateQbxml(all)).errors).toEqual([]);
  }, 120_000);
});
