// Benchmark 3 — the initial import of a fresh workspace: 20,000 invoices with ≈3 lines each (300
// companies) from the ConnectWise simulator, timed around `syncPsa` (clients, then invoices page by page
// with their lines, each page stored in one transaction). The ConnectWise simulator and its 20,000 invoices
// live in a process of their own, as ConnectWise does; peak RSS is sampled every 50 ms and is the whole
// Settle process (Settle, two idle simulators, the tsx loader and node). The worker is not started.
// Target (issue #2): < 60 s and peak RSS < 400 MB.
import { benchMain, isMain } from './lib/main.ts';
import type { BenchResult } from './lib/result.ts';
import { importFromConnectWise } from './lib/connectwise-import.ts';

const INVOICES = 20_000;
const COMPANIES = 300;
const TARGET_MS = 60_000;
const TARGET_RSS_MB = 400;

export async function run(pgServerUrl: string): Promise<BenchResult> {
  const started = performance.now();
  const m = await importFromConnectWise(pgServerUrl, { label: 'import', companies: COMPANIES, invoices: INVOICES });
  try {
    const timePass = m.syncMs < TARGET_MS && m.counts.invoices === INVOICES;
    const rssPass = m.peakRssMb < TARGET_RSS_MB;
    return {
      name: 'initial-import',
      figures: m.figures,
      target: `syncPsa of ${INVOICES} invoices < ${TARGET_MS / 1000} s; peak RSS of Settle's process < ${TARGET_RSS_MB} MB`,
      pass: timePass && rssPass,
      headline: [
        { label: 'import time', value: `${(m.syncMs / 1000).toFixed(1)} s`, target: `< ${TARGET_MS / 1000} s`, pass: timePass },
        { label: 'peak RSS (Settle process)', value: `${m.peakRssMb} MB`, target: `< ${TARGET_RSS_MB} MB`, pass: rssPass },
      ],
      notes: [...m.notes],
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    await m.stack.close();
  }
}

if (isMain(import.meta.url)) await benchMain(run);
