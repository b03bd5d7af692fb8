// Failed payments, retries: a soft decline is retried on the next US banking day (step 1 of the schedule)
// and succeeds on the client's new default card — one new payment, one charge, posted once; the 10-tries-
// per-card-per-30-days cap moves retries a month out and is checked again when a retry comes due; a Stripe
// ACH debit returned for insufficient funds (R01) is reinitiated three banking days later; the retry policy
// is data that staff change through the API (bad input refused, change audited).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBankingDays, atTimeOfDay, utcDateOf } from '../../src/domain/rules/index.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import {
  api,
  charge,
  decodeQp,
  failureOf,
  intentsFor,
  makeRetryDue,
  q,
  retryJobRunAt,
  savedBankAccount,
  savedCard,
  type Failure,
} from '../helpers/failed-payments.ts';

let smtp: TestSmtp;
let stack: Stack;
let apiKey: string;
beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ smtpUrl: smtp.url, companies: 3, invoices: 6 });
  apiKey = await stack.apiKey();
});
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

const firstAttemptAt = async (paymentId: string): Promise<Date> =>
  new Date(
    (await q(stack, (tx) => tx.selectFrom('payment_attempts').select('created_at').where('payment_id', '=', paymentId).executeTakeFirstOrThrow())).created_at,
  );

describe('soft decline → retried per schedule', () => {
  it('insufficient funds: retry on the next banking day, client emailed, exception open, then the retry charges the new default card once and everything closes', async () => {
    const [invoice] = await openInvoices(stack);
    const clientId = invoice!.client_id;
    const nsf = await savedCard(stack, clientId, 'pm_card_chargeDeclinedInsufficientFunds');
    const declined = await charge(stack, apiKey, nsf, [invoice!.id]);
    expect(declined.outcome).toBe('declined');

    const failure = await failureOf(stack, declined.paymentId);
    const at = await firstAttemptAt(declined.paymentId);
    const expected = atTimeOfDay(addBankingDays(utcDateOf(at), 1), at);
    expect(failure).toMatchObject({
      decision: 'retry',
      status: 'scheduled',
      failure_class: 'soft',
      failure_code: 'insufficient_funds',
      retry_number: 1,
      reason: 'retry_scheduled',
    });
    expect(new Date(failure.retry_at!).toISOString()).toBe(expected.toISOString());
    expect(failure.rules_applied).toContain('retry:business-days');
    expect((await retryJobRunAt(stack, failure.id))?.toISOString()).toBe(expected.toISOString());

    const mail = await eventually(async () => smtp.received.find((m) => m.subject.includes(invoice!.number)), 10_000, 'failure email');
    const text = decodeQp(mail.raw);
    expect(text).toContain(`We will try again on ${expected.toISOString().slice(0, 10)}`);
    expect(text).toMatch(/\/portal\/update-method\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);

    const open = await api(stack, apiKey, 'GET', '/exceptions');
    const exception = open.body.data.find((e: { invoice_ids: string[] }) => e.invoice_ids.includes(invoice!.id));
    expect(exception).toMatchObject({ kind: 'payment_failed', status: 'open', payment_id: declined.paymentId });

    // The client's default becomes a good card (staff set it after a call with the client); time passes.
    const visa = await savedCard(stack, clientId, 'pm_card_visa');
    expect((await api(stack, apiKey, 'PUT', `/clients/${clientId}/payment-methods/${visa}/default`, {})).status).toBe(204);
    await makeRetryDue(stack, failure.id);

    const retried = await eventually(
      async () => {
        const f = await q(stack, (tx) => tx.selectFrom('payment_failures').selectAll().where('id', '=', failure.id).executeTakeFirstOrThrow());
        return f.status === 'retried' && f.retry_payment_id ? f : null;
      },
      15_000,
      'retry made',
    );
    const retry = await eventually(
      async () => {
        const p = await q(stack, (tx) => tx.selectFrom('payments').selectAll().where('id', '=', retried.retry_payment_id!).executeTakeFirstOrThrow());
        return p.state === 'succeeded' ? p : null;
      },
      15_000,
      'retry succeeded',
    );
    expect(retry).toMatchObject({ method_last4: '4242', amount_minor: invoice!.total_minor, source: 'manual' });
    expect(intentsFor(stack, retry.id)).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    const attempt = await q(stack, (tx) =>
      tx.selectFrom('payment_attempts').select('idempotency_key').where('payment_id', '=', retry.id).executeTakeFirstOrThrow(),
    );
    expect(attempt.idempotency_key).toBe(`failure:${failure.id}:retry`);

    await eventually(
      async () =>
        (await q(stack, (tx) => tx.selectFrom('invoices').select('status').where('id', '=', invoice!.id).executeTakeFirstOrThrow())).status === 'paid',
      15_000,
      'invoice paid',
    );
    await eventually(async () => stack.sims.connectwise.sim.paymentsFor(Number(invoice!.remote)).length === 1, 15_000, 'ConnectWise payment');
    const closed = await api(stack, apiKey, 'GET', '/exceptions?status=resolved');
    expect(closed.body.data.find((e: { id: string }) => e.id === exception.id)).toMatchObject({ status: 'resolved', resolution: 'invoice_paid' });

    // The retry job running again (a redelivery, a second worker) charges nothing.
    await makeRetryDue(stack, failure.id);
    await new Promise((r) => setTimeout(r, 800));
    const payments = await q(stack, (tx) => tx.selectFrom('payments').select(['id', 'state']).where('client_id', '=', clientId).execute());
    expect(payments.filter((p) => p.state === 'succeeded')).toHaveLength(1);
    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice!.remote))).toHaveLength(1);
  });
});

