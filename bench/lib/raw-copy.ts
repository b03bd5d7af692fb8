// The floor an import is weighed against (issue #10): the same rows loaded with PostgreSQL's own COPY into the
// same tables — a fresh database migrated as Settle migrates it, so the same indexes, constraints and
// foreign keys — measured in the same run. The rows are first written out to files (not timed) so the figure
// is the load alone. COPY FROM is refused under row-level security, which Settle's tables force; in this
// scratch database only, the tables' owner lifts the FORCE, as a restore by the owner would run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { migrate } from '../../src/db/migrate.ts';
import { createBenchDatabase } from './pg.ts';

/** Tables an initial import fills, parents first (foreign keys hold during the load). */
export const IMPORT_TABLES = ['clients', 'invoices', 'external_refs', 'invoice_versions', 'invoice_lines'] as const;

export interface RawCopyResult {
  readonly copyMs: number;
  readonly perTableMs: Record<string, number>;
  readonly rows: Record<string, number>;
  readonly bytes: number;
}

export async function rawCopyBaseline(pgServerUrl: string, sourceUrl: string, tenantId: string): Promise<RawCopyResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-bench-copy-'));
  const target = await createBenchDatabase(pgServerUrl, 'rawcopy');
  const source = new pg.Client({ connectionString: sourceUrl });
  const dest = new pg.Client({ connectionString: target.url });
  try {
    const pool = new pg.Pool({ connectionString: target.url, max: 2 });
    await migrate(pool);
    await pool.end();
    await source.connect();
    await dest.connect();
    await source.query(`SELECT set_config('settle.tenant_id', $1, false)`, [tenantId]);
    // The workspace itself (not timed): the imported rows refer to it.
    await dest.query(`ALTER TABLE tenants NO FORCE ROW LEVEL SECURITY`);
    const tenant = (await source.query(`SELECT row_to_json(t) AS j FROM tenants t WHERE id = $1`, [tenantId])).rows[0] as { j: unknown };
    await dest.query(`INSERT INTO tenants SELECT * FROM json_populate_record(NULL::tenants, $1::json)`, [JSON.stringify(tenant.j)]);
    let bytes = 0;
    const rows: Record<string, number> = {};
    const columns: Record<string, string> = {};
    for (const t of IMPORT_TABLES) {
      const file = path.join(dir, `${t}.copy`);
      // Named columns: the two databases' column order need not agree (columns added by later migrations).
      const cols = (
        await source.query<{ c: string }>(
          `SELECT quote_ident(column_name) AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position`,
          [t],
        )
      ).rows.map((r) => r.c);
      columns[t] = cols.join(', ');
      await pipeline(source.query(copyTo(`COPY (SELECT ${columns[t]} FROM ${t} WHERE tenant_id = '${tenantId}') TO STDOUT`)), fs.createWriteStream(file));
      bytes += fs.statSync(file).size;
      await dest.query(`ALTER TABLE ${t} NO FORCE ROW LEVEL SECURITY`);
    }
    const perTableMs: Record<string, number> = {};
    const t0 = performance.now();
    await dest.query('BEGIN');
    for (const t of IMPORT_TABLES) {
      const t1 = performance.now();
      const stream = dest.query(copyFrom(`COPY ${t} (${columns[t]}) FROM STDIN`));
      await pipeline(fs.createReadStream(path.join(dir, `${t}.copy`)), stream);
      rows[t] = Number(stream.rowCount);
      perTableMs[t] = Math.round(performance.now() - t1);
    }
    await dest.query('COMMIT');
    const copyMs = Math.round(performance.now() - t0);
    return { copyMs, perTableMs, rows, bytes };
  } finally {
    await source.end().catch(() => {});
    await dest.end().catch(() => {});
    await target.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
