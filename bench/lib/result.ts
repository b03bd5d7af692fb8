// The shape every benchmark returns, and the machine description that goes with every figure.
import os from 'node:os';

export type Figure = number | string | boolean | null | Record<string, number | string>;

export interface BenchResult {
  readonly name: string;
  /** Every measured figure, by name (milliseconds in *Ms, megabytes in *Mb). */
  readonly figures: Record<string, Figure>;
  /** The target from issue #2, in words. */
  readonly target: string;
  readonly pass: boolean;
  /** The figures the pass/fail was decided on, for the summary table. */
  readonly headline: readonly { label: string; value: string; target: string; pass: boolean }[];
  readonly notes: readonly string[];
  readonly wallMs: number;
  /** The figure (a key of figures) that `--repeat` takes the median of; default wallMs. */
  readonly primary?: string;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly totalMemoryMb: number;
  readonly node: string;
  readonly platform: string;
  readonly loadAverage: readonly number[];
}

export function machine(): Machine {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    totalMemoryMb: Math.round(os.totalmem() / 1024 / 1024),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
