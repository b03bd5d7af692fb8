// A client opens a card checkout in the portal, then goes back and pays the same invoice from a bank account
// (NACHA debit through the MSP's bank). The card checkout is canceled at the processor and the debit goes
// ahead — one open payment per invoice, and no 409 for the client (it used to refuse the debit while the card
// intent was open). A card intent confirmed meanwhile is never charged twice: it cannot be confirmed once canceled.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { authorizeAccount, invoicesByClient, portalPost, q, startBankAchStack, type BankAchStack } from './bank-ach-stack.ts';

let s: BankAchStack;
beforeAll(async () => {
  s = await startBankAchStack({ companies: 2, invoices: 4 });
});
afterAll(async () => s?.close());

it('paying by bank after opening a card checkout cancels the card intent and starts the debit', async () => {
  const [a] = await invoicesByClient(s);
  const invoice = a!.invoices[0]!;
  const token = await s.stack.portalToken(a!.clientId);
  const card = await fetch(`${s.stack.settleUrl}/portal/${token}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ invoice_ids: [invoice.id], method: 'card' }),
  });
  expect(card.status).toBe(200);
  const cardPayment = String(((await card.json()) as Record<string, unknown>)['payment_id']);
  const intent = () => [...s.stack.sims.stripe.sim.store.paymentIntents.values()].find((pi) => pi.metadata['settle_payment'] === cardPayment)!;
  expect(intent().status).toBe('requires_payment_method');

  const account = await authorizeAccount(s, a!.clientId, { holderKind: 'business', accountNumber: '000987654321', holderName: 'Acme Dental LLC' });
  const debit = await portalPost(s, a!.clientId, 'pay-by-bank', { bank_account_id: account.bank_account_id, invoices: [{ invoice_id: invoice.id }] });
  expect(debit.status).toBe(201);
  expect(debit.body['state']).toBe('processing');

  // The card intent is canceled at Stripe and its payment closed; the checkout is no longer open.
  expect(intent().status).toBe('canceled');
  const payments = await q(s)((tx) => tx.selectFrom('payments').select(['id', 'state', 'failure_code']).where('client_id', '=', a!.clientId).execute());
  expect(payments.find((p) => p.id === cardPayment)).toMatchObject({ state: 'failed', failure_code: 'checkout_canceled' });
  const open = await q(s)((tx) =>
    tx.selectFrom('portal_checkouts').select('payment_id').where('invoice_id', '=', invoice.id).where('status', '=', 'open').execute(),
  );
  expect(open).toEqual([]);
  // Confirming the old card intent now (a second tab) is refused by Stripe: no second payment.
  const late = await fetch(`${s.stack.sims.stripe.baseUrl}/v1/payment_intents/${intent().id}/confirm`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.stack.sims.stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ payment_method: 'pm_card_visa', payment_method_types: 'card' }).toString(),
  });
  expect(late.status).toBe(400);
});
