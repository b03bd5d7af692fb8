// "Preview against your history" on Settings → Retry policy: the schedule in the form (not saved) replayed
// over this workspace's past failed payments next to the policy in force (engine/retry-backtest.ts), as
// words and formatted amounts for the page. Hard and fix-data declines are shown for what happened to
// them, never with retries; a class without enough history says so instead of a figure.
import { format, money, type Currency, type Money } from '../../domain/money.ts';
import { MIN_TRIALS, type ClassRow, type FailureClass, type ScheduleFigures } from '../../domain/retry-backtest/index.ts';
import type { RetryStep } from '../../domain/rules/index.ts';
import { withTenant } from '../../db/tenant.ts';
import { backtestRetryPolicy, HISTORY_DAYS, type RetryBacktest } from '../../engine/retry-backtest.ts';
import type { RetryPolicyInput } from '../../engine/retry-settings.ts';
import type { HttpDeps } from '../deps.ts';

const LABEL: Record<FailureClass, string> = {
  soft: 'Soft declines',
  technical: 'Technical errors',
  fix_data: 'Card data to fix',
  hard: 'Hard declines',
  ach_return: 'Bank debit returns',
};

export interface PreviewSide {
  retries: string;
  recovered: string;
  refused: string;
}
export interface PreviewRow {
  id: string;
  label: string;
  failures: number;
  history: string;
  rate: string;
  current: PreviewSide;
  proposed: PreviewSide;
  change: string;
  note: string | null;
  /** "retry 1: 2 of 9 · retry 2: 2 of 6 …" — how often each retry collected; '' when none was made. */
  byRetry: string;
  /** Where the proposed retries' chances came from, e.g. "17 by time since the first attempt, 8 by the class". */
  basis: string;
}
export interface PreviewView {
  historyDays: number;
  since: string;
  failures: number;
  inProgress: number;
  notEstimated: number;
  current: { soft: string; technical: string };
  proposed: { soft: string; technical: string };
  rows: PreviewRow[];
  totals: Omit<PreviewRow, 'id' | 'label' | 'history' | 'rate'>;
  /** Counting what clients paid themselves when no retry collected. */
  inTotal: { current: string; proposed: string };
  /** What the retries made in this period actually collected, to set the estimates against. */
  actual: string;
}

const amounts = (ms: readonly Money[]): string => (ms.length ? ms.map(format).join(' + ') : '—');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const schedule = (steps: readonly RetryStep[], words: (s: RetryStep) => string) => (steps.length ? steps.map(words).join(', ') : 'not retried');

/** `estimated`: whether any failure of the row has the rates it needs (else there is no figure to show). */
function side(f: ScheduleFigures, scheduled: boolean, estimated: boolean): PreviewSide {
  if (!scheduled) return { retries: 'never retried', recovered: amounts(f.recoveredByRetries), refused: '' };
  const refused = f.refusedByCardLimits + f.refusedByCode;
  return {
    retries: `${plural(f.plannedRetries, 'retry', 'retries')} at most${estimated ? `, about ${f.expectedRetries.toFixed(1)} expected` : ''}`,
    recovered: estimated ? amounts(f.recoveredByRetries) : 'not enough history',
    refused: refused
      ? `${f.refusedByCardLimits ? `${f.refusedByCardLimits} held back by card limits` : ''}${f.refusedByCardLimits && f.refusedByCode ? '; ' : ''}${f.refusedByCode ? `${f.refusedByCode} beyond the decline code’s own limit` : ''}`
      : '',
  };
}

/** Proposed − current per currency, signed: "+$72.16", "−$3.00", "no change". */
function change(current: readonly Money[], proposed: readonly Money[], retries: number): string {
  const currencies = [...new Set([...current, ...proposed].map((m) => m.currency))].sort() as Currency[];
  const of = (ms: readonly Money[], c: Currency) => ms.find((m) => m.currency === c)?.amountMinor ?? 0n;
  const parts = currencies
    .map((c) => of(proposed, c) - of(current, c))
    .map((d, i) => (d === 0n ? null : `${d > 0n ? '+' : '−'}${format(money(d < 0n ? -d : d, currencies[i]!))}`))
    .filter((x): x is string => x !== null);
  const r = retries === 0 ? '' : `${retries > 0 ? '+' : '−'}${plural(Math.abs(retries), 'retry', 'retries')} at most`;
  return [parts.join(', '), r].filter(Boolean).join('; ') || 'no change';
}

