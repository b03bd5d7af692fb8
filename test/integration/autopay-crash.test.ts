// Settle is killed with SIGKILL in the middle of an autopay run — once right after a charge was planned (the
// payment, attempt and key committed, Stripe not yet called) and once right after Stripe answered (the answer
// not yet recorded) — and started again. Afterwards every due invoice has been charged exactly once: the
// killed run's job runs again, re-sends the interrupted charge with the same idempotency key (Stripe returns
// the first charge instead of making a second), and charges the invoices it had not reached.
import { afterEach, describe, expect, it } from 'vitest';
import type { CrashPoint } from '../../src/engine/crash-points.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import { apiFor, enableAutopay, intentsForInvoice, newCompany, newInvoice, product, q, saveCard, todayUtc } from '../helpers/autopay.ts';
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

const INVOICES = 4;

describe('SIGKILL during an autopay run, then restart', () => {
  it.each<CrashPoint>(['autopay-after-charge-planned', 'autopay-after-charge-sent'])(
    'killed at %s: every due invoice charged exactly once',
    async (point) => {
      const port = await freePort();
      stack = await startStack({ settle: false, settlePort: port });
      const s = stack;
      running = await startSettleProcess(s, port, { SETTLE_CRASH_AT: point });
      const api = apiFor(s, await s.apiKey());
      const today = todayUtc();
      await api('PUT', '/autopay/settings', { notice_days: 0, jump_percent: null });
      await api('POST', '/autopay/rules', { name: 'On the due date' });
      const company = newCompany(s, `Crash ${point}`);
      const invoices = [];
      for (let i = 0; i < INVOICES; i++)
        invoices.push(await newInvoice(s, company, { date: today, dueDate: today, lines: [product(`Managed seat ${i}`, `${50 + i}.00`)] }));
      await saveCard(s, api, invoices[0]!.clientId);
      await enableAutopay(api, invoices[0]!.clientId);

      // Stripe retries a failed webhook within seconds in the simulator (hours in life): off here, so that after the
      // kill the restarted run — not a retried webhook racing it — is what settles the interrupted charge.
      if (point === 'autopay-after-charge-sent') s.sims.stripe.sim.setDelivery({ retryDelaysMs: [] });
      expect((await api('POST', '/autopay/runs')).status).toBe(202);
      const how = await Promise.race([running.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
      expect(how, running.output()).toBe('SIGKILL');
      const killedAt = Date.now();
      expect(running.output()).toContain(`SETTLE_CRASH_AT=${point}`);
      const sentBeforeCrash = (await Promise.all(invoices.map((inv) => intentsForInvoice(s, inv.id)))).flat().length;
      if (point === 'autopay-after-charge-planned') expect(sentBeforeCrash).toBe(0);
      else expect(sentBeforeCrash).toBeGreaterThanOrEqual(1);
      const charging = await q(s, (tx) => tx.selectFrom('autopay_schedules').select('state').where('state', '=', 'charging').execute());
      expect(charging.length).toBeGreaterThanOrEqual(1);

      running = await startSettleProcess(s, port);
      await eventually(
        async () => {
          const rows = await q(s, (tx) => tx.selectFrom('autopay_schedules').select('state').execute());
          return rows.length === INVOICES && rows.every((r) => r.state === 'charged');
        },
        40_000,
        'every schedule charged after the restart',
      );

      // The interrupted charge was sent again with its own key (Stripe replayed its first answer). Stripe's webhook
      // retries are off for this case (see above), so only a webhook that reached the first process before it died
      // could have settled it instead — then the delivery record shows a 2xx.
      if (point === 'autopay-after-charge-sent') {
        const delivered = s.sims.stripe.sim.webhooks.deliveries.some(
          (d) => d.type === 'payment_intent.succeeded' && d.at < killedAt && (d.status ?? 0) < 300 && d.status !== null,
        );
        if (!delivered) expect(running.output()).toContain('re-sent a charge whose answer was lost');
      }
      for (const inv of invoices) {
        expect(await intentsForInvoice(s, inv.id)).toEqual([expect.objectContaining({ amount: Number(inv.totalMinor), status: 'succeeded' })]);
      }
      const payments = await q(s, (tx) => tx.selectFrom('payments').select('state').where('source', '=', 'autopay').execute());
      expect(payments.map((p) => p.state)).toEqual(Array(INVOICES).fill('succeeded'));
      const charges = [...s.sims.stripe.sim.store.charges.values()].filter((c) => (c as { status: string }).status === 'succeeded');
      expect(charges).toHaveLength(INVOICES);
      // Generous: two Settle processes start here, and its own waits (20 s + 40 s) exceed the default 30 s on a busy machine.
    },
    180_000,
  );
});
