// Installment offers (the plans a client may choose alone): which invoices an offer applies to, the exact
// parts the client is shown, and the plan the client makes in the portal — through the same engine function
// staff use, charged part 1 at once, one plan however often the request is sent (double click, second tab).
// A fee, charged with part 1 and booked apart: installment-plan-fee.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import { parseDecimal } from '../../src/domain/money.ts';
import { parseOffer } from '../../src/domain/installment-offers.ts';
import { ensureProcessorCustomer } from '../../src/engine/start-portal-payment.ts';
import { syncSavedMethods } from '../../src/engine/sync-saved-methods.ts';
import { offersForInvoice, saveOffer, setOfferEnabled } from '../../src/engine/installment-offers.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';
import { newInvoice } from './collections-helpers.ts';

let stack: Stack;
let clientId: string;
let methodId: string;
let token: string;
let offerId: string;

const q = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => withTenant(stack.database.db, stack.tenantId, fn);
const offerInput = (o: Record<string, unknown>) =>
  parseOffer({ label: '3 monthly payments', parts: '3', every_days: '30', min_owed: '1000.00', methods: ['card'], ...o }, 'USD');
const today = () => new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 2 });
  clientId = (await openInvoices(stack))[0]!.client_id;
  const ctx = stack.settle!.ctx;
  const customer = await ensureProcessorCustomer(ctx, stack.tenantId, clientId);
  const s = stack.sims.stripe;
  const res = await fetch(`${s.baseUrl}/v1/payment_methods/pm_card_visa/attach`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ customer }).toString(),
  });
  const pm = (await res.json()) as { id: string };
  methodId = (await syncSavedMethods(ctx, stack.tenantId, clientId, 'system:test')).find((m) => m.processorMethodId === pm.id)!.id;
  token = await stack.portalToken(clientId);
  offerId = (await q((tx) => saveOffer(tx, stack.tenantId, { offer: offerInput({}), actor: 'user:test' }))).id;
}, 300_000);
afterAll(async () => stack?.close());

