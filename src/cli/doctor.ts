// `settle doctor`: checks the database and every connection of every workspace with harmless calls — the
// credentials, the PSA's callback to Settle (re-created if it was deleted or changed), the books accounts
// named in the settings, the processor's webhook endpoint, the bank's SFTP directories — and says exactly what
// is wrong and how to fix it.
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../db/pool.ts';
import { SecretBox } from '../db/crypto.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from './logger.ts';
import { publicBaseUrl } from './connect.ts';
import { VendorError } from '../connectors/http.ts';
import { SftpError } from '../connectors/payments/bank-ach/sftp.ts';
import { QuickBooksOnlineConnector } from '../connectors/accounting/quickbooks-online/connector.ts';
import type { TenantConnectors } from '../engine/context.ts';
import { readConnection } from '../engine/connections.ts';
import { ensurePsaCallback, psaCallbackUrl } from '../engine/psa-callbacks.ts';
import { checkQuickBooksAccounts, checkStripeWebhook, clearingAccountWarning, DoctorProblem } from './doctor-checks.ts';

export interface Finding {
  readonly ok: boolean;
  readonly what: string;
  readonly detail: string;
  /** Works, but something should be set up better (ok stays true: not a failure of `settle doctor`). */
  readonly warning?: true;
}

function advice(e: unknown, vendor: string): string {
  if (e instanceof DoctorProblem) return e.message;
  if (e instanceof SftpError)
    return `bank SFTP: ${e.message}. Check host, port, user, host key and directories in the bank_ach settings (\`settle connect bank_ach bank-ach …\`).`;
  if (!(e instanceof VendorError)) return `unexpected error: ${(e as Error).message}`;
  switch (e.kind) {
    case 'auth':
      return `${vendor} rejected the credentials (${e.status}). Re-enter them with \`settle connect\`; for OAuth connections reconnect to get new tokens.`;
    case 'network':
      return `cannot reach ${vendor}: ${e.message}. Check the base URL in the connection settings and that this machine can reach it.`;
    case 'timeout':
      return `${vendor} did not answer in time. Check the base URL and network; the vendor may be down.`;
    case 'rate_limited':
      return `${vendor} is rate-limiting this connection right now; Settle backs off automatically. If it persists, other integrations may be using the same quota.`;
    case 'server':
      return `${vendor} answered ${e.status}: a problem on their side. Settle retries automatically.`;
    case 'not_found':
      return `${vendor} answered 404: the base URL or account/company/realm id in the settings is probably wrong.`;
    case 'conflict':
    case 'invalid':
      return `${vendor} refused the request (${e.status}${e.vendorCode ? ` ${e.vendorCode}` : ''}): ${e.message}`;
  }
}

function defaultOptions(): DoctorOptions {
  const config = loadConfig();
  return { box: SecretBox.load(config.SETTLE_SECRET_KEY, config.SETTLE_DATA_DIR), publicUrl: publicBaseUrl(config), log: createLogger('warn') };
}

export interface DoctorOptions {
  readonly box: SecretBox;
  /** Settle's public base URL (PUBLIC_URL): where the PSA and the processor must send their notifications. */
  readonly publicUrl: string;
  readonly log: Logger;
}

