// The A/R figures (ar-metrics.ts) as JSON for the dashboard's snapshot (dashboard_snapshots.figures) and back,
// exactly: JSON has no bigint and a JS number would round amounts above 2^53, so every bigint is written as
// {"$bigint": "<decimal digits>"} and every Date as {"$date": "<ISO instant>"}; ratios (DSO, shares, rates)
// are plain numbers, as they are in ArMetrics. The tags are generic, so a bigint field added to the figures
// later is kept exactly without touching this file; a change of shape bumps FIGURES_FORMAT instead, and
// figures stored under another format are recomputed rather than read.
import type { ArMetrics } from './ar-metrics.ts';

/** Bump when ArMetrics changes shape: snapshots of another format are ignored (and recomputed). */
export const FIGURES_FORMAT = 1;

export class FiguresCodecError extends Error {
  override readonly name = 'FiguresCodecError';
}

const DIGITS = /^-?\d+$/;

/** ArMetrics as JSON text: bigints and Dates tagged (see above). */
export function encodeFigures(m: ArMetrics): string {
  return JSON.stringify(m, function (this: Record<string, unknown>, key: string, value: unknown) {
    // JSON.stringify has already called Date#toJSON on `value`; the holder still has the Date itself
    const original = key === '' ? value : this[key];
    if (typeof original === 'bigint') return { $bigint: original.toString() };
    if (original instanceof Date) return { $date: original.toISOString() };
    return value;
  });
}

function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === '$bigint') {
    if (typeof o.$bigint !== 'string' || !DIGITS.test(o.$bigint)) throw new FiguresCodecError(`not an integer: ${JSON.stringify(o.$bigint)}`);
    return BigInt(o.$bigint);
  }
  if (keys.length === 1 && keys[0] === '$date') {
    const d = typeof o.$date === 'string' ? new Date(o.$date) : new Date(NaN);
    if (Number.isNaN(d.getTime())) throw new FiguresCodecError(`not an instant: ${JSON.stringify(o.$date)}`);
    return d;
  }
  return Object.fromEntries(keys.map((k) => [k, revive(o[k])]));
}

/** The figures back from JSON text, or from the jsonb the driver already parsed. Throws FiguresCodecError. */
export function decodeFigures(stored: unknown): ArMetrics {
  let parsed: unknown = stored;
  if (typeof stored === 'string') {
    try {
      parsed = JSON.parse(stored);
    } catch (e) {
      throw new FiguresCodecError(`not JSON: ${(e as Error).message}`);
    }
  }
  const m = revive(parsed) as Partial<ArMetrics> | null;
  if (!m || typeof m !== 'object' || !Array.isArray(m.currencies) || !m.period || typeof m.timeZone !== 'string' || !(m.generatedAt instanceof Date))
    throw new FiguresCodecError('not A/R figures: period, timeZone, generatedAt or currencies missing');
  return m as ArMetrics;
}
