// Failed payments, the client and the staff: a hard decline (stolen card) is never retried; the client gets
// an email with a link to save a new method (no word of "stolen"); ConnectWise shows a flagged company
// note; the exception is listed. The link expires; an expired, altered or portal link is refused. Through
// the link (HTTP, as the page's script does it) the client saves a new card in the hosted fields: it
// becomes the default and the failed invoice is collected at once; the exception closes itself. Staff can
// dismiss an exception (audited).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { updateMethodLinkFor } from '../../src/notify/update-method-link.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { api, charge, decodeQp, failureOf, intentsFor, q, retryJobRunAt, savedCard, type Failure } from '../helpers/failed-payments.ts';

let smtp: TestSmtp;
let stack: Stack;
let apiKey: string;
beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ smtpUrl: smtp.url, companies: 3, invoices: 6 });
  apiKey = await stack.apiKey();
});
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

let hard: { failure: Failure; invoice: Awaited<ReturnType<typeof openInvoices>>[number]; link: string };

describe('hard decline', () => {
  it('stolen_card: never retried; the client is emailed a generic decline with an update link; ConnectWise shows a flagged note; the exception is listed', async () => {
    const [invoice] = await openInvoices(stack);
    const card = await savedCard(stack, invoice!.client_id, 'pm_card_chargeDeclinedStolenCard');
    const r = await charge(stack, apiKey, card, [invoice!.id]);
    expect(r.outcome).toBe('declined');
    const failure = await failureOf(stack, r.paymentId);
    expect(failure).toMatchObject({
      decision: 'no_retry',
      status: 'stopped',
      failure_class: 'hard',
      reason: 'hard_decline',
      retry_at: null,
      failure_code: 'stolen_card',
    });
    expect(await retryJobRunAt(stack, failure.id)).toBeNull();

    const mail = await eventually(async () => smtp.received.find((m) => m.subject.includes(invoice!.number)), 10_000, 'failure email');
    const client = await q(stack, (tx) => tx.selectFrom('clients').select(['billing_email']).where('id', '=', invoice!.client_id).executeTakeFirstOrThrow());
    expect(mail.to).toEqual([client.billing_email]);
    const text = decodeQp(mail.raw);
    expect(text).toContain('was declined');
    expect(text).toContain('We will not try this payment method again');
    expect(text.toLowerCase()).not.toContain('stolen');
    const token = /https?:\/\/[^\s"<>]+\/portal\/update-method\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(text)?.[1];
    expect(token).toBeDefined();
    // The email's link names SETTLE_PUBLIC_URL; the test's Settle listens on a random port.
    const link = `${stack.settleUrl}/portal/update-method/${token}`;

    const companyId = Number(
      (
        await q(stack, (tx) =>
          tx
            .selectFrom('external_refs')
            .select('remote_id')
            .where('entity', '=', 'client')
            .where('entity_id', '=', invoice!.client_id)
            .executeTakeFirstOrThrow(),
        )
      ).remote_id,
    );
    const note = await eventually(
      async () => stack.sims.connectwise.state.companyNotes.all().find((n) => n.company.id === companyId),
      10_000,
      'ConnectWise note',
    );
    expect(note.flagged).toBe(true);
    expect(note.text).toContain(invoice!.number);
    expect(note.text).toContain('stolen_card');
    expect(note.text).toContain(`[settle-failure:${failure.id}]`);
    await eventually(
      async () =>
        (await q(stack, (tx) => tx.selectFrom('payment_failures').select('psa_note_id').where('id', '=', failure.id).executeTakeFirstOrThrow())).psa_note_id ===
        String(note.id),
      10_000,
      'note id kept',
    );

    const list = await api(stack, apiKey, 'GET', '/exceptions');
    expect(list.body.data).toContainEqual(
      expect.objectContaining({ kind: 'payment_failed', status: 'open', invoice_ids: [invoice!.id], client_id: invoice!.client_id }),
    );
    hard = { failure, invoice: invoice!, link };
  });
});

describe('the update link', () => {
  it('an expired link, an altered one and a portal link are refused, and nothing is opened at the processor', async () => {
    const expired = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      updateMethodLinkFor(
        tx,
        stack.settleUrl,
        { tenantId: stack.tenantId, clientId: hard.invoice.client_id, failureId: hard.failure.id },
        -60,
        SecretBox.fromHex(stack.secretKeyHex),
      ),
    );
    const page = await fetch(expired.url);
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('This link has expired');
    const setupsBefore = stack.sims.stripe.sim.store.setupIntents.size;
    const start = await fetch(`${expired.url}/start`, { method: 'POST' });
    expect(start.status).toBe(403);
    expect(((await start.json()) as { error: { code: string } }).error.code).toBe('link_invalid');
    expect(stack.sims.stripe.sim.store.setupIntents.size).toBe(setupsBefore);

    const [body, mac] = hard.link.split('/portal/update-method/')[1]!.split('.');
    const altered = `${stack.settleUrl}/portal/update-method/${body}.${mac!.slice(0, -2)}${mac!.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await fetch(altered)).status).toBe(403);
    const portalToken = await stack.portalToken(hard.invoice.client_id);
    expect((await fetch(`${stack.settleUrl}/portal/update-method/${portalToken}`)).status).toBe(403);
  });
});

describe('re-enrollment through the link', () => {
  it('the client saves a new card in the hosted fields; it becomes the default and the failed invoice is collected at once, exception closed', async () => {
    const pageRes = await fetch(hard.link);
    expect(pageRes.status).toBe(200);
    const html = await pageRes.text();
    expect(html).toContain(hard.invoice.number);
    expect(html).toContain('payment-element');

    const start = await fetch(`${hard.link}/start`, { method: 'POST' });
    expect(start.status).toBe(200);
    const session = (await start.json()) as { setup_id: string; client_secret: string };
    expect(session.client_secret.startsWith(`${session.setup_id}_secret_`)).toBe(true);

    // What stripe.confirmSetup does in the hosted fields: confirm with the publishable key and client secret.
    const s = stack.sims.stripe;
    const confirmed = await fetch(`${s.baseUrl}/v1/setup_intents/${session.setup_id}/confirm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.publishableKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_secret: session.client_secret, payment_method: 'pm_card_mastercard' }).toString(),
    });
    expect(confirmed.status).toBe(200);

    const bad = await fetch(`${hard.link}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ setup_id: 'pm_123' }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('setup_id');

    const done = await fetch(`${hard.link}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ setup_id: session.setup_id }),
    });
    expect(done.status).toBe(200);
    const result = (await done.json()) as { payment_method: { id: string; label: string; is_default: boolean }; retries_scheduled: number };
    expect(result).toMatchObject({ payment_method: { label: 'mastercard ending 4444', is_default: true }, retries_scheduled: 1 });

    const methods = await q(stack, (tx) =>
      tx.selectFrom('payment_methods').select(['id', 'is_default', 'last4']).where('client_id', '=', hard.invoice.client_id).execute(),
    );
    expect(methods.filter((m) => m.is_default).map((m) => m.id)).toEqual([result.payment_method.id]);

    const f = await eventually(
      async () => {
        const row = await q(stack, (tx) => tx.selectFrom('payment_failures').selectAll().where('id', '=', hard.failure.id).executeTakeFirstOrThrow());
        return row.retry_payment_id ? row : null;
      },
      15_000,
      'retry on the new card',
    );
    await eventually(
      async () =>
        (await q(stack, (tx) => tx.selectFrom('invoices').select('status').where('id', '=', hard.invoice.id).executeTakeFirstOrThrow())).status === 'paid',
      15_000,
      'invoice paid',
    );
    const retry = await q(stack, (tx) => tx.selectFrom('payments').selectAll().where('id', '=', f.retry_payment_id!).executeTakeFirstOrThrow());
    expect(retry).toMatchObject({ state: 'succeeded', method_last4: '4444' });
    expect(intentsFor(stack, retry.id)).toHaveLength(1);
    await eventually(async () => stack.sims.connectwise.sim.paymentsFor(Number(hard.invoice.remote)).length === 1, 15_000, 'ConnectWise payment');

    const resolved = await api(stack, apiKey, 'GET', '/exceptions?status=resolved');
    expect(resolved.body.data).toContainEqual(
      expect.objectContaining({ invoice_ids: [hard.invoice.id], resolution: 'invoice_paid', resolved_by: 'system:invoice-paid' }),
    );
    const audits = await q(stack, (tx) =>
      tx.selectFrom('audit_log').select(['action', 'actor']).where('action', 'in', ['payment_method.default_changed', 'exception.resolved']).execute(),
    );
    expect(audits).toContainEqual({ action: 'payment_method.default_changed', actor: `client:${hard.invoice.client_id}` });
    expect(audits).toContainEqual({ action: 'exception.resolved', actor: 'system:invoice-paid' });

    // A setup of another customer at the processor cannot be completed through this link.
    const auth = { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' };
    const cus = (await (await fetch(`${s.baseUrl}/v1/customers`, { method: 'POST', headers: auth, body: 'name=Someone+else' })).json()) as { id: string };
    const seti = (await (
      await fetch(`${s.baseUrl}/v1/setup_intents`, {
        method: 'POST',
        headers: auth,
        body: new URLSearchParams({ customer: cus.id, payment_method: 'pm_card_visa', confirm: 'true' }).toString(),
      })
    ).json()) as { id: string };
    const foreign = await fetch(`${hard.link}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ setup_id: seti.id }),
    });
    expect(foreign.status).toBe(404);
  });
});

describe('staff dismiss an exception', () => {
  it('dismissing closes it with who did it; dismissing again is a 409, an unknown id a 404', async () => {
    const invoice = (await openInvoices(stack)).find((i) => i.client_id !== hard.invoice.client_id)!;
    const card = await savedCard(stack, invoice.client_id, 'pm_card_chargeDeclined');
    const r = await charge(stack, apiKey, card, [invoice.id]);
    await failureOf(stack, r.paymentId);
    const open = await eventually(
      async () => (await api(stack, apiKey, 'GET', '/exceptions')).body.data.find((e: { payment_id: string }) => e.payment_id === r.paymentId),
      10_000,
      'exception',
    );
    const dismissed = await api(stack, apiKey, 'POST', `/exceptions/${open.id}/dismiss`, { note: 'client will pay by wire' });
    expect(dismissed).toMatchObject({ status: 200, body: { id: open.id, status: 'resolved', resolution: 'dismissed' } });
    expect((await api(stack, apiKey, 'GET', '/exceptions')).body.data.map((e: { id: string }) => e.id)).not.toContain(open.id);
    expect((await api(stack, apiKey, 'POST', `/exceptions/${open.id}/dismiss`, {})).status).toBe(409);
    expect((await api(stack, apiKey, 'POST', '/exceptions/00000000-0000-4000-8000-000000000000/dismiss', {})).status).toBe(404);
    expect((await api(stack, apiKey, 'POST', '/exceptions/not-a-uuid/dismiss', {})).status).toBe(400);
    const audit = await q(stack, (tx) => tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', 'exception.dismissed').execute());
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toMatch(/^api_key:/);
    expect(JSON.stringify(audit[0]!.detail)).toContain('client will pay by wire');
  });
});