async function choose(
  invoiceId: string,
  body: Record<string, string>,
): Promise<{ status: number; json: { plan_id?: string; errors?: { message: string }[] } }> {
  const res = await fetch(`${stack.settleUrl}/portal/${token}/plan/${invoiceId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { plan_id?: string; errors?: { message: string }[] } };
}

/** The request key and total the page wrote into the offer's form. */
async function formOf(invoiceId: string): Promise<{ request: string; total: string; html: string }> {
  const res = await fetch(`${stack.settleUrl}/portal/${token}/plan/${invoiceId}`);
  expect(res.status).toBe(200);
  const html = await res.text();
  return {
    html,
    request: /name="request" value="([0-9a-f-]{36})"/.exec(html)?.[1] ?? '',
    total: /name="total_minor" value="(\d+)"/.exec(html)?.[1] ?? '',
  };
}

const plansOf = (invoiceId: string) => q((tx) => tx.selectFrom('installment_plans').selectAll().where('invoice_id', '=', invoiceId).execute());

describe('installment offers', () => {
  it('an offer is kept and changed with an audit entry; a fee out of bounds is refused (a valid one: installment-plan-fee.test.ts)', async () => {
    // A flat fee above a tenth of the least amount owed: refused by field, nothing saved or audited.
    await expect(
      q((tx) => saveOffer(tx, stack.tenantId, { offer: { ...offerInput({}), feeFlat: parseDecimal('100.01', 'USD') }, actor: 'user:test' })),
    ).rejects.toThrow(/at most a tenth/);
    const audit = await q((tx) => tx.selectFrom('audit_log').select(['action', 'detail']).where('subject_id', '=', offerId).execute());
    expect(audit).toEqual([expect.objectContaining({ action: 'settings.installment_offer_changed', detail: expect.objectContaining({ change: 'added' }) })]);
    // Row-level security: another workspace sees none of them.
    const other = await withTenant(stack.database.db, '00000000-0000-4000-8000-000000000000', (tx) =>
      tx.selectFrom('installment_offers').select('id').execute(),
    );
    expect(other).toEqual([]);
  });

  it('applies to open invoices owing at least the minimum; the parts sum exactly to what is owed', async () => {
    const small = await newInvoice(stack, clientId, '999.99');
    const big = await newInvoice(stack, clientId, '1000.01');
    const now = new Date();
    const none = await q((tx) => offersForInvoice(tx, clientId, small.id, now));
    expect(none?.offers).toEqual([]);
    const some = (await q((tx) => offersForInvoice(tx, clientId, big.id, now)))!;
    expect(some.offers).toHaveLength(1);
    const quote = some.offers[0]!.quote;
    expect(quote.parts.map((p) => p.amount.amountMinor)).toEqual([33333n, 33333n, 33335n]);
    expect(quote.parts[0]!.dueOn).toBe(today());
    expect(quote.fee.amountMinor).toBe(0n);
    expect(quote.total).toEqual(parseDecimal('1000.01', 'USD'));
    // Another client's invoice is not offered to this one.
    const others = (await openInvoices(stack)).find((i) => i.client_id !== clientId)!;
    expect(await q((tx) => offersForInvoice(tx, clientId, others.id, now))).toBeNull();
    // A disabled offer is not offered; a plan chosen from it is refused and nothing is made.
    await q((tx) => setOfferEnabled(tx, stack.tenantId, { id: offerId, enabled: false, actor: 'user:test' }));
    expect((await q((tx) => offersForInvoice(tx, clientId, big.id, now)))?.offers).toEqual([]);
    const refused = await choose(big.id, { offer_id: offerId, method_id: methodId, agree: 'yes', total_minor: '100001', request: crypto.randomUUID() });
    expect(refused.status).toBe(409);
    expect(refused.json.errors?.[0]?.message).toMatch(/no longer offered/);
    expect(await plansOf(big.id)).toEqual([]);
    await q((tx) => setOfferEnabled(tx, stack.tenantId, { id: offerId, enabled: true, actor: 'user:test' }));
  });

  it('the client agrees in the portal: a double submit and a second tab make one plan, part 1 is charged at once', async () => {
    const inv = await newInvoice(stack, clientId, '1200.00');
    const page = await formOf(inv.id);
    expect(page.html).toContain('$400.00');
    expect(page.total).toBe('120000');
    // Not agreed: refused, field named, nothing made.
    const unagreed = await choose(inv.id, { offer_id: offerId, method_id: methodId, total_minor: page.total, request: page.request });
    expect(unagreed.status).toBe(422);
    expect(unagreed.json.errors?.[0]?.message).toMatch(/Tick the box/);
    // A total the client did not see (the invoice changed since): refused, nothing made.
    const stale = await choose(inv.id, { offer_id: offerId, method_id: methodId, agree: 'yes', total_minor: '100000', request: page.request });
    expect(stale.status).toBe(409);
    expect(await plansOf(inv.id)).toEqual([]);

    const body = { offer_id: offerId, method_id: methodId, agree: 'yes', total_minor: page.total, request: page.request };
    const second = await formOf(inv.id); // the same invoice open in another tab
    const answers = await Promise.all([choose(inv.id, body), choose(inv.id, body), choose(inv.id, { ...body, request: second.request })]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const plans = await plansOf(inv.id);
    expect(plans).toHaveLength(1);
    expect(new Set(answers.map((a) => a.json.plan_id))).toEqual(new Set([plans[0]!.id]));
    expect(plans[0]).toMatchObject({ offer_id: offerId, fee_minor: 0n, total_minor: 120000n, created_by: `client:${clientId}` });
    const parts = await q((tx) =>
      tx.selectFrom('installment_parts').select(['part_no', 'amount_minor', 'due_on']).where('plan_id', '=', plans[0]!.id).orderBy('part_no').execute(),
    );
    expect(parts.map((p) => p.amount_minor)).toEqual([40000n, 40000n, 40000n]);
    // Part 1 is due today: charged by the collector the plan queued.
    await eventually(
      () =>
        q((tx) =>
          tx
            .selectFrom('installment_parts')
            .select('status')
            .where('plan_id', '=', plans[0]!.id)
            .where('part_no', '=', 1)
            .where('status', '=', 'paid')
            .executeTakeFirst(),
        ),
      60_000,
      'part 1 paid',
    );
    // The page now shows the plan instead of the offers.
    const after = await fetch(`${stack.settleUrl}/portal/${token}/plan/${inv.id}`);
    expect(await after.text()).toContain('id="plan-parts"');
    const audit = await q((tx) =>
      tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', 'installment_plan.created').where('subject_id', '=', plans[0]!.id).execute(),
    );
    expect(audit).toEqual([expect.objectContaining({ actor: `client:${clientId}`, detail: expect.objectContaining({ offer_id: offerId }) })]);
  }, 120_000);

  it('a method the offer does not accept is refused', async () => {
    const inv = await newInvoice(stack, clientId, '1500.00');
    const page = await formOf(inv.id);
    await expect(
      q((tx) => saveOffer(tx, stack.tenantId, { id: offerId, offer: offerInput({ methods: ['us_bank_account'] }), actor: 'user:test' })),
    ).resolves.toMatchObject({ methods: ['us_bank_account'] });
    const r = await choose(inv.id, { offer_id: offerId, method_id: methodId, agree: 'yes', total_minor: page.total, request: page.request });
    expect(r.status).toBe(422);
    expect(await plansOf(inv.id)).toEqual([]);
  });
  it('a client with no saved method the offer accepts is told how to add one, and offered no form', async () => {
    const other = (await openInvoices(stack)).find((i) => i.client_id !== clientId)!.client_id;
    const inv = await newInvoice(stack, other, '2000.00');
    const res = await fetch(`${stack.settleUrl}/portal/${await stack.portalToken(other)}/plan/${inv.id}`);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain('Add a bank account');
    expect(html).not.toContain('class="offer-form"');
  });
});
