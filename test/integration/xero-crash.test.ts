// Nothing lost, nothing twice, on Xero books: Settle is killed (SIGKILL) between the processor saying "paid"
// and the books posting — before it, and after the PUT /Payments was sent but before its answer was recorded
// — then started again. Xero must hold exactly one payment for the invoice (the restart finds the first by
// its marker, or Xero replays it by Idempotency-Key), and Settle one posted books posting.
import { afterEach, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { startSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import { useXeroBooks } from '../helpers/xero-books.ts';
import type { CrashPoint } from '../../src/engine/crash-points.ts';
import type { RunningXeroSimulator } from '../../simulators/xero/index.ts';
import { freePort } from '../helpers/ports.ts';

let stack: Stack | null = null;
let xero: RunningXeroSimulator | null = null;
let running: SettleProcess | null = null;
afterEach(async () => {
  running?.child.kill('SIGKILL');
  await running?.exited;
  running = null;
  await stack?.close();
  await xero?.close();
  stack = null;
  xero = null;
});

const points: CrashPoint[] = ['after-payment-succeeded-committed', 'after-accounting-payments-sent'];

describe('SIGKILL between the charge and the Xero posting, then restart', () => {
  it.each(points)('killed at %s: exactly one payment in Xero', async (point) => {
    const port = await freePort();
    stack = await startStack({ settle: false, settlePort: port });
    xero = await useXeroBooks(stack);
    running = await startSettleProcess(stack, port, { SETTLE_CRASH_AT: point });

    const [invoice] = await openInvoices(stack);
    const { paymentId } = await payInPortal(stack, await stack.portalToken(invoice!.client_id), [invoice!.id]);
    const how = await Promise.race([running.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
    expect(how, running.output()).toBe('SIGKILL');

    running = await startSettleProcess(stack, port);
    const db = stack.database.db;
    await eventually(
      async () => {
        const rows = await withTenant(db, stack!.tenantId, (tx) =>
          tx.selectFrom('postings').select(['status', 'target']).where('payment_id', '=', paymentId).execute(),
        );
        return rows.length === 2 && rows.every((r) => r.status === 'posted');
      },
      60_000,
      `postings of payment ${paymentId} posted after restart`,
    );
    const inXero = xero.sim.store.payments.filter((p) => p.InvoiceID === xero!.sim.invoice(invoice!.number)!.InvoiceID);
    expect(inXero).toHaveLength(1);
    expect(BigInt(inXero[0]!.amountCents)).toBe(invoice!.total_minor);
    expect(xero.sim.invoice(invoice!.number)!.Status).toBe('PAID');
  });
});
