// Callbacks end to end: the simulator POSTs signed callbacks to a real HTTP receiver, which hands the
// raw body to the connector's parseNotification (signing key fetched from the simulator's key URL).
import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConnectWiseSimulator, type RunningConnectWiseSimulator } from '../../../../simulators/connectwise/index.ts';
import { WebhookRejected } from '../../webhook-rejected.ts';
import type { PsaChangeNotice } from '../types.ts';
import { createConnectWiseConnector, type ConnectWiseConnector } from './connector.ts';
import { callbackSignature } from './webhook.ts';

let cw: RunningConnectWiseSimulator;
let connector: ConnectWiseConnector;
let receiver: Server;
let hookUrl = '';
const notices: PsaChangeNotice[] = [];
const rejected: string[] = [];
const raw: { headers: Record<string, string | string[] | undefined>; body: Buffer }[] = [];

beforeAll(async () => {
  cw = await startConnectWiseSimulator({ seed: { companies: 3, invoices: 10, seed: 2, from: '2024-01-01', to: '2024-01-31' } });
  connector = createConnectWiseConnector({ baseUrl: cw.baseUrl, ...cw.credentials });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      raw.push({ headers: req.headers, body });
      Promise.resolve(connector.parseNotification(req.headers, body)).then(
        (n) => {
          notices.push(n);
          res.writeHead(200).end();
        },
        (e: unknown) => {
          rejected.push(e instanceof WebhookRejected ? e.reason : String(e));
          res.writeHead(e instanceof WebhookRejected ? 401 : 500).end();
        },
      );
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks/cw`;
  await connector.subscribe(hookUrl);
});

afterAll(async () => {
  await cw.close();
  await new Promise<void>((r) => receiver.close(() => r()));
});

afterEach(() => {
  Object.assign(cw.sim.callbackOptions, { duplicate: false, reverseBursts: false, drop: false, delayMs: 0 });
  notices.length = 0;
  rejected.length = 0;
  raw.length = 0;
});

const post = (headers: Record<string, string>, body: Buffer) =>
  fetch(hookUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('ConnectWise callbacks through the connector', () => {
  it('accepts a genuine invoice callback with MessageId as the event id', async () => {
    const inv = cw.sim.createInvoice({});
    await cw.sim.flushCallbacks();
    expect(rejected).toEqual([]);
    expect(notices).toHaveLength(1);
    const delivered = JSON.parse(raw[0]!.body.toString('utf8')) as { MessageId: string };
    expect(notices[0]).toEqual({ eventId: delivered.MessageId, entity: 'invoice', externalId: String(inv.id), action: 'added' });
  });

  it('rejects a callback with a bad signature or a tampered body', async () => {
    cw.sim.createInvoice({});
    await cw.sim.flushCallbacks();
    const genuine = raw[0]!;
    const signature = String(genuine.headers['x-content-signature']);
    const res1 = await post({ 'x-content-signature': callbackSignature(genuine.body, 'not-the-key') }, genuine.body);
    const tampered = Buffer.from(genuine.body.toString('utf8').replace('"Action":"added"', '"Action":"deleted"'));
    const res2 = await post({ 'x-content-signature': signature }, tampered);
    expect([res1.status, res2.status]).toEqual([401, 401]);
    expect(rejected).toEqual(['bad_signature', 'bad_signature']);
    expect(notices).toHaveLength(1); // only the genuine delivery
  });

  it('delivers duplicates with the same MessageId, so the inbox can drop the second', async () => {
    cw.sim.callbackOptions.duplicate = true;
    const inv = cw.sim.createInvoice({});
    cw.sim.updateInvoice(inv.id, { status: 'Sent' });
    await cw.sim.flushCallbacks();
    expect(notices).toHaveLength(4);
    expect(new Set(notices.map((n) => n.eventId)).size).toBe(2);
    expect(notices.map((n) => n.action).sort()).toEqual(['added', 'added', 'updated', 'updated']);
  });

  it('delivers a burst out of order when configured', async () => {
    cw.sim.callbackOptions.reverseBursts = true;
    const ids = [cw.sim.createInvoice({}).id, cw.sim.createInvoice({}).id, cw.sim.createInvoice({}).id];
    await cw.sim.flushCallbacks();
    expect(notices.map((n) => Number(n.externalId))).toEqual([...ids].reverse());
  });

  it('drops callbacks when configured; polling still finds the change', async () => {
    cw.sim.callbackOptions.drop = true;
    const mark = cw.state.now();
    const inv = cw.sim.createInvoice({});
    await cw.sim.flushCallbacks();
    expect(notices).toHaveLength(0);
    expect(cw.sim.deliveries.at(-1)).toMatchObject({ entityId: inv.id, status: null, error: 'dropped' });
    const found: string[] = [];
    for await (const page of connector.listInvoices(mark)) found.push(...page.map((i) => i.externalId));
    expect(found).toContain(String(inv.id));
  });

  it('verifies callbacks signed with a rotated key (new key URL)', async () => {
    cw.sim.rotateSigningKey();
    cw.sim.createInvoice({});
    await cw.sim.flushCallbacks();
    expect(rejected).toEqual([]);
    expect(notices).toHaveLength(1);
  });
});
