// QuickBooks Online misbehaving while Settle posts a payment: throttled (429, with and without
// Retry-After), failing (500), losing the answer after writing, and refusing an expired access token.
// Whatever happens, exactly one Payment ends up in the books, the posting ends `posted`, and a rotated
// refresh token is saved sealed before the old one stops working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { throttleBody } from '../../simulators/quickbooks-online/faults.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 9 });
});
afterAll(async () => stack?.close());

const POST_ENTITY = 'POST /v3/company/:realmId/:entity';

interface QboSecrets {
  refreshToken: string;
  accessToken: string;
  accessTokenExpiresAt: number;
}

/** The accounting connection's secrets as stored: sealed, and opened only with the tenant-bound context. */
async function storedSecrets(): Promise<{ sealed: string; secrets: QboSecrets }> {
  const row = await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('connections').select('secrets_ciphertext').where('role', '=', 'accounting').executeTakeFirstOrThrow(),
  );
  const box = SecretBox.fromHex(stack.secretKeyHex);
  return { sealed: row.secrets_ciphertext, secrets: box.open<QboSecrets>(row.secrets_ciphertext, `connection:${stack.tenantId}:accounting`) };
}

/** Ask Intuit's token endpoint (the simulator) to refresh with `refreshToken`; only ever called with a retired one. */
async function refreshWith(refreshToken: string): Promise<{ status: number; error: unknown }> {
  const q = stack.sims.quickbooks;
  const res = await fetch(q.oauthTokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${q.clientId}:${q.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
  });
  const body = (await res.json()) as { error?: unknown };
  return { status: res.status, error: body.error };
}

/** QuickBooks Payments applied to the books' invoice with this number. */
function booksPaymentsFor(invoiceNumber: string): Record<string, unknown>[] {
  const q = stack.sims.quickbooks.sim;
  const inv = q.invoices().find((i) => i['DocNumber'] === invoiceNumber);
  if (!inv) throw new Error(`invoice ${invoiceNumber} is not in the simulated books`);
  return q
    .payments()
    .filter((p) =>
      (p['Line'] as { LinkedTxn?: { TxnId: string; TxnType: string }[] }[]).some((l) =>
        l.LinkedTxn?.some((t) => t.TxnType === 'Invoice' && t.TxnId === inv['Id']),
      ),
    );
}

async function accountingPostings(paymentId: string): Promise<{ status: string; remote_id: string | null; attempts: number; invoice_id: string | null }[]> {
  return withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx
      .selectFrom('postings')
      .select(['status', 'remote_id', 'attempts', 'invoice_id'])
      .where('payment_id', '=', paymentId)
      .where('target', '=', 'accounting')
      .execute(),
  );
}

/** Pay `invoices` (one client's) in the portal and wait until every accounting posting of the payment is posted. */
async function payAndWaitForBooks(invoices: { id: string; client_id: string }[], timeoutMs = 15_000): Promise<{ paymentId: string; ms: number }> {
  const started = Date.now();
  const token = await stack.portalToken(invoices[0]!.client_id);
  const { paymentId } = await payInPortal(
    stack,
    token,
    invoices.map((i) => i.id),
  );
  await eventually(
    async () => {
      const rows = await accountingPostings(paymentId);
      return rows.length === invoices.length && rows.every((r) => r.status === 'posted') ? rows : null;
    },
    timeoutMs,
    `accounting postings of ${paymentId} posted`,
  );
  return { paymentId, ms: Date.now() - started };
}

const callCount = (key: string): number => stack.sims.quickbooks.sim.calls.counts.get(key) ?? 0;