export async function doctor(db: Db, connectors: TenantConnectors, options?: DoctorOptions): Promise<Finding[]> {
  const opts = options ?? defaultOptions();
  const out: Finding[] = [];
  try {
    const r = await sql<{ v: string }>`SELECT version() AS v`.execute(db);
    out.push({ ok: true, what: 'database', detail: r.rows[0]?.v.split(' on ')[0] ?? 'reachable' });
  } catch (e) {
    out.push({ ok: false, what: 'database', detail: `cannot query PostgreSQL: ${(e as Error).message}. Check DATABASE_URL.` });
    return out;
  }
  // Archived demo workspaces (renamed demo-…) have their connections switched off; they are not checked.
  const tenants = await db.selectFrom('tenants').select(['id', 'slug']).where('slug', 'not like', 'demo-%').execute();
  if (tenants.length === 0) out.push({ ok: false, what: 'workspaces', detail: 'none yet: run `settle start` for the demo, or `settle workspace create`.' });
  for (const t of tenants) {
    // [finding name, connection role it belongs to (for "not connected"), check; null = not connected]
    const checks: [string, string, () => Promise<string | { warning: string } | null>][] = [
      [
        'psa',
        'psa',
        async () => {
          const psa = await connectors.psa(t.id);
          if (!psa) return null;
          for await (const _page of psa.listClients(new Date().toISOString())) break;
          return `${psa.vendor}: credentials accepted, companies readable`;
        },
      ],
      [
        'psa callback',
        'psa',
        async () => {
          const r = await ensurePsaCallback({ db, connectors, log: opts.log }, t.id, opts.publicUrl, 'system:doctor');
          if (!r) return null;
          if (r.outcome === 'unsupported') return `${r.vendor} cannot push changes; Settle polls every minute`;
          const fixed = r.replaced.length ? ` (replaced ${r.replaced.join('; ')})` : '';
          return r.outcome === 'present'
            ? `callback to ${r.url} registered and active`
            : `callback to ${r.url} was ${r.outcome === 'created' ? 'missing' : 'wrong'}: re-created${fixed}`;
        },
      ],
      [
        'payments',
        'payments',
        async () => {
          const p = await connectors.payments(t.id);
          if (!p) return null;
          await p.findPaymentsByMetadata('settle_doctor', 'ping');
          return `${p.vendor}: key accepted, payments searchable`;
        },
      ],
      [
        'payments webhook',
        'payments',
        async () => {
          const conn = await readConnection(db, opts.box, t.id, 'payments');
          if (!conn) return null;
          if (conn.vendor !== 'stripe') return `${conn.vendor}: no webhook check for this vendor`;
          return checkStripeWebhook(conn, psaCallbackUrl(opts.publicUrl, t.slug, 'stripe'), t.slug);
        },
      ],
      [
        'accounting',
        'accounting',
        async () => {
          const a = await connectors.accounting(t.id);
          if (!a) return null;
          await a.findInvoiceByNumber('__settle_doctor__');
          return `${a.vendor}: token valid, invoices queryable`;
        },
      ],
      [
        'accounting accounts',
        'accounting',
        async () => {
          const a = await connectors.accounting(t.id);
          const conn = await readConnection(db, opts.box, t.id, 'accounting');
          if (!a || !conn) return null;
          if (!(a instanceof QuickBooksOnlineConnector)) return `${a.vendor}: no account check for this vendor`;
          return checkQuickBooksAccounts(a.api, conn.config, t.slug);
        },
      ],
      [
        'accounting clearing account',
        'accounting',
        async () => {
          const conn = await readConnection(db, opts.box, t.id, 'accounting');
          if (!conn) return null;
          if (conn.vendor !== 'quickbooks-online') return `${conn.vendor}: no clearing account used`;
          const warning = clearingAccountWarning(conn.config, t.slug);
          return warning ? { warning } : `clearingAccountId ${String(conn.config['clearingAccountId'])} set (checked under accounting accounts)`;
        },
      ],
    ];
    // Bank ACH is optional: checked only where it is connected.
    if (await connectors.bankAch(t.id).catch(() => null))
      checks.push([
        'bank_ach',
        'bank_ach',
        async () => {
          const bank = await connectors.bankAch(t.id);
          if (!bank) return null;
          const d = await bank.checkDirectories();
          return `SFTP ${bank.config.sftp.host}: signed in; ${d.uploadDir} and ${d.downloadDir} readable (${d.waiting} file(s) waiting)`;
        },
      ]);
    for (const [name, role, check] of checks) {
      const what = `${t.slug} ${name}`;
      try {
        const r = await check();
        if (r === null && name !== role) continue; // the connection itself is reported as not connected
        out.push(
          r === null
            ? { ok: false, what, detail: `not connected: \`settle connect ${role} <vendor> --workspace ${t.slug} …\`` }
            : typeof r === 'string'
              ? { ok: true, what, detail: r }
              : { ok: true, warning: true, what, detail: r.warning },
        );
      } catch (e) {
        const get = { psa: 'psa', payments: 'payments', accounting: 'accounting', bank_ach: 'bankAch' } as const;
        const vendor = (await connectors[get[role as keyof typeof get]](t.id).catch(() => null))?.vendor ?? role;
        out.push({ ok: false, what, detail: advice(e, vendor) });
      }
    }
  }
  return out;
}
