// The composition root: database (embedded or DATABASE_URL), migrations, connectors, worker and HTTP in
// one process, as `settle start` runs it; `settle worker` runs the same without HTTP.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.ts';
import { assertRlsEnforced, migrate } from '../db/migrate.ts';
import { waitForDatabase } from '../db/wait-for-database.ts';
import { createDb, createPool, type Db } from '../db/pool.ts';
import { SecretBox } from '../db/crypto.ts';
import { sealClearPortalSecrets } from '../db/portal-secret.ts';
import { oauthAppsFromConfig, type OAuthApps } from '../engine/quickbooks-connect.ts';
import { ConnectorCache } from '../engine/connections.ts';
import type { EngineContext } from '../engine/context.ts';
import { startWorker, type WorkerHandle } from '../jobs/runner.ts';
import { buildServer } from '../http/server.ts';
import { createMailer } from '../notify/mailer.ts';
import { onVendorRetry } from '../connectors/http.ts';
import { shareBudgetsThrough } from '../connectors/psa/autotask/budget.ts';
import { postgresBudgetLedger } from '../engine/autotask-budget-ledger.ts';

export interface Database {
  readonly url: string;
  readonly pool: pg.Pool;
  readonly db: Db;
  readonly embedded: EmbeddedDatabase | null;
  close(): Promise<void>;
}

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  let embedded: EmbeddedDatabase | null = null;
  let url = config.DATABASE_URL;
  if (!url) {
    log.info({ dataDir: config.SETTLE_DATA_DIR }, 'DATABASE_URL not set: starting the embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({ dataDir: config.SETTLE_DATA_DIR, port: config.SETTLE_PG_PORT, log: (l) => log.debug({ pg: l }) });
    url = embedded.appUrl;
    log.info({ cluster: embedded.clusterDir }, 'embedded PostgreSQL is running');
  }
  const pool = createPool(url, 20);
  // One line per dropped connection (a database restart drops them all); the pool reconnects on the next query.
  pool.on('error', (e) => log.warn({ err: e.message }, 'idle database connection failed'));
  try {
    await waitForDatabase(pool, log);
    await assertRlsEnforced(pool);
    const applied = await migrate(pool, (m) => log.info(m));
    if (applied.length) log.info({ applied }, 'database migrated');
  } catch (e) {
    // Leave no embedded PostgreSQL running behind a failed start.
    await pool.end().catch(() => {});
    await embedded?.stop().catch(() => {});
    throw e;
  }
  const db = createDb(pool);
  return {
    url,
    pool,
    db,
    embedded,
    close: async () => {
      await db.destroy().catch(() => {});
      await embedded?.stop();
    },
  };
}

export interface Running {
  readonly ctx: EngineContext;
  readonly database: Database;
  readonly box: SecretBox;
  readonly url: string | null;
  readonly http: FastifyInstance | null;
  /** The OAuth apps the staff app connects with (from SETTLE_QBO_*; the demo fills in its simulator's). */
  readonly oauthApps: OAuthApps;
  stop(): Promise<void>;
}

export async function startSettle(config: Config, log: Logger, opts: { http: boolean; worker: boolean; database?: Database }): Promise<Running> {
  const database = opts.database ?? (await openDatabase(config, log));
  const box = SecretBox.load(config.SETTLE_SECRET_KEY, config.SETTLE_DATA_DIR);
  const connectors = new ConnectorCache(database.db, box);
  const ctx: EngineContext = {
    db: database.db,
    connectors,
    log,
    publicUrl: config.publicUrl,
    now: () => new Date(),
    mailer: createMailer(config.SETTLE_SMTP_URL, { connections: config.SETTLE_SMTP_CONNECTIONS }),
    mailFrom: config.SETTLE_MAIL_FROM,
    box,
    checkoutExpiryMs: Math.round(config.SETTLE_CHECKOUT_EXPIRY_HOURS * 3600_000),
    dashboardFreshMs: config.SETTLE_DASHBOARD_FRESH_SECONDS * 1000,
    webhooksAllowPrivate: config.SETTLE_WEBHOOKS_ALLOW_PRIVATE === '1',
  };
  // Autotask's hourly budget is one per database: `settle start` and `settle worker` share Settle's part of it.
  shareBudgetsThrough(postgresBudgetLedger(database.db));
  // Every vendor retry is logged with its wait: a throttled vendor otherwise only shows as slowness.
  onVendorRetry((r) =>
    log.warn({ vendor: r.vendor, path: r.path, attempt: r.attempt, waitMs: r.delayMs, reason: r.reason }, 'vendor call retried after a wait'),
  );
  // Portal secrets from before migration 0023 are still in clear: seal them now (db/portal-secret.ts).
  const sealedNow = await sealClearPortalSecrets(database.db, box);
  if (sealedNow > 0) log.info({ workspaces: sealedNow }, 'sealed the portal link secrets that were stored in clear');
  const oauthApps = oauthAppsFromConfig(config);
  let ready = false;
  let worker: WorkerHandle | null = null;
  let http: FastifyInstance | null = null;
  let url: string | null = null;
  try {
    if (opts.http) {
      // Session cookies are signed with a key derived from the instance key, never the key itself.
      http = await buildServer(
        {
          ctx,
          sessionSecret: box.derive('staff-session'),
          portalLinkTtlSec: 14 * 24 * 3600,
          isReady: () => ready,
          staff: { box, timeouts: { idleSec: config.SETTLE_SESSION_IDLE_MINUTES * 60, absoluteSec: config.SETTLE_SESSION_MAX_HOURS * 3600 } },
          oauthApps,
          security: {
            trustProxy: config.trustProxy,
            https: config.publicUrl.startsWith('https:'),
            ...(config.METRICS_TOKEN ? { metricsToken: config.METRICS_TOKEN } : {}),
            ...(config.METRICS_LISTEN ? { metricsListen: config.METRICS_LISTEN } : {}),
          },
        },
        log,
      );
      url = await http.listen({ port: config.PORT, host: config.HOST });
    }
    if (opts.worker) worker = await startWorker(ctx, database.pool, { concurrency: config.SETTLE_WORKER_CONCURRENCY });
  } catch (e) {
    // A failed start (port taken, …) leaves nothing running behind it, the embedded PostgreSQL included.
    await http?.close().catch(() => {});
    if (!opts.database) await database.close();
    throw e;
  }
  ready = true;
  return {
    ctx,
    database,
    box,
    url,
    http,
    oauthApps,
    stop: async () => {
      ready = false;
      // Fastify closes idle keep-alive connections once, when close starts; a connection whose response
      // finishes just after (a vendor callback in flight) would otherwise linger for keepAliveTimeout (72 s).
      if (http) {
        const idle = setInterval(() => http.server.closeIdleConnections(), 200);
        await http.close().finally(() => clearInterval(idle));
      }
      await worker?.stop();
      ctx.mailer.close(); // the SMTP pool's idle connections
      if (!opts.database) await database.close();
    },
  };
}
