// A card payment confirmed in the portal's hosted fields succeeds by webhook, which names the card only by its
// processor id. The receipt job asks the processor for the brand and last 4 and keeps them on the payment, so
// the receipt, the staff pages and the client's history say which card paid (issue #6 leftover).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 3 });
});
afterAll(async () => stack?.close());

it('a portal card payment records the brand and last 4, and the receipt names them', { timeout: 120_000 }, async () => {
  const inv = (await openInvoices(stack))[0]!;
  const token = await stack.portalToken(inv.client_id);
  const res = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ invoice_ids: [inv.id], method: 'card' }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { payment_id: string; client_secret: string };
  const intentId = body.client_secret.split('_secret_')[0]!;
  // What the hosted fields do when the client presses Pay.
  const s = stack.sims.stripe;
  const confirmed = await fetch(`${s.baseUrl}/v1/payment_intents/${intentId}/confirm`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ payment_method: 'pm_card_mastercard' }).toString(),
  });
  expect(confirmed.status).toBe(200);

  const payment = await eventually(
    async () => {
      const p = await withTenant(stack.database.db, stack.tenantId, (tx) =>
        tx.selectFrom('payments').select(['state', 'method_kind', 'method_brand', 'method_last4']).where('id', '=', body.payment_id).executeTakeFirstOrThrow(),
      );
      return p.state === 'succeeded' && p.method_last4 ? p : null;
    },
    60_000,
    'the payment succeeded with its card details',
  );
  expect(payment).toEqual({ state: 'succeeded', method_kind: 'card', method_brand: 'mastercard', method_last4: '4444' });
  const receipt = await eventually(
    async () =>
      withTenant(stack.database.db, stack.tenantId, (tx) =>
        tx.selectFrom('notifications').select('body_text').where('idempotency_key', '=', `receipt:payment:${body.payment_id}`).executeTakeFirst(),
      ),
    60_000,
    'the receipt queued',
  );
  expect(receipt.body_text).toContain('Paid with: mastercard 4444');
});
