// Outbound webhooks end to end: a subscription made through the API, Settle running with its job worker, a
// real HTTP receiver. Every event of the catalogue arrives at least once with a valid signature; a change
// that rolls back sends nothing; a rotation through the API signs with both secrets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { dismissException, raiseException } from '../../src/engine/exceptions.ts';
import { EVENT_TYPES } from '../../src/engine/webhooks-out/catalogue.ts';
import { verifySignature } from '../../src/engine/webhooks-out/signing.ts';
import { apiFor, newCompany, newInvoice, product, pullInvoice, type Api } from '../helpers/autopay.ts';
import { eventually, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { everyOtherChange, reconciledPayout } from '../helpers/webhook-changes.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

let stack: Stack;
let receiver: Receiver;
let api: Api;
let secret: string;
let subscriptionId: string;

beforeAll(async () => {
  stack = await startStack({ env: { SETTLE_WEBHOOKS_ALLOW_PRIVATE: '1' } });
  receiver = await startReceiver();
  api = apiFor(stack, await stack.apiKey());
  const r = await api('POST', '/webhook-subscriptions', { url: receiver.url, event_types: [...EVENT_TYPES], description: 'our PSA bridge' });
  expect(r.status).toBe(201);
  secret = r.body.secret;
  subscriptionId = r.body.id;
  expect(secret).toMatch(/^whsec_/);
}, 180_000);
afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const bodyOf = (r: { body: string }) => JSON.parse(r.body) as { id: string; type: string; sequence: number; data: Record<string, Record<string, unknown>> };

describe('outbound webhooks', { timeout: 180_000 }, () => {
  it('delivers every event of the catalogue at least once, each with a valid signature', async () => {
    // Through the engine: an invoice comes in from the PSA, changes there, is paid in the portal; a problem is
    // raised and dismissed.
    const company = newCompany(stack);
    const inv = await newInvoice(stack, company, { lines: [product('Managed services', '250.00')] });
    stack.sims.connectwise.sim.updateInvoice(inv.cwId, { addLines: [product('Backup', '50.00')] });
    await pullInvoice(stack, inv.cwId);
    const paid = await newInvoice(stack, company, { lines: [product('Firewall', '120.00')] });
    const { paymentId } = await payInPortal(stack, await stack.portalToken(paid.clientId), [paid.id]);
    await eventually(
      () => q((tx) => tx.selectFrom('invoices').select('id').where('id', '=', paid.id).where('status', '=', 'paid').executeTakeFirst()),
      60_000,
      'invoice paid',
    );
    await q(async (tx) => {
      const id = await raiseException(tx, stack.tenantId, 'system:test', {
        kind: 'test_problem',
        dedupeKey: 'webhook-test',
        clientId: null,
        invoiceIds: [],
        paymentId: null,
        title: 'A problem',
        detail: 'for the webhook test',
      });
      await dismissException(tx, stack.tenantId, id, 'system:test', 'handled elsewhere');
    });
    // The rest of the catalogue as the row changes their use cases make.
    await q((tx) => everyOtherChange(tx, stack.tenantId, paymentId, inv.id));

    const got = await eventually(
      async () => {
        const types = new Set(receiver.received.filter((r) => r.status === 200).map((r) => r.type));
        return EVENT_TYPES.every((t) => types.has(t)) ? receiver.received : null;
      },
      120_000,
      'every event type at the receiver',
    );
    for (const r of got) {
      const b = bodyOf(r);
      expect(verifySignature(String(r.headers['settle-signature']), r.body, secret, Math.floor(r.at / 1000))).toBe(true);
      expect(r.eventId).toBe(b.id);
      expect(r.type).toBe(b.type);
      expect(b.id).toMatch(/^evt_[0-9a-f]{32}$/);
    }
    const first = (type: string) => bodyOf(got.find((r) => r.type === type)!);
    expect(first('invoice.paid').data['invoice']).toMatchObject({ id: paid.id, status: 'paid' });
    expect(first('payment.succeeded').data['payment']).toMatchObject({ id: paymentId, state: 'succeeded', amount_minor: 12000 });
    expect(first('invoice.changed').data['invoice']).toMatchObject({ id: inv.id, version: 2, total_minor: 30000 });
    expect(first('exception.resolved').data['exception']).toMatchObject({ kind: 'test_problem', resolution: 'dismissed' });
    // The delivery log says the same through the API (once Settle has recorded the answers the receiver sent).
    await eventually(
      async () => {
        const log = await api('GET', `/webhook-subscriptions/${subscriptionId}/deliveries?limit=200`);
        expect(log.status).toBe(200);
        return log.body.data.filter((d: { status: string }) => d.status === 'delivered').length >= EVENT_TYPES.length;
      },
      60_000,
      'every event type recorded as delivered in the log',
    );
  });

  it('sends nothing for a change that rolled back', async () => {
    let rolledBack = '';
    await expect(
      q(async (tx) => {
        rolledBack = await reconciledPayout(tx, stack.tenantId);
        throw new Error('the use case failed after writing the payout');
      }),
    ).rejects.toThrow(/use case failed/);
    const marker = await q((tx) => reconciledPayout(tx, stack.tenantId));
    const payoutIdOf = (r: { body: string }) => bodyOf(r).data['payout']?.['processor_payout_id'];
    await eventually(async () => receiver.received.some((r) => payoutIdOf(r) === marker), 60_000, 'the committed payout at the receiver');
    expect(receiver.received.some((r) => payoutIdOf(r) === rolledBack)).toBe(false);
    const events = await q((tx) => tx.selectFrom('webhook_events').select('id').where('body', 'like', `%${rolledBack}%`).execute());
    expect(events).toEqual([]);
  });

  it('rotates the secret through the API: both secrets sign during the overlap', async () => {
    const r = await api('POST', `/webhook-subscriptions/${subscriptionId}/rotate-secret`, { overlap_hours: 24 });
    expect(r.status).toBe(200);
    const fresh = r.body.secret as string;
    expect(fresh).not.toBe(secret);
    const n = receiver.received.length;
    const marker = await q((tx) => reconciledPayout(tx, stack.tenantId));
    const got = await eventually(async () => receiver.received.slice(n).find((x) => x.body.includes(marker)), 60_000, 'a delivery after the rotation');
    const header = String(got.headers['settle-signature']);
    expect(header.match(/v1=/g)).toHaveLength(2);
    const t = Math.floor(got.at / 1000);
    expect(verifySignature(header, got.body, secret, t)).toBe(true);
    expect(verifySignature(header, got.body, fresh, t)).toBe(true);
    const audit = await q((tx) => tx.selectFrom('audit_log').select('action').where('subject_id', '=', subscriptionId).orderBy('id').execute());
    expect(audit.map((a) => a.action)).toEqual(['webhook.subscription_created', 'webhook.secret_rotated']);
  });

  it('refuses bad input through the API with what to do, changing nothing', async () => {
    const bad = await api('POST', '/webhook-subscriptions', { url: receiver.url, event_types: ['invoice.paid', 'invoice.eaten'] });
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toMatch(/unknown event type\(s\): invoice\.eaten; the catalogue is invoice\.imported/);
    const notUrl = await api('POST', '/webhook-subscriptions', { url: 'hooks', event_types: ['invoice.paid'] });
    expect(notUrl.status).toBe(422);
    expect(notUrl.body.error.message).toMatch(/is not a URL/);
    const list = await api('GET', '/webhook-subscriptions');
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).not.toHaveProperty('secret');
  });

  it('replays a delivery from the log through the API: the same event again, with its attempt counted', async () => {
    const marker = await q((tx) => reconciledPayout(tx, stack.tenantId));
    const first = await eventually(async () => receiver.received.find((x) => x.status === 200 && x.body.includes(marker)), 60_000, 'the delivery');
    const logged = async () =>
      (
        (await api('GET', `/webhook-subscriptions/${subscriptionId}/deliveries?limit=200`)).body.data as {
          id: string;
          event_id: string;
          status: string;
          attempts: number;
        }[]
      ).find((d) => d.event_id === first.eventId);
    const before = await eventually(async () => ((await logged())?.status === 'delivered' ? logged() : null), 60_000, 'the delivery in the log');
    const n = receiver.received.length;
    const replay = await api('POST', `/webhook-deliveries/${before!.id}/replay`);
    expect(replay.status).toBe(202);
    const again = await eventually(async () => receiver.received.slice(n).find((x) => x.eventId === first.eventId), 60_000, 'the replay at the receiver');
    expect(again.body).toBe(first.body); // byte for byte: the receiver dedupes on the id
    expect(again.headers['settle-delivery-attempt']).toBe(String(before!.attempts + 1));
    expect(verifySignature(String(again.headers['settle-signature']), again.body, secret, Math.floor(again.at / 1000))).toBe(true);
    await eventually(async () => (await logged())?.attempts === before!.attempts + 1, 60_000, 'the replay recorded in the log');
    expect((await logged())!.status).toBe('delivered');
    const unknown = await api('POST', '/webhook-deliveries/00000000-0000-4000-8000-000000000000/replay');
    expect(unknown.status).toBe(404);
    // One still being tried is not replayed: it goes out at its next attempt.
    receiver.answer('hang');
    const held = await q((tx) => reconciledPayout(tx, stack.tenantId));
    const inFlight = await eventually(async () => receiver.received.find((x) => x.body.includes(held)), 60_000, 'a delivery in flight');
    const pending = await eventually(
      async () =>
        ((await api('GET', `/webhook-subscriptions/${subscriptionId}/deliveries?limit=200`)).body.data as { id: string; event_id: string }[]).find(
          (d) => d.event_id === inFlight.eventId,
        ),
      60_000,
      'the pending delivery in the log',
    );
    const refused = await api('POST', `/webhook-deliveries/${pending.id}/replay`);
    receiver.answer(200);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/still being tried/);
  });
});
