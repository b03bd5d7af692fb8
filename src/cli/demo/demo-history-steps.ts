// The small acts the demo's history is made of, each done the way it happens for real: a client saving a card
// or a bank account at the processor (what the hosted fields do — the processor's API, then Settle mirrors it),
// a new invoice in the PSA imported by Settle's own sync, the processor's clock, and waiting for Settle's jobs.
import { sql } from 'kysely';
import { withTenant, type Tx } from '../../db/tenant.ts';
import type { EngineContext } from '../../engine/context.ts';
import { ensureProcessorCustomer } from '../../engine/start-portal-payment.ts';
import { syncSavedMethods } from '../../engine/sync-saved-methods.ts';
import { setDefaultMethod } from '../../engine/manage-autopay.ts';
import { syncPsa } from '../../engine/sync-psa.ts';
import type { PaymentSimulators } from './wire-workspace.ts';
import type { DemoPsa, PsaSimulators } from './psa-simulators.ts';
import { createPsaInvoice } from './demo-activity.ts';

/** The demo's simulators: the processor, the books and the one PSA it runs on. */
export type DemoSimulators = PaymentSimulators & Partial<PsaSimulators>;

export const DEMO_ACTOR = 'system:demo' as const;

/** One day in milliseconds. */
export const DAY = 86_400_000;

export const q = <T>(ctx: EngineContext, tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> => withTenant(ctx.db, tenantId, fn);

async function stripePost(sims: DemoSimulators, path: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  const s = sims.stripe;
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${s.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    const body = (await res.json()) as Record<string, unknown>;
    // Rate limited: nothing was done; wait as Stripe's own clients do and send again.
    if (res.status === 429 && attempt < 20) {
      await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
      continue;
    }
    if (!res.ok) throw new Error(`Stripe simulator ${path}: ${JSON.stringify(body)}`);
    return body;
  }
}

/**
 * A method the client saved at the processor (a test card token attached to their customer, or a bank
 * account with its online mandate through a SetupIntent), recorded by Settle's sync and made the default.
 */
export async function saveMethod(ctx: EngineContext, tenantId: string, sims: DemoSimulators, clientId: string, token: string): Promise<string> {
  const customer = await ensureProcessorCustomer(ctx, tenantId, clientId);
  let pmId: string;
  if (token.startsWith('pm_usBankAccount')) {
    const si = await stripePost(sims, '/v1/setup_intents', {
      customer,
      payment_method: token,
      'payment_method_types[]': 'us_bank_account',
      confirm: 'true',
      'mandate_data[customer_acceptance][type]': 'online',
      'mandate_data[customer_acceptance][online][ip_address]': '203.0.113.7',
      'mandate_data[customer_acceptance][online][user_agent]': 'Mozilla/5.0 (demo client)',
    });
    pmId = si['payment_method'] as string;
  } else {
    pmId = (await stripePost(sims, `/v1/payment_methods/${token}/attach`, { customer }))['id'] as string;
  }
  const methods = await syncSavedMethods(ctx, tenantId, clientId, DEMO_ACTOR);
  const mine = methods.find((m) => m.processorMethodId === pmId);
  if (!mine) throw new Error(`saved method ${pmId} was not recorded`);
  await q(ctx, tenantId, (tx) => setDefaultMethod(tx, tenantId, clientId, mine.id, DEMO_ACTOR));
  return mine.id;
}

/**
 * The processor's clock set to the story's instant. The Stripe simulator keeps an account clock (an offset to
 * the wall clock, like Stripe's test clocks), so charges, balance transactions and payouts carry the day they
 * happened in the story, and a payout's deposit lands in the books on its own day.
 */
export function setProcessorClock(sims: DemoSimulators, at: Date | null): void {
  const store = sims.stripe.sim.store;
  const target = at ? Math.floor(at.getTime() / 1000) : Math.floor(Date.now() / 1000);
  sims.stripe.sim.advanceClock(target - store.now());
}

/** A new invoice in the PSA (as the MSP's billing run makes it), imported by Settle's own sync. */
export async function newPsaInvoice(
  ctx: EngineContext,
  tenantId: string,
  sims: DemoSimulators,
  input: { clientIdentifier: string; date: string; dueDate: string; lines: { description: string; quantity: number; price: string }[] },
): Promise<{ id: string; number: string; total: string }> {
  // By identifier: company names repeat (two "Harbor Dental"s), identifiers do not. The PSA's own id of the
  // company is the client's external reference, whichever PSA the demo runs on.
  const vendor = (await ctx.connectors.psa(tenantId))!.vendor as DemoPsa;
  const ref = await q(ctx, tenantId, (tx) =>
    tx
      .selectFrom('clients as c')
      .innerJoin('external_refs as r', (j) => j.onRef('r.entity_id', '=', 'c.id').on('r.entity', '=', 'client'))
      .select('r.remote_id')
      .where('c.identifier', '=', input.clientIdentifier)
      .where('r.system', '=', vendor)
      .executeTakeFirst(),
  );
  const inv = ref && createPsaInvoice(sims, vendor, { companyRemoteId: ref.remote_id, date: input.date, dueDate: input.dueDate, lines: input.lines });
  if (!inv) throw new Error(`no company ${input.clientIdentifier} in the PSA`);
  await syncPsa(ctx, tenantId);
  const row = await q(ctx, tenantId, (tx) => tx.selectFrom('invoices').select(['id', 'number']).where('number', '=', inv.number).executeTakeFirstOrThrow());
  return { ...row, total: inv.total };
}

/** Poll until `check` gives a value (Settle's jobs run beside the story); generous, a busy machine is slow. */
export async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 90_000, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`demo history: gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Postings to the PSA and the books still to be sent, apart from those waiting for an invoice in the books. */
export async function postingsInFlight(ctx: EngineContext, tenantId: string): Promise<number> {
  return q(ctx, tenantId, async (tx) => {
    const r = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM postings
       WHERE status NOT IN ('posted', 'failed') AND waiting_for IS NULL`.execute(tx);
    return r.rows[0]!.n;
  });
}

