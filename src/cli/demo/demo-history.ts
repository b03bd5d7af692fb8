// Three months of an MSP's collections, told through Settle's own paths so the demo's dashboard, rollout view
// and lists show a working book: clients save cards and bank accounts, staff charge what they owe over ~13
// weeks, some cards decline and recover on retry, a payment is refunded, a bank debit comes back (a return
// the processor reports as a dispute on the debit), Stripe pays out weekly and each payout becomes a books
// deposit; at the end one payment waits for its invoice to reach QuickBooks (an exception) and one autopay
// charge over its rule's cap waits for a person's approval.
//
// How the past is told. Every act is the engine's own call (chargeSavedMethod, retryFailedPayment,
// requestRefund, runAutopay …) against the simulators over HTTP; nothing is inserted beside the engine, so
// the ledger, the postings, the PSA and the books agree as after real use. What needs a date in the past:
//  - the engine's clock: each act gets a context whose `now()` is the story's instant, with
//    `stampsWithClock` so that the payment's start, its success and its allocations carry that instant
//    (the only database-clock stamps the dashboard reads). The PSA payment and the books payment are dated by
//    the engine from the success (`paidOn`), so ConnectWise and QuickBooks carry the same day;
//  - the processor's clock: the Stripe simulator's account clock (its test-clock offset) is set to the same
//    instant, so charges, balance transactions and the weekly payouts — hence the books deposits — fall on
//    the story's days. It is put back to the wall clock at the end.
// What the engine's jobs do meanwhile (PSA and books postings, failure handling, payout reconciliation)
// happens at the real time; so do the stamps no figure reads (audit entries, attempts, job times), and a
// bank debit's success, which Stripe reports seconds later by webhook (as days later in real life).
import type { Logger } from 'pino';
import type { EngineContext } from '../../engine/context.ts';
import { chargeSavedMethod } from '../../engine/charge-saved-method.ts';
import { retryFailedPayment } from '../../engine/retry-failed-payment.ts';
import { requestRefund } from '../../engine/refund-payment.ts';
import { createRule, saveClientAutopay } from '../../engine/manage-autopay.ts';
import { runAutopay } from '../../engine/run-autopay.ts';
import { audit } from '../../engine/audit.ts';
import { markExceptionResolved } from '../../engine/exceptions.ts';
import { prng } from '../../../simulators/connectwise/seed.ts';
import type { DemoSimulators as Simulators } from './demo-history-steps.ts';
import {
  DAY,
  DEMO_ACTOR,
  addDaysIso,
  booksInvoiceOf,
  defaultMethod,
  isoDay,
  mondayAfter,
  newPsaInvoice,
  openInvoicesOf,
  postingsInFlight,
  q,
  saveMethod,
  setProcessorClock,
  stateOf,
  succeeded,
  until,
} from './demo-history-steps.ts';

export interface DemoHistorySummary {
  readonly payments: number;
  readonly declinesRecovered: number;
  readonly refunds: number;
  readonly achReturns: number;
  readonly payouts: number;
  readonly waitingInvoice: string;
  readonly approvalInvoice: string;
  /** How long each part took (ms): clients and their methods, the 13 weeks, the last week, the jobs' catch-up. */
  readonly took: { readonly clients: number; readonly weeks: number; readonly lastWeek: number; readonly jobs: number; readonly total: number };
}

const BUILT = 'demo.history_built';
type Habit = 'fast' | 'normal' | 'slow' | 'never';
interface DemoClient {
  readonly id: string;
  readonly name: string;
  readonly identifier: string;
  readonly habit: Habit;
  readonly card: string;
  /** Declines first (insufficient funds), then saves a new card. */
  readonly decliner: boolean;
  /** Switched to bank debits for the last week. */
  readonly bank: boolean;
  readonly pilot: boolean;
}
interface PayAct {
  at: Date;
  client: DemoClient;
  invoiceIds: string[];
  retryOf?: string;
}

const CARDS = ['pm_card_visa', 'pm_card_mastercard', 'pm_card_amex', 'pm_card_discover'];
const DELAYS: Record<Exclude<Habit, 'never'>, [number, number]> = { fast: [1, 8], normal: [8, 30], slow: [25, 50] };

