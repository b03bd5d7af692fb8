// Benchmark (issue #10): the ConnectWise initial import scaled up — 100,000 invoices with ≈3 lines each
// (1,000 companies) — timed around `syncPsa` as bench/initial-import.ts does (the simulator in its own
// process, Settle's peak RSS sampled, the time split between SQL, ConnectWise's pages and the rest), then, in
// the same run, a raw PostgreSQL COPY of the same rows into the same tables with the same indexes
// (bench/lib/raw-copy.ts). Targets: ≤ 30 s, and ≤ 3 × the COPY.
import { benchMain, isMain } from './lib/main.ts';
import type { BenchResult } from './lib/result.ts';
import { importFromConnectWise } from './lib/connectwise-import.ts';
import { rawCopyBaseline } from './lib/raw-copy.ts';

const INVOICES = Number(process.env.BENCH_CW_INVOICES ?? 100_000);
const COMPANIES = 1_000;
const TARGET_MS = 30_000;
const TARGET_RATIO = 3;

export async function run(pgServerUrl: string): Promise<BenchResult> {
  const started = performance.now();
  const m = await importFromConnectWise(pgServerUrl, { label: 'import100k', companies: COMPANIES, invoices: INVOICES });
  const { stack, syncMs, counts } = m;
  try {
    const copy = await rawCopyBaseline(pgServerUrl, stack.databaseUrl, stack.tenantId);
    const ratio = Math.round((syncMs / Math.max(1, copy.copyMs)) * 100) / 100;
    const timePass = syncMs <= TARGET_MS && counts.invoices === INVOICES && counts.invoiceLines === m.seededLines;
    const ratioPass = ratio <= TARGET_RATIO && copy.rows.invoice_lines === counts.invoiceLines;
    const [rss, stored, time] = m.notes;
    return {
      name: 'connectwise-import-100k',
      figures: {
        ...m.figures,
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
        { label: 'peak RSS (Settle process)', value: `${m.peakRssMb} MB`, target: 'reported', pass: true },
      ],
      notes: [
        rss!,
        stored!,
        `raw COPY of the same rows into a fresh database with the same schema: ${copy.copyMs} ms (${JSON.stringify(copy.perTableMs)}; ${Math.round(copy.bytes / 1048576)} MB of COPY text)`,
        time!,
      ],
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    await stack.close();
  }
}

if (isMain(import.meta.url)) await benchMain(run);
