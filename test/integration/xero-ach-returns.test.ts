// Xero books through a Stripe ACH debit's whole life and an expired access token, end to end through the
// simulators over HTTP and a real PostgreSQL: the debit settles → one payment against its invoice in Xero's
// clearing account; the bank takes it back after success (Stripe reports the return as a dispute on the debit,
// payments-rules.md §2.8) → the payment is taken out of Xero and the invoice owes its total again, once. An
// access token Xero has expired is refreshed (the rotated refresh token saved sealed first) and the posting
// goes through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { readConnection } from '../../src/engine/connections.ts';
import { eventually, openInvoices, payByBankInPortal, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { useXeroBooks } from '../helpers/xero-books.ts';
import type { RunningXeroSimulator } from '../../simulators/xero/index.ts';

let stack: Stack;
let xero: RunningXeroSimulator;
beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 6, achSettleDelayMs: null });
  xero = await useXeroBooks(stack);
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await xero?.close();
});

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const state = async (id: string) => (await q((tx) => tx.selectFrom('payments').select('state').where('id', '=', id).executeTakeFirstOrThrow())).state;
const booksPostings = (id: string) =>
  q((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', id).where('target', '=', 'accounting').execute());
const posted = (id: string, kind: string) =>
  eventually(async () => (await booksPostings(id)).find((r) => r.kind === kind && r.status === 'posted') ?? null, 40_000, `the ${kind} posted to Xero`);
const inXero = (number: string) => xero.sim.livePayments().filter((p) => p.InvoiceID === xero.sim.invoice(number)!.InvoiceID);

describe('Xero books: a Stripe ACH return, an expired token', () => {
  it('an ACH debit settles into Xero; its return after success takes the payment out and the invoice owes again, once', async () => {
    const inv = (await openInvoices(stack))[0]!;
    const { paymentId, intentId } = await payByBankInPortal(stack, await stack.portalToken(inv.client_id), [inv.id], 'pm_usBankAccount');
    await eventually(async () => (await state(paymentId)) === 'processing', 15_000, 'processing');
    expect(inXero(inv.number)).toHaveLength(0); // not money yet: nothing in the books
    stack.sims.stripe.sim.settleAch({ paymentIntent: intentId, outcome: 'succeeded' });
    await posted(paymentId, 'payment');
    expect(inXero(inv.number).map((p) => BigInt(p.amountCents))).toEqual([inv.total_minor]);
    expect(xero.sim.invoice(inv.number)!.Status).toBe('PAID');

    stack.sims.stripe.sim.createDispute({ paymentIntent: intentId, reason: 'debit_not_authorized' });
    await eventually(async () => (await state(paymentId)) === 'returned', 20_000, 'returned');
    const reversal = await posted(paymentId, 'payment_reversal');
    expect(reversal.remote_id).toBeTruthy();
    expect(inXero(inv.number)).toHaveLength(0);
    expect(xero.sim.invoice(inv.number)!.Status).toBe('AUTHORISED');
    expect(BigInt(xero.sim.invoice(inv.number)!.totalCents - xero.sim.invoice(inv.number)!.paidCents)).toBe(inv.total_minor);
    expect(xero.sim.store.payments.filter((p) => p.InvoiceID === xero.sim.invoice(inv.number)!.InvoiceID)).toHaveLength(1); // deleted, never doubled
    expect((await booksPostings(paymentId)).filter((r) => r.kind === 'payment_reversal')).toHaveLength(1);
  });

  it('an expired access token is refreshed, the rotated refresh token saved sealed, and the payment posted once', async () => {
    const box = SecretBox.fromHex(stack.secretKeyHex);
    const secrets = async () => (await readConnection(stack.database.db, box, stack.tenantId, 'accounting'))!.secrets as { refreshToken: string };
    const before = (await secrets()).refreshToken;
    xero.sim.identity.expireAccessTokens();
    const inv = (await openInvoices(stack))[0]!;
    const p = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    await posted(p.paymentId, 'payment');
    expect(inXero(inv.number)).toHaveLength(1);
    const after = (await secrets()).refreshToken;
    expect(after).not.toBe(before); // rotated, and saved before use
    const raw = await q((tx) => tx.selectFrom('connections').select('secrets_ciphertext').where('role', '=', 'accounting').executeTakeFirstOrThrow());
    expect(raw.secrets_ciphertext).not.toContain(after); // sealed
  });
});