export const isoDay = (d: Date): string => d.toISOString().slice(0, 10);
export const addDaysIso = (day: string, n: number): string => isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY));

export function booksInvoiceOf(customerName: string, docNumber: string, amount: string, txnDate: string) {
  return { docNumber, customerName, amount, txnDate };
}

export async function openInvoicesOf(ctx: EngineContext, tenantId: string, clientId: string): Promise<string[]> {
  const rows = await q(ctx, tenantId, (tx) =>
    tx
      .selectFrom('invoices')
      .select('id')
      .where('client_id', '=', clientId)
      .where('status', 'in', ['open', 'partially_paid'])
      .where('type', '<>', 'credit_memo')
      .where('total_minor', '>', 0n)
      .orderBy('issued_on')
      .execute(),
  );
  return rows.map((r) => r.id);
}

export async function defaultMethod(ctx: EngineContext, tenantId: string, clientId: string): Promise<string> {
  const m = await q(ctx, tenantId, (tx) =>
    tx.selectFrom('payment_methods').select('id').where('client_id', '=', clientId).where('is_default', '=', true).executeTakeFirstOrThrow(),
  );
  return m.id;
}

export async function stateOf(ctx: EngineContext, tenantId: string, paymentId: string): Promise<string> {
  const r = await q(ctx, tenantId, (tx) => sql<{ state: string }>`SELECT state FROM payments WHERE id = ${paymentId}`.execute(tx));
  return r.rows[0]?.state ?? 'missing';
}

export async function succeeded(ctx: EngineContext, tenantId: string, paymentId: string): Promise<boolean> {
  return (await stateOf(ctx, tenantId, paymentId)) === 'succeeded';
}

/** The Monday 06:00 UTC after `t`. */
export function mondayAfter(t: Date): Date {
  const d = new Date(Date.parse(`${isoDay(t)}T06:00:00Z`));
  const add = (8 - d.getUTCDay()) % 7 || 7;
  return new Date(d.getTime() + add * DAY);
}
