// Helpers for the autopay integration tests: a client of the MSP with invoices made in the ConnectWise
// simulator, saved cards at the Stripe simulator made the client's default through Settle's API, and an
// autopay run at a chosen date (the run reads the date from the engine's clock).
import { sql } from 'kysely';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import type { EngineContext } from '../../src/engine/context.ts';
import { runAutopay, type AutopayRunSummary } from '../../src/engine/run-autopay.ts';
import { ensureProcessorCustomer } from '../../src/engine/start-portal-payment.ts';
import { ConnectorCache } from '../../src/engine/connections.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { createMailer } from '../../src/notify/mailer.ts';
import { createLogger } from '../../src/cli/logger.ts';
import type { LineInput } from '../../simulators/connectwise/index.ts';
import { storeInvoices } from '../../src/engine/sync-psa.ts';
import { eventually, type Stack } from './stack.ts';

export interface Api {
  (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export function apiFor(stack: Stack, key: string): Api {
  return async (method, path, body) => {
    const res = await fetch(`${stack.settleUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

/** The engine context: Settle's own when it runs in this process, else one built like the stack builds it. */
export function engineCtx(stack: Stack): EngineContext {
  if (stack.settle) return stack.settle.ctx;
  return {
    db: stack.database.db,
    connectors: new ConnectorCache(stack.database.db, SecretBox.fromHex(stack.secretKeyHex)),
    log: createLogger('silent'),
    publicUrl: stack.settleUrl,
    now: () => new Date(),
    mailer: createMailer(undefined),
    mailFrom: stack.config.SETTLE_MAIL_FROM,
  };
}

export const q = <T>(stack: Stack, fn: (tx: Tx) => Promise<T>): Promise<T> => withTenant(stack.database.db, stack.tenantId, fn);

let companies = 0;
/** A new company in the PSA with a billing contact; returns its ConnectWise id. */
export function newCompany(stack: Stack, name = `Autopay Client ${++companies}`): number {
  const cw = stack.sims.connectwise.state;
  const identifier = name.replace(/\W+/g, '');
  const c = cw.addCompany(identifier, name);
  cw.addContact(c.id, 'Pat', 'Payer', `ap@${identifier.toLowerCase()}.example`, { default: true, billing: true });
  return c.id;
}

export const product = (description: string, price: string, quantity = 1): LineInput => ({ kind: 'product', description, quantity, price });

/** An invoice created in the PSA and imported into Settle (pulled directly, not waiting for the callback). */
export async function newInvoice(
  stack: Stack,
  companyId: number,
  opts: { lines: LineInput[]; date?: string; dueDate?: string; type?: 'Standard' | 'Agreement' },
): Promise<{ id: string; cwId: number; number: string; clientId: string; totalMinor: bigint }> {
  const inv = stack.sims.connectwise.sim.createInvoice({
    companyId,
    lines: opts.lines,
    ...(opts.date ? { date: opts.date } : {}),
    ...(opts.dueDate ? { dueDate: opts.dueDate } : {}),
    ...(opts.type ? { type: opts.type } : {}),
  });
  await pullInvoice(stack, inv.id);
  return q(stack, async (tx) => {
    const row = await tx
      .selectFrom('invoices')
      .select(['id', 'number', 'client_id', 'total_minor'])
      .where('number', '=', inv.invoiceNumber)
      .executeTakeFirstOrThrow();
    return { id: row.id, cwId: inv.id, number: row.number, clientId: row.client_id, totalMinor: row.total_minor };
  });
}

/** Bring Settle up to date with one PSA invoice now (what the callback or the poll would do). */
export async function pullInvoice(stack: Stack, cwId: number): Promise<void> {
  const ctx = engineCtx(stack);
  const psa = (await ctx.connectors.psa(stack.tenantId))!;
  const inv = await psa.getInvoice(String(cwId));
  if (inv) await storeInvoices(ctx, stack.tenantId, psa, [inv]);
}

/** Save a Stripe test card for the client and (by default) make it the default through Settle's API. */
export async function saveCard(stack: Stack, api: Api, clientId: string, token = 'pm_card_visa', makeDefault = true): Promise<string> {
  const ctx = engineCtx(stack);
  const customer = await ensureProcessorCustomer(ctx, stack.tenantId, clientId);
  const s = stack.sims.stripe;
  const res = await fetch(`${s.baseUrl}/v1/payment_methods/${token}/attach`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ customer }).toString(),
  });
  const pm = (await res.json()) as { id: string };
  if (!res.ok) throw new Error(`attach failed: ${JSON.stringify(pm)}`);
  const synced = await api('POST', `/clients/${clientId}/payment-methods/sync`);
  if (synced.status !== 200) throw new Error(`sync failed: ${JSON.stringify(synced.body)}`);
  const mine = await q(stack, (tx) => tx.selectFrom('payment_methods').select('id').where('processor_method_id', '=', pm.id).executeTakeFirstOrThrow());
  if (makeDefault) {
    const r = await api('PUT', `/clients/${clientId}/payment-methods/${mine.id}/default`);
    if (r.status !== 204) throw new Error(`set default failed: ${JSON.stringify(r.body)}`);
  }
  return mine.id;
}

/** Turn on collection + autopay for the client (pilot mode), with optional lock and fallback. */
export async function enableAutopay(api: Api, clientId: string, extra: Record<string, unknown> = {}): Promise<void> {
  const r = await api('PUT', `/autopay/clients/${clientId}`, { collection_enabled: true, autopay_enabled: true, ...extra });
  if (r.status !== 200) throw new Error(`enable autopay failed: ${JSON.stringify(r.body)}`);
}

/** Wait until no autopay-run job is queued or running (one is queued when staff approve a charge). */
export async function autopayJobsIdle(stack: Stack): Promise<void> {
  await eventually(
    async () => {
      const r = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'autopay-run' AND attempts < max_attempts`.execute(stack.database.db);
      return r.rows[0]!.n === 0;
    },
    90_000, // a poll, not a wait: generous so that a busy machine is not a failure
    'autopay-run jobs done',
  );
}

/** An autopay run as if today were `date` (YYYY-MM-DD, at noon UTC), after any run the worker has queued. */
export async function runOn(stack: Stack, date: string, opts: { concurrency?: number } = {}): Promise<AutopayRunSummary> {
  if (stack.settle) await autopayJobsIdle(stack);
  const base = engineCtx(stack);
  const at = new Date(`${date}T12:00:00Z`);
  return runAutopay({ ...base, now: () => at }, stack.tenantId, opts);
}

export async function scheduleOf(stack: Stack, invoiceId: string) {
  return q(stack, (tx) => tx.selectFrom('autopay_schedules').selectAll().where('invoice_id', '=', invoiceId).executeTakeFirst());
}

/** PaymentIntents the Stripe simulator holds for this Settle invoice (through the payment's metadata). */
export async function intentsForInvoice(stack: Stack, invoiceId: string): Promise<{ id: string; amount: number; status: string }[]> {
  const payments = await q(stack, (tx) => tx.selectFrom('payments').select(['id', 'planned_allocations']).execute());
  const mine = new Set(payments.filter((p) => p.planned_allocations.some((a) => a.invoiceId === invoiceId)).map((p) => p.id));
  return [...stack.sims.stripe.sim.store.paymentIntents.values()]
    .filter((pi) => mine.has(pi.metadata['settle_payment'] ?? ''))
    .map((pi) => ({ id: pi.id, amount: pi.amount, status: pi.status }));
}

export const addDays = (date: string, n: number): string => new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
export const todayUtc = (): string => new Date().toISOString().slice(0, 10);

export async function waitForEmails<T>(received: T[], n: number, what: string): Promise<void> {
  await eventually(async () => received.length >= n, 15_000, what);
}
