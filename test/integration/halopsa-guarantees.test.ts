// HaloPSA in a running Settle (real PostgreSQL, the HaloPSA simulator over HTTP), the guarantees ConnectWise
// has: a webhook delivered twice and out of order changes the invoice once and the newest state wins; a
// dropped webhook is made good by the poll; a webhook with bad credentials is refused with 401 and nothing is
// stored; an expired or revoked token is renewed; a wrong client secret becomes an exception that says what
// to fix. (The SIGKILL between payment and write-back: halopsa-write-back.test.ts; the write-back's vendor
// failures: halopsa-write-back-faults.test.ts.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { ensurePsaCallback } from '../../src/engine/psa-callbacks.ts';
import { saveConnection } from '../../src/engine/connections.ts';
import { eventually, type Stack } from '../helpers/stack.ts';
import { startHaloSimulator, type RunningHaloSimulator } from '../../simulators/halopsa/index.ts';
import { psaWorkspace } from './psa-guard-helpers.ts';

let stack: Stack;
let halo: RunningHaloSimulator;
let w: Awaited<ReturnType<typeof psaWorkspace>>;
beforeAll(async () => {
  halo = await startHaloSimulator({ seed: { clients: 2, invoices: 3, seed: 11, paidShare: 0 } });
  w = await psaWorkspace({ vendor: 'halopsa', sim: halo }, { settle: true });
  stack = w.stack;
  await syncPsa(stack.settle!.ctx, w.tenantId);
  const cb = await ensurePsaCallback(stack.settle!.ctx, w.tenantId, stack.settleUrl, 'system:test');
  expect(cb?.vendor).toBe('halopsa');
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await halo?.close();
});
afterEach(async () => {
  Object.assign(halo.sim.webhookOptions, { duplicate: false, reverseBursts: false, burstWindowMs: 50, drop: false, delayMs: 0 });
  await halo.sim.flushWebhooks();
});

const webhookUrl = () => `${stack.settleUrl}/webhooks/${stack.slug}/halopsa`;

async function settleInvoice(remoteId: number) {
  return withTenant(w.db, w.tenantId, (tx) =>
    tx
      .selectFrom('invoices as i')
      .innerJoin('external_refs as r', (j) => j.onRef('r.entity_id', '=', 'i.id').on('r.entity', '=', 'invoice').on('r.system', '=', 'halopsa'))
      .select(['i.id', 'i.number', 'i.total_minor', 'i.status', 'i.current_version'])
      .where('r.remote_id', '=', String(remoteId))
      .execute(),
  );
}

const inboxCount = async (): Promise<number> =>
  (await withTenant(w.db, w.tenantId, (tx) => tx.selectFrom('inbox_events').select('id').where('source', '=', 'halopsa').execute())).length;

const totalMinor = (remoteId: number): bigint => BigInt(halo.state.dueCents(halo.state.invoices.get(remoteId)!));

