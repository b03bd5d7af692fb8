// The HTTP side of a delivery against real sockets: a receiver that never answers is cut off at the timeout,
// a closed port is a refused connection, and the request goes to the address the guard checked whatever the
// host name says (no second DNS look-up).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../../test/helpers/webhook-receiver.ts';
import { freePort } from '../../../test/helpers/ports.ts';
import { checkReceiverUrl, refusedAddress } from './address-guard.ts';
import { KeptAgents, postWebhook } from './send.ts';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});

describe('sending one webhook', () => {
  it('gives up on a receiver that does not answer within the timeout', async () => {
    receiver.answer('hang');
    const target = await checkReceiverUrl(receiver.url, { allowPrivate: true });
    const r = await postWebhook(target, {}, '{}', null, 200);
    expect(r).toMatchObject({ delivered: false, status: null });
    expect(r.error).toMatch(/no answer within 0\.2 s/);
    receiver.answer(200);
  });

  it('reports a refused connection', async () => {
    const target = await checkReceiverUrl(`http://127.0.0.1:${await freePort()}/x`, { allowPrivate: true });
    const r = await postWebhook(target, {}, '{}');
    expect(r).toMatchObject({ delivered: false, status: null });
    expect(r.error).toMatch(/ECONNREFUSED/);
  });

  it('connects to the checked address, not to what the host name resolves to later', async () => {
    const port = new URL(receiver.url).port;
    const target = await checkReceiverUrl(`http://hooks.invalid:${port}/hooks`, { allowPrivate: true, lookup: async () => ['127.0.0.1'] });
    const agents = new KeptAgents(2);
    const r = await postWebhook(target, { 'Settle-Event-Id': 'evt_pinned' }, '{"a":1}', agents);
    agents.destroy();
    expect(r).toMatchObject({ delivered: true, status: 200 });
    expect(receiver.received.at(-1)).toMatchObject({ eventId: 'evt_pinned', body: '{"a":1}' });
    expect(receiver.received.at(-1)!.headers.host).toBe(`hooks.invalid:${port}`);
  });

  it('classifies addresses', () => {
    expect(refusedAddress('93.184.216.34')).toBeNull();
    expect(refusedAddress('2606:2800:220:1:248:1893:25c8:1946')).toBeNull();
    expect(refusedAddress('100.100.100.200')).toMatch(/private, reserved/);
    expect(refusedAddress('::ffff:7f00:1')).toMatch(/loopback|private/);
    expect(refusedAddress('fd00:ec2::254')).toMatch(/private/);
    expect(refusedAddress('fe80::1')).toMatch(/private/);
    expect(refusedAddress('0.0.0.0')).toMatch(/private/);
  });
});
