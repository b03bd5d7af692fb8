// Staff → Rollout (GET /app/rollout): is switching to Settle working? The weekly trends an MSP is told to track
// for 90 days after switching — DSO, collection time, manual touches with their time to resolve — for the
// pilot clients against the rest, and the pilot check: every pilot payment in the PSA and the books
// (db/queries/rollout.ts). Read-only; every role sees it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ratio, workspaceClock } from '../../db/queries/ar-metrics.ts';
import {
  collectionTimeByWeek,
  dsoByWeek,
  pilotPayments,
  ROLLOUT_WEEKS,
  touchesByWeek,
  type PilotPaymentRow,
  type RolloutWindow,
} from '../../db/queries/rollout.ts';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { addDays } from '../../domain/rules/calendar-date.ts';
import { identify } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { DEFAULT_TIMEOUTS } from '../../engine/staff-sessions.ts';
import { renderStaff } from './view.ts';

export interface GroupWeek {
  readonly dso: number | null;
  readonly collectionDays: number | null;
  readonly paid: number;
  readonly touches: number;
  /** Average hours from an exception opening to a person closing it. */
  readonly resolveHours: number | null;
}

export interface RolloutWeek {
  readonly weekStart: string;
  readonly pilot: GroupWeek;
  readonly rest: GroupWeek;
}

export interface RolloutReport {
  readonly currency: string;
  readonly timeZone: string;
  readonly weeks: readonly RolloutWeek[];
  readonly pilotClients: number;
  readonly otherClients: number;
  readonly check: { readonly payments: number; readonly reachedBoth: number; readonly notYet: readonly PilotPaymentRow[] };
}

const n = (v: bigint | number | undefined): number => Number(v ?? 0);

export async function rolloutReport(tx: Tx, tenantId: string, now: Date): Promise<RolloutReport> {
  const clock = await workspaceClock(tx, tenantId, now);
  const t = await tx.selectFrom('tenants').select('currency').where('id', '=', tenantId).executeTakeFirstOrThrow();
  const weekday = (new Date(`${clock.today}T00:00:00Z`).getUTCDay() + 6) % 7;
  const lastWeek = addDays(clock.today, -weekday);
  const w: RolloutWindow = { timeZone: clock.timeZone, firstWeek: addDays(lastWeek, -7 * (ROLLOUT_WEEKS - 1)), lastWeek, now, currency: t.currency };
  const dso = await dsoByWeek(tx, w);
  const paid = await collectionTimeByWeek(tx, w);
  const touches = await touchesByWeek(tx, w);
  const payments = await pilotPayments(tx, w);
  const counts = await tx
    .selectFrom('clients')
    .select((eb) => [eb.fn.countAll<bigint>().filterWhere('collection_enabled', '=', true).as('pilot'), eb.fn.countAll<bigint>().as('all')])
    .executeTakeFirstOrThrow();

  const group = (weekStart: string, pilot: boolean): GroupWeek => {
    const d = dso.find((r) => r.week_start === weekStart && r.pilot === pilot);
    const p = paid.find((r) => r.week_start === weekStart && r.pilot === pilot);
    const x = touches.find((r) => r.week_start === weekStart && r.pilot === pilot);
    return {
      dso: d ? ratio(d.open_end_minor * 28n, d.invoiced_minor, 1) : null,
      collectionDays: ratio(p?.days_sum ?? 0n, p?.paid_count ?? 0n, 1),
      paid: n(p?.paid_count),
      touches: n(x?.touches),
      resolveHours: ratio(x?.minutes_sum ?? 0n, (x?.touches ?? 0n) * 60n, 1),
    };
  };
  const weeks: RolloutWeek[] = [];
  for (let ws = w.firstWeek; ws <= w.lastWeek; ws = addDays(ws, 7)) weeks.push({ weekStart: ws, pilot: group(ws, true), rest: group(ws, false) });
  const both = payments.filter((p) => p.psa === 'posted' && p.books === 'posted');
  return {
    currency: t.currency,
    timeZone: clock.timeZone,
    weeks,
    pilotClients: n(counts.pilot),
    otherClients: n(counts.all) - n(counts.pilot),
    check: { payments: payments.length, reachedBoth: both.length, notYet: payments.filter((p) => !both.includes(p)).slice(0, 100) },
  };
}

const STATE_WORDS: Record<string, string> = { posted: 'Posted', pending: 'Waiting', failed: 'Failed', none: 'Not sent yet' };
const dayText = (x: number | null): string => (x === null ? '—' : `${x.toFixed(1)}`);

async function page(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps): Promise<FastifyReply> {
  const caller = req.caller ?? (await identify(req, deps.ctx.db, deps.sessionSecret, deps.staff?.timeouts ?? DEFAULT_TIMEOUTS));
  if (!caller) return reply.redirect('/login');
  const r = await withTenant(deps.ctx.db, caller.tenantId, (tx) => rolloutReport(tx, caller.tenantId, deps.ctx.now()));
  const chart = {
    type: 'line',
    data: {
      labels: r.weeks.map((x) => x.weekStart),
      datasets: [
        { label: 'DSO, pilot clients', data: r.weeks.map((x) => x.pilot.dso), borderColor: '#1d4ed8', backgroundColor: '#1d4ed8', spanGaps: true },
        {
          label: 'DSO, other clients',
          data: r.weeks.map((x) => x.rest.dso),
          borderColor: '#b45309',
          backgroundColor: '#b45309',
          borderDash: [6, 4],
          spanGaps: true,
        },
        { label: 'Days to pay, pilot', data: r.weeks.map((x) => x.pilot.collectionDays), borderColor: '#047857', backgroundColor: '#047857', spanGaps: true },
        {
          label: 'Days to pay, others',
          data: r.weeks.map((x) => x.rest.collectionDays),
          borderColor: '#6b21a8',
          backgroundColor: '#6b21a8',
          borderDash: [2, 3],
          spanGaps: true,
        },
      ],
    },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'days' } } } },
  };
  return renderStaff(req, reply, 'rollout', {
    title: 'Rollout: pilot clients against the rest',
    charts: true,
    report: r,
    chart,
    rows: r.weeks.map((x) => ({
      week: x.weekStart,
      cells: [
        dayText(x.pilot.dso),
        dayText(x.rest.dso),
        dayText(x.pilot.collectionDays),
        dayText(x.rest.collectionDays),
        `${x.pilot.touches}${x.pilot.resolveHours === null ? '' : ` (${x.pilot.resolveHours} h)`}`,
        `${x.rest.touches}${x.rest.resolveHours === null ? '' : ` (${x.rest.resolveHours} h)`}`,
      ],
    })),
    notYet: r.check.notYet.map((p) => ({
      id: p.id,
      client: p.client_name,
      amount: format(money(p.amount_minor, parseCurrency(p.currency))),
      at: p.succeeded_at,
      psa: STATE_WORDS[p.psa] ?? p.psa,
      books: STATE_WORDS[p.books] ?? p.books,
    })),
  });
}

export function registerRolloutRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/app/rollout', { schema: { hide: true } }, (req, reply) => page(req, reply, deps));
}
