// Benchmark 3 — the initial import of a fresh workspace: 20,000 invoices with ≈3 lines each (300
// companies) from the ConnectWise simulator, timed around `syncPsa` (clients, then invoices page by page
// with their lines, each page stored in one transaction). The ConnectWise simulator and its 20,000 invoices
// live in a process of their own, as ConnectWise does; peak RSS is sampled every 50 ms and is the whole
// Settle process (Settle, two idle simulators, the tsx loader and node). The worker is not started.
// Target (issue #2): < 60 s and peak RSS < 400 MB.
import { sql } from 'kysely';
import { syncPsa } from '../src/engine/sync-psa.ts';
import { withTenant } from '../src/db/tenant.ts';
import { benchMain, isMain } from './lib/main.ts';
import { mb, sampleRss } from './lib/memory.ts';
import type { BenchResult } from './lib/result.ts';
import { startBenchStack } from './lib/stack.ts';
import { tallySql, timeAsyncGenerator, topShapes } from './lib/profile.ts';

const INVOICES = 20_000;
const COMPANIES = 300;
const TARGET_MS = 60_000;
const TARGET_RSS_MB = 400;

export async function run(pgServerUrl: string): Promise<BenchResult> {
  const started = performance.now();
  const baselineRssMb = mb(process.memoryUsage().rss);
  const whole = sampleRss(50);
  const stack = await startBenchStack({
    pgServerUrl,
    label: 'import',
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
    const calls = after.counts;
    const cwRequests = Object.values(calls).reduce((n: number, v: number) => n + v, 0);
    const timePass = syncMs < TARGET_MS && counts.invoices === INVOICES;
    const rssPass = overall.peakRssMb < TARGET_RSS_MB;
    return {
      name: 'initial-import',
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
      },
      target: `syncPsa of ${INVOICES} invoices < ${TARGET_MS / 1000} s; peak RSS of Settle's process < ${TARGET_RSS_MB} MB`,
      pass: timePass && rssPass,
      headline: [
        { label: 'import time', value: `${(syncMs / 1000).toFixed(1)} s`, target: `< ${TARGET_MS / 1000} s`, pass: timePass },
        { label: 'peak RSS (Settle process)', value: `${overall.peakRssMb} MB`, target: `< ${TARGET_RSS_MB} MB`, pass: rssPass },
      ],
      notes: [
        `RSS is Settle's process (the ConnectWise simulator and its ${INVOICES} invoices run in their own, ${after.rssMb} MB): ${baselineRssMb} MB at start, ${beforeSyncRssMb} MB once wired, peak ${mem.peakRssMb} MB during the sync (kernel high-water mark ${overall.kernelMaxRssMb} MB)`,
        `${counts.invoices} invoices, ${counts.invoiceLines} lines, ${counts.clients} clients stored in ${cwRequests} ConnectWise requests`,
        `where the time goes: ${breakdown.awaitingSqlMs} ms awaiting ${breakdown.sqlStatements} SQL statements (${breakdown.sqlStatementsPerInvoice} per invoice, ${breakdown.meanSqlRoundTripMs} ms each), ${breakdown.awaitingConnectWiseMs} ms awaiting ConnectWise pages (fetch + map), ${breakdown.otherMs} ms other`,
      ],
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    await stack.close();
  }
}

if (isMain(import.meta.url)) await benchMain(run);
