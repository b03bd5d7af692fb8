// Two MSP workspaces on one Settle: Acme (the stack's workspace) and Bolt, each wired to its own three
// simulators. Both ConnectWise simulators are seeded alike, so the two workspaces even hold invoices with
// the same numbers. Through the API, one workspace's key never sees, reads, links or charges the other's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { createApiKey, createWorkspace } from '../../src/cli/workspace.ts';
import { wireWorkspaceToSimulators, type Simulators } from '../../src/cli/demo/wire-workspace.ts';
import { mirrorInvoicesIntoBooks } from '../../src/cli/demo/demo-activity.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { portalLinkFor } from '../../src/http/portal/links.ts';
import { startConnectWiseSimulator } from '../../simulators/connectwise/index.ts';
import { startStripeSimulator } from '../../simulators/stripe/index.ts';
import { startQuickBooksSimulator } from '../../simulators/quickbooks-online/index.ts';
import { stripeSignatureHeader } from '../../simulators/stripe/webhooks.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let simsB: Simulators;
let tenantB: string;
let keyA: string;
let keyB: string;
/** Ids that belong to Bolt (B). */
const b = { invoiceIds: [] as string[], clientIds: [] as string[], paymentId: '', methodId: '', payInvoiceId: '', chargeInvoiceId: '', clientId: '' };
/** Ids that belong to Acme (A). */
const a = { invoiceIds: [] as string[], clientIds: [] as string[], paymentId: '', methodId: '', invoiceId: '', clientId: '' };

async function portalTokenB(clientId: string): Promise<string> {
  return withTenant(
    stack.database.db,
    tenantB,
    async (tx) => (await portalLinkFor(tx, stack.settleUrl, tenantB, clientId, 3600, SecretBox.fromHex(stack.secretKeyHex))).url.split('/portal/')[1]!,
  );
}

async function savedCardFor(tenantId: string, clientId: string): Promise<string> {
  // Settle has no "save a card" flow yet; a saved method is a processor token on file. pm_card_visa is the
  // processor's reusable test token, so charging it really reaches the simulator.
  return withTenant(
    stack.database.db,
    tenantId,
    async (tx) =>
      (
        await tx
          .insertInto('payment_methods')
          .values({
            tenant_id: tenantId,
            client_id: clientId,
            processor: 'stripe',
            processor_method_id: 'pm_card_visa',
            kind: 'card',
            brand: 'visa',
            last4: '4242',
            funding: 'credit',
            is_default: true,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
  );
}

beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 4 });
  const ctx = stack.settle!.ctx;
  simsB = {
    connectwise: await startConnectWiseSimulator({ seed: { companies: 2, invoices: 4, seed: 42, paidShare: 0 } }),
    stripe: await startStripeSimulator({ achSettleDelayMs: null, searchLagMs: 0 }),
    quickbooks: await startQuickBooksSimulator({}),
  };
  tenantB = await createWorkspace(stack.database.db, {
    slug: 'bolt-it',
    name: 'Bolt IT',
    adminEmail: 'owner@bolt.test',
    adminPassword: 'another horse battery',
    actor: 'system:test',
  });
  await wireWorkspaceToSimulators(stack.database.db, SecretBox.fromHex(stack.secretKeyHex), ctx.connectors, {
    tenantId: tenantB,
    slug: 'bolt-it',
    settleUrl: stack.settleUrl,
    sims: simsB,
  });
  await mirrorInvoicesIntoBooks((await ctx.connectors.psa(tenantB))!, simsB.quickbooks);
  await syncPsa(ctx, tenantB);
  keyA = await stack.apiKey();
  keyB = await createApiKey(stack.database.db, tenantB, 'bolt', 'system:test');

  const invB = await withTenant(stack.database.db, tenantB, (tx) =>
    tx.selectFrom('invoices').select(['id', 'client_id', 'status']).orderBy('number').execute(),
  );
  b.invoiceIds = invB.map((i) => i.id);
  b.clientIds = (await withTenant(stack.database.db, tenantB, (tx) => tx.selectFrom('clients').select('id').execute())).map((c) => c.id);
  const openB = invB.filter((i) => i.status === 'open');
  b.payInvoiceId = openB[0]!.id;
  b.clientId = openB[0]!.client_id;
  b.chargeInvoiceId = openB.find((i) => i.client_id === b.clientId && i.id !== b.payInvoiceId)?.id ?? '';
  expect(b.chargeInvoiceId).not.toBe('');

  const invA = await openInvoices(stack);
  a.invoiceIds = (await withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('invoices').select('id').execute())).map((i) => i.id);
  a.clientIds = (await withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('clients').select('id').execute())).map((c) => c.id);
  a.invoiceId = invA[1]!.id;
  a.clientId = invA[1]!.client_id;

  // One real payment in each workspace, through each one's portal and processor.
  const payA = await payInPortal(stack, await stack.portalToken(invA[0]!.client_id), [invA[0]!.id]);
  a.paymentId = payA.paymentId;
  const res = await fetch(`${stack.settleUrl}/portal/${await portalTokenB(b.clientId)}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ invoice_ids: [b.payInvoiceId], method: 'card' }),
  });
  const started = (await res.json()) as { payment_id: string; client_secret: string };
  expect(res.status).toBe(200);
  const confirm = await fetch(`${simsB.stripe.baseUrl}/v1/payment_intents/${started.client_secret.split('_secret_')[0]}/confirm`, {
    method: 'POST',
    headers: { authorization: `Bearer ${simsB.stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ payment_method: 'pm_card_visa' }).toString(),
  });
  expect(confirm.status).toBe(200);
  b.paymentId = started.payment_id;
  for (const [tenant, id] of [
    [stack.tenantId, a.paymentId],
    [tenantB, b.paymentId],
  ] as const) {
    await eventually(
      () =>
        withTenant(stack.database.db, tenant, (tx) =>
          tx.selectFrom('payments').select('id').where('id', '=', id).where('state', '=', 'succeeded').executeTakeFirst(),
        ),
      15_000,
      'payment succeeded',
    );
  }
  a.methodId = await savedCardFor(stack.tenantId, a.clientId);
  b.methodId = await savedCardFor(tenantB, b.clientId);
}, 30_000);

