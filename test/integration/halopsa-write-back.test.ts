// HaloPSA through the whole Settle stack: the workspace's PSA is HaloPSA (its simulator over HTTP), a client
// pays in the portal, and Settle is really killed (SIGKILL) right after sending the payment to Halo, before
// recording that it did. After the restart there is exactly one InvoicePayment in Halo — found by its
// `thirdpartyid` (check before write), not written again — and the invoice reads back paid.
// test/helpers/stack.ts wires ConnectWise; this file swaps the workspace's PSA connection for HaloPSA before
// the first import and leaves the stack helper alone.
import { afterEach, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { saveConnection } from '../../src/engine/connections.ts';
import { ConnectorCache } from '../../src/engine/connections.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { createMailer } from '../../src/notify/mailer.ts';
import { mirrorInvoicesIntoBooks } from '../../src/cli/demo/demo-activity.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { startSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import { freePort } from '../helpers/ports.ts';
import { startHaloSimulator, type RunningHaloSimulator } from '../../simulators/halopsa/index.ts';

let stack: Stack | null = null;
let halo: RunningHaloSimulator | null = null;
let running: SettleProcess | null = null;
afterEach(async () => {
  running?.child.kill('SIGKILL');
  await running?.exited;
  running = null;
  await stack?.close();
  await halo?.close();
  stack = null;
  halo = null;
});

describe('HaloPSA write-back across a SIGKILL', () => {
  it('killed after the payment was sent to Halo: exactly one InvoicePayment, found again after the restart', async () => {
    const port = await freePort();
    stack = await startStack({ settle: false, settlePort: port, companies: 1, invoices: 0 });
    halo = await startHaloSimulator({ seed: { clients: 2, invoices: 4, seed: 8, paidShare: 0 } });
    const db = stack.database.db;
    const tenantId = stack.tenantId;
    const box = SecretBox.fromHex(stack.secretKeyHex);
    await saveConnection(db, box, tenantId, {
      role: 'psa',
      vendor: 'halopsa',
      config: { baseUrl: halo.baseUrl, clientId: halo.credentials.clientId, tenant: halo.credentials.tenant },
      secrets: { clientSecret: halo.credentials.clientSecret },
      actor: 'system:test',
    });
    const connectors = new ConnectorCache(db, box);
    const psa = (await connectors.psa(tenantId))!;
    expect(psa.vendor).toBe('halopsa');
    await mirrorInvoicesIntoBooks(psa, stack.sims.quickbooks);
    const log = createLogger('silent');
    await syncPsa(
      { db, connectors, log, publicUrl: stack.settleUrl, now: () => new Date(), mailer: createMailer(undefined), mailFrom: stack.config.SETTLE_MAIL_FROM },
      tenantId,
    );

    running = await startSettleProcess(stack, port, { SETTLE_CRASH_AT: 'after-psa-payment-sent' });
    const [invoice] = await openInvoices(stack);
    expect(halo.state.invoices.has(Number(invoice!.remote))).toBe(true);
    const token = await stack.portalToken(invoice!.client_id);
    const { paymentId } = await payInPortal(stack, token, [invoice!.id]);

    const how = await Promise.race([running.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
    expect(how, running.output()).toBe('SIGKILL');
    expect(halo.sim.paymentsFor(Number(invoice!.remote))).toHaveLength(1); // sent, then killed before recording it

    running = await startSettleProcess(stack, port);
    await eventually(
      async () => {
        const rows = await withTenant(db, tenantId, (tx) =>
          tx.selectFrom('postings').select(['status', 'target']).where('payment_id', '=', paymentId).execute(),
        );
        return rows.length === 2 && rows.every((r) => r.status === 'posted');
      },
      60_000,
      `postings of payment ${paymentId} posted after restart`,
    );
    const payments = halo.sim.paymentsFor(Number(invoice!.remote));
    expect(payments).toHaveLength(1);
    expect(BigInt(payments[0]!.amountCents)).toBe(invoice!.total_minor);
    const posted = await withTenant(db, tenantId, (tx) => tx.selectFrom('audit_log').select('detail').where('action', '=', 'posting.posted').execute());
    const psaPosted = posted.map((p) => p.detail as { vendor: string; already_recorded: boolean }).filter((d) => d.vendor === 'halopsa');
    expect(psaPosted.map((d) => d.already_recorded)).toEqual([true]);
    const inv = await withTenant(db, tenantId, (tx) =>
      tx.selectFrom('invoices').select(['status', 'psa_balance_minor']).where('id', '=', invoice!.id).executeTakeFirstOrThrow(),
    );
    expect(inv.psa_balance_minor).toBe(0n);

    // Refunds reach Halo as reversals of that payment: a part lowers it, the rest removes it.
    const key = await stack.apiKey();
    const refund = async (amountMinor: string, idempotencyKey: string): Promise<void> => {
      const res = await fetch(`${stack!.settleUrl}/api/v1/payments/${paymentId}/refunds`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify({ amount_minor: amountMinor, reason: 'a seat was cancelled' }),
      });
      expect(res.status, await res.text()).toBe(201);
    };
    await refund('500', 'halo-refund-part');
    await eventually(
      async () => halo!.sim.paymentsFor(Number(invoice!.remote))[0]?.amountCents === Number(invoice!.total_minor) - 500,
      60_000,
      'the Halo payment lowered by the refund',
    );
    await refund(String(invoice!.total_minor - 500n), 'halo-refund-rest');
    await eventually(async () => halo!.sim.paymentsFor(Number(invoice!.remote)).length === 0, 60_000, 'the Halo payment removed by the full refund');
    expect(halo.state.dueCents(halo.state.invoices.get(Number(invoice!.remote))!)).toBe(Number(invoice!.total_minor));
  }, 300_000);
});