describe('at most 10 tries per card in 30 days', () => {
  it('the tenth declined try moves the next retry a month out, and a retry that comes due is checked again and deferred without charging', async () => {
    const company = stack.sims.connectwise.state.companies.all()[1]!;
    for (let i = 0; i < 10; i++)
      stack.sims.connectwise.sim.createInvoice({ companyId: company.id, lines: [{ kind: 'product', description: `Seat ${i}`, quantity: 1, price: '20.00' }] });
    await syncPsa(stack.settle!.ctx, stack.tenantId);
    const clientId = (
      await q(stack, (tx) =>
        tx.selectFrom('external_refs').select('entity_id').where('entity', '=', 'client').where('remote_id', '=', String(company.id)).executeTakeFirstOrThrow(),
      )
    ).entity_id;
    const invoices = (await openInvoices(stack)).filter((i) => i.client_id === clientId).slice(0, 10);
    expect(invoices).toHaveLength(10);
    const card = await savedCard(stack, clientId, 'pm_card_chargeDeclinedInsufficientFunds');

    const failures: Failure[] = [];
    for (const inv of invoices) {
      const r = await charge(stack, apiKey, card, [inv.id]);
      expect(r.outcome).toBe('declined');
      failures.push(await failureOf(stack, r.paymentId));
    }
    expect(failures.slice(0, 9).every((f) => f.reason === 'retry_scheduled')).toBe(true);
    const tenth = failures[9]!;
    expect(tenth.reason).toBe('retry_deferred_by_limit');
    expect(tenth.rules_applied).toContain('retry-limit:settle:10-per-30d');
    const oldest = await firstAttemptAt(failures[0]!.payment_id);
    expect(new Date(tenth.retry_at!).getTime()).toBeGreaterThanOrEqual(oldest.getTime() + 30 * 86_400_000);

    // The first failure's retry comes due: the card has had 10 tries in 30 days, so it waits, uncharged.
    const intentsBefore = stack.sims.stripe.sim.store.paymentIntents.size;
    await makeRetryDue(stack, failures[0]!.id);
    const deferred = await eventually(
      async () => {
        const f = await q(stack, (tx) => tx.selectFrom('payment_failures').selectAll().where('id', '=', failures[0]!.id).executeTakeFirstOrThrow());
        return new Date(f.retry_at!).getTime() > Date.now() + 29 * 86_400_000 ? f : null;
      },
      10_000,
      'retry deferred by the cap',
    );
    expect(deferred).toMatchObject({ status: 'scheduled', retry_payment_id: null });
    expect(stack.sims.stripe.sim.store.paymentIntents.size).toBe(intentsBefore);
    expect((await retryJobRunAt(stack, failures[0]!.id))?.toISOString()).toBe(new Date(deferred.retry_at!).toISOString());
    const audit = await q(stack, (tx) => tx.selectFrom('audit_log').select('detail').where('action', '=', 'payment.retry_deferred').execute());
    expect(JSON.stringify(audit)).toContain('retry-limit:settle:10-per-30d');
  });
});