describe('HaloPSA webhooks in Settle', () => {
  it('created and updated, each delivered twice and newest first: one invoice, at the newest total', async () => {
    Object.assign(halo.sim.webhookOptions, { duplicate: true, reverseBursts: true, burstWindowMs: 300 });
    const before = await inboxCount();
    const inv = halo.sim.createInvoice({ lines: [{ description: 'Backup seats', quantity: '5', unitPrice: '12.00', itemCode: 'BKP' }] });
    halo.sim.updateInvoice(inv.id, { addLines: [{ description: 'Backup overage', quantity: '1', unitPrice: '30.00', itemCode: 'BKO' }] });
    await halo.sim.flushWebhooks();
    const delivered = halo.sim.deliveries.filter((d) => d.objectId === inv.id);
    expect(delivered.map((d) => d.event)).toEqual(['Invoice Updated', 'Invoice Updated', 'Invoice Created', 'Invoice Created']);
    expect(delivered.every((d) => d.status === 200)).toBe(true);
    const rows = await eventually(
      async () => {
        const r = await settleInvoice(inv.id);
        return r.length === 1 && r[0]!.total_minor === totalMinor(inv.id) ? r : null;
      },
      60_000,
      'the invoice in Settle at its newest total',
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.total_minor).toBe(6_000n + 3_000n);
    // Two notices (one per event id), the duplicates stored once.
    expect((await inboxCount()) - before).toBe(2);
    // Every notice processed, and still the one invoice at the newest total.
    await eventually(
      async () => {
        const open = await withTenant(w.db, w.tenantId, (tx) =>
          tx.selectFrom('inbox_events').select('id').where('source', '=', 'halopsa').where('processed_at', 'is', null).execute(),
        );
        return open.length === 0;
      },
      60_000,
      'every Halo notice processed',
    );
    const after = await settleInvoice(inv.id);
    expect(after.map((r) => r.total_minor)).toEqual([9_000n]);
  }, 120_000);

  it('a dropped webhook: the poll still finds the invoice', async () => {
    halo.sim.webhookOptions.drop = true;
    const inv = halo.sim.createInvoice({ lines: [{ description: 'Firewall support', quantity: '1', unitPrice: '80.00', itemCode: 'FW' }] });
    await halo.sim.flushWebhooks();
    expect(halo.sim.deliveries.filter((d) => d.objectId === inv.id).map((d) => d.error)).toEqual(['dropped']);
    expect(await settleInvoice(inv.id)).toEqual([]);
    const summary = await syncPsa(stack.settle!.ctx, w.tenantId);
    expect(summary.created).toBeGreaterThanOrEqual(1);
    expect((await settleInvoice(inv.id)).map((r) => r.total_minor)).toEqual([8_000n]);
  }, 120_000);

  it('a webhook with wrong or missing credentials is refused with 401 and nothing is stored', async () => {
    const before = await inboxCount();
    const body = JSON.stringify({
      id: 'forged-1',
      webhook_id: 'x',
      event: 'Invoice Updated',
      eventno: 302,
      timestamp: new Date().toISOString(),
      object_id: [...halo.state.invoices.keys()][0],
    });
    for (const headers of [{ authorization: `Basic ${Buffer.from('settle:not-the-secret').toString('base64')}` }, {}, { authorization: 'Bearer something' }]) {
      const res = await fetch(webhookUrl(), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_signature');
    }
    expect(await inboxCount()).toBe(before);
  });
});

describe('HaloPSA tokens in Settle', () => {
  it('an expired or revoked token is renewed once and the poll goes on', async () => {
    await syncPsa(stack.settle!.ctx, w.tenantId);
    const before = halo.sim.auth.tokenRequests;
    halo.sim.expireTokens();
    const inv = halo.sim.createInvoice({ lines: [{ description: 'After renewal', quantity: '2', unitPrice: '10.00', itemCode: 'AR' }] });
    await syncPsa(stack.settle!.ctx, w.tenantId);
    expect((await settleInvoice(inv.id)).map((r) => r.total_minor)).toEqual([2_000n]);
    expect(halo.sim.auth.tokenRequests - before).toBe(1);
  }, 120_000);

  it('a wrong client secret: the poll fails with an exception that says what to fix, and it closes once mended', async () => {
    const box = stack.settle!.box;
    const save = (clientSecret: string) =>
      saveConnection(w.db, box, w.tenantId, {
        role: 'psa',
        vendor: 'halopsa',
        config: { baseUrl: halo.baseUrl, clientId: halo.credentials.clientId, tenant: halo.credentials.tenant },
        secrets: { clientSecret },
        actor: 'system:test',
      });
    await save('not-the-secret');
    stack.settle!.ctx.connectors.forget?.(w.tenantId);
    await expect(syncPsa(stack.settle!.ctx, w.tenantId)).rejects.toThrow();
    const open = await eventually(
      async () => {
        const rows = await withTenant(w.db, w.tenantId, (tx) =>
          tx.selectFrom('exceptions').select(['id', 'title', 'detail', 'status']).where('status', '=', 'open').execute(),
        );
        return rows.find((r) => /halo/i.test(`${r.title} ${r.detail}`) && /secret|credential|client/i.test(r.detail)) ?? null;
      },
      30_000,
      'an open exception naming the HaloPSA credentials',
    );
    expect(open.detail).toMatch(/settle connect|settle doctor|Settings/);
    await save(halo.credentials.clientSecret);
    stack.settle!.ctx.connectors.forget?.(w.tenantId);
    await syncPsa(stack.settle!.ctx, w.tenantId);
    await eventually(
      async () => {
        const r = await withTenant(w.db, w.tenantId, (tx) => tx.selectFrom('exceptions').select('status').where('id', '=', open.id).executeTakeFirstOrThrow());
        return r.status === 'resolved';
      },
      30_000,
      'the credentials exception closed',
    );
  }, 120_000);
});
