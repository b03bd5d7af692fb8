// Staff → Reconciliation: the three-way reconciliation report (engine/three-way-reconciliation.ts). Every run
// is kept; the page shows one run (the latest by default) — when the books copy was current to, what was
// compared, and every drift with its figures, likely cause, advice and, where Settle can make one, a fix —
// and the recent runs, each dated "zero drift" or with its count, and the nightly history by the workspace's
// local date, for audit.
//   GET  /app/reconciliation?run=<id>          the report                                       (viewer)
//   GET  /app/reconciliation.csv?run=<id>      the same drifts as CSV                           (viewer)
//   POST /app/reconciliation/run               refresh the books copy, run the report now       (finance)
//   POST /app/reconciliation/drifts/:id/fix    apply Settle's fix (engine/reconciliation-fix.ts) (finance)
// A viewer sees no button; a viewer's POST gets 403 from http/permissions.ts before this code runs.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { UseCaseError } from '../../engine/context.ts';
import { applyOfferedFix } from '../../engine/reconciliation-fix.ts';
import { refreshAndReconcile } from '../../engine/reconciliation-schedule.ts';
import { driftAmounts } from '../../engine/three-way-reconciliation.ts';
import { vendorName } from '../../engine/posting-exceptions.ts';
import type { StaffSession } from '../../engine/staff-sessions.ts';
import type { HttpDeps } from '../deps.ts';
import { sessionOf } from './connections.ts';
import { csvText } from './invoices-csv.ts';
import { renderStaff } from './view.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Drifts shown on the page; the CSV has them all. */
const PAGE_DRIFTS = 500;
/** Nights of the nightly history shown (a quarter). */
const NIGHTS_SHOWN = 92;

export const DRIFT_WORDS: Readonly<Record<string, string>> = {
  invoice_amount_differs: 'Invoice amount differs',
  psa_payment_deleted: 'Payment deleted in the PSA',
  psa_posting_failed: 'Payment not in the PSA',
  books_payment_removed: 'Payment removed in the books',
  books_payment_changed: 'Payment edited in the books',
  books_payment_by_hand: 'Payment entered by hand in the books',
  psa_payment_not_in_books: 'PSA payment missing in the books',
  books_balance_unexplained: 'Books balance unexplained',
  payout_items_differ: 'Payout lines differ',
  deposit_removed: 'Deposit removed in the books',
  deposit_edited: 'Deposit edited by hand',
  bank_line_differs: 'Bank line differs',
  bank_line_missing: 'Bank line missing',
  bank_debit_not_in_books: 'Bank debit not in the books',
};

async function runOf(tx: Tx, runId: string | undefined) {
  const q = tx.selectFrom('reconciliation_runs').selectAll();
  return (runId && UUID.test(runId) ? q.where('id', '=', runId) : q.orderBy('started_at', 'desc')).limit(1).executeTakeFirst();
}

async function reportPage(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: HttpDeps,
  session: StaffSession,
  runId?: string,
  extra: Record<string, unknown> = {},
  status = 200,
) {
  const data = await withTenant(deps.ctx.db, session.tenantId, async (tx) => {
    const run = await runOf(tx, runId);
    const drifts = run
      ? await tx
          .selectFrom('reconciliation_drifts')
          .selectAll()
          .where('run_id', '=', run.id)
          .orderBy('subject')
          .orderBy('reference')
          .orderBy('kind')
          .limit(PAGE_DRIFTS)
          .execute()
      : [];
    const recent = await tx.selectFrom('reconciliation_runs').selectAll().orderBy('started_at', 'desc').limit(30).execute();
    // The dated nightly summaries (0045): one per local date, the audit history.
    const nightly = await tx
      .selectFrom('reconciliation_runs')
      .selectAll()
      .where('trigger', '=', 'nightly')
      .where('local_date', 'is not', null)
      .orderBy('local_date', 'desc')
      .limit(NIGHTS_SHOWN)
      .execute();
    return { run, drifts, recent, nightly };
  });
  const canFix = session.role === 'owner' || session.role === 'finance';
  return renderStaff(
    req,
    reply,
    'reconciliation',
    {
      title: 'Reconciliation',
      run: data.run ? { ...data.run, booksName: data.run.books_vendor ? vendorName(data.run.books_vendor) : null } : null,
      drifts: data.drifts.map((d) => ({
        ...d,
        words: DRIFT_WORDS[d.kind] ?? d.kind,
        amounts: driftAmounts(d),
        fixable: d.fix !== null && d.fixed_at === null && canFix,
      })),
      more: data.run ? data.run.drift_count > data.drifts.length : false,
      recent: data.recent,
      nightly: data.nightly,
      canRun: canFix,
      csvHref: data.run ? `/app/reconciliation.csv?run=${data.run.id}` : null,
      ...extra,
    },
    { status },
  );
}

