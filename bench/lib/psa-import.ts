// The initial import of 20,000 invoices with ≈3 lines each from Autotask or HaloPSA (issue #10): the
// simulator runs in its own process with a per-call latency of 100–300 ms (uniform), `syncPsa` is timed on a
// fresh workspace, Settle's peak RSS is sampled every 50 ms, and every vendor call and every answer by status
// is counted by the simulator. Targets: < 60 s, peak RSS < 400 MB; Autotask ≤ 0.05 calls per invoice and
// 0 limit 429s served (its connector stays within 3 concurrent requests per endpoint).
import { sql } from 'kysely';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { mb, sampleRss } from './memory.ts';
import type { BenchResult } from './result.ts';
import { overlapMs, resetOverlap, tallySql, timeAsyncGenerator, topShapes } from './profile.ts';
import { startPsaBench } from './psa-workspace.ts';

const INVOICES = Number(process.env.BENCH_PSA_INVOICES ?? 20_000);
const COMPANIES = 300;
const LATENCY: [number, number] = [100, 300];
const TARGET_MS = 60_000;
const TARGET_RSS_MB = 400;
const TARGET_AUTOTASK_CALLS_PER_INVOICE = 0.05;

export async function runPsaImport(vendor: 'autotask' | 'halopsa', pgServerUrl: string): Promise<BenchResult> {
  const started = performance.now();
  const baselineRssMb = mb(process.memoryUsage().rss);
  const whole = sampleRss(50);
  const bench = await startPsaBench({
    pgServerUrl,
    label: `import-${vendor}`,
    vendor,
    companies: COMPANIES,
    invoices: INVOICES,
    linesPerInvoice: 3,
    latencyMs: LATENCY,
    worker: false,
  });
  const { stack } = bench;
  try {
    const seeded = await bench.stats();
    const beforeSyncRssMb = mb(process.memoryUsage().rss);
    await bench.child.ask({ cmd: 'resetCalls' });
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
    const after = await bench.stats();
    const counts = await withTenant(stack.db, stack.tenantId, async (tx) => {
      const q = async (table: string): Promise<number> =>
        Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM ${sql.table(table)}`.execute(tx)).rows[0]!.n);
      return { invoices: await q('invoices'), invoiceLines: await q('invoice_lines'), clients: await q('clients') };
    });
    const overall = whole.stop();
    const vendorCalls = Object.values(after.calls).reduce((n, v) => n + v, 0);
    const callsPerInvoice = Math.round((vendorCalls / Math.max(1, counts.invoices)) * 10_000) / 10_000;
    const served429 = after.statuses['429'] ?? 0;
    const awaitingVendorMs = Math.round(fetchInvoices.ms() + fetchClients.ms());
    const breakdown = {
      awaitingVendorMs,
      awaitingSqlMs: Math.round(sqlTally.tally.awaitingMs),
      // Summed waits overlap (pages are fetched while others are stored): the wall time split by what was outstanding.
      ...wall,
      sqlStatements: sqlTally.tally.statements,
    };
    const timePass = syncMs < TARGET_MS && counts.invoices === INVOICES && counts.invoiceLines === seeded.lines;
    const rssPass = overall.peakRssMb < TARGET_RSS_MB;
    const callsPass = vendor !== 'autotask' || callsPerInvoice <= TARGET_AUTOTASK_CALLS_PER_INVOICE;
    const limitPass = served429 === 0;
    const headline = [
      { label: 'import time', value: `${(syncMs / 1000).toFixed(1)} s`, target: `< ${TARGET_MS / 1000} s`, pass: timePass },
      { label: 'peak RSS (Settle process)', value: `${overall.peakRssMb} MB`, target: `< ${TARGET_RSS_MB} MB`, pass: rssPass },
      {
        label: 'vendor calls per invoice',
        value: String(callsPerInvoice),
        target: vendor === 'autotask' ? `≤ ${TARGET_AUTOTASK_CALLS_PER_INVOICE}` : 'reported',
        pass: callsPass,
      },
      { label: '429s served', value: String(served429), target: '0', pass: limitPass },
    ];
    return {
      name: `psa-import-${vendor}`,
      figures: {
        syncMs,
        invoicesPerSecond: Math.round((counts.invoices / Math.max(1, syncMs)) * 1000),
        peakRssMb: overall.peakRssMb,
        peakRssDuringSyncMb: mem.peakRssMb,
        kernelMaxRssMb: overall.kernelMaxRssMb,
        baselineRssMb,
        rssBeforeSyncMb: beforeSyncRssMb,
        ...counts,
        seededInvoices: seeded.invoices,
        seededLines: seeded.lines,
        summary: { clients: summary.clients, invoices: summary.invoices, created: summary.created, changed: summary.changed },
        vendorCalls,
        callsPerInvoice,
        calls: after.calls,
        statuses: after.statuses,
        served429,
        ...(after.limits ? { autotaskLimits: after.limits } : {}),
        latencyMs: `${LATENCY[0]}–${LATENCY[1]} uniform`,
        breakdown,
        topStatementsByTime: topShapes(sqlTally.tally),
        simulatorRssMb: after.rssMb,
      },
      target: `${INVOICES} invoices with lines < ${TARGET_MS / 1000} s, peak RSS < ${TARGET_RSS_MB} MB, 0 429s${vendor === 'autotask' ? `, ≤ ${TARGET_AUTOTASK_CALLS_PER_INVOICE} calls per invoice` : ''}`,
      pass: timePass && rssPass && callsPass && limitPass,
      headline,
      notes: [
        `${vendor} simulator in its own process (${after.rssMb} MB), ${LATENCY[0]}–${LATENCY[1]} ms added to every call`,
        `${counts.invoices} invoices, ${counts.invoiceLines} lines (seeded ${seeded.lines}), ${counts.clients} clients in ${vendorCalls} calls: ${JSON.stringify(after.calls)}`,
        `answers by status: ${JSON.stringify(after.statuses)}${after.limits ? `; Autotask limits refused ${after.limits.hourly} (hour) + ${after.limits.thread} (threads)` : ''}`,
        `where the time goes: ${breakdown.sqlStatements} SQL statements (${breakdown.awaitingSqlMs} ms summed), the vendor's pages ${breakdown.awaitingVendorMs} ms (fetch + map); of the ${syncMs} ms wall: SQL alone outstanding ${wall.sqlOnlyMs} ms, the vendor alone ${wall.vendorOnlyMs} ms, both ${wall.bothMs} ms, neither (our JavaScript alone) ${wall.neitherMs} ms`,
        `RSS: ${baselineRssMb} MB at start, ${beforeSyncRssMb} MB once wired, peak ${mem.peakRssMb} MB during the import (kernel high-water mark ${overall.kernelMaxRssMb} MB)`,
      ],
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    await bench.close();
  }
}