const BASIS_WORDS = { elapsed: 'by time since the first attempt', retry_number: 'by retry number', class: 'from the whole kind of decline' } as const;
const basisOf = (f: ScheduleFigures): string =>
  (Object.keys(BASIS_WORDS) as (keyof typeof BASIS_WORDS)[])
    .filter((k) => f.basis[k] > 0)
    .map((k) => `${f.basis[k]} ${BASIS_WORDS[k]}`)
    .join(', ');

function rowOf(c: ClassRow): PreviewRow {
  const estimated = c.notEstimated < c.rates.failures;
  const o = c.rates.outcomes;
  const history = [
    o.retry_recovered && `${o.retry_recovered} collected by a retry`,
    o.client_fixed && `${o.client_fixed} paid by the client another way`,
    o.written_off && `${o.written_off} written off`,
    o.not_recovered && `${o.not_recovered} never collected`,
  ]
    .filter(Boolean)
    .join(', ');
  const t = c.rates.all;
  const rate = !c.scheduled
    ? c.class === 'ach_return'
      ? 'presented again under NACHA rules, not this schedule'
      : 'never retried'
    : t.tried
      ? `${t.recovered} of ${plural(t.tried, 'retry', 'retries')} collected (${Math.round((100 * t.recovered) / t.tried)}%)`
      : 'no retries yet';
  return {
    id: `backtest-${c.class.replace('_', '-')}`,
    label: LABEL[c.class],
    failures: c.rates.failures,
    history: history || 'none',
    rate,
    current: side(c.current, c.scheduled, estimated),
    proposed: side(c.proposed, c.scheduled, estimated),
    change: !c.scheduled
      ? 'not affected'
      : estimated
        ? change(c.current.recoveredByRetries, c.proposed.recoveredByRetries, c.proposed.plannedRetries - c.current.plannedRetries)
        : 'not enough history',
    note: c.notEstimated
      ? `Not enough history for ${plural(c.notEstimated, 'failure')} (fewer than ${MIN_TRIALS} retries to learn from): left out of the amounts.`
      : null,
    basis: basisOf(c.proposed),
    byRetry: c.rates.byRetry.map((t, i) => `retry ${i + 1}: ${t.recovered} of ${t.tried}`).join(' · '),
  };
}

export function previewView(b: RetryBacktest, historyDays: number, words: (s: RetryStep) => string): PreviewView {
  const r = b.result;
  return {
    historyDays,
    since: b.since.toISOString().slice(0, 10),
    failures: r.failures,
    inProgress: b.inProgress,
    notEstimated: r.totals.notEstimated,
    current: { soft: schedule(b.current.soft.steps, words), technical: schedule(b.current.technical.steps, words) },
    proposed: { soft: schedule(b.proposed.soft.steps, words), technical: schedule(b.proposed.technical.steps, words) },
    rows: r.classes.filter((c) => c.rates.failures > 0).map(rowOf),
    totals: {
      failures: r.failures,
      current: side(r.totals.current, true, r.totals.notEstimated < r.failures),
      proposed: side(r.totals.proposed, true, r.totals.notEstimated < r.failures),
      change: change(
        r.totals.current.recoveredByRetries,
        r.totals.proposed.recoveredByRetries,
        r.totals.proposed.plannedRetries - r.totals.current.plannedRetries,
      ),
      note: null,
      basis: basisOf(r.totals.proposed),
      byRetry: '',
    },
    inTotal: { current: amounts(r.totals.current.recoveredInTotal), proposed: amounts(r.totals.proposed.recoveredInTotal) },
    actual: `${plural(r.totals.actual.retries, 'retry', 'retries')} made, ${amounts(r.totals.actual.recoveredByRetries)} collected by them`,
  };
}

/** Runs the backtest for the form's schedule in a read-only look at this workspace (nothing saved, nothing audited). */
export async function previewAgainstHistory(deps: HttpDeps, tenantId: string, input: RetryPolicyInput, words: (s: RetryStep) => string): Promise<PreviewView> {
  const days = HISTORY_DAYS.default;
  const b = await withTenant(deps.ctx.db, tenantId, (tx) =>
    backtestRetryPolicy(tx, { soft_steps: input.soft_steps, technical_steps: input.technical_steps, history_days: days, detail: false }, deps.ctx.now()),
  );
  return previewView(b, days, words);
}