/** True when the workspace's history was built already (a restart, or a second call, builds nothing). */
export async function demoHistoryBuilt(ctx: EngineContext, tenantId: string): Promise<boolean> {
  const r = await q(ctx, tenantId, (tx) => tx.selectFrom('audit_log').select('id').where('action', '=', BUILT).executeTakeFirst());
  return r !== undefined;
}

export async function buildDemoHistory(
  ctx: EngineContext,
  tenantId: string,
  sims: Simulators,
  opts: { log?: Logger; signal?: AbortSignal } = {},
): Promise<DemoHistorySummary | null> {
  const { log, signal } = opts;
  if (await demoHistoryBuilt(ctx, tenantId)) return null;
  const started = Date.now();
  const today = new Date();
  const todayIso = isoDay(today);
  const storyStart = new Date(today.getTime() - 92 * DAY);
  const at = (t: Date): EngineContext => ({ ...ctx, now: () => t, stampsWithClock: true });
  const rnd = prng(20261206);
  try {
    setProcessorClock(sims, storyStart);
    const clients = await castClients(ctx, tenantId, sims, rnd);
    const t1 = Date.now();
    const acts = await planPayments(ctx, tenantId, clients, today, rnd);
    let payments = 0;
    let declinesRecovered = 0;
    let payouts = 0;
    let nextPayout = mondayAfter(storyStart);
    const declined = new Set<string>();
    while (acts.length > 0) {
      signal?.throwIfAborted();
      acts.sort((a, b) => a.at.getTime() - b.at.getTime());
      const act = acts.shift()!;
      // Stripe pays out the available balance every Monday morning; each payout becomes one books deposit.
      while (nextPayout < act.at) {
        setProcessorClock(sims, nextPayout);
        if (sims.stripe.sim.runPayouts({ onlyAvailable: true })) payouts++;
        nextPayout = new Date(nextPayout.getTime() + 7 * DAY);
      }
      setProcessorClock(sims, act.at);
      if (act.retryOf) {
        // The retry Settle scheduled, on the client's default method (the new card).
        await retryFailedPayment(at(act.at), tenantId, act.retryOf);
        const f = await q(ctx, tenantId, (tx) =>
          tx.selectFrom('payment_failures').select('retry_payment_id').where('id', '=', act.retryOf!).executeTakeFirstOrThrow(),
        );
        if (f.retry_payment_id && (await succeeded(ctx, tenantId, f.retry_payment_id))) declinesRecovered++;
        payments++;
        continue;
      }
      const method = await defaultMethod(ctx, tenantId, act.client.id);
      const r = await chargeSavedMethod(at(act.at), tenantId, {
        choices: act.invoiceIds.map((invoiceId) => ({ invoiceId })),
        paymentMethodId: method,
        actor: DEMO_ACTOR,
        source: 'manual',
      });
      payments++;
      if (r.outcome === 'declined' && act.client.decliner && !declined.has(act.client.id)) {
        declined.add(act.client.id);
        const failure = await until(
          'the decline handled',
          () => q(ctx, tenantId, (tx) => tx.selectFrom('payment_failures').select(['id', 'status']).where('payment_id', '=', r.paymentId).executeTakeFirst()),
          90_000,
          signal,
        );
        // The client was e-mailed and saved a new card that afternoon; Settle's retry comes days later.
        await saveMethod(at(new Date(act.at.getTime() + 3 * 3_600_000)), tenantId, sims, act.client.id, 'pm_card_visa');
        if (failure.status === 'scheduled')
          acts.push({
            at: new Date(Math.min(act.at.getTime() + 3 * DAY + 2 * 3_600_000, today.getTime() - 2 * DAY)),
            client: act.client,
            invoiceIds: [],
            retryOf: failure.id,
          });
      }
    }
    const t2 = Date.now();
    const ends = await storyEnds(ctx, tenantId, sims, clients, today, todayIso, signal);
    const t3 = Date.now();
    setProcessorClock(sims, null);
    // Settle's jobs finish what the story started: every posting sent (but the one that waits), the return booked.
    // Under load the books' queue can be minutes behind the story (each QuickBooks realm takes 10 requests/s).
    await until('the postings sent', async () => (await postingsInFlight(ctx, tenantId)) === 0, 300_000, signal);
    await until(
      'the waiting payment noticed',
      () =>
        q(ctx, tenantId, (tx) =>
          tx.selectFrom('exceptions').select('id').where('status', '=', 'open').where('kind', '=', 'posting_waiting_for_invoice').executeTakeFirst(),
        ),
      120_000,
      signal,
    );
    const summary: DemoHistorySummary = {
      payments: payments + ends.payments,
      declinesRecovered,
      refunds: ends.refunds,
      achReturns: 1,
      payouts,
      waitingInvoice: ends.waitingInvoice,
      approvalInvoice: ends.approvalInvoice,
      took: { clients: t1 - started, weeks: t2 - t1, lastWeek: t3 - t2, jobs: Date.now() - t3, total: Date.now() - started },
    };
    await q(ctx, tenantId, (tx) => audit(tx, tenantId, DEMO_ACTOR, BUILT, { type: 'workspace', id: tenantId }, { ...summary }));
    log?.info(summary, 'demo history built');
    return summary;
  } finally {
    setProcessorClock(sims, null);
  }
}

