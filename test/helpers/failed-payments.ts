// Helpers for the failed-payments integration tests: a client's saved card or bank account (saved at the
// processor the way the hosted fields save it, then mirrored by Settle), a staff charge through the API,
// waiting for Settle's failure handling, and letting time pass for one scheduled retry.
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { enqueue } from '../../src/engine/enqueue.ts';
import { ensureProcessorCustomer } from '../../src/engine/start-portal-payment.ts';
import { syncSavedMethods } from '../../src/engine/sync-saved-methods.ts';
import type { Selectable } from 'kysely';
import type { PaymentFailuresTable } from '../../src/db/schema.ts';
import { eventually, type AnyStack as Stack } from './stack.ts';

export type Failure = Selectable<PaymentFailuresTable>;

async function stripePost(stack: Stack, path: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  const s = stack.sims.stripe;
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${s.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    const body = (await res.json()) as Record<string, unknown>;
    // A 429 did nothing: wait and send again, as Stripe's own clients do (an earlier burst in the same file
    // can still fill the simulator's one-second window).
    if (res.status === 429 && attempt < 20) {
      await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
      continue;
    }
    if (!res.ok) throw new Error(`${path} failed: ${JSON.stringify(body)}`);
    return body;
  }
}

/** A card the client saved at the processor (attached to their customer), recorded by Settle. */
export async function savedCard(stack: Stack, clientId: string, testToken: string): Promise<string> {
  const ctx = stack.settle!.ctx;
  const customer = await ensureProcessorCustomer(ctx, stack.tenantId, clientId);
  const pm = await stripePost(stack, `/v1/payment_methods/${testToken}/attach`, { customer });
  return recorded(stack, clientId, pm['id'] as string);
}

/** A bank account saved with a SetupIntent and its online mandate (what the hosted bank fields do). */
export async function savedBankAccount(stack: Stack, clientId: string, testToken: string): Promise<string> {
  const ctx = stack.settle!.ctx;
  const customer = await ensureProcessorCustomer(ctx, stack.tenantId, clientId);
  const si = await stripePost(stack, '/v1/setup_intents', {
    customer,
    payment_method: testToken,
    'payment_method_types[]': 'us_bank_account',
    confirm: 'true',
    'mandate_data[customer_acceptance][type]': 'online',
    'mandate_data[customer_acceptance][online][ip_address]': '203.0.113.7',
    'mandate_data[customer_acceptance][online][user_agent]': 'test',
  });
  return recorded(stack, clientId, si['payment_method'] as string);
}

async function recorded(stack: Stack, clientId: string, processorMethodId: string): Promise<string> {
  const methods = await syncSavedMethods(stack.settle!.ctx, stack.tenantId, clientId, 'system:test');
  const mine = methods.find((m) => m.processorMethodId === processorMethodId);
  if (!mine) throw new Error(`saved method ${processorMethodId} was not recorded`);
  return mine.id;
}

export async function api(stack: Stack, apiKey: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.settleUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Staff "charge card on file" for whole invoices. */
export async function charge(stack: Stack, apiKey: string, paymentMethodId: string, invoiceIds: string[]): Promise<{ paymentId: string; outcome: string }> {
  const r = await api(stack, apiKey, 'POST', '/payments', { payment_method_id: paymentMethodId, invoices: invoiceIds.map((invoice_id) => ({ invoice_id })) });
  if (r.status !== 201) throw new Error(`charge failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { paymentId: r.body.payment_id, outcome: r.body.outcome };
}

export const q = <T>(stack: Stack, fn: Parameters<typeof withTenant<T>>[2]): Promise<T> => withTenant(stack.database.db, stack.tenantId, fn);

export async function failureOf(stack: Stack, paymentId: string): Promise<Failure> {
  return eventually(
    () => q(stack, (tx) => tx.selectFrom('payment_failures').selectAll().where('payment_id', '=', paymentId).executeTakeFirst()),
    15_000,
    `failure handled for ${paymentId}`,
  );
}

/** The retry job's scheduled time, or null when there is none. */
export async function retryJobRunAt(stack: Stack, failureId: string): Promise<Date | null> {
  const r = await sql<{ run_at: Date }>`SELECT run_at FROM graphile_worker.jobs WHERE key = ${`payment-retry:${failureId}`}`.execute(stack.database.db);
  return r.rows[0] ? new Date(r.rows[0].run_at) : null;
}

/** Time passes: the retry job, with its own key, becomes due now (graphile-worker's add_job replaces it). */
export async function makeRetryDue(stack: Stack, failureId: string): Promise<void> {
  await enqueue(
    stack.database.db,
    'retry-payment',
    { tenantId: stack.tenantId, failureId },
    { jobKey: `payment-retry:${failureId}`, runAt: new Date(), queueName: `retries:${stack.tenantId}` },
  );
}

/** Quoted-printable soft line breaks and `=3D` undone, so links can be read out of a raw email. */
export function decodeQp(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
}

export function intentsFor(stack: Stack, paymentId: string): { id: string; status: string; amount: number }[] {
  return [...stack.sims.stripe.sim.store.paymentIntents.values()].filter((pi) => pi.metadata['settle_payment'] === paymentId);
}
