// A backlog of succeeded payments waiting for the books, built as bench/qbo-calls-per-payment.ts builds it
// (with Settle's worker off): portal card payments started at Settle and confirmed at the Stripe simulator,
// the processor's webhooks stored in Settle's inbox, then the engine's own use case (processInboxEvent) for
// each — which marks the payments succeeded and creates their pending accounting postings as the worker would.
import { withTenant } from '../../src/db/tenant.ts';
import { processInboxEvent } from '../../src/engine/process-inbox-event.ts';
import { flushAccounting } from '../../src/engine/post-to-accounting.ts';
import { confirmAtProcessor, sleep, startPortalPay, type BenchStack } from './stack.ts';
import { mapLimit } from './stats.ts';

export interface PaymentBacklog {
  readonly pending: number;
  readonly succeeded: number;
  readonly buildMs: number;
}

/** Pays the first `n` open invoices (one each) and leaves their accounting postings pending; throws with the cause when it cannot. */
export async function buildPaymentBacklog(stack: BenchStack, n: number, concurrency = 6): Promise<PaymentBacklog> {
  const started = performance.now();
  const invoices = (await stack.openInvoices()).slice(0, n);
  if (invoices.length < n) throw new Error(`only ${invoices.length} open invoices to pay, ${n} needed`);
  await mapLimit(invoices, concurrency, async (inv) => {
    const { intentId } = await startPortalPay(stack, await stack.portalToken(inv.clientId), [inv.id]);
    await confirmAtProcessor(stack, intentId);
  });
  await waitForQuietInbox(stack, n);
  const events = await withTenant(stack.db, stack.tenantId, (tx) =>
    tx.selectFrom('inbox_events').select('id').where('source', '=', 'stripe').where('processed_at', 'is', null).orderBy('id').execute(),
  );
  await mapLimit(events, 4, (e) => processInboxEvent(stack.settle.ctx, stack.tenantId, e.id.toString()));
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
  return { pending: await pendingAccountingPayments(stack), succeeded, buildMs: Math.round(performance.now() - started) };
}

export async function pendingAccountingPayments(stack: BenchStack): Promise<number> {
  return withTenant(stack.db, stack.tenantId, async (tx) =>
    Number(
      (
        await tx
          .selectFrom('postings')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('target', '=', 'accounting')
          .where('kind', '=', 'payment')
          .where('status', '=', 'pending')
          .executeTakeFirstOrThrow()
      ).n,
    ),
  );
}

/** The processor's webhooks arrive asynchronously: wait until the inbox stops growing. */
export async function waitForQuietInbox(stack: BenchStack, n: number): Promise<void> {
  let last = -1;
  let quietSince = performance.now();
  const deadline = performance.now() + 60_000 + n * 60;
  while (performance.now() < deadline) {
    const count = await withTenant(stack.db, stack.tenantId, async (tx) =>
      Number(
        (
          await tx
            .selectFrom('inbox_events')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('source', '=', 'stripe')
            .executeTakeFirstOrThrow()
        ).n,
      ),
    );
    if (count !== last) {
      last = count;
      quietSince = performance.now();
    } else if (count >= n && performance.now() - quietSince > 750) return;
    await sleep(100);
  }
  throw new Error(`the processor's webhooks did not settle (${last} inbox events, ${n} expected)`);
}

export interface FlushRun {
  readonly flushes: number;
  readonly posted: number;
  readonly failed: number;
  readonly deferred: number;
  readonly flushMs: number;
  /** Stopped by maxFlushes or deadlineMs with postings still pending. */
  readonly gaveUp: boolean;
}

/** Run the books flush (`flushAccounting`) until no payment posting is pending, as the worker would, counting what it did. */
export async function flushBacklog(stack: BenchStack, limits: { maxFlushes?: number; deadlineMs?: number } = {}): Promise<FlushRun> {
  const started = performance.now();
  let flushes = 0;
  let posted = 0;
  let failed = 0;
  let deferred = 0;
  let gaveUp = false;
  while ((await pendingAccountingPayments(stack)) > 0) {
    if (flushes >= (limits.maxFlushes ?? Infinity) || performance.now() - started > (limits.deadlineMs ?? Infinity)) {
      gaveUp = true;
      break;
    }
    const r = await flushAccounting(stack.settle.ctx, stack.tenantId);
    flushes++;
    posted += r.payments;
    failed += r.failed;
    deferred += r.deferred;
    if (r.payments === 0) await sleep(1000); // only deferred ones left: wait for their next attempt time
  }
  return { flushes, posted, failed, deferred, flushMs: Math.round(performance.now() - started), gaveUp };
}
