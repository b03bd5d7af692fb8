// Retry-policy backtest (issue #12, docs/retry-backtest.md): load this workspace's past failed payments —
// each chain's decline class, the retries Settle made and what happened in the end — and replay them under
// the current and a proposed schedule (domain/retry-backtest). Reads only: nothing is saved, nothing is
// audited (saving the policy afterwards is, in retry-settings.ts). Two set-based queries under the
// tenant's row-level security, whatever the number of failures.
import { sql } from 'kysely';
import { z } from 'zod';
import { money, parseCurrency } from '../domain/money.ts';
import { FAILURE_CLASSES, runBacktest, type BacktestResult, type FailureClass, type PastFailure, type PastOutcome } from '../domain/retry-backtest/index.ts';
import type { CardAttempt, RetrySchedule } from '../domain/rules/index.ts';
import type { Tx } from '../db/tenant.ts';
import { OUTCOME } from './failure-store.ts';
import { loadRetryPolicy, retryPolicyInput } from './retry-settings.ts';

const DAY_MS = 86_400_000;
export const HISTORY_DAYS = { min: 30, max: 730, default: 365 } as const;

/** Failures that never entered the retry path: nothing to replay. */
const NOT_IN_RETRY_PATH = ['superseded', 'paid_meanwhile', 'not_sent', 'installment_plan_retries'];

const STEP_KEYS = new Set(['soft_steps', 'technical_steps', 'history_days', 'detail']);
/** A proposed schedule, as PUT /api/v1/retry-policy takes its steps (same limits), plus how far back to look. */
export const retryBacktestInput = retryPolicyInput
  .pick({ soft_steps: true, technical_steps: true })
  .extend({
    history_days: z.number().int().min(HISTORY_DAYS.min).max(HISTORY_DAYS.max).default(HISTORY_DAYS.default),
    /** Also list every past failure with the retries each schedule makes of it. */
    detail: z.boolean().default(false),
  })
  .passthrough()
  .superRefine((v, ctx) => {
    for (const key of Object.keys(v).filter((k) => !STEP_KEYS.has(k))) {
      const cls = key.endsWith('_steps') ? key.slice(0, -'_steps'.length) : null;
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message:
          cls !== null
            ? `there is no "${cls}" schedule: only soft declines and technical errors are retried on a schedule (hard and fix-data declines never are, bank returns follow NACHA); send soft_steps and technical_steps`
            : 'unknown field; send soft_steps, technical_steps and optionally history_days and detail',
      });
    }
  });
export type RetryBacktestInput = z.infer<typeof retryBacktestInput>;

export interface RetryBacktest {
  readonly since: Date;
  readonly current: RetrySchedule;
  readonly proposed: RetrySchedule;
  /** Chains still being retried: their outcome is not known yet, so they are left out. */
  readonly inProgress: number;
  readonly result: BacktestResult;
}

interface ChainRow {
  id: string;
  failure_code: string | null;
  failure_class: string;
  amount_minor: string;
  currency: string;
  client_id: string;
  method_kind: string | null;
  method_brand: string | null;
  method_last4: string | null;
  first_attempt_at: Date;
  retries: { n: number | null; at: string; ok: string | null; same_card: boolean }[];
  in_progress: boolean;
  paid_otherwise_at: Date | null;
  all_paid: boolean | null;
  written_off: boolean | null;
  closed_at: Date;
}

const cardKey = (r: { client_id: string; method_kind: string | null; method_brand: string | null; method_last4: string | null }) =>
  `${r.client_id}|${r.method_kind}|${r.method_brand ?? ''}|${r.method_last4}`;

/**
 * The retries of the schedule are those on the card that was declined. A retry on another method is the client
 * fixing it (Settle retries at once when a new method is saved): it ends what the schedule is judged on.
 */
function scheduleRetries(r: ChainRow): ChainRow['retries'] {
  const moved = r.retries.findIndex((x) => !x.same_card);
  return moved < 0 ? r.retries : r.retries.slice(0, moved);
}

function outcomeOf(r: ChainRow): PastOutcome {
  const own = scheduleRetries(r);
  const won = own.findIndex((x) => x.ok !== null);
  if (won >= 0) return { kind: 'retry_recovered', retryNumber: own[won]!.n ?? won + 1, at: new Date(own[won]!.ok!) };
  const onNewMethod = r.retries.slice(own.length).find((x) => x.ok !== null);
  const paidOtherwise = [onNewMethod?.ok, r.paid_otherwise_at].filter((x) => x != null).map((x) => new Date(x!).getTime());
  if (paidOtherwise.length) return { kind: 'client_fixed', at: new Date(Math.min(...paidOtherwise)) };
  // Paid outside Settle (recorded in the PSA): the chain closed when the invoice did.
  if (r.all_paid) return { kind: 'client_fixed', at: new Date(r.closed_at) };
  if (r.written_off) return { kind: 'written_off', at: new Date(r.closed_at) };
  return { kind: 'not_recovered' };
}

