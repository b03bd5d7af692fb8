// The Web Connector's first call to a Settle that has just started is answered, not a 500. The `soap` library's
// createServerless resolves before it has read the WSDL; a request processed in that window failed ("reading
// 'messages'"), and a real Web Connector loses that whole run. qbwc.ts waits for the library's ready callback.
// Each round here is a fresh Settle route whose very first request arrives at once — as the simulated Web
// Connector's serverVersion does when it polls the moment Settle is listening — and then a whole run follows.
// Without the fix both tests fail with the bench's 500 ("Cannot read properties of undefined (reading 'messages')").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { registerWebConnectorRoutes } from '../../src/http/webhooks/qbwc.ts';
import { QBWC_PATH, webConnectorUserName } from '../../src/connectors/accounting/quickbooks-desktop/web-connector.ts';
import { startQbdSimulator } from '../../simulators/quickbooks-desktop/index.ts';
import type { HttpDeps } from '../../src/http/deps.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
}, 120_000);
afterAll(async () => {
  await t?.drop();
});

const envelope = (op: string) =>
  `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><${op} xmlns="http://developer.intuit.com/" /></soap:Body></soap:Envelope>`;

function freshSettle() {
  const app = Fastify();
  const deps = {
    ctx: { db: t.db, log: pino({ level: 'silent' }), publicUrl: 'http://127.0.0.1', connectors: { accounting: async () => null } },
  } as unknown as HttpDeps;
  // Settle's own server runs async hooks before every handler (permissions, rate limits, logging), so a handler
  // starts inside a promise continuation — where the library's nextTick WSDL parse has not run yet.
  app.addHook('preHandler', async () => undefined);
  registerWebConnectorRoutes(app, deps);
  return app;
}

describe('the SOAP endpoint right after Settle starts', () => {
  it('answers the first request of a fresh Settle (serverVersion), every time', async () => {
    for (let round = 0; round < 5; round++) {
      const app = freshSettle();
      await app.ready();
      const res = await app.inject({
        method: 'POST',
        url: QBWC_PATH,
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '"http://developer.intuit.com/serverVersion"' },
        payload: envelope('serverVersion'),
      });
      expect(res.statusCode, `round ${round}: ${res.body.slice(0, 300)}`).toBe(200);
      expect(res.body).toContain('Settle 1.0 (qbXML 13.0)');
      await app.close();
    }
  }, 120_000);

  it("the simulated Web Connector's run the moment Settle listens goes through (serverVersion … authenticate)", async () => {
    const app = freshSettle();
    const at = await app.listen({ port: 0, host: '127.0.0.1' });
    const sim = await startQbdSimulator();
    try {
      sim.webConnector.configure({
        appUrl: `${at}${QBWC_PATH}`,
        userName: webConnectorUserName('00000000-0000-4000-8000-000000000000'),
        password: 'not-a-workspace-password',
        runEveryMs: 3_600_000,
      });
      const run = await sim.webConnector.runNow();
      // No such workspace: Settle answers authenticate with 'nvu' — the point is that it answered at all.
      expect(run).toMatchObject({ outcome: 'nvu' });
    } finally {
      await sim.close();
      await app.close();
    }
  }, 120_000);
});
