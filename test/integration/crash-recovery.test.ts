// Nothing lost, nothing twice: Settle is really killed (SIGKILL) at each dangerous point between the
// processor saying "paid" and the postings, then started again. Afterwards there must be exactly one payment
// in ConnectWise and exactly one Payment in QuickBooks, and one payment journal in Settle's ledger.
import { afterEach, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { startSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import type { CrashPoint } from '../../src/engine/crash-points.ts';
import { freePort } from '../helpers/ports.ts';

let stack: Stack | null = null;
let running: SettleProcess | null = null;
afterEach(async () => {
  running?.child.kill('SIGKILL');
  await running?.exited;
  running = null;
  await stack?.close();
  stack = null;
});

const points: CrashPoint[] = ['after-payment-succeeded-committed', 'after-psa-payment-sent', 'after-accounting-payments-sent'];

describe('SIGKILL between the charge and the postings, then restart', () => {
  it.each(points)('killed at %s: exactly one payment in ConnectWise and one Payment in QuickBooks', async (point) => {
    const port = await freePort();
    stack = await startStack({ settle: false, settlePort: port });
    running = await startSettleProcess(stack, port, { SETTLE_CRASH_AT: point });

    const [invoice] = await openInvoices(stack);
    const token = await stack.portalToken(invoice!.client_id);
    const { paymentId } = await payInPortal(stack, token, [invoice!.id]);

    const how = await Promise.race([running.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    expect(how, running.output()).toBe('SIGKILL');
    expect(running.output()).toContain(`SETTLE_CRASH_AT=${point}`);

    running = await startSettleProcess(stack, port);
    const db = stack.database.db;
    const tenantId = stack.tenantId;
    await eventually(
      async () => {
        const rows = await withTenant(db, tenantId, (tx) =>
          tx.selectFrom('postings').select(['status', 'target']).where('payment_id', '=', paymentId).execute(),
        );
        return rows.length === 2 && rows.every((r) => r.status === 'posted');
      },
      40_000,
      `postings of payment ${paymentId} posted after restart`,
    );

    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice!.remote))).toHaveLength(1);
    const qbo = stack.sims.quickbooks.sim.payments().filter((p) => String(p['PrivateNote'] ?? '').includes(paymentId));
    expect(qbo).toHaveLength(1);
    const payments = await withTenant(db, tenantId, (tx) => tx.selectFrom('payments').select(['id', 'state']).execute());
    expect(payments).toEqual([{ id: paymentId, state: 'succeeded' }]);
    const journals = await withTenant(db, tenantId, (tx) =>
      tx
        .selectFrom('ledger_entries')
        .select('journal_id')
        .where('payment_id', '=', paymentId)
        .where('journal_kind', '=', 'payment_received')
        .distinct()
        .execute(),
    );
    expect(journals).toHaveLength(1);
    if (point === 'after-psa-payment-sent') {
      // The restart found ConnectWise already had the payment (check-before-write), rather than writing again.
      const posted = await withTenant(db, tenantId, (tx) => tx.selectFrom('audit_log').select('detail').where('action', '=', 'posting.posted').execute());
      expect(posted.map((p) => (p.detail as { already_recorded: boolean }).already_recorded)).toEqual([true]);
    }
    const allocations = await withTenant(db, tenantId, (tx) => tx.selectFrom('allocations').selectAll().where('payment_id', '=', paymentId).execute());
    expect(allocations).toHaveLength(1);
  });
});
