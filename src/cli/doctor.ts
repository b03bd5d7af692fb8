// `settle doctor`: checks the database and every connection of every workspace with one harmless call each,
// and says exactly what is wrong and how to fix it.
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import { VendorError } from '../connectors/http.ts';
import type { TenantConnectors } from '../engine/context.ts';

export interface Finding {
  readonly ok: boolean;
  readonly what: string;
  readonly detail: string;
}

function advice(e: unknown, vendor: string): string {
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

export async function doctor(db: Db, connectors: TenantConnectors): Promise<Finding[]> {
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
    const checks: [string, () => Promise<string | null>][] = [
      [
        'psa',
        async () => {
          const psa = await connectors.psa(t.id);
          if (!psa) return null;
          for await (const _page of psa.listClients(new Date().toISOString())) break;
          return `${psa.vendor}: credentials accepted, companies readable`;
        },
      ],
      [
        'payments',
        async () => {
          const p = await connectors.payments(t.id);
          if (!p) return null;
          await p.findPaymentsByMetadata('settle_doctor', 'ping');
          return `${p.vendor}: key accepted, payments searchable`;
        },
      ],
      [
        'accounting',
        async () => {
          const a = await connectors.accounting(t.id);
          if (!a) return null;
          await a.findInvoiceByNumber('__settle_doctor__');
          return `${a.vendor}: token valid, invoices queryable`;
        },
      ],
    ];
    for (const [role, check] of checks) {
      const what = `${t.slug} ${role}`;
      try {
        const r = await check();
        out.push(
          r === null
            ? { ok: false, what, detail: `not connected: \`settle connect ${role} <vendor> --workspace ${t.slug} …\`` }
            : { ok: true, what, detail: r },
        );
      } catch (e) {
        const vendor = (await connectors[role as 'psa'](t.id).catch(() => null))?.vendor ?? role;
        out.push({ ok: false, what, detail: advice(e, vendor) });
      }
    }
  }
  return out;
}
