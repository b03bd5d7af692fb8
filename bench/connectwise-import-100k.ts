// Benchmark (issue #10): the ConnectWise initial import scaled up — 100,000 invoices with ≈3 lines each
// (1,000 companies) — timed around `syncPsa` as bench/initial-import.ts does (the simulator in its own
// process, Settle's peak RSS sampled, the time split between SQL, ConnectWise's pages and the rest), then, in
// the same run, a raw PostgreSQL COPY of the same rows into the same tables with the same indexes
// (bench/lib/raw-copy.ts). Targets: ≤ 30 s, and ≤ 3 × the COPY.
import { sql } from 'kysely';
import { syncPsa } from '../src/engine/sync-psa.ts';
import { withTenant } from '../src/db/tenant.ts';
import { benchMain, isMain } from './lib/main.ts';
import { mb, sampleRss } from './lib/memory.ts';
import type { BenchResult } from './lib/result.ts';
import { startBenchStack } from './lib/stack.ts';
import { tallySql, timeAsyncGenerator, topShapes } from './lib/profile.ts';
import { rawCopyBaseline } from './lib/raw-copy.ts';

const INVOICES = Number(process.env.BENCH_CW_INVOICES ?? 100_000);
const COMPANIES = 1_000;
const TARGET_MS = 30_000;
const TARGET_RATIO = 3;

