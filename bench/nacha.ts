// NACHA generation of 100,000 entries and parsing of the same file (issue #3 target: < 2 s each). The
// input is nacha/bench-input.ts: CCD+ debits and credits with an invoice-number addenda each (≈200,000
// records, 19 MB). The file is parsed back and must carry the same counts, entry hash and totals. Each
// step runs three times; the median is the figure (the first run includes JIT warm-up, reported apart).
import { benchmarkAchInput, generateAchFile, parseAch } from '../src/connectors/payments/bank-ach/nacha/index.ts';
import { benchMain, isMain } from './lib/main.ts';
import type { BenchResult } from './lib/result.ts';

const ENTRIES = 100_000;
const TARGET_MS = 2000;
const RUNS = 3;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(_pgServerUrl: string): Promise<BenchResult> {
  const started = performance.now();
  const input = benchmarkAchInput(ENTRIES);
  const genMs: number[] = [];
  const parseMs: number[] = [];
  let text = '';
  let readBack = true;
  const notes: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    const file = generateAchFile(input);
    genMs.push(performance.now() - t);
    text = file.text;
    t = performance.now();
    const parsed = parseAch(text);
    parseMs.push(performance.now() - t);
    if (!parsed.ok) {
      readBack = false;
      notes.push(`parse failed: ${parsed.errors[0]?.message ?? '?'}`);
      continue;
    }
    const c = parsed.file.control;
    const same =
      c.batchCount === file.batchCount &&
      c.entryAddendaCount === file.entryAddendaCount &&
      c.entryHash === file.entryHash &&
      c.totalDebitCents === file.totalDebitCents &&
      c.totalCreditCents === file.totalCreditCents &&
      parsed.file.batches.reduce((n, b) => n + b.entries.length, 0) === ENTRIES;
    if (!same) {
      readBack = false;
      notes.push('the parsed file does not carry the generated counts, hash and totals');
    }
  }
  const generateMs = Math.round(median(genMs));
  const parseMedianMs = Math.round(median(parseMs));
  const lines = text.split('\n').length - 1;
  const pass = generateMs < TARGET_MS && parseMedianMs < TARGET_MS && readBack;
  notes.push(`first run (with JIT warm-up): generate ${Math.round(genMs[0]!)} ms, parse ${Math.round(parseMs[0]!)} ms`);
  return {
    name: 'nacha',
    figures: {
      entries: ENTRIES,
      lines,
      bytes: Buffer.byteLength(text, 'latin1'),
      generateMs,
      parseMs: parseMedianMs,
      generateRunsMs: genMs.map((x) => Math.round(x)).join(' '),
      parseRunsMs: parseMs.map((x) => Math.round(x)).join(' '),
      readBackMatches: readBack,
    },
    target: 'generate 100,000 NACHA entries < 2 s and parse the same file < 2 s (same counts, hash, totals)',
    pass,
    headline: [
      { label: 'generate 100k entries', value: `${generateMs} ms`, target: `< ${TARGET_MS} ms`, pass: generateMs < TARGET_MS },
      { label: 'parse the same file', value: `${parseMedianMs} ms`, target: `< ${TARGET_MS} ms`, pass: parseMedianMs < TARGET_MS && readBack },
    ],
    notes,
    wallMs: Math.round(performance.now() - started),
  };
}

if (isMain(import.meta.url)) await benchMain(run);
