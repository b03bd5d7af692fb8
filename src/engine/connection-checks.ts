// The check of a workspace's connections with harmless calls — the credentials, the PSA's callback to Settle
// (re-created if it was deleted or changed), the books accounts named in the settings, the processor's webhook
// endpoint, the bank's SFTP directories — saying exactly what is wrong and how to fix it. One function for
// `settle doctor` (every workspace) and the staff app's "Test connection" (one connection, whose outcome is
// recorded on it for the connections page).
import type { Logger } from 'pino';
import type { Db } from '../db/pool.ts';
import type { SecretBox } from '../db/crypto.ts';
import { withTenant } from '../db/tenant.ts';
import { VendorError } from '../connectors/http.ts';
import { SftpError } from '../connectors/payments/bank-ach/sftp.ts';
import { QuickBooksOnlineConnector } from '../connectors/accounting/quickbooks-online/connector.ts';
import { XeroConnector } from '../connectors/accounting/xero/connector.ts';
import { checkXeroAccounts } from './xero-checks.ts';
import { QuickBooksDesktopConnector } from '../connectors/accounting/quickbooks-desktop/connector.ts';
import { checkQbdGlMapping, checkQbdWebConnector } from './qbd-checks.ts';
import type { ConnectionRole } from '../connectors/registry.ts';
import type { TenantConnectors } from './context.ts';
import { readConnection } from './connections.ts';
import { ensurePsaCallback, psaCallbackUrl } from './psa-callbacks.ts';
import { checkPayLinkField } from './write-pay-link.ts';
import { checkQuickBooksAccounts, checkStripeWebhook, clearingAccountWarning, DoctorProblem } from './vendor-checks.ts';
import { checkPsaVendor } from './psa-vendor-checks.ts';
import { checkGlMapping } from './gl-mapping-checks.ts';
import { readTrackingRules } from './gl-mapping.ts';
import type { Actor } from './audit.ts';

export interface Finding {
  readonly ok: boolean;
  readonly what: string;
  readonly detail: string;
  /** Works, but something should be set up better (ok stays true: not a failure of `settle doctor`). */
  readonly warning?: true;
  /** The connection the finding is about. */
  readonly role?: ConnectionRole;
}

export interface CheckDeps {
  readonly db: Db;
  readonly connectors: TenantConnectors;
  readonly box: SecretBox;
  /** Settle's public base URL (PUBLIC_URL): where the PSA and the processor must send their notifications. */
  readonly publicUrl: string;
  readonly log: Logger;
}

