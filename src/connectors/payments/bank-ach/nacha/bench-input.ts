// Deterministic input of any size for benchmarks (bench/: time generating and parsing 100,000
// entries) and for large-file tests. CCD+ entries, each with one addenda 05 carrying an invoice
// number, so N entries make ≈2N records, like a real remittance-heavy file.
import { routingCheckDigit } from './routing.ts';
import type { AchEntryInput, AchFileInput } from './generate.ts';

export interface BenchmarkInputOptions {
  readonly entriesPerBatch?: number; // default 5,000
  readonly withAddenda?: boolean; // default true
  readonly seed?: number;
}

export function benchmarkAchInput(entryCount: number, options: BenchmarkInputOptions = {}): AchFileInput {
  if (!Number.isSafeInteger(entryCount) || entryCount < 1 || entryCount > 9_999_999) throw new RangeError('entryCount must be 1 to 9,999,999');
  const perBatch = options.entriesPerBatch ?? 5000;
  const withAddenda = options.withAddenda ?? true;
  let state = (options.seed ?? 20260320) >>> 0;
  // xorshift32: reproducible without Math.random.
  const next = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const batches: AchFileInput['batches'][number][] = [];
  for (let start = 0; start < entryCount; start += perBatch) {
    const entries: AchEntryInput[] = [];
    for (let i = start; i < Math.min(entryCount, start + perBatch); i++) {
      const dfi = String(next() % 100_000_000).padStart(8, '0');
      const debit = next() % 4 !== 0;
      entries.push({
        transactionCode: debit ? 27 : 22,
        routingNumber: dfi + String(routingCheckDigit(dfi)),
        accountNumber: String(next() % 1_000_000_000_000),
        amountCents: BigInt(1 + (next() % 5_000_000)),
        receiverName: `CLIENT ${i + 1}`,
        identificationNumber: `PAY${i + 1}`,
        ...(withAddenda ? { addenda: [`RMR*IV*INV-${i + 1}**\\`] } : {}),
      });
    }
    batches.push({
      companyName: 'BENCH MSP',
      companyIdentification: '1234567890',
      secCode: 'CCD',
      companyEntryDescription: 'INVOICES',
      effectiveEntryDate: '2026-03-23',
      odfi: '12104288',
      entries,
    });
  }
  return {
    immediateDestination: '231380104',
    immediateOrigin: '121042882',
    immediateDestinationName: 'FEDERAL RESERVE BANK',
    immediateOriginName: 'BENCH MSP',
    fileCreationDate: '2026-03-20',
    fileCreationTime: '0900',
    fileIdModifier: 'A',
    batches,
  };
}