afterAll(async () => {
  await stack?.close(); // stops Settle before B's simulators go away
  if (simsB) await Promise.allSettled([simsB.connectwise.close(), simsB.stripe.close(), simsB.quickbooks.close()]);
});

async function api(
  key: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> & { data?: Record<string, unknown>[]; error?: { code: string; message: string } } }> {
  const headers: Record<string, string> = {};
  if (key !== null) headers['authorization'] = key.includes(' ') ? key : `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${stack.settleUrl}/api/v1${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as never };
}

const idsOf = (r: { body: { data?: Record<string, unknown>[] } }): string[] => (r.body.data ?? []).map((x) => String(x['id']));

async function paymentCount(tenantId: string): Promise<number> {
  return (await withTenant(stack.database.db, tenantId, (tx) => tx.selectFrom('payments').select('id').execute())).length;
}

describe("one workspace's API key and another workspace's data", () => {
  it('the two workspaces hold invoices with the same numbers, each its own', async () => {
    const numbers = async (t: string) =>
      (await withTenant(stack.database.db, t, (tx) => tx.selectFrom('invoices').select('number').orderBy('number').execute())).map((r) => r.number);
    expect(await numbers(tenantB)).toEqual(await numbers(stack.tenantId));
    expect(b.invoiceIds.some((id) => a.invoiceIds.includes(id))).toBe(false);
  });

  it("lists show only the caller's own invoices, clients, payments, postings and audit entries", async () => {
    const invoices = await api(keyA, 'GET', '/invoices?limit=500');
    expect(invoices.status).toBe(200);
    expect(idsOf(invoices).sort()).toEqual([...a.invoiceIds].sort());
    const byBClient = await api(keyA, 'GET', `/invoices?client_id=${b.clientId}`);
    expect(byBClient.body.data).toEqual([]);

    const clients = await api(keyA, 'GET', '/clients?limit=500');
    expect(idsOf(clients).sort()).toEqual([...a.clientIds].sort());

    const payments = await api(keyA, 'GET', '/payments?limit=500');
    expect(idsOf(payments)).toContain(a.paymentId);
    expect(idsOf(payments)).not.toContain(b.paymentId);

    const postings = await api(keyA, 'GET', '/postings?limit=500');
    const bPostings = await withTenant(stack.database.db, tenantB, (tx) => tx.selectFrom('postings').select('id').execute());
    for (const p of bPostings) expect(idsOf(postings)).not.toContain(String(p.id));

    const auditA = await api(keyA, 'GET', '/audit-log?limit=500');
    const subjects = (auditA.body.data ?? []).map((x) => x['subject_id']);
    expect(subjects).not.toContain(tenantB);
    expect(subjects).not.toContain(b.paymentId);

    // Control: B's own key sees B's rows.
    const invoicesB = await api(keyB, 'GET', '/invoices?limit=500');
    expect(idsOf(invoicesB).sort()).toEqual([...b.invoiceIds].sort());
    expect(idsOf(await api(keyB, 'GET', '/payments'))).toContain(b.paymentId);
  });

  it("reading one of the other workspace's invoices or payments by id is 404, as if it did not exist", async () => {
    for (const path of [`/invoices/${b.payInvoiceId}`, `/payments/${b.paymentId}`]) {
      const r = await api(keyA, 'GET', path);
      expect(r.status, path).toBe(404);
      expect(r.body.error?.code).toBe('not_found');
      expect(JSON.stringify(r.body)).not.toContain(tenantB);
      expect((await api(keyB, 'GET', path)).status, `${path} with its own key`).toBe(200);
    }
    const methods = await api(keyA, 'GET', `/clients/${b.clientId}/payment-methods`);
    expect(methods.body.data).toEqual([]);
    expect(idsOf(await api(keyB, 'GET', `/clients/${b.clientId}/payment-methods`))).toEqual([b.methodId]);
  });

  it("a portal link cannot be made for the other workspace's client", async () => {
    const r = await api(keyA, 'POST', `/clients/${b.clientId}/portal-links`, {});
    expect(r.status).toBe(404);
    expect(r.body.error?.code).toBe('not_found');
    const own = await api(keyB, 'POST', `/clients/${b.clientId}/portal-links`, {});
    expect(own.status).toBe(201);
    expect(String(own.body['url'])).toContain('/portal/');
  });

  it("the other workspace's saved payment method cannot be charged, and nothing reaches either processor", async () => {
    const before = { a: await paymentCount(stack.tenantId), b: await paymentCount(tenantB) };
    const intents = { a: stack.sims.stripe.sim.store.paymentIntents.size, b: simsB.stripe.sim.store.paymentIntents.size };
    // B's method for B's invoice, B's method for A's invoice, A's method for B's invoice.
    const attempts = [
      { payment_method_id: b.methodId, invoices: [{ invoice_id: b.chargeInvoiceId }] },
      { payment_method_id: b.methodId, invoices: [{ invoice_id: a.invoiceId }] },
      { payment_method_id: a.methodId, invoices: [{ invoice_id: b.chargeInvoiceId }] },
    ];
    for (const body of attempts) {
      const r = await api(keyA, 'POST', '/payments', body);
      expect(r.status, JSON.stringify(body)).toBe(404);
      expect(r.body.error?.code).toBe('not_found');
    }
    expect(await paymentCount(stack.tenantId)).toBe(before.a);
    expect(await paymentCount(tenantB)).toBe(before.b);
    expect(stack.sims.stripe.sim.store.paymentIntents.size).toBe(intents.a);
    expect(simsB.stripe.sim.store.paymentIntents.size).toBe(intents.b);

    // Control: B's own key charges it.
    const own = await api(keyB, 'POST', '/payments', attempts[0]);
    expect(own.status).toBe(201);
    expect(own.body['outcome']).toBe('succeeded');
    expect(simsB.stripe.sim.store.paymentIntents.size).toBe(intents.b + 1);
  });

  it("a client's portal link cannot pay the other workspace's invoice", async () => {
    const before = await paymentCount(stack.tenantId);
    const res = await fetch(`${stack.settleUrl}/portal/${await stack.portalToken(a.clientId)}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoice_ids: [b.invoiceIds.at(-1)], method: 'card' }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await paymentCount(stack.tenantId)).toBe(before);
  });

  it("a processor event signed for one workspace is refused at the other workspace's webhook URL", async () => {
    const [secretB] = [...simsB.stripe.sim.webhooks.secrets.values()];
    const event = [...simsB.stripe.sim.store.events.values()].find((e) => e.type === 'payment_intent.succeeded')!;
    const body = JSON.stringify(event);
    const res = await fetch(`${stack.settleUrl}/webhooks/${stack.slug}/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignatureHeader(secretB!, body) },
      body,
    });
    expect(res.status).toBe(401);
  });
});

describe('calls without a valid API key', () => {
  it('no key, a malformed key, an unknown key and another scheme all get 401 saying what to send', async () => {
    const cases: (string | null)[] = [null, 'not-a-key', `stl_${'x'.repeat(32)}`, `Basic ${Buffer.from('user:pass').toString('base64')}`, 'Bearer '];
    for (const key of cases) {
      const r = await api(key, 'GET', '/invoices');
      expect(r.status, String(key)).toBe(401);
      expect(r.body.error?.code).toBe('unauthorized');
      expect(r.body.error?.message).toMatch(/Authorization: Bearer stl_/);
      expect(r.body.error?.message).toMatch(/api-key create/);
      expect(r.body.data).toBeUndefined();
    }
    // Writes are refused the same way, before anything happens.
    const before = await paymentCount(tenantB);
    const w = await api(null, 'POST', '/payments', { payment_method_id: b.methodId, invoices: [{ invoice_id: b.chargeInvoiceId }] });
    expect(w.status).toBe(401);
    expect(await paymentCount(tenantB)).toBe(before);
  });
});
