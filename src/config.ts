// Settings from the environment, validated once. Everything has a working default so that
// `npm start` on a fresh clone runs the demo workspace with nothing configured.
import path from 'node:path';
import { z } from 'zod';

const schema = z.object({
  DATABASE_URL: z.string().url().optional(),
  SETTLE_DATA_DIR: z.string().default(path.resolve(process.cwd(), '.settle')),
  SETTLE_SECRET_KEY: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, 'SETTLE_SECRET_KEY must be 64 hex characters (32 bytes); generate one with `openssl rand -hex 32`')
    .optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(4400),
  HOST: z.string().default('127.0.0.1'),
  PUBLIC_URL: z.string().url().optional(),
  SETTLE_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  SETTLE_DEMO: z.enum(['auto', 'on', 'off']).default('auto'),
  // The PSA the demo workspace runs on (its simulator): a person on Autotask or HaloPSA sees their own PSA.
  SETTLE_DEMO_PSA: z
    .enum(['connectwise', 'autotask', 'halopsa'], {
      errorMap: () => ({ message: 'SETTLE_DEMO_PSA names the PSA the demo runs on: connectwise (the default), autotask or halopsa' }),
    })
    .default('connectwise'),
  // The books the demo workspace posts to (its simulator); QuickBooks Online unless a person's books are Xero.
  SETTLE_DEMO_BOOKS: z
    .enum(['quickbooks-online', 'xero', 'quickbooks-desktop'], {
      errorMap: () => ({ message: 'SETTLE_DEMO_BOOKS names the books the demo posts to: quickbooks-online (the default), xero or quickbooks-desktop' }),
    })
    .default('quickbooks-online'),
  SETTLE_DEMO_INVOICE_EVERY_MS: z.coerce.number().int().min(0).default(8000),
  SETTLE_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  // How often a running `settle start` checks that each workspace's PSA callback still exists (re-created if a
  // person deleted it at the PSA); minutes.
  SETTLE_CALLBACK_CHECK_MINUTES: z.coerce.number().min(0.05).max(1440).default(60),
  // A portal checkout the client opened and never paid is canceled at the processor after this long, so its
  // invoices are free again (engine/expire-portal-checkouts.ts); hours, like a Stripe Checkout Session's 24.
  SETTLE_CHECKOUT_EXPIRY_HOURS: z.coerce
    .number()
    .min(0.01)
    .max(24 * 30)
    .default(24),
  // The staff A/R dashboard serves figures computed up to this long ago as they are; older ones are served while
  // they are recomputed in the background (engine/dashboard-figures.ts); seconds (0: every visit after the first queues a refresh).
  SETTLE_DASHBOARD_FRESH_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  // Outbound webhooks to private, loopback or link-local addresses (a receiver on this machine or the LAN) are
  // refused unless this is 1 (engine/webhooks-out/address-guard.ts; docs/webhooks.md).
  SETTLE_WEBHOOKS_ALLOW_PRIVATE: z.enum(['0', '1']).default('0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SETTLE_SMTP_URL: z.string().optional(),
  // Connections kept open to the relay and reused for every message (notify/mailer.ts; most relays allow 5–10).
  SETTLE_SMTP_CONNECTIONS: z.coerce.number().int().min(1).max(50).default(5),
  SETTLE_MAIL_FROM: z.string().default('billing@settle.localhost'),
  /** Test hook: name of a crash point at which the process kills itself with SIGKILL (see engine/crash-points.ts). */
  SETTLE_CRASH_AT: z.string().optional(),
  /** Staff sessions end after this long unused, and this long after sign-in whatever happens (engine/staff-sessions.ts). */
  SETTLE_SESSION_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  SETTLE_SESSION_MAX_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(12),
  /**
   * Which X-Forwarded-For hops to believe (docs/security.md): off (default — the client's address is the socket's),
   * a hop count, or the proxies' addresses/CIDRs, comma-separated. The address lands in the audit log and ACH mandates.
   */
  TRUST_PROXY: z
    .string()
    .default('off')
    .refine(
      (v) => parseTrustProxy(v) !== undefined,
      'TRUST_PROXY is off, on, a hop count (1), or proxy addresses/CIDRs separated by commas (10.0.0.1,10.1.0.0/16)',
    ),
  /**
   * The MSP's Intuit app (developer.intuit.com → the app → Keys): "Connect to QuickBooks" in the staff app uses
   * it for the OAuth 2.0 consent (engine/quickbooks-connect.ts). Its redirect URI is PUBLIC_URL +
   * /app/connections/quickbooks/callback. The URLs default to Intuit's production endpoints.
   */
  // The install's Xero app (developer.xero.com → My Apps) for "Connect to Xero" in the staff app (engine/xero-connect.ts).
  SETTLE_XERO_CLIENT_ID: z.string().min(1).optional(),
  SETTLE_XERO_CLIENT_SECRET: z.string().min(1).optional(),
  SETTLE_XERO_AUTHORIZE_URL: z.string().url().default('https://login.xero.com/identity/connect/authorize'),
  SETTLE_XERO_TOKEN_URL: z.string().url().default('https://identity.xero.com/connect/token'),
  SETTLE_XERO_API_URL: z.string().url().default('https://api.xero.com'),
  SETTLE_QBO_CLIENT_ID: z.string().min(1).optional(),
  SETTLE_QBO_CLIENT_SECRET: z.string().min(1).optional(),
  SETTLE_QBO_AUTHORIZE_URL: z.string().url().default('https://appcenter.intuit.com/connect/oauth2'),
  SETTLE_QBO_TOKEN_URL: z.string().url().default('https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer'),
  /** https://quickbooks.api.intuit.com, or https://sandbox-quickbooks.api.intuit.com with development keys. */
  SETTLE_QBO_API_URL: z.string().url().default('https://quickbooks.api.intuit.com'),
  /** When set, GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>". */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters (openssl rand -hex 16)').optional(),
  /** When set (host:port), /metrics is served only on that address, not beside the API. */
  METRICS_LISTEN: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/, 'METRICS_LISTEN is host:port, e.g. 127.0.0.1:9464')
    .optional(),
});

const PROXY_ENTRY = /^(loopback|linklocal|uniquelocal|[0-9]{1,3}(\.[0-9]{1,3}){3}(\/[0-9]{1,2})?|[0-9a-fA-F:]*:[0-9a-fA-F:.]*(\/[0-9]{1,3})?)$/;

/** Fastify's trustProxy from TRUST_PROXY; undefined when the text is not one of the accepted forms. */
export function parseTrustProxy(v: string): boolean | number | string | undefined {
  const t = v.trim().toLowerCase();
  if (t === '' || t === 'off' || t === 'false' || t === 'no') return false;
  if (t === 'on' || t === 'true' || t === 'yes') return true;
  if (/^[0-9]{1,2}$/.test(t)) return Number(t) === 0 ? false : Number(t);
  const parts = t.split(',').map((p) => p.trim());
  return parts.every((p) => PROXY_ENTRY.test(p)) ? parts.join(',') : undefined;
}

export type Config = z.infer<typeof schema> & { readonly publicUrl: string; readonly trustProxy: boolean | number | string };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return { ...c, publicUrl: c.PUBLIC_URL ?? `http://${c.HOST}:${c.PORT}`, trustProxy: parseTrustProxy(c.TRUST_PROXY) ?? false };
}