export async function run(pgServerUrl: string): Promise<BenchResult> {
  const started = performance.now();
  const baselineRssMb = mb(process.memoryUsage().rss);
  const whole = sampleRss(50);
  const stack = await startBenchStack({
    pgServerUrl,
    label: 'import100k',
    companies: COMPANIES,
    invoices: INVOICES,
    linesPerInvoice: 3,
    worker: false,
    mirrorBooks: false,
    initialSync: false,
    connectwiseInOwnProcess: true,
  });
  const cwStats = () => stack.connectwiseProcess!.ask<{ counts: Record<string, number>; lines: number; rssMb: number }>({ cmd: 'stats' });
  try {
    const seededLines = (await cwStats()).lines;
    const beforeSyncRssMb = mb(process.memoryUsage().rss);
    await stack.connectwiseProcess!.ask({ cmd: 'resetCalls' });
    // Attribution (see lib/profile.ts): time awaiting ConnectWise pages vs awaiting SQL vs the rest.
    const psa = (await stack.settle.ctx.connectors.psa(stack.tenantId)) as unknown as Record<'listInvoices' | 'listClients', () => AsyncGenerator<unknown>>;
    const fetchInvoices = timeAsyncGenerator(psa, 'listInvoices');
    const fetchClients = timeAsyncGenerator(psa, 'listClients');
    const sqlTally = tallySql();
    const during = sampleRss(50);
    const t0 = performance.now();
    const summary = await syncPsa(stack.settle.ctx, stack.tenantId);
    const syncMs = Math.round(performance.now() - t0);
    const mem = during.stop();
    sqlTally.stop();
    fetchInvoices.restore();
    fetchClients.restore();
    const awaitingVendorMs = Math.round(fetchInvoices.ms() + fetchClients.ms());
    const awaitingSqlMs = Math.round(sqlTally.tally.awaitingMs);
    const breakdown = {
      awaitingConnectWiseMs: awaitingVendorMs,
      awaitingSqlMs,
      otherMs: Math.max(0, syncMs - awaitingVendorMs - awaitingSqlMs),
      sqlStatements: sqlTally.tally.statements,
      sqlStatementsPerInvoice: Math.round((sqlTally.tally.statements / Math.max(1, summary.invoices)) * 10) / 10,
      meanSqlRoundTripMs: Math.round((sqlTally.tally.awaitingMs / Math.max(1, sqlTally.tally.statements)) * 1000) / 1000,
    };
    const counts = await withTenant(stack.db, stack.tenantId, async (tx) => {
      const q = async (table: string): Promise<number> =>
        Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM ${sql.table(table)}`.execute(tx)).rows[0]!.n);
      return {
        invoices: await q('invoices'),
        invoiceLines: await q('invoice_lines'),
        invoiceVersions: await q('invoice_versions'),
        clients: await q('clients'),
      };
    });
    const overall = whole.stop();
    const after = await cwStats();
    const copy = await rawCopyBaseline(pgServerUrl, stack.databaseUrl, stack.tenantId);
    const ratio = Math.round((syncMs / Math.max(1, copy.copyMs)) * 100) / 100;
    const calls = after.counts;
    const cwRequests = Object.values(calls).reduce((n: number, v: number) => n + v, 0);
    const timePass = syncMs <= TARGET_MS && counts.invoices === INVOICES && counts.invoiceLines === seededLines;
    const ratioPass = ratio <= TARGET_RATIO && copy.rows.invoice_lines === counts.invoiceLines;
    return {
      name: 'connectwise-import-100k',
      figures: {
        syncMs,
        invoicesPerSecond: Math.round((summary.invoices / syncMs) * 1000),
        peakRssMb: overall.peakRssMb,
        peakRssDuringSyncMb: mem.peakRssMb,
        kernelMaxRssMb: overall.kernelMaxRssMb,
        baselineRssMb,
        rssBeforeSyncMb: beforeSyncRssMb,
        ...counts,
        seededLines,
        summary: { clients: summary.clients, invoices: summary.invoices, created: summary.created, changed: summary.changed },
        breakdown,
        topStatementsByTime: topShapes(sqlTally.tally),
        connectwiseCalls: calls,
        connectwiseRequests: cwRequests,
        connectwiseSimulatorRssMb: after.rssMb,
        rawCopyMs: copy.copyMs,
        rawCopyPerTableMs: copy.perTableMs,
        rawCopyRows: copy.rows,
        rawCopyMb: Math.round(copy.bytes / 1048576),
        importToCopyRatio: ratio,
      },
      target: `syncPsa of ${INVOICES} invoices with lines ≤ ${TARGET_MS / 1000} s and ≤ ${TARGET_RATIO} × a raw COPY of the same rows`,
      pass: timePass && ratioPass,
      primary: 'syncMs',
      headline: [
        { label: 'import time', value: `${(syncMs / 1000).toFixed(1)} s`, target: `≤ ${TARGET_MS / 1000} s`, pass: timePass },
        { label: 'import / raw COPY', value: `${ratio} × (COPY ${(copy.copyMs / 1000).toFixed(1)} s)`, target: `≤ ${TARGET_RATIO} ×`, pass: ratioPass },
        { label: 'peak RSS (Settle process)', value: `${overall.peakRssMb} MB`, target: 'reported', pass: true },
      ],
      notes: [
        `RSS is Settle's process (the ConnectWise simulator and its ${INVOICES} invoices run in their own, ${after.rssMb} MB): ${baselineRssMb} MB at start, ${beforeSyncRssMb} MB once wired, peak ${mem.peakRssMb} MB during the sync (kernel high-water mark ${overall.kernelMaxRssMb} MB)`,
        `${counts.invoices} invoices, ${counts.invoiceLines} lines, ${counts.clients} clients stored in ${cwRequests} ConnectWise requests`,
        `raw COPY of the same rows into a fresh database with the same schema: ${copy.copyMs} ms (${JSON.stringify(copy.perTableMs)}; ${Math.round(copy.bytes / 1048576)} MB of COPY text)`,
        `where the time goes: ${breakdown.awaitingSqlMs} ms awaiting ${breakdown.sqlStatements} SQL statements (${breakdown.sqlStatementsPerInvoice} per invoice, ${breakdown.meanSqlRoundTripMs} ms each), ${breakdown.awaitingConnectWiseMs} ms awaiting ConnectWise pages (fetch + map), ${breakdown.otherMs} ms other`,
      ],
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    await stack.close();
  }
}

if (isMain(import.meta.url)) await benchMain(run);
