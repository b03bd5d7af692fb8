// Percentiles by the nearest-rank method (p99 of 100 samples is the 99th smallest), so a reported
// figure is always one that was actually measured.
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface LatencySummary {
  readonly n: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const r = (x: number): number => Math.round(x * 10) / 10;
  return {
    n: samples.length,
    p50Ms: r(percentile(samples, 50)),
    p90Ms: r(percentile(samples, 90)),
    p99Ms: r(percentile(samples, 99)),
    minMs: r(Math.min(...samples)),
    maxMs: r(Math.max(...samples)),
    meanMs: r(samples.reduce((s, x) => s + x, 0) / Math.max(1, samples.length)),
  };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
