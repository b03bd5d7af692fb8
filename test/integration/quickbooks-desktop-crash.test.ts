// Nothing lost, nothing twice, on QuickBooks Desktop books: Settle is killed (SIGKILL) between the processor
// saying "paid" and the books posting — before it, and after the payment was queued for the Web Connector but
// before the posting row recorded it — then started again. The simulated Web Connector keeps polling on its
// schedule throughout (its runs fail while Settle is down, as the real one's would). The company file must hold
// exactly one payment for the invoice, and Settle one posted books posting.
import { afterEach, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { startSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import { useQbdBooks } from '../helpers/qbd-books.ts';
import type { CrashPoint } from '../../src/engine/crash-points.ts';
import type { RunningQbdSimulator } from '../../simulators/quickbooks-desktop/index.ts';
import { freePort } from '../helpers/ports.ts';
import { validateQbxml } from '../conformance/quickbooks-desktop/xsd-validate.ts';

let stack: Stack | null = null;
let qbd: RunningQbdSimulator | null = null;
let running: SettleProcess | null = null;
afterEach(async () => {
  running?.child.kill('SIGKILL');
  await running?.exited;
  running = null;
  await qbd?.close();
  await stack?.close();
  stack = null;
  qbd = null;
});

const points: CrashPoint[] = ['after-payment-succeeded-committed', 'after-accounting-payments-sent'];

describe('SIGKILL between the charge and the QuickBooks Desktop posting, then restart', () => {
  it.each(points)(
    'killed at %s: exactly one payment in the company file',
    async (point) => {
      const port = await freePort();
      stack = await startStack({ settle: false, settlePort: port });
      qbd = await useQbdBooks(stack, `http://127.0.0.1:${port}`, { runEveryMs: 1000 });
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
        90_000,
        `postings of payment ${paymentId} posted after restart`,
      );
      const inv = qbd.company.invoices.find((i) => i.refNumber === invoice!.number)!;
      const inBooks = qbd.company.payments.filter((p) => p.applied.some((a) => a.txnId === inv.txnId));
      expect(inBooks).toHaveLength(1);
      expect(inBooks[0]!.total).toBe(BigInt(invoice!.total_minor));
      expect(inv.balance).toBe(0n);
      const xsd = await validateQbxml(qbd.webConnector.requests);
      expect(xsd.errors).toEqual([]);
    },
    240_000,
  );
});