/** The workspace's failed-payment chains that started on or after `since`, with their outcomes. */
export async function loadFailureHistory(tx: Tx, since: Date): Promise<{ failures: PastFailure[]; inProgress: number }> {
  const chains = await sql<ChainRow>`
    WITH roots AS (
      SELECT f.root_payment_id AS id, f.failure_code, f.failure_class, f.invoice_ids
        FROM payment_failures f
       WHERE f.payment_id = f.root_payment_id AND f.created_at >= ${since}
         AND f.reason <> ALL (${NOT_IN_RETRY_PATH}::text[])
    ), chain AS (
      SELECT f.root_payment_id AS id, f.status, f.retry_number, f.retry_payment_id, f.updated_at
        FROM payment_failures f JOIN roots r ON r.id = f.root_payment_id
    )
    SELECT r.id, r.failure_code, r.failure_class, p.amount_minor::text AS amount_minor, p.currency, p.client_id,
           p.method_kind, p.method_brand, p.method_last4,
           coalesce((SELECT min(a.created_at) FROM payment_attempts a WHERE a.payment_id = r.id), p.created_at) AS first_attempt_at,
           coalesce((SELECT json_agg(json_build_object('n', c.retry_number, 'at', coalesce(ra.at, rp.created_at), 'ok', rp.succeeded_at,
                                                       'same_card', rp.method_last4 IS NOT DISTINCT FROM p.method_last4
                                                                    AND rp.method_brand IS NOT DISTINCT FROM p.method_brand)
                                     ORDER BY coalesce(ra.at, rp.created_at))
                       FROM chain c JOIN payments rp ON rp.id = c.retry_payment_id
                       LEFT JOIN LATERAL (SELECT min(a.created_at) AS at FROM payment_attempts a WHERE a.payment_id = rp.id) ra ON true
                      WHERE c.id = r.id), '[]') AS retries,
           EXISTS (SELECT 1 FROM chain c WHERE c.id = r.id AND c.status IN ('scheduled', 'retrying')) AS in_progress,
           (SELECT min(op.succeeded_at) FROM allocations al JOIN payments op ON op.id = al.payment_id
             WHERE al.invoice_id = ANY (r.invoice_ids) AND op.succeeded_at IS NOT NULL AND op.created_at > p.created_at
               AND NOT EXISTS (SELECT 1 FROM chain c WHERE c.id = r.id AND c.retry_payment_id = op.id)) AS paid_otherwise_at,
           inv.all_paid, inv.written_off,
           (SELECT max(c.updated_at) FROM chain c WHERE c.id = r.id) AS closed_at
      FROM roots r
      JOIN payments p ON p.id = r.id
      LEFT JOIN LATERAL (SELECT bool_and(i.status = 'paid') AS all_paid, bool_or(i.status IN ('void', 'credit')) AS written_off
                           FROM invoices i WHERE i.id = ANY (r.invoice_ids)) inv ON true
     ORDER BY first_attempt_at, r.id`.execute(tx);

  // Every attempt on the cards those payments used, for the per-card limits (30-day windows).
  const attempts = await sql<{
    client_id: string;
    method_kind: string;
    method_brand: string | null;
    method_last4: string;
    at: Date;
    outcome: string;
    decline_code: string | null;
    amount_minor: string;
    currency: string;
    chain: string;
  }>`
    SELECT p.client_id, p.method_kind, p.method_brand, p.method_last4, a.created_at AS at, a.outcome, a.decline_code,
           p.amount_minor::text AS amount_minor, p.currency, coalesce(f.root_payment_id, p.id)::text AS chain
      FROM payment_attempts a
      JOIN payments p ON p.id = a.payment_id
      LEFT JOIN payment_failures f ON f.retry_payment_id = p.id
     WHERE a.created_at >= ${new Date(since.getTime() - 31 * DAY_MS)} AND p.method_last4 IS NOT NULL
       AND (p.client_id, p.method_kind, p.method_last4) IN (
             SELECT rp.client_id, rp.method_kind, rp.method_last4 FROM payment_failures f0 JOIN payments rp ON rp.id = f0.payment_id
              WHERE f0.payment_id = f0.root_payment_id AND f0.created_at >= ${since})
     ORDER BY a.created_at`.execute(tx);
  const byCard = new Map<string, (CardAttempt & { chain: string })[]>();
  for (const a of attempts.rows) {
    const list = byCard.get(cardKey(a)) ?? [];
    list.push({
      at: new Date(a.at),
      paymentRef: a.chain,
      chain: a.chain,
      amount: money(BigInt(a.amount_minor), parseCurrency(a.currency)),
      outcome: OUTCOME[a.outcome] ?? 'unknown',
      declineCode: a.decline_code,
    });
    byCard.set(cardKey(a), list);
  }

  let inProgress = 0;
  const failures: PastFailure[] = [];
  for (const r of chains.rows) {
    if (r.in_progress) {
      inProgress++;
      continue;
    }
    const cls = r.failure_class as FailureClass;
    failures.push({
      id: r.id,
      brand: (r.method_brand ?? '').toLowerCase(),
      declineCode: r.failure_code,
      // A class Settle no longer knows is treated as hard: never assume a retry is allowed.
      class: FAILURE_CLASSES.includes(cls) ? cls : 'hard',
      amount: money(BigInt(r.amount_minor), parseCurrency(r.currency)),
      firstAttemptAt: new Date(r.first_attempt_at),
      retriesAt: scheduleRetries(r).map((x) => new Date(x.at)),
      outcome: outcomeOf(r),
      otherAttemptsOnCard: r.method_last4 ? (byCard.get(cardKey(r)) ?? []).filter((a) => a.chain !== r.id) : [],
    });
  }
  return { failures, inProgress };
}

/** Replays the last `history_days` of failures under the workspace's current schedule and the proposed one. */
export async function backtestRetryPolicy(tx: Tx, input: RetryBacktestInput, now: Date): Promise<RetryBacktest> {
  const since = new Date(now.getTime() - input.history_days * DAY_MS);
  const current = (await loadRetryPolicy(tx)).schedule;
  const proposed: RetrySchedule = {
    soft: { anchor: 'first_attempt', steps: input.soft_steps },
    technical: { anchor: 'first_attempt', steps: input.technical_steps },
  };
  const { failures, inProgress } = await loadFailureHistory(tx, since);
  return { since, current, proposed, inProgress, result: runBacktest(failures, current, proposed) };
}
