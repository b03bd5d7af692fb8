// Benchmark 4 — QuickBooks API calls per posted payment when a backlog is flushed.
// Backlog: 1,000 portal card payments (one invoice each) are started at Settle and confirmed at the
// Stripe simulator while Settle's worker is NOT running; the processor's webhooks are stored in Settle's
// inbox and then acted on by calling the engine's own use case (processInboxEvent) for each, which marks
// the payments succeeded and creates their pending accounting postings exactly as the worker would. With
// the QuickBooks simulator's call log reset, `flushAccounting` is then run until no payment posting is
// pending, and every QuickBooks request is counted (the simulator's CallLog, cross-checked against the
// requests Settle's process sent, which are classified by what they asked for).
// Targets: ≤ 1/25 = 0.04 QuickBooks calls per posted payment (issue #2); ≤ 1.1 × the batch minimum, i.e.
// 1.1 × ⌈1,000 / 30⌉ calls (the Payment creates alone, 30 to a /batch) = 37.4 calls, 0.0374 a payment (issue #11).
import { withTenant } from '../src/db/tenant.ts';
import { processInboxEvent } from '../src/engine/process-inbox-event.ts';
import { benchMain, isMain } from './lib/main.ts';
import type { BenchResult } from './lib/result.ts';
import { confirmAtProcessor, startBenchStack, startPortalPay, type BenchStack } from './lib/stack.ts';
import { mapLimit } from './lib/stats.ts';
import { flushBacklog, pendingAccountingPayments, waitForQuietInbox } from './lib/payment-backlog.ts';

const N = 1000;
const CONCURRENCY = 6;
const TARGET_PER_PAYMENT = 1 / 25;
const BATCH_ITEMS = 30;
/** The fewest calls QuickBooks' batch endpoint allows for N creates: ⌈N / 30⌉. */
const BATCH_MINIMUM_CALLS = Math.ceil(N / BATCH_ITEMS);
const TARGET_TIMES_MINIMUM = 1.1;
const MAX_FLUSHES = 20;

