// QuickBooks Desktop below the engine, for connector-level tests: a fresh database with one workspace, Settle's
// Web Connector SOAP route (the real Fastify route with the `soap` library) on a loopback port, the workspace's
// QuickBooks Desktop connector, and the simulator (Web Connector + company file) pointed at the route with a
// schedule too slow to fire — the tests run it with runNow().
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { startQbdSimulator, type RunningQbdSimulator } from '../../simulators/quickbooks-desktop/index.ts';
import { registerWebConnectorRoutes } from '../../src/http/webhooks/qbwc.ts';
import { QuickBooksDesktopConnector } from '../../src/connectors/accounting/quickbooks-desktop/connector.ts';
import { qbdAccounts, qbdConfigSchema } from '../../src/connectors/accounting/quickbooks-desktop/settings.ts';
import { QBWC_PATH, webConnectorUserName } from '../../src/connectors/accounting/quickbooks-desktop/web-connector.ts';
import type { HttpDeps } from '../../src/http/deps.ts';

export const QBD_PASSWORD = 'correct-horse-battery-staple';
export const QBD_CONFIG = { bankAccount: 'Checking', feeAccount: 'Merchant Fees', clearingAccount: 'Payments Clearing' } as const;

export interface QbdDirect {
  readonly t: TestDatabase;
  readonly tenant: string;
  readonly settle: FastifyInstance;
  readonly sim: RunningQbdSimulator;
  readonly books: QuickBooksDesktopConnector;
  close(): Promise<void>;
}

export async function startQbdDirect(slug = 'qbd'): Promise<QbdDirect> {
  const t = await createTestDatabase();
  const tenant = (await t.db.insertInto('tenants').values({ slug, name: 'QBD MSP' }).returning('id').executeTakeFirstOrThrow()).id;
  const config = qbdConfigSchema.parse(QBD_CONFIG);
  const books = new QuickBooksDesktopConnector({ accounts: qbdAccounts(config), home: 'USD', runEveryMinutes: 5 }, t.db, tenant, QBD_PASSWORD);
  const settle = Fastify();
  const deps = {
    ctx: {
      db: t.db,
      log: pino({ level: 'silent' }),
      publicUrl: 'http://127.0.0.1',
      connectors: { accounting: async (id: string) => (id === tenant ? books : null) },
    },
  } as unknown as HttpDeps;
  registerWebConnectorRoutes(settle, deps);
  const at = await settle.listen({ port: 0, host: '127.0.0.1' });
  const sim = await startQbdSimulator();
  sim.webConnector.configure({ appUrl: `${at}${QBWC_PATH}`, userName: webConnectorUserName(tenant), password: QBD_PASSWORD, runEveryMs: 3_600_000 });
  return {
    t,
    tenant,
    settle,
    sim,
    books,
    close: async () => {
      await sim.close();
      await settle.close();
      await t.drop();
    },
  };
}
