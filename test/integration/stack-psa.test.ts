// test/helpers/stack.ts with Autotask or HaloPSA as the workspace's PSA: the workspace is connected through
// the product's own door (engine/connect-system.ts, as `settle connect psa …`), the PSA's webhook is
// registered at its simulator, the first import brings the seeded invoices in, and a portal payment is
// written back to that PSA.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, openInvoices, payInPortal, startStack, type AnyStack } from '../helpers/stack.ts';
import { startHaloSimulator } from '../../simulators/halopsa/index.ts';

let stack: AnyStack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

describe('test stack on Autotask', () => {
  it('imports the seeded invoices, registers the company webhook, and a portal payment is noted in Autotask', async () => {
    const s = await startStack({ psa: 'autotask', companies: 2, invoices: 4 });
    stack = s;
    expect(s.psa).toBe('autotask');
    const hooks = [...s.sims.autotask.sim.state.table('CompanyWebhooks').values()];
    expect(hooks.map((h) => h['WebhookUrl'])).toEqual([`${s.settleUrl}/webhooks/${s.slug}/autotask`]);
    const open = await openInvoices(s);
    expect(open.length).toBe(4);
    const token = await s.portalToken(open[0]!.client_id);
    await payInPortal(s, token, [open[0]!.id]);
    const note = await eventually(
      async () => s.sims.autotask.sim.notes().find((n) => JSON.stringify(n).includes(open[0]!.number)),
      60_000,
      'the payment note in Autotask',
    );
    expect(note).toBeTruthy();
  });
});

describe('test stack on HaloPSA', () => {
  it('imports the seeded invoices, registers the webhook, and a portal payment becomes an InvoicePayment in Halo', async () => {
    const s = await startStack({ psa: 'halopsa', companies: 2, invoices: 4 });
    stack = s;
    expect(s.psa).toBe('halopsa');
    const hooks = [...s.sims.halopsa.state.webhooks.values()];
    expect(hooks.map((h) => h.url)).toEqual([`${s.settleUrl}/webhooks/${s.slug}/halopsa`]);
    const open = await openInvoices(s);
    expect(open.length).toBeGreaterThan(0);
    const token = await s.portalToken(open[0]!.client_id);
    await payInPortal(s, token, [open[0]!.id]);
    const paid = await eventually(async () => s.sims.halopsa.sim.paymentsFor(Number(open[0]!.remote)).length, 60_000, 'the InvoicePayment in Halo');
    expect(paid).toBe(1);
  });
});

describe('test stack on a PSA simulator the caller started', () => {
  it('connects the workspace to it and leaves it running on close', async () => {
    const halo = await startHaloSimulator({ seed: { clients: 1, invoices: 2, seed: 3, paidShare: 0 }, rateLimit: null });
    try {
      const s = await startStack({ psa: 'halopsa', psaSimulator: halo, settle: false });
      stack = s;
      expect(s.sims.halopsa).toBe(halo);
      expect([...halo.state.webhooks.values()].map((h) => h.url)).toEqual([`${s.settleUrl}/webhooks/${s.slug}/halopsa`]);
      expect(await openInvoices(s)).toHaveLength(2);
      await s.close();
      stack = null;
      expect((await fetch(`${halo.baseUrl}/_sim/payments`)).status).toBe(200);
    } finally {
      await halo.close();
    }
  });
});