describe('Stripe ACH debit returned for insufficient funds (R01)', () => {
  it('is reinitiated three banking days later with the identical amount', async () => {
    const company = stack.sims.connectwise.state.companies.all()[2]!;
    const cw = stack.sims.connectwise.sim.createInvoice({
      companyId: company.id,
      lines: [{ kind: 'product', description: 'Backup plan', quantity: 1, price: '120.00' }],
    });
    await syncPsa(stack.settle!.ctx, stack.tenantId);
    const invoice = (await openInvoices(stack)).find((i) => i.remote === String(cw.id))!;
    const bank = await savedBankAccount(stack, invoice.client_id, 'pm_usBankAccount_insufficientFunds');
    const r = await charge(stack, apiKey, bank, [invoice.id]);
    expect(r.outcome).toBe('processing');
    const [intent] = intentsFor(stack, r.paymentId);
    stack.sims.stripe.sim.settleAch({ paymentIntent: intent!.id });
    const failure = await failureOf(stack, r.paymentId);
    const today = utcDateOf(new Date());
    expect(failure).toMatchObject({ decision: 'retry', failure_class: 'ach_return', return_code: 'R01', failure_code: 'insufficient_funds', retry_number: 1 });
    expect(utcDateOf(new Date(failure.retry_at!))).toBe(addBankingDays(today, 3));
    expect(failure.rules_applied).toEqual(expect.arrayContaining(['stripe-ach-failure:insufficient_funds', 'ach-reinitiation:2-within-180-days']));
  });
});

describe('retry policy as data', () => {
  it('refuses a bad schedule without changing anything, and audits a good one', async () => {
    const before = await api(stack, apiKey, 'GET', '/retry-policy');
    expect(before.body).toMatchObject({ is_default: true, soft_steps: [{ businessDays: 1 }, { businessDays: 3 }, { businessDays: 5 }, { businessDays: 7 }] });
    const bad = await api(stack, apiKey, 'PUT', '/retry-policy', { soft_steps: [{ businessDays: 3 }, { businessDays: 1 }], technical_steps: [{ minutes: 1 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/soft_steps must be in increasing order/);
    expect(bad.body.error.message).toMatch(/technical_steps/);
    expect((await api(stack, apiKey, 'GET', '/retry-policy')).body).toEqual(before.body);

    const good = await api(stack, apiKey, 'PUT', '/retry-policy', {
      soft_steps: [{ businessDays: 1 }, { businessDays: 3 }, { businessDays: 7 }],
      technical_steps: [{ minutes: 30 }],
      update_link_ttl_hours: 72,
    });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({
      is_default: false,
      soft_steps: [{ businessDays: 1 }, { businessDays: 3 }, { businessDays: 7 }],
      update_link_ttl_hours: 72,
      retry_on_method_update: true,
    });
    const audit = await q(stack, (tx) => tx.selectFrom('audit_log').selectAll().where('action', '=', 'settings.retry_policy_changed').execute());
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toMatch(/^api_key:/);
  });
});
