// Benchmark (issue #10): the initial import of 20,000 invoices with lines from the HaloPSA simulator, 100–300 ms a call
// (bench/lib/psa-import.ts).
import { benchMain, isMain } from './lib/main.ts';
import type { BenchResult } from './lib/result.ts';
import { runPsaImport } from './lib/psa-import.ts';

export const run = (pgServerUrl: string): Promise<BenchResult> => runPsaImport('halopsa', pgServerUrl);

if (isMain(import.meta.url)) await benchMain(run);
