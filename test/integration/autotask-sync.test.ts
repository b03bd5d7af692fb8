// Autotask through the Settle stack (real PostgreSQL, the Autotask simulator over HTTP). The workspace's PSA
// connection is swapped for Autotask before the first import (test/helpers/stack.ts wires ConnectWise).
// 1. An import, then a voided and a paid invoice in Autotask — which has no last-modified on invoices — are
//    noticed by the next poll and change Settle's invoices.
// 2. Settle is killed (SIGKILL) right after sending the payment to Autotask, before recording that it did:
//    after the restart there is exactly one payment note (found by our reference, not written again), the
//    invoice carries its PaidDate once, and Settle sees it paid.
import { afterEach, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { ConnectorCache, saveConnection } from '../../src/engine/connections.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { createMailer } from '../../src/notify/mailer.ts';
import { mirrorInvoicesIntoBooks } from '../../src/cli/demo/demo-activity.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { startSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import { freePort } from '../helpers/ports.ts';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../simulators/autotask/index.ts';

let stack: Stack | null = null;
let at: RunningAutotaskSimulator | null = null;
let running: SettleProcess | null = null;
afterEach(async () => {
  running?.child.kill('SIGKILL');
  await running?.exited;
  running = null;
  await stack?.close();
  await at?.close();
  stack = null;
  at = null;
});

async function autotaskWorkspace(port?: number) {
  stack = await startStack({ settle: false, ...(port ? { settlePort: port } : {}), companies: 1, invoices: 0 });
  at = await startAutotaskSimulator({ seed: { companies: 2, invoices: 4 }, limits: { latencyAtHalfMs: 0, latencyAtThreeQuartersMs: 0 } });
  const db = stack.database.db;
  const box = SecretBox.fromHex(stack.secretKeyHex);
  await saveConnection(db, box, stack.tenantId, {
    role: 'psa',
    vendor: 'autotask',
    config: { username: at.credentials.username, integrationCode: at.credentials.integrationCode, globalUrl: at.baseUrl },
    secrets: { secret: at.credentials.secret },
    actor: 'system:test',
  });
  const connectors = new ConnectorCache(db, box);
  const ctx = {
    db,
    connectors,
    log: createLogger('silent'),
    publicUrl: stack.settleUrl,
    now: () => new Date(),
    mailer: createMailer(undefined),
    mailFrom: stack.config.SETTLE_MAIL_FROM,
  };
  return { db, ctx, connectors, tenantId: stack.tenantId };
}

const statusOf = async (db: Stack['database']['db'], tenantId: string, number: string) =>
  withTenant(db, tenantId, (tx) =>
    tx.selectFrom('invoices').select(['status', 'psa_balance_minor', 'total_minor']).where('number', '=', number).executeTakeFirstOrThrow(),
  );

describe('Autotask in the Settle stack', () => {
  it('imports companies and invoices, then notices a voided and a paid invoice on the next poll', async () => {
    const { db, ctx, tenantId } = await autotaskWorkspace();
    const first = await syncPsa(ctx, tenantId);
    expect(first).toMatchObject({ clients: 2, invoices: 4, created: 4 });
    const [a, b] = [...at!.sim.state.table('Invoices').values()];
    expect((await statusOf(db, tenantId, String(a!.InvoiceNumber))).status).toBe('open');
    at!.sim.changeInvoice(a!.Id, { void: true });
    at!.sim.changeInvoice(b!.Id, { paidDate: new Date().toISOString() });
    const second = await syncPsa(ctx, tenantId);
    expect(second.invoices).toBeGreaterThanOrEqual(2);
    expect((await statusOf(db, tenantId, String(a!.InvoiceNumber))).status).toBe('void');
    const paid = await statusOf(db, tenantId, String(b!.InvoiceNumber));
    expect(paid).toMatchObject({ status: 'paid', psa_balance_minor: 0n });
  }, 300_000);

  it('killed after the payment was sent to Autotask: exactly one payment note and one PaidDate after the restart', async () => {
    const port = await freePort();
    const { db, ctx, connectors, tenantId } = await autotaskWorkspace(port);
    const psa = (await connectors.psa(tenantId))!;
    expect(psa.vendor).toBe('autotask');
    await mirrorInvoicesIntoBooks(psa, stack!.sims.quickbooks);
    await syncPsa(ctx, tenantId);

    running = await startSettleProcess(stack!, port, { SETTLE_CRASH_AT: 'after-psa-payment-sent' });
    const [invoice] = await openInvoices(stack!);
    const token = await stack!.portalToken(invoice!.client_id);
    const { paymentId } = await payInPortal(stack!, token, [invoice!.id]);
    const how = await Promise.race([running.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
    expect(how, running.output()).toBe('SIGKILL');
    const notesFor = () => at!.sim.notes().filter((n) => String(n.Note).includes(`settle:payment invoice=${invoice!.remote} `));
    expect(notesFor()).toHaveLength(1); // sent, then killed before recording it

    running = await startSettleProcess(stack!, port);
    await eventually(
      async () => {
        const rows = await withTenant(db, tenantId, (tx) =>
          tx.selectFrom('postings').select(['status', 'target']).where('payment_id', '=', paymentId).execute(),
        );
        return rows.length === 2 && rows.every((r) => r.status === 'posted');
      },
      90_000,
      `postings of payment ${paymentId} posted after restart`,
    );
    expect(notesFor()).toHaveLength(1);
    expect(at!.sim.state.table('Invoices').get(Number(invoice!.remote))?.PaidDate).toBeTruthy();
    const posted = await withTenant(db, tenantId, (tx) => tx.selectFrom('audit_log').select('detail').where('action', '=', 'posting.posted').execute());
    const psaPosted = posted.map((p) => p.detail as { vendor: string; already_recorded: boolean }).filter((d) => d.vendor === 'autotask');
    expect(psaPosted.map((d) => d.already_recorded)).toEqual([true]);
    expect((await statusOf(db, tenantId, invoice!.number)).psa_balance_minor).toBe(0n);
  }, 300_000);
});