export function advice(e: unknown, vendor: string): string {
  if (e instanceof DoctorProblem) return e.message;
  // QuickBooks Desktop answers only when its Web Connector polls: "not read yet, expected at …" is a state, not a fault.
  if (e instanceof Error && e.name === 'WaitingForWebConnector') return e.message;
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

type Outcome = string | { warning: string } | null;

/** [finding name, connection role, check]; a check answers null when the connection is missing. */
function checksFor(deps: CheckDeps, t: { id: string; slug: string }, actor: Actor): [string, ConnectionRole, () => Promise<Outcome>][] {
  const { db, connectors } = deps;
  return [
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
        const r = await ensurePsaCallback({ db, connectors, log: deps.log }, t.id, deps.publicUrl, actor);
        if (!r) return null;
        if (r.outcome === 'unsupported') return `${r.vendor} cannot push changes; Settle polls every minute`;
        const fixed = r.replaced.length ? ` (replaced ${r.replaced.join('; ')})` : '';
        return r.outcome === 'present'
          ? `callback to ${r.url} registered and active`
          : `callback to ${r.url} was ${r.outcome === 'created' ? 'missing' : 'wrong'}: re-created${fixed}`;
      },
    ],
    [
      // Autotask: zone, API user, hourly threshold, entity access; HaloPSA: token, permissions, webhook (psa-vendor-checks.ts).
      'psa access',
      'psa',
      async () => {
        const conn = await readConnection(db, deps.box, t.id, 'psa');
        if (!conn) return null;
        return checkPsaVendor(conn, { callbackUrl: psaCallbackUrl(deps.publicUrl, t.slug, conn.vendor), slug: t.slug });
      },
    ],
    // The invoice field pay links go into (write-pay-link.ts): found ⇒ waiting links are written, exception closed.
    ['psa pay link field', 'psa', () => checkPayLinkField({ db, connectors }, t.id)],
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
        const conn = await readConnection(db, deps.box, t.id, 'payments');
        if (!conn) return null;
        if (conn.vendor !== 'stripe') return `${conn.vendor}: no webhook check for this vendor`;
        return checkStripeWebhook(conn, psaCallbackUrl(deps.publicUrl, t.slug, 'stripe'), t.slug);
      },
    ],
    [
      'accounting',
      'accounting',
      async () => {
        const a = await connectors.accounting(t.id);
        if (!a) return null;
        if (a instanceof QuickBooksDesktopConnector) return checkQbdWebConnector(db, t.id, t.slug, a.config.runEveryMinutes ?? 5);
        await a.findInvoiceByNumber('__settle_doctor__');
        return `${a.vendor}: token valid, invoices queryable`;
      },
    ],
    [
      'accounting accounts',
      'accounting',
      async () => {
        const a = await connectors.accounting(t.id);
        const conn = await readConnection(db, deps.box, t.id, 'accounting');
        if (!a || !conn) return null;
        if (a instanceof XeroConnector) return checkXeroAccounts(a, conn.config, t.slug);
        if (a instanceof QuickBooksDesktopConnector) return checkQbdGlMapping(a, conn.config);
        if (!(a instanceof QuickBooksOnlineConnector)) return checkGlMapping(a, conn.config, [], { accounts: true });
        return checkQuickBooksAccounts(a.api, conn.config, t.slug);
      },
    ],
    [
      'accounting mapping rules',
      'accounting',
      async () => {
        const a = await connectors.accounting(t.id);
        const conn = await readConnection(db, deps.box, t.id, 'accounting');
        if (!a || !conn) return null;
        const rules = await withTenant(db, t.id, (tx) => readTrackingRules(tx));
        if (rules.length === 0) return 'no class / location rules by contract kind';
        return checkGlMapping(a, conn.config, rules, { accounts: false });
      },
    ],
    [
      'accounting clearing account',
      'accounting',
      async () => {
        const conn = await readConnection(db, deps.box, t.id, 'accounting');
        if (!conn) return null;
        if (conn.vendor !== 'quickbooks-online') return `${conn.vendor}: no clearing account used`;
        const warning = clearingAccountWarning(conn.config, t.slug);
        return warning ? { warning } : `clearingAccountId ${String(conn.config['clearingAccountId'])} set (checked under accounting accounts)`;
      },
    ],
    [
      'bank_ach',
      'bank_ach',
      async () => {
        const bank = await connectors.bankAch(t.id);
        if (!bank) return null;
        const d = await bank.checkDirectories();
        return `SFTP ${bank.config.sftp.host}: signed in; ${d.uploadDir} and ${d.downloadDir} readable (${d.waiting} file(s) waiting)`;
      },
    ],
  ];
}

/**
 * The findings for one workspace, optionally for one connection only. A missing connection is one finding
 * ("not connected"); bank ACH is optional and left out when it is not connected.
 */
export async function checkConnections(
  deps: CheckDeps,
  t: { id: string; slug: string },
  opts: { only?: ConnectionRole; actor?: Actor } = {},
): Promise<Finding[]> {
  const out: Finding[] = [];
  const bankAch = await deps.connectors.bankAch(t.id).catch(() => null);
  for (const [name, role, check] of checksFor(deps, t, opts.actor ?? 'system:doctor')) {
    if (opts.only && role !== opts.only) continue;
    if (role === 'bank_ach' && !bankAch && !opts.only) continue;
    const what = `${t.slug} ${name}`;
    try {
      const r = await check();
      if (r === null && name !== role) continue; // the connection itself is reported as not connected
      out.push(
        r === null
          ? { ok: false, role, what, detail: `not connected: \`settle connect ${role} <vendor> --workspace ${t.slug} …\`` }
          : typeof r === 'string'
            ? { ok: true, role, what, detail: r }
            : { ok: true, role, warning: true, what, detail: r.warning },
      );
    } catch (e) {
      const get = { psa: 'psa', payments: 'payments', accounting: 'accounting', bank_ach: 'bankAch' } as const;
      const vendor = (await deps.connectors[get[role]](t.id).catch(() => null))?.vendor ?? role;
      out.push({ ok: false, role, what, detail: advice(e, vendor) });
    }
  }
  return out;
}

/** "Test connection" from the staff app: the doctor's checks of one connection, recorded on it. */
export async function testConnection(deps: CheckDeps, tenantId: string, role: ConnectionRole, actor: Actor): Promise<Finding[]> {
  const t = await deps.db.selectFrom('tenants').select(['id', 'slug']).where('id', '=', tenantId).executeTakeFirstOrThrow();
  const findings = await checkConnections(deps, t, { only: role, actor });
  const failed = findings.filter((f) => !f.ok);
  const now = new Date();
  await withTenant(deps.db, tenantId, (tx) =>
    tx
      .updateTable('connections')
      .set(
        failed.length === 0
          ? { last_checked_at: now, last_success_at: now }
          : { last_checked_at: now, last_error_at: now, last_error: failed.map((f) => `${f.what.slice(t.slug.length + 1)}: ${f.detail}`).join(' · ') },
      )
      .where('role', '=', role)
      .execute(),
  );
  return findings;
}