/** Who the clients are: how fast each pays, with what, whether Settle collects for them in the pilot. */
async function castClients(ctx: EngineContext, tenantId: string, sims: Simulators, rnd: () => number): Promise<DemoClient[]> {
  const rows = await q(ctx, tenantId, (tx) => tx.selectFrom('clients').select(['id', 'name', 'identifier']).orderBy('name').orderBy('id').execute());
  const habits: Habit[] = ['fast', 'normal', 'normal', 'slow', 'fast', 'normal', 'never', 'normal'];
  const clients = rows.map((c, i) => ({
    id: c.id,
    name: c.name,
    identifier: c.identifier,
    habit: habits[i % habits.length]!,
    card: CARDS[Math.floor(rnd() * CARDS.length)]!,
    decliner: i === 2 || i === 9,
    bank: i === 5 || i === 13,
    pilot: i % 2 === 0,
  }));
  for (const c of clients) {
    // The pilot (the set-up wizard's choice): half the clients, so the rollout view compares them with the rest.
    await q(ctx, tenantId, (tx) => saveClientAutopay(tx, tenantId, c.id, { collection_enabled: c.pilot }, DEMO_ACTOR));
    if (c.habit === 'never') continue; // pays by check, recorded in the PSA (or not yet): overdue in the aging
    await saveMethod(ctx, tenantId, sims, c.id, c.decliner ? 'pm_card_chargeDeclinedInsufficientFunds' : c.card);
  }
  return clients;
}

/** When each open invoice is paid: by its client's habit; what falls after today stays open. */
async function planPayments(ctx: EngineContext, tenantId: string, clients: DemoClient[], today: Date, rnd: () => number): Promise<PayAct[]> {
  const invoices = await q(ctx, tenantId, (tx) =>
    tx
      .selectFrom('invoices')
      .select(['id', 'client_id', 'issued_on'])
      .where('status', 'in', ['open', 'partially_paid'])
      .where('type', '<>', 'credit_memo')
      .where('total_minor', '>', 0n)
      .orderBy('issued_on')
      .orderBy('number')
      .execute(),
  );
  const byClient = new Map(clients.map((c) => [c.id, c]));
  const acts = new Map<string, PayAct>();
  const lastDay = today.getTime() - 2 * DAY; // the last two days belong to the story's end
  for (const inv of invoices) {
    const client = byClient.get(inv.client_id);
    if (!client || client.habit === 'never') continue;
    const [lo, hi] = DELAYS[client.habit];
    const day = Date.parse(`${String(inv.issued_on).slice(0, 10)}T00:00:00Z`) + (lo + Math.floor(rnd() * (hi - lo + 1))) * DAY;
    if (day > lastDay) continue;
    // Office hours, US Central; the same client's invoices due the same day go in one payment.
    const key = `${client.id}:${isoDay(new Date(day))}`;
    const existing = acts.get(key);
    if (existing) existing.invoiceIds.push(inv.id);
    else acts.set(key, { at: new Date(day + (15 + Math.floor(rnd() * 7)) * 3_600_000), client, invoiceIds: [inv.id] });
  }
  return [...acts.values()];
}

