// The class / location mapping end to end (issue #9, GL mapping): saved through the engine path the settings
// page uses, then a refund's reversing journal entry and the payout's deposit carry the mapped class and
// location in QuickBooks. A class made inactive in QuickBooks meanwhile: the deposit is not posted, and a
// person sees an exception that says which setting to change — not a silent failure; once the class is
// active again, a retry posts the deposit with it and the exception closes itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { BOOKS_ACCOUNT_SETTINGS, saveBooksAccounts } from '../../src/engine/books-accounts.ts';
import { checkQuickBooksAccounts } from '../../src/engine/vendor-checks.ts';
import { QuickBooksOnlineConnector } from '../../src/connectors/accounting/quickbooks-online/connector.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

type Json = Record<string, any>;
let stack: Stack;
let key: string;
beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 2 });
  key = await stack.apiKey();
}, 300_000);
afterAll(async () => stack?.close());

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const postings = (paymentId: string) => q((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', paymentId).execute());
const api = async (method: string, path: string, body?: unknown, idempotencyKey?: string) => {
  const res = await fetch(`${stack.settleUrl}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Json };
};

describe('class and location on what Settle posts to QuickBooks', () => {
  it('a reversal and a deposit carry the mapping; an inactive class is an exception that names the fix, and a retry posts', { timeout: 240_000 }, async () => {
    const qbo = stack.sims.quickbooks.sim;
    qbo.setTracking({ classes: 'line', departments: true });
    const cls = qbo.ensureTracking('Class', 'Managed services');
    const loc = qbo.ensureTracking('Department', 'East office');

    // Saved as Settings → Accounts saves it: the accounts as they are, plus a class and a location.
    const config = (await q((tx) => tx.selectFrom('connections').select('config').where('role', '=', 'accounting').executeTakeFirstOrThrow())).config as Json;
    const accounts = Object.fromEntries(BOOKS_ACCOUNT_SETTINGS.map((st) => [st.key, typeof config[st.key] === 'string' ? String(config[st.key]) : '']));
    const deps = { db: stack.database.db, box: SecretBox.fromHex(stack.secretKeyHex), connectors: stack.settle!.ctx.connectors };
    const saved = await saveBooksAccounts(deps, stack.tenantId, { ...accounts, classId: cls.Id, departmentId: loc.Id }, 'system:test');
    expect(saved.changed.sort()).toEqual(['classId', 'departmentId']);
    await expect(saveBooksAccounts(deps, stack.tenantId, { ...accounts, classId: '9999' }, 'system:test')).rejects.toThrow(/9999 is not an active class/);

    // A card payment, then a partial refund: the reversing journal entry carries class and location.
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId } = await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
    await eventually(async () => (await postings(paymentId)).some((p) => p.target === 'accounting' && p.status === 'posted'), 60_000, 'payment in QuickBooks');
    const refund = await api('POST', `/payments/${paymentId}/refunds`, { amount_minor: '1000', reason: 'one seat cancelled' }, 'tracking-refund-1');
    expect(refund.status).toBeLessThan(300);
    await eventually(
      async () => (await postings(paymentId)).some((p) => p.target === 'accounting' && p.kind === 'refund' && p.status === 'posted'),
      60_000,
      'the refund’s reversal in QuickBooks',
    );
    const je = qbo.journalEntries().at(-1) as Json;
    expect(je['DepartmentRef']).toEqual({ value: loc.Id, name: 'East office' });
    for (const line of je['Line'] as Json[]) {
      expect(line['JournalEntryLineDetail']).toMatchObject({ ClassRef: { value: cls.Id, name: 'Managed services' }, DepartmentRef: { value: loc.Id } });
    }

    // The bookkeeper makes the class inactive in QuickBooks; then the processor pays out.
    qbo.setTrackingActive('Class', cls.Id, false);
    const payout = stack.sims.stripe.sim.runPayouts();
    expect(payout).not.toBeNull();
    const exception = await eventually(
      () =>
        q((tx) =>
          tx
            .selectFrom('exceptions')
            .select(['id', 'kind', 'status', 'title', 'detail', 'data'])
            .where('status', '=', 'open')
            .where('kind', '=', 'posting_failed')
            .executeTakeFirst(),
        ),
      90_000,
      'an exception about the deposit',
    );
    expect(exception.title).toContain('deposit');
    expect(exception.detail).toContain('The class “Managed services” mapped in Settings → Accounts is inactive in QuickBooks');
    expect(exception.detail).toContain('choose another class or “None” in Settings → Accounts, then retry');
    expect(qbo.deposits()).toEqual([]);
    // `settle doctor` / Test connection says the same.
    const books = await stack.settle!.ctx.connectors.accounting(stack.tenantId);
    expect(books).toBeInstanceOf(QuickBooksOnlineConnector);
    const savedConfig = (await q((tx) => tx.selectFrom('connections').select('config').where('role', '=', 'accounting').executeTakeFirstOrThrow()))
      .config as Json;
    await expect(checkQuickBooksAccounts((books as QuickBooksOnlineConnector).api, savedConfig, stack.slug)).rejects.toThrow(
      /class “Managed services” mapped in Settings → Accounts is inactive/,
    );

    // Active again: a retry posts the deposit, with the class on its lines and the location on it.
    qbo.setTrackingActive('Class', cls.Id, true);
    const postingId = String((exception.data as Json)['posting_id']);
    expect((await api('POST', `/postings/${postingId}/retry`)).status).toBeLessThan(300);
    const deposit = (await eventually(async () => qbo.deposits()[0], 60_000, 'the deposit after the retry')) as Json;
    expect(deposit['DepartmentRef']).toEqual({ value: loc.Id, name: 'East office' });
    const detailed = (deposit['Line'] as Json[]).filter((l) => l['DepositLineDetail']);
    expect(detailed.length).toBeGreaterThan(0);
    for (const l of detailed) expect(l['DepositLineDetail']['ClassRef']).toEqual({ value: cls.Id, name: 'Managed services' });
    await eventually(
      async () => (await q((tx) => tx.selectFrom('exceptions').select('status').where('id', '=', exception.id).executeTakeFirstOrThrow())).status !== 'open',
      60_000,
      'the exception closed itself',
    );
  });
});