describe('QuickBooks Online faults while a payment is posted', () => {
  it('429 ThrottleExceeded twice with Retry-After: 1 → waits as told, then exactly one Payment; the first refresh rotates and saves the refresh token sealed', async () => {
    const q = stack.sims.quickbooks;
    const initial = q.initialRefreshToken;
    const before = await storedSecrets();
    expect(before.secrets.refreshToken).toBe(initial);
    expect(before.sealed).not.toContain(initial); // sealed, not plain text

    const [invoice] = await openInvoices(stack);
    const posts = callCount(POST_ENTITY);
    q.sim.faults.add({
      method: 'POST',
      pathPattern: '/payment$',
      fault: { kind: 'status', status: 429, headers: { 'Retry-After': '1' }, body: throttleBody() },
      times: 2,
    });
    const { paymentId, ms } = await payAndWaitForBooks([invoice!]);

    // Two throttled attempts and one that went through; at least the two 1 s waits passed (not 60 s).
    expect(callCount(POST_ENTITY) - posts).toBe(3);
    expect(ms).toBeGreaterThanOrEqual(2000);
    const mine = booksPaymentsFor(invoice!.number);
    expect(mine).toHaveLength(1);
    const [posting] = await accountingPostings(paymentId);
    expect(posting!.remote_id).toBe(String(mine[0]!['Id']));

    // The first call to the books refreshed the tokens: Intuit rotated the refresh token, Settle saved it
    // (sealed, bound to this tenant's accounting connection) and the old one is now refused.
    const after = await storedSecrets();
    expect(after.secrets.refreshToken).not.toBe(initial);
    expect(after.sealed).not.toContain(after.secrets.refreshToken);
    expect(q.sim.auth.isRefreshTokenUsable(after.secrets.refreshToken)).toBe(true);
    expect(q.sim.accessTokenUses(after.secrets.accessToken)).toBeGreaterThan(0);
    expect(() => SecretBox.fromHex(stack.secretKeyHex).open(after.sealed, `connection:${stack.tenantId}:payments`)).toThrow();
    expect(await refreshWith(initial)).toEqual({ status: 400, error: 'invalid_grant' });
  });

  it('429 without Retry-After (as Intuit really answers) → waits the configured throttleWaitMs, not 60 s', async () => {
    // Intuit sends no Retry-After and says wait 60 s; the connection setting shortens that wait.
    await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx
        .updateTable('connections')
        .set({ config: sql`config || '{"throttleWaitMs": 700}'::jsonb` })
        .where('role', '=', 'accounting')
        .execute(),
    );
    stack.settle!.ctx.connectors.forget(stack.tenantId);
    const q = stack.sims.quickbooks;
    const [invoice] = await openInvoices(stack);
    const posts = callCount(POST_ENTITY);
    q.sim.faults.add({ method: 'POST', pathPattern: '/payment$', fault: { kind: 'status', status: 429, body: throttleBody() }, times: 2 });
    const { ms } = await payAndWaitForBooks([invoice!]);
    expect(callCount(POST_ENTITY) - posts).toBe(3);
    expect(ms).toBeGreaterThanOrEqual(1400);
    expect(booksPaymentsFor(invoice!.number)).toHaveLength(1);
  });

  // A payment of two invoices is two Payment writes; a few ready at once go as separate POST /payment calls (the
  // /batch allowance is the scarcer, payment-writes.ts), so the fault is on those writes.
  it('500 twice on the writes of a two-invoice payment → retried, each invoice gets exactly one Payment', async () => {
    const open = await openInvoices(stack);
    const byClient = new Map<string, typeof open>();
    for (const i of open) byClient.set(i.client_id, [...(byClient.get(i.client_id) ?? []), i]);
    const pair = [...byClient.values()].find((l) => l.length >= 2)!.slice(0, 2);
    expect(pair).toHaveLength(2);
    const q = stack.sims.quickbooks;
    const writes = callCount(POST_ENTITY);
    q.sim.faults.add({
      method: 'POST',
      pathPattern: '/payment$',
      fault: {
        kind: 'status',
        status: 500,
        body: {
          Fault: {
            Error: [{ Message: 'An application error has occurred while processing your request', Detail: 'System Failure Error: simulated', code: '10000' }],
            type: 'SystemFault',
          },
        },
      },
      times: 2,
    });
    const { paymentId } = await payAndWaitForBooks(pair);
    // Two refused, then each written once (a retry looks for an earlier write first: none was made).
    expect(callCount(POST_ENTITY) - writes).toBe(4);
    for (const inv of pair) expect(booksPaymentsFor(inv.number)).toHaveLength(1);
    const postings = await accountingPostings(paymentId);
    expect(new Set(postings.map((p) => p.remote_id)).size).toBe(2);
  });

  it('the answer to a Payment write is lost after QuickBooks wrote it → the retry replays (requestid), no second Payment', async () => {
    const q = stack.sims.quickbooks;
    const [invoice] = await openInvoices(stack);
    const executed = q.sim.stats.executed;
    q.sim.loseAnswers('/payment$', 1);
    await payAndWaitForBooks([invoice!]);
    expect(booksPaymentsFor(invoice!.number)).toHaveLength(1);
    expect(q.sim.stats.replayed).toBeGreaterThan(0);
    expect(q.sim.stats.executed).toBeGreaterThan(executed);
  });

  it('expired access token → one refresh (401 → rotate → save → retry), exactly one Payment, the previous refresh token refused', async () => {
    const q = stack.sims.quickbooks;
    const before = (await storedSecrets()).secrets;
    const refreshes = q.sim.auth.log.length;
    q.sim.expireAccessTokens();
    const [invoice] = await openInvoices(stack);
    const { paymentId } = await payAndWaitForBooks([invoice!]);

    expect(booksPaymentsFor(invoice!.number)).toHaveLength(1);
    expect((await accountingPostings(paymentId))[0]!.status).toBe('posted');
    const newExchanges = q.sim.auth.log.slice(refreshes);
    expect(newExchanges).toHaveLength(1);
    expect(newExchanges[0]).toMatchObject({ grant: 'refresh_token', refreshToken: before.refreshToken });

    const after = (await storedSecrets()).secrets;
    expect(after.refreshToken).toBe(newExchanges[0]!.issuedRefreshToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(q.sim.accessTokenUses(after.accessToken)).toBeGreaterThan(0);
    expect(await refreshWith(before.refreshToken)).toEqual({ status: 400, error: 'invalid_grant' });
    expect(q.sim.auth.isRefreshTokenUsable(after.refreshToken)).toBe(true);
  });
});
