// The ConnectWise initial import as bench/initial-import.ts (20,000 invoices) and bench/connectwise-import-100k.ts
// (100,000) measure it: the simulator and its invoices in a process of their own, as ConnectWise does; Settle's
// peak RSS sampled every 50 ms; `syncPsa` timed with the time split between awaiting SQL, awaiting ConnectWise's
// pages and the rest (lib/profile.ts). The worker is not started. The caller closes `stack` (the 100,000 bench
// still copies its rows first) and adds its own targets.
import { sql } from 'kysely';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { mb, sampleRss } from './memory.ts';
import { startBenchStack, type BenchStack } from './stack.ts';
import type { Figure } from './result.ts';
import { overlapMs, resetOverlap, tallySql, timeAsyncGenerator, topShapes } from './profile.ts';

export interface ConnectWiseImportRun {
  readonly stack: BenchStack;
  readonly syncMs: number;
  readonly counts: { invoices: number; invoiceLines: number; invoiceVersions: number; clients: number };
  readonly seededLines: number;
  readonly peakRssMb: number;
  /** The figures both benchmarks report, under the names they have always had in the JSON. */
  readonly figures: Record<string, Figure>;
  /** Where the RSS and the time went, in words. */
  readonly notes: readonly string[];
}

export async function importFromConnectWise(pgServerUrl: string, opts: { label: string; companies: number; invoices: number }): Promise<ConnectWiseImportRun> {
  const baselineRssMb = mb(process.memoryUsage().rss);
  const whole = sampleRss(50);
  const stack = await startBenchStack({
    pgServerUrl,
    label: opts.label,
    companies: opts.companies,
    invoices: opts.invoices,
    linesPerInvoice: 3,
    worker: false,
    mirrorBooks: false,
    initialSync: false,
    connectwiseInOwnProcess: true,
  });
  try {
    const cwStats = () => stack.connectwiseProcess!.ask<{ counts: Record<string, number>; lines: number; rssMb: number }>({ cmd: 'stats' });
    const seededLines = (await cwStats()).lines;
    const beforeSyncRssMb = mb(process.memoryUsage().rss);
    await stack.connectwiseProcess!.ask({ cmd: 'resetCalls' });
    // Attribution (see lib/profile.ts): time awaiting ConnectWise pages vs awaiting SQL vs the rest.
    const psa = (await stack.settle.ctx.connectors.psa(stack.tenantId)) as unknown as Record<'listInvoices' | 'listClients', () => AsyncGenerator<unknown>>;
    const fetchInvoices = timeAsyncGenerator(psa, 'listInvoices');
    const fetchClients = timeAsyncGenerator(psa, 'listClients');
    const sqlTally = tallySql();
    const during = sampleRss(50);
    resetOverlap();
    const t0 = performance.now();
    const summary = await syncPsa(stack.settle.ctx, stack.tenantId);
    const syncMs = Math.round(performance.now() - t0);
    const wall = overlapMs();
    const mem = during.stop();
    sqlTally.stop();
    fetchInvoices.restore();
    fetchClients.restore();
    const awaitingVendorMs = Math.round(fetchInvoices.ms() + fetchClients.ms());
    const awaitingSqlMs = Math.round(sqlTally.tally.awaitingMs);
    const breakdown = {
      // Summed waits (pages are stored concurrently, so these can add up to more than syncMs) …
      awaitingConnectWiseMs: awaitingVendorMs,
      awaitingSqlMs,
      // … and the wall time split by what was outstanding; neitherMs is our own JavaScript alone.
      ...wall,
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
    return {
      stack,
      syncMs,
      counts,
      seededLines,
      peakRssMb: overall.peakRssMb,
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
      notes: [
        `RSS is Settle's process (the ConnectWise simulator and its ${opts.invoices} invoices run in their own, ${after.rssMb} MB): ${baselineRssMb} MB at start, ${beforeSyncRssMb} MB once wired, peak ${mem.peakRssMb} MB during the sync (kernel high-water mark ${overall.kernelMaxRssMb} MB)`,
        `${counts.invoices} invoices, ${counts.invoiceLines} lines, ${counts.clients} clients stored in ${cwRequests} ConnectWise requests`,
        `where the time goes: ${breakdown.sqlStatements} SQL statements (${breakdown.sqlStatementsPerInvoice} per invoice, ${breakdown.meanSqlRoundTripMs} ms each, ${breakdown.awaitingSqlMs} ms summed), ConnectWise pages ${breakdown.awaitingConnectWiseMs} ms (fetch + map); of the ${syncMs} ms wall: SQL alone outstanding ${wall.sqlOnlyMs} ms, ConnectWise alone ${wall.vendorOnlyMs} ms, both ${wall.bothMs} ms, neither (our JavaScript alone) ${wall.neitherMs} ms`,
      ],
    };
  } catch (e) {
    await stack.close();
    throw e;
  }
}