export async function run(pgServerUrl: string): Promise<BenchResult> {
  const started = performance.now();
  // The Stripe simulator's limit is raised for building the backlog only; Stripe is not what is measured.
  const stack = await startBenchStack({
    pgServerUrl,
    label: 'qbo_calls',
    companies: 60,
    invoices: N + 60,
    linesPerInvoice: 3,
    worker: false,
    stripeRequestsPerSecond: 10_000,
  });
  try {
    const invoices = (await stack.openInvoices()).slice(0, N);
    if (invoices.length < N) throw new Error(`only ${invoices.length} open invoices to pay`);

    // 1. The backlog.
    const tBacklog = performance.now();
    await mapLimit(invoices, CONCURRENCY, async (inv) => {
      const { intentId } = await startPortalPay(stack, await stack.portalToken(inv.clientId), [inv.id]);
      await confirmAtProcessor(stack, intentId);
    });
    await waitForQuietInbox(stack, N);
    const events = await withTenant(stack.db, stack.tenantId, (tx) =>
      tx.selectFrom('inbox_events').select('id').where('source', '=', 'stripe').where('processed_at', 'is', null).orderBy('id').execute(),
    );
    await mapLimit(events, 4, (e) => processInboxEvent(stack.settle.ctx, stack.tenantId, e.id.toString()));
    const pending = await pendingAccountingPayments(stack);
    const succeeded = await withTenant(stack.db, stack.tenantId, async (tx) =>
      Number(
        (
          await tx
            .selectFrom('payments')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('state', '=', 'succeeded')
            .executeTakeFirstOrThrow()
        ).n,
      ),
    );
    const backlogMs = Math.round(performance.now() - tBacklog);
    if (pending !== N) throw new Error(`backlog has ${pending} pending accounting postings (${succeeded} payments succeeded), expected ${N}`);

    // 2. The flush.
    const qbo = stack.sims.quickbooks;
    qbo.sim.calls.reset();
    const sent = classifyOutgoing(qbo.baseUrl);
    const { flushes, posted, failed, deferred, flushMs } = await flushBacklog(stack, { maxFlushes: MAX_FLUSHES });
    sent.stop();
    const stillPending = await pendingAccountingPayments(stack);
    const byRoute = Object.fromEntries(qbo.sim.calls.counts);
    const total = qbo.sim.calls.total();
    const oauth = qbo.sim.calls.total('POST /oauth2');
    const api = total - oauth;
    const booksPayments = qbo.sim.payments().length;
    const perPayment = posted > 0 ? total / posted : Number.POSITIVE_INFINITY;
    const perPaymentApi = posted > 0 ? api / posted : Number.POSITIVE_INFINITY;
    const r4 = (x: number): number => Math.round(x * 10_000) / 10_000;
    const timesMinimum = total / BATCH_MINIMUM_CALLS;
    const minimumPass = stillPending === 0 && posted === N && timesMinimum <= TARGET_TIMES_MINIMUM;
    const pass = stillPending === 0 && posted === N && perPayment <= TARGET_PER_PAYMENT && minimumPass;
    return {
      name: 'qbo-calls-per-payment',
      figures: {
        postedPayments: posted,
        quickbooksPayments: booksPayments,
        failed,
        deferred,
        stillPending,
        flushes,
        flushMs,
        backlogBuildMs: backlogMs,
        callsTotal: total,
        callsOAuth: oauth,
        callsApi: api,
        callsPerPayment: r4(perPayment),
        callsPerPaymentWithoutOAuth: r4(perPaymentApi),
        paymentsPerCall: r4(posted / Math.max(1, total)),
        batchMinimumCalls: BATCH_MINIMUM_CALLS,
        timesBatchMinimum: r4(timesMinimum),
        byRoute,
        byPurpose: Object.fromEntries(sent.counts),
        throttled: qbo.sim.stats.throttled,
      },
      target: `≤ 1/25 = ${TARGET_PER_PAYMENT} QuickBooks calls per posted payment (incl. OAuth token calls), and ≤ ${TARGET_TIMES_MINIMUM} × the batch minimum (${BATCH_MINIMUM_CALLS} calls)`,
      pass,
      headline: [
        { label: 'calls/payment (incl. OAuth)', value: `${r4(perPayment)} (${total}/${posted})`, target: `≤ ${TARGET_PER_PAYMENT}`, pass },
        {
          label: 'calls/payment (API only)',
          value: `${r4(perPaymentApi)} (${api}/${posted})`,
          target: `≤ ${TARGET_PER_PAYMENT}`,
          pass: stillPending === 0 && posted === N && perPaymentApi <= TARGET_PER_PAYMENT,
        },
        {
          label: '× batch minimum (incl. OAuth)',
          value: `${r4(timesMinimum)} (${total}/${BATCH_MINIMUM_CALLS})`,
          target: `≤ ${TARGET_TIMES_MINIMUM}`,
          pass: minimumPass,
        },
      ],
      notes: [
        `${posted} payments posted in ${flushes} flush(es), ${flushMs} ms; QuickBooks calls: ${Object.entries(Object.fromEntries(sent.counts))
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        'the flush hands the whole backlog to the connector at once and records each write as it is answered: the look-ups (Payments by PaymentRefNum for check-before-write, Invoices by DocNumber) go as IN (…) queries packed 30 to a /batch request, side by side, then one /batch of up to 30 Payment creates per 30 payments',
      ],
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    await stack.close();
  }
}

function classifyOutgoing(baseUrl: string): { counts: Map<string, number>; stop(): void } {
  const original = globalThis.fetch;
  const counts = new Map<string, number>();
  const bump = (k: string): void => void counts.set(k, (counts.get(k) ?? 0) + 1);
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.origin === new URL(baseUrl).origin) {
      const method = (init?.method ?? 'GET').toUpperCase();
      if (url.pathname.startsWith('/oauth2')) bump('OAuth token refresh');
      else if (url.pathname.endsWith('/query')) bump(`query ${/FROM\s+(\w+)/i.exec(url.searchParams.get('query') ?? '')?.[1] ?? '?'}`);
      else if (url.pathname.endsWith('/batch')) bump('batch');
      else bump(`${method} ${url.pathname.split('/').pop()}`);
    }
    return original(input, init);
  }) as typeof fetch;
  return { counts, stop: () => void (globalThis.fetch = original) };
}

if (isMain(import.meta.url)) await benchMain(run);