const CSV_HEADER = [
  'Run started',
  'Subject',
  'Reference',
  'Drift',
  'Kind',
  'Currency',
  'PSA / payout',
  'Settle',
  'Books',
  'Bank',
  'Difference',
  'Likely cause',
  'Advice',
  'Settle can fix',
  'Fixed at',
  'Fixed by',
];

export function registerReconciliationRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get<{ Querystring: { run?: string } }>('/app/reconciliation', { schema: { hide: true } }, async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    return reportPage(req, reply, deps, session, req.query.run);
  });

  app.get<{ Querystring: { run?: string } }>('/app/reconciliation.csv', { schema: { hide: true } }, async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const { run, drifts } = await withTenant(deps.ctx.db, session.tenantId, async (tx) => {
      const r = await runOf(tx, req.query.run);
      return {
        run: r,
        drifts: r
          ? await tx
              .selectFrom('reconciliation_drifts')
              .selectAll()
              .where('run_id', '=', r.id)
              .orderBy('subject')
              .orderBy('reference')
              .orderBy('kind')
              .execute()
          : [],
      };
    });
    if (!run) return reply.code(404).type('text/plain').send('no reconciliation run yet: run one from /app/reconciliation');
    const started = run.started_at.toISOString();
    const lines = [CSV_HEADER.join(',')];
    for (const d of drifts) {
      const a = driftAmounts(d);
      lines.push(
        [
          started,
          d.subject,
          csvText(d.reference),
          csvText(DRIFT_WORDS[d.kind] ?? d.kind),
          d.kind,
          d.currency,
          csvText(a.psa),
          csvText(a.settle),
          csvText(a.books),
          csvText(a.bank),
          csvText(a.difference),
          csvText(d.cause),
          csvText(d.advice),
          d.fix ? 'yes' : 'no',
          d.fixed_at?.toISOString() ?? '',
          csvText(d.fixed_by),
        ].join(','),
      );
    }
    // A zero-drift run still says so in its file: the dated summary an auditor asks for.
    if (drifts.length === 0)
      lines.push(
        [
          started,
          'summary',
          '',
          'Zero drift',
          'zero_drift',
          '',
          '',
          '',
          '',
          '',
          '',
          csvText(`${run.invoices_checked} invoices and ${run.payouts_checked} payouts compared; nothing differs`),
          '',
          '',
          '',
          '',
        ].join(','),
      );
    return reply
      .type('text/csv; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="reconciliation-${started.slice(0, 10)}.csv"`)
      .send(`${lines.join('\r\n')}\r\n`);
  });

  app.post('/app/reconciliation/run', { schema: { hide: true } }, async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const r = await refreshAndReconcile(deps.ctx, session.tenantId, `user:${session.userId}`);
    const outcome = r.zeroDrift ? 'zero drift' : `${r.driftCount} ${r.driftCount === 1 ? 'drift' : 'drifts'} found`;
    const notice = `Reconciliation run: ${r.invoicesChecked} invoices and ${r.payoutsChecked} payouts compared, ${outcome}.`;
    return reportPage(req, reply, deps, session, r.runId, {
      notice,
      problem: r.refreshProblem ? `The books copy could not be refreshed (${r.refreshProblem}); the report used the copy as it was.` : null,
    });
  });

  app.post<{ Params: { id: string } }>('/app/reconciliation/drifts/:id/fix', { schema: { hide: true } }, async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    const id = req.params.id;
    const runId = UUID.test(id)
      ? (
          await withTenant(deps.ctx.db, session.tenantId, (tx) =>
            tx.selectFrom('reconciliation_drifts').select('run_id').where('id', '=', id).executeTakeFirst(),
          )
        )?.run_id
      : undefined;
    try {
      if (!runId) throw new UseCaseError('not_found', 'There is no such drift in this workspace. Open the latest report and try again.');
      const fixed = await applyOfferedFix(deps.ctx, session.tenantId, id, `user:${session.userId}`);
      const where = fixed.target === 'psa' ? 'the PSA' : 'the books';
      return reportPage(req, reply, deps, session, runId, {
        notice:
          fixed.action === 'restore_deposit'
            ? 'Settle put the deposit back in the books to the payout, with the lines it posted. Run the report again to confirm zero drift.'
            : `Settle is posting the record to ${where} again. Run the report again in a minute to confirm zero drift.`,
      });
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return reportPage(req, reply, deps, session, runId, { errors: [{ message: e.message }] }, e.code === 'not_found' ? 404 : 422);
    }
  });
}
