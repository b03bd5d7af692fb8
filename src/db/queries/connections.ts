// What the connections page shows of each connection: its state, the last "Test connection", and the last
// time Settle heard from or wrote to the system (the PSA's sync cursor, the processor's last webhook, the last
// posting into the books), plus the open exception about the PSA's callback. Never the secrets.
import type { Tx } from '../tenant.ts';
import type { ConnectionRole } from '../../connectors/registry.ts';

export interface ConnectionRow {
  readonly role: ConnectionRole;
  readonly vendor: string;
  readonly status: 'active' | 'needs_attention' | 'disabled';
  readonly statusDetail: string | null;
  readonly config: Record<string, unknown>;
  readonly updatedAt: Date;
  readonly lastCheckedAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly lastErrorAt: Date | null;
  readonly lastError: string | null;
  /** The last sign of the connection working in daily use (sync, webhook, posting). */
  readonly lastActivityAt: Date | null;
  /** The last posting that failed against this system, if any is still failed. */
  readonly lastFailure: { at: Date; error: string } | null;
}

export async function listConnections(tx: Tx): Promise<ConnectionRow[]> {
  const rows = await tx
    .selectFrom('connections')
    .select(['role', 'vendor', 'status', 'status_detail', 'config', 'updated_at', 'last_checked_at', 'last_success_at', 'last_error_at', 'last_error'])
    .orderBy('role')
    .execute();
  const out: ConnectionRow[] = [];
  for (const r of rows) {
    let lastActivityAt: Date | null = null;
    let lastFailure: ConnectionRow['lastFailure'] = null;
    if (r.role === 'psa') {
      const c = await tx
        .selectFrom('sync_cursors')
        .select((eb) => eb.fn.max('updated_at').as('at'))
        .where('name', 'like', `${r.vendor}:%`)
        .executeTakeFirst();
      lastActivityAt = (c?.at as Date | null) ?? null;
    } else if (r.role === 'payments') {
      const e = await tx
        .selectFrom('inbox_events')
        .select((eb) => eb.fn.max('received_at').as('at'))
        .where('source', '=', r.vendor)
        .executeTakeFirst();
      lastActivityAt = (e?.at as Date | null) ?? null;
    }
    if (r.role === 'psa' || r.role === 'accounting') {
      const p = await tx
        .selectFrom('postings')
        .select((eb) => eb.fn.max('posted_at').as('at'))
        .where('target', '=', r.role)
        .executeTakeFirst();
      const posted = (p?.at as Date | null) ?? null;
      if (posted && (!lastActivityAt || posted > lastActivityAt)) lastActivityAt = posted;
      const f = await tx
        .selectFrom('postings')
        .select(['created_at', 'last_error'])
        .where('target', '=', r.role)
        .where('status', '=', 'failed')
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (f?.last_error) lastFailure = { at: f.created_at, error: f.last_error };
    }
    out.push({
      role: r.role,
      vendor: r.vendor,
      status: r.status,
      statusDetail: r.status_detail,
      config: r.config,
      updatedAt: r.updated_at,
      lastCheckedAt: r.last_checked_at,
      lastSuccessAt: r.last_success_at,
      lastErrorAt: r.last_error_at,
      lastError: r.last_error,
      lastActivityAt,
      lastFailure,
    });
  }
  return out;
}

/** The open "PSA does not notify Settle" exception's reason (engine/psa-callbacks.ts), if any. */
export async function openCallbackProblem(tx: Tx): Promise<string | null> {
  const e = await tx.selectFrom('exceptions').select('detail').where('dedupe_key', '=', 'psa-callback').where('status', '=', 'open').executeTakeFirst();
  return e?.detail ?? null;
}

/** Counts for the first import's progress display. */
export async function importCounts(tx: Tx): Promise<{ clients: number; invoices: number; lines: number }> {
  const one = async (table: 'clients' | 'invoices' | 'invoice_lines'): Promise<number> =>
    Number(
      (
        await tx
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirst()
      )?.n ?? 0,
    );
  return { clients: await one('clients'), invoices: await one('invoices'), lines: await one('invoice_lines') };
}