/** The last week: bank debits (one comes back), a refund, a payment waiting for its invoice, an approval. */
async function storyEnds(
  ctx: EngineContext,
  tenantId: string,
  sims: Simulators,
  clients: DemoClient[],
  today: Date,
  todayIso: string,
  signal: AbortSignal | undefined,
): Promise<{ payments: number; refunds: number; waitingInvoice: string; approvalInvoice: string }> {
  const at = (daysAgo: number, hour = 16): EngineContext => {
    const t = new Date(Date.parse(`${addDaysIso(todayIso, -daysAgo)}T00:00:00Z`) + hour * 3_600_000);
    setProcessorClock(sims, t);
    return { ...ctx, now: () => t, stampsWithClock: true };
  };
  const paying = clients.filter((c) => c.habit !== 'never' && !c.decliner && !c.bank);
  let payments = 0;
  const charge = async (c: EngineContext, client: DemoClient, invoiceIds: string[]) => {
    const method = await defaultMethod(ctx, tenantId, client.id);
    payments++;
    return chargeSavedMethod(c, tenantId, {
      choices: invoiceIds.map((invoiceId) => ({ invoiceId })),
      paymentMethodId: method,
      actor: DEMO_ACTOR,
      source: 'manual',
    });
  };

  // Two clients moved to bank debits (the ACH discount talk); their open invoices go by ACH through Stripe.
  for (const c of clients.filter((x) => x.bank)) {
    const open = await openInvoicesOf(ctx, tenantId, c.id);
    if (open.length === 0) continue;
    await saveMethod(at(6), tenantId, sims, c.id, 'pm_usBankAccount_success');
    await charge(at(5), c, open.slice(0, 3));
  }

  // A bank debit that comes back: it settles, then the account holder says it was not authorized (R10);
  // Stripe reports that as a dispute on the debit and Settle books it as a return. The client then pays by card.
  const others = paying.filter((c) => c.habit !== 'fast');
  const returner = others[0]!;
  const returned = await newPsaInvoice(ctx, tenantId, sims, {
    clientIdentifier: returner.identifier,
    date: addDaysIso(todayIso, -12),
    dueDate: addDaysIso(todayIso, 18),
    lines: [{ description: 'Managed Workstation', quantity: 14, price: '45.00' }],
  });
  sims.quickbooks.sim.seedInvoice(booksInvoiceOf(returner.name, returned.number, returned.total, addDaysIso(todayIso, -12)));
  await saveMethod(at(7), tenantId, sims, returner.id, 'pm_usBankAccount_success');
  const debit = await charge(at(6), returner, [returned.id]);
  // The dispute is raised once Settle has the success (as days later in real life; the simulator's
  // dispute-on-settle account would race the success webhook and leave the dispute to job back-off).
  await until('the bank debit settled', async () => (await stateOf(ctx, tenantId, debit.paymentId)) === 'succeeded', 120_000, signal);
  const intent = await q(ctx, tenantId, (tx) =>
    tx.selectFrom('payments').select('processor_payment_id').where('id', '=', debit.paymentId).executeTakeFirstOrThrow(),
  );
  sims.stripe.sim.createDispute({ paymentIntent: intent.processor_payment_id!, reason: 'debit_not_authorized' });
  await until('the bank debit returned', async () => (await stateOf(ctx, tenantId, debit.paymentId)) === 'returned', 120_000, signal);
  // The workspace's owner handled it from Needs attention (a manual touch in the rollout view): they called the client.
  await q(ctx, tenantId, async (tx) => {
    const owner = await tx.selectFrom('users').select('id').orderBy('created_at').executeTakeFirst();
    const item = await tx.selectFrom('exceptions').select('id').where('status', '=', 'open').where('kind', '=', 'payment_returned').executeTakeFirst();
    if (owner && item)
      await markExceptionResolved(
        tx,
        tenantId,
        item.id,
        `user:${owner.id}`,
        'Called the client: the debit was not recognised by their new controller; paying by card instead.',
      );
  });
  await saveMethod(at(1, 10), tenantId, sims, returner.id, returner.card);
  await charge(at(1, 11), returner, [returned.id]);

  // A refund: a client overpaid for licences it cancelled (part of a payment a month ago).
  const refundable = await q(ctx, tenantId, (tx) =>
    tx
      .selectFrom('payments')
      .select(['id', 'amount_minor'])
      .where('state', '=', 'succeeded')
      .where('method_kind', '=', 'card')
      .where('succeeded_at', '<', new Date(today.getTime() - 25 * DAY))
      .where('amount_minor', '>', 20_000n)
      .orderBy('succeeded_at', 'desc')
      .limit(2)
      .execute(),
  );
  let refunds = 0;
  for (const [i, p] of refundable.entries()) {
    await requestRefund(at(4 - i), tenantId, {
      paymentId: p.id,
      amountMinor: p.amount_minor / BigInt(4 + i),
      reason: i === 0 ? 'Licences cancelled mid-month: credit for the unused part' : 'Onsite visit billed on a day covered by the agreement',
      idempotencyKey: `demo:refund:${p.id}`,
      actor: DEMO_ACTOR,
    });
    refunds++;
  }

  // A payment for an invoice the PSA has not exported to QuickBooks yet: it waits, and staff see why.
  const waiter = others[1]!;
  const waiting = await newPsaInvoice(ctx, tenantId, sims, {
    clientIdentifier: waiter.identifier,
    date: addDaysIso(todayIso, -10),
    dueDate: addDaysIso(todayIso, 20),
    lines: [{ description: 'Firewall Subscription', quantity: 3, price: '89.99' }],
  });
  await charge(at(3), waiter, [waiting.id]);

  // Autopay for a few fast payers; one's new project invoice is over its rule's cap and waits for approval.
  const autopay = paying.filter((c) => c.habit === 'fast').slice(0, 3);
  const approver = autopay[0]!;
  await q(ctx, tenantId, async (tx) => {
    await createRule(tx, tenantId, { name: 'Card or bank on file, on the due date', anchor: 'due_date', offset_days: 0 }, DEMO_ACTOR);
    await createRule(tx, tenantId, { name: `${approver.name}: ask above $500`, client_id: approver.id, approval_cap_minor: 50_000n, position: 0 }, DEMO_ACTOR);
  });
  for (const c of autopay) {
    // An autopay client owes nothing older: what is left open is paid now, before autopay is switched on.
    const open = await openInvoicesOf(ctx, tenantId, c.id);
    if (open.length > 0) await charge(at(1, 15), c, open);
    await q(ctx, tenantId, (tx) => saveClientAutopay(tx, tenantId, c.id, { collection_enabled: true, autopay_enabled: true }, DEMO_ACTOR));
  }
  setProcessorClock(sims, null);
  const project = await newPsaInvoice(ctx, tenantId, sims, {
    clientIdentifier: approver.identifier,
    date: todayIso,
    dueDate: addDaysIso(todayIso, 1),
    lines: [
      { description: 'Firewall appliance replacement (project)', quantity: 1, price: '1150.00' },
      { description: 'Onsite installation', quantity: 3, price: '125.00' },
    ],
  });
  sims.quickbooks.sim.seedInvoice(booksInvoiceOf(approver.name, project.number, project.total, todayIso));
  await runAutopay(ctx, tenantId, { skipPsaSync: true });
  await until(
    'the approval asked',
    () =>
      q(ctx, tenantId, (tx) =>
        tx.selectFrom('autopay_schedules').select('id').where('invoice_id', '=', project.id).where('state', '=', 'awaiting_approval').executeTakeFirst(),
      ),
    90_000,
    signal,
  );
  return { payments, refunds, waitingInvoice: waiting.number, approvalInvoice: project.number };
}
