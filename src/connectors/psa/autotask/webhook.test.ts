// Company webhooks against the simulator: registered once (repaired when deactivated), deliveries verified
// by X-Hook-Signature, forged or altered ones refused. And the thread limit: many reads at once, none refused.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../../../simulators/autotask/index.ts';
import { WebhookRejected } from '../../webhook-rejected.ts';
import { createAutotaskConnector } from './connector.ts';

let at: RunningAutotaskSimulator;
let receiver: http.Server;
let receiverUrl = '';
const received: { headers: http.IncomingHttpHeaders; body: Buffer }[] = [];

beforeAll(async () => {
  at = await startAutotaskSimulator({ seed: { companies: 2, invoices: 12 }, limits: { latencyAtHalfMs: 0, latencyAtThreeQuartersMs: 0 } });
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const addr = receiver.address() as { port: number };
  receiverUrl = `http://127.0.0.1:${addr.port}/webhooks/acme/autotask`;
});
afterAll(async () => {
  await at.close();
  await new Promise((r) => receiver.close(r));
});

const connector = (webhookSecret?: string) =>
  createAutotaskConnector({ globalUrl: at.baseUrl, ...at.credentials, api: { sleep: async () => {} }, ...(webhookSecret ? { webhookSecret } : {}) });

describe('Autotask company webhooks', () => {
  it('registers one webhook, keeps it, repairs it when deactivated, and verifies what it delivers', async () => {
    const c = connector('a-secret-of-sixteen-chars');
    expect(await connector().ensureCallback(receiverUrl)).toEqual({ outcome: 'unsupported', replaced: [] });
    expect((await c.ensureCallback(receiverUrl)).outcome).toBe('created');
    expect((await c.ensureCallback(receiverUrl)).outcome).toBe('present');
    const [hook] = [...at.sim.state.table('CompanyWebhooks').values()];
    hook!.IsActive = false;
    const repaired = await c.ensureCallback(receiverUrl);
    expect(repaired.outcome).toBe('repaired');
    expect(repaired.replaced[0]).toMatch(/^inactive company webhook/);
    expect(at.sim.state.table('CompanyWebhooks').size).toBe(1);

    at.sim.state.updateCompany(1, { CompanyName: 'Renamed Ltd' });
    await at.sim.webhooks.flush();
    expect(received).toHaveLength(1);
    const d = received[0]!;
    expect(c.parseNotification(d.headers, d.body)).toMatchObject({ entity: 'company', externalId: '1', action: 'updated' });
    const altered = Buffer.from(d.body.toString('utf8').replace('Renamed', 'Forged'));
    expect(() => c.parseNotification(d.headers, altered)).toThrow(WebhookRejected);
    expect(() => connector('another-secret-of-16').parseNotification(d.headers, d.body)).toThrow(WebhookRejected);
  });
});

describe('Autotask thread limit', () => {
  it('holds at most 3 requests per endpoint in flight: 12 invoices read at once, none refused', async () => {
    await fetch(`${at.origin}/_sim/limits`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 50 }) });
    at.sim.limits.reset();
    const c = connector();
    const ids = [...at.sim.state.table('Invoices').keys()];
    const got = await Promise.all(ids.map((id) => c.getInvoice(String(id))));
    expect(got.every((g) => g !== null)).toBe(true);
    expect(at.sim.limits.refused).toEqual({ hourly: 0, thread: 0 });
    await fetch(`${at.origin}/_sim/limits`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 0 }) });
  });
});
