// Public surface of the NACHA module: parse (with returns/NOCs), generate, inspect.
export { parseAch } from './parse.ts';
export { readAchFile, readAchFileSync } from './read-file.ts';
export { listNocs, listReturns, type AchNoc, type AchReturn } from './returns.ts';
export {
  AchGenerateError,
  generateAchFile,
  invoiceRemittance,
  REINITIATION_DESCRIPTION,
  SAME_DAY_LIMIT_CENTS,
  splitAddenda,
  type AchBatchInput,
  type AchEntryInput,
  type AchFileInput,
  type AchGenerateOptions,
  type GeneratedAchFile,
} from './generate.ts';
export { inspectAchFile, runInspect, type InspectOptions, type InspectResult } from './inspect.ts';
export { benchmarkAchInput } from './bench-input.ts';
export { changeCodeInfo, returnCodeInfo, transactionCodeFor, transactionCodeInfo } from './codes.ts';
export { isValidRoutingNumber, routingCheckDigit } from './routing.ts';
export type * from './types.ts';
