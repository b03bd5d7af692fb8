// What must hold after a soak has drained, checked from the vendors' own state (read over their APIs and
// /_sim routes, never from Settle's memory) and from the database. Each violation names the ids involved so
// that a failing soak says where to look. Used by soak/run.ts; independent of how the load was made.
import pg from 'pg';
import { call, stripeListAll, type SimProcesses } from './lib/sims.ts';

export interface Violation {
  readonly invariant: string;
  readonly message: string;
}

export interface InvariantReport {
  readonly violations: Violation[];
  /** What was checked, so that "0 violations" can be read against how much there was to get wrong. */
  readonly counts: Record<string, number>;
}

interface PaymentIntent {
  id: string;
  status: string;
  amount: number;
  metadata: Record<string, string>;
}
interface Payout {
  id: string;
  amount: number;
  status: string;
}
type QboEntity = Record<string, unknown> & { Id: string; PrivateNote?: string; TotalAmt?: number };

const SETTLED = ['succeeded', 'partially_refunded', 'refunded', 'returned', 'disputed', 'charged_back'];
const cents = (n: unknown): bigint => BigInt(Math.round(Number(n) * 100));
const marker = (e: QboEntity): string | null => /\[settle:([^\]]+)\]/.exec(e.PrivateNote ?? '')?.[1] ?? null;
const list = (ids: readonly string[], n = 8): string => `${ids.slice(0, n).join(', ')}${ids.length > n ? ` … (${ids.length} in all)` : ''}`;

export async function checkInvariants(opts: { dbUrl: string; tenantId: string; sims: SimProcesses }): Promise<InvariantReport> {
  const violations: Violation[] = [];
  const counts: Record<string, number> = {};
  const fail = (invariant: string, message: string): void => void violations.push({ invariant, message });
  const db = new pg.Client({ connectionString: opts.dbUrl });
  await db.connect();
  try {
    // Row-level security: every query below sees this workspace only, as Settle itself does.
    await db.query(`SELECT set_config('settle.tenant_id', $1, false)`, [opts.tenantId]);
    const q = async <T>(text: string, params: unknown[] = []): Promise<T[]> => (await db.query(text, params)).rows as T[];

    const { stripe, connectwise, quickbooks } = opts.sims;
    const intents = await stripeListAll<PaymentIntent>(stripe, 'payment_intents');
    const payouts = await stripeListAll<Payout>(stripe, 'payouts');
    const cwPayments = await call<{ id: number; invoice: { id: number }; amount: number }[]>(`${connectwise.origin}/_sim/payments`);
    const qboPayments = await call<QboEntity[]>(`${quickbooks.baseUrl}/_sim/payments`);
    const qboDeposits = await call<QboEntity[]>(`${quickbooks.baseUrl}/_sim/deposits`);
    const qboJournal = await call<QboEntity[]>(`${quickbooks.baseUrl}/_sim/journal-entries`);

    const payments = await q<{ id: string; state: string; amount_minor: string; source: string; processor: string; processor_payment_id: string | null }>(
      `SELECT id, state, amount_minor::text, source, processor, processor_payment_id FROM payments`,
    );
    const byId = new Map(payments.map((p) => [p.id, p]));
    counts.payments = payments.length;
    counts.settledPayments = payments.filter((p) => SETTLED.includes(p.state)).length;
    counts.stripeIntents = intents.length;

    // 1. No double charge: one succeeded PaymentIntent per Settle payment; every money-taking intent is a
    //    payment Settle counts as paid; no invoice holds more than its total; no charge silently kept as credit.
    const succeededBy = new Map<string, string[]>();
    for (const pi of intents) {
      if (pi.status !== 'succeeded' && pi.status !== 'processing') continue;
      const pid = pi.metadata['settle_payment'] ?? `(no settle_payment: ${pi.id})`;
      succeededBy.set(pid, [...(succeededBy.get(pid) ?? []), pi.id]);
    }
    for (const [pid, pis] of succeededBy) {
      if (pis.length > 1) fail('no double charge', `payment ${pid} was charged ${pis.length} times at Stripe: ${list(pis)}`);
      const p = byId.get(pid);
      if (!p) fail('no double charge', `Stripe took money for ${list(pis)} that belongs to no Settle payment (${pid})`);
      else if (intents.find((i) => i.id === pis[0])?.status === 'succeeded' && !SETTLED.includes(p.state))
        fail('no double charge', `Stripe charged ${list(pis)} but Settle keeps payment ${pid} "${p.state}" (the client sees it unpaid and may pay again)`);
    }
    const overpaid = await q<{ id: string; number: string; total: string; allocated: string; payments: string[] }>(
      `SELECT i.id, i.number, i.total_minor::text AS total, sum(a.amount_minor - a.reversed_minor)::text AS allocated, array_agg(a.payment_id::text) AS payments
         FROM allocations a JOIN invoices i ON i.id = a.invoice_id JOIN payments p ON p.id = a.payment_id
        WHERE p.state = ANY($1) GROUP BY i.id HAVING sum(a.amount_minor - a.reversed_minor) > i.total_minor`,
      [SETTLED],
    );
    for (const o of overpaid)
      fail('no double charge', `invoice ${o.number} (${o.id}) holds ${o.allocated} of a ${o.total} total from payments ${list(o.payments)}`);
    const credit = await q<{ source_payment_id: string; amount_minor: string }>(
      `SELECT source_payment_id, amount_minor::text FROM client_credit_entries WHERE kind = 'overpayment'`,
    );
    for (const c of credit)
      fail(
        'no double charge',
        `payment ${c.source_payment_id} left ${c.amount_minor} as client credit (an overpayment is refunded with an exception, never kept silently)`,
      );

    // 2. Exactly one PSA payment and one books payment per allocation of a settled payment.
    const allocs = await q<{ payment_id: string; invoice_id: string; number: string; net: string; cw_id: string | null }>(
      `SELECT a.payment_id, a.invoice_id, i.number, (a.amount_minor - a.reversed_minor)::text AS net, r.remote_id AS cw_id
         FROM allocations a JOIN invoices i ON i.id = a.invoice_id JOIN payments p ON p.id = a.payment_id
         LEFT JOIN external_refs r ON r.entity = 'invoice' AND r.entity_id = i.id AND r.system = 'connectwise'
        WHERE p.state = ANY($1) AND p.processor <> 'client_credit'`,
      [SETTLED],
    );
    counts.allocations = allocs.length;
    const expectCw = new Map<string, { n: number; sum: bigint; number: string; payments: string[] }>();
    for (const a of allocs) {
      if (!a.cw_id) continue;
      const e = expectCw.get(a.cw_id) ?? { n: 0, sum: 0n, number: a.number, payments: [] };
      if (BigInt(a.net) > 0n) e.n++;
      e.sum += BigInt(a.net);
      e.payments.push(a.payment_id);
      expectCw.set(a.cw_id, e);
    }
    const cwBy = new Map<string, { n: number; sum: bigint; ids: number[] }>();
    for (const p of cwPayments) {
      const k = String(p.invoice.id);
      const e = cwBy.get(k) ?? { n: 0, sum: 0n, ids: [] };
      e.n++;
      e.sum += cents(p.amount);
      e.ids.push(p.id);
      cwBy.set(k, e);
    }
    counts.connectwisePayments = cwPayments.length;
    for (const k of new Set([...expectCw.keys(), ...cwBy.keys()])) {
      const want = expectCw.get(k) ?? { n: 0, sum: 0n, number: `(CW ${k})`, payments: [] };
      const got = cwBy.get(k) ?? { n: 0, sum: 0n, ids: [] };
      if (want.n !== got.n || want.sum !== got.sum)
        fail(
          'one PSA payment per settled payment',
          `invoice ${want.number} (ConnectWise ${k}): Settle's payments ${list(want.payments)} net ${want.sum} in ${want.n} payment(s); ConnectWise holds ${got.sum} in ${got.n} (ids ${list(got.ids.map(String))})`,
        );
    }
    const booksPostings = await q<{
      id: string;
      payment_id: string;
      idempotency_key: string;
      status: string;
      amount_minor: string;
      last_error: string | null;
    }>(`SELECT id, payment_id, idempotency_key, status, amount_minor::text, last_error FROM postings WHERE target = 'accounting' AND kind = 'payment'`);
    const qboByMarker = new Map<string, QboEntity[]>();
    for (const e of qboPayments) {
      const m = marker(e);
      if (m) qboByMarker.set(m, [...(qboByMarker.get(m) ?? []), e]);
    }
    counts.quickbooksPayments = qboPayments.length;
    for (const [m, es] of qboByMarker)
      if (es.length > 1) fail('one books payment per settled payment', `QuickBooks holds ${es.length} Payments for ${m}: ids ${list(es.map((e) => e.Id))}`);
    const settledIds = new Set(payments.filter((p) => SETTLED.includes(p.state) && p.processor !== 'client_credit').map((p) => p.id));
    const postedFor = new Map<string, number>();
    for (const b of booksPostings) {
      if (settledIds.has(b.payment_id)) postedFor.set(b.payment_id, (postedFor.get(b.payment_id) ?? 0) + 1);
      if (b.status !== 'posted') continue;
      const found = qboByMarker.get(b.idempotency_key) ?? [];
      if (found.length === 0)
        fail(
          'one books payment per settled payment',
          `posting ${b.id} (payment ${b.payment_id}) is "posted" but QuickBooks has no Payment marked [settle:${b.idempotency_key}]`,
        );
      else if (found[0]!.TotalAmt !== undefined && cents(found[0]!.TotalAmt) !== BigInt(b.amount_minor))
        fail(
          'one books payment per settled payment',
          `QuickBooks Payment ${found[0]!.Id} is ${String(found[0]!.TotalAmt)} for posting ${b.id} of ${b.amount_minor} minor units`,
        );
    }
    const unposted = [...settledIds].filter((id) => !postedFor.has(id));
    if (unposted.length) fail('one books payment per settled payment', `settled payments with no books posting at all: ${list(unposted)}`);
    const notPosted = booksPostings.filter((b) => settledIds.has(b.payment_id) && b.status !== 'posted');
    if (notPosted.length)
      fail(
        'one books payment per settled payment',
        `books postings not posted after the drain: ${list(notPosted.map((b) => `${b.id} (${b.status}${errorText(b.last_error)})`))}`,
      );
    const psaNotPosted = await q<{ id: string; status: string; last_error: string | null }>(
      `SELECT id, status, last_error FROM postings WHERE target = 'psa' AND status <> 'posted'`,
    );
    if (psaNotPosted.length)
      fail(
        'one PSA payment per settled payment',
        `PSA postings not posted after the drain: ${list(psaNotPosted.map((p) => `${p.id} (${p.status}${errorText(p.last_error)})`))}`,
      );

    // 3. Every payout is one deposit of equal amount.
    const paid = payouts.filter((p) => p.status === 'paid');
    counts.stripePayouts = paid.length;
    const settlePayouts = await q<{ id: string; processor_payout_id: string; amount_minor: string }>(
      `SELECT id, processor_payout_id, amount_minor::text FROM payouts`,
    );
    const depositPostings = await q<{ payout_id: string; idempotency_key: string; status: string; last_error: string | null }>(
      `SELECT payout_id, idempotency_key, status, last_error FROM postings WHERE target = 'accounting' AND kind = 'deposit'`,
    );
    const depositsByMarker = new Map<string, QboEntity[]>();
    for (const d of qboDeposits) {
      const m = marker(d);
      if (m) depositsByMarker.set(m, [...(depositsByMarker.get(m) ?? []), d]);
    }
    counts.quickbooksDeposits = qboDeposits.length;
    for (const po of paid) {
      const sp = settlePayouts.find((s) => s.processor_payout_id === po.id);
      if (!sp) {
        fail('every payout one deposit', `Stripe payout ${po.id} (${po.amount}) is not known to Settle`);
        continue;
      }
      if (BigInt(sp.amount_minor) !== BigInt(po.amount)) fail('every payout one deposit', `payout ${po.id}: Stripe ${po.amount}, Settle ${sp.amount_minor}`);
      const posts = depositPostings.filter((d) => d.payout_id === sp.id);
      const deposits = posts.flatMap((d) => depositsByMarker.get(d.idempotency_key) ?? []);
      if (posts.length !== 1 || deposits.length !== 1)
        fail(
          'every payout one deposit',
          `payout ${po.id} (${po.amount}): ${posts.length} deposit posting(s) (${posts.map((p) => `${p.status}${errorText(p.last_error)}`).join(', ') || 'none'}), ${deposits.length} QuickBooks Deposit(s) ${list(deposits.map((d) => d.Id))}`,
        );
      else if (cents(deposits[0]!.TotalAmt) !== BigInt(po.amount))
        fail('every payout one deposit', `payout ${po.id} is ${po.amount} but QuickBooks Deposit ${deposits[0]!.Id} is ${String(deposits[0]!.TotalAmt)}`);
    }
    for (const [m, ds] of depositsByMarker)
      if (ds.length > 1) fail('every payout one deposit', `QuickBooks holds ${ds.length} Deposits for ${m}: ${list(ds.map((d) => d.Id))}`);
    counts.quickbooksJournalEntries = qboJournal.length;

    // 4. The ledger balances, per journal and in total.
    const unbalanced = await q<{ journal_id: string; d: string; c: string }>(
      `SELECT journal_id, sum(amount_minor) FILTER (WHERE direction = 'debit')::text AS d, sum(amount_minor) FILTER (WHERE direction = 'credit')::text AS c
         FROM ledger_entries GROUP BY journal_id, currency
       HAVING sum(CASE WHEN direction = 'debit' THEN amount_minor ELSE -amount_minor END) <> 0`,
    );
    for (const u of unbalanced) fail('ledger balanced', `journal ${u.journal_id}: debits ${u.d}, credits ${u.c}`);
    const [journals] = await q<{ n: string }>(`SELECT count(DISTINCT journal_id)::text AS n FROM ledger_entries`);
    counts.journals = Number(journals!.n);

    // 5. No stuck job, no unprocessed inbox event.
    const jobs = await q<{
      id: string;
      task_identifier: string;
      attempts: number;
      max_attempts: number;
      last_error: string | null;
      locked_at: Date | null;
      run_at: Date;
    }>(`SELECT id::text, task_identifier, attempts, max_attempts, last_error, locked_at, run_at FROM graphile_worker.jobs`);
    counts.jobsLeft = jobs.length;
    const dead = jobs.filter((j) => j.attempts >= j.max_attempts);
    if (dead.length)
      fail(
        'no stuck job',
        `${dead.length} job(s) at their attempt limit, never removed: ${list(dead.map((j) => `${j.task_identifier}#${j.id}${j.last_error ? ` (${j.last_error.slice(0, 60)})` : ''}`))}`,
      );
    const overdue = jobs.filter((j) => j.attempts < j.max_attempts && j.run_at.getTime() < Date.now() - 120_000);
    if (overdue.length)
      fail(
        'no stuck job',
        `${overdue.length} job(s) due for over 2 minutes and not done: ${list(overdue.map((j) => `${j.task_identifier}#${j.id}${j.locked_at ? ' (locked)' : ''}`))}`,
      );
    const inbox = await q<{ id: string; source: string; event_type: string; last_error: string | null }>(
      `SELECT id::text, source, event_type, last_error FROM inbox_events WHERE processed_at IS NULL`,
    );
    if (inbox.length)
      fail(
        'no unprocessed inbox event',
        `${inbox.length} event(s) stored but never processed: ${list(inbox.map((e) => `#${e.id} ${e.source} ${e.event_type}${e.last_error ? ` (${e.last_error.slice(0, 60)})` : ''}`))}`,
      );
    const [inboxN] = await q<{ n: string }>(`SELECT count(*)::text AS n FROM inbox_events`);
    counts.inboxEvents = Number(inboxN!.n);

    // 6. Nothing left failed, or in limbo, without an exception a person sees.
    const openExceptions = await q<{ payment_id: string | null; data: Record<string, unknown>; kind: string }>(
      `SELECT payment_id, data, kind FROM exceptions WHERE status = 'open'`,
    );
    counts.openExceptions = openExceptions.length;
    const excPayments = new Set(openExceptions.flatMap((e) => (e.payment_id ? [e.payment_id] : [])));
    const excText = JSON.stringify(openExceptions.map((e) => e.data));
    const failedPostings = await q<{ id: string; payment_id: string | null; kind: string; last_error: string | null }>(
      `SELECT id, payment_id, kind, last_error FROM postings WHERE status = 'failed'`,
    );
    const silent = failedPostings.filter((p) => !(p.payment_id && excPayments.has(p.payment_id)) && !excText.includes(p.id));
    if (silent.length)
      fail(
        'nothing failed without an exception',
        `failed postings with no open exception: ${list(silent.map((p) => `${p.id} ${p.kind}${p.last_error ? ` (${p.last_error.slice(0, 200)})` : ''}`))}`,
      );
    const limbo = payments.filter((p) => ['pending', 'unknown'].includes(p.state) && p.processor_payment_id !== null && !excPayments.has(p.id));
    if (limbo.length)
      fail(
        'nothing failed without an exception',
        `payments still pending/unknown after the drain with no exception: ${list(limbo.map((p) => `${p.id} (${p.state}, ${p.source})`))}`,
      );
    const offSessionFailed = await q<{ id: string; source: string }>(
      `SELECT p.id, p.source FROM payments p WHERE p.state = 'failed' AND p.source IN ('autopay', 'manual', 'installment')
          AND NOT EXISTS (SELECT 1 FROM payment_failures f WHERE f.payment_id = p.id)
          AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.payment_id = p.id)
          AND EXISTS (SELECT 1 FROM payment_attempts a WHERE a.payment_id = p.id AND a.outcome = 'declined')
          -- still to be decided (autopay waits a minute for its fallback) is not silent
          AND NOT EXISTS (SELECT 1 FROM graphile_worker.jobs j WHERE j.key = 'payment-failure:' || p.id)
          -- a failure another payment has since made good needs nobody's attention
          AND EXISTS (SELECT 1 FROM jsonb_array_elements(p.planned_allocations) x JOIN invoices i ON i.id = (x->>'invoiceId')::uuid
                       WHERE i.status IN ('open', 'partially_paid'))`,
    );
    if (offSessionFailed.length)
      fail(
        'nothing failed without an exception',
        `declined off-session payments never handled (no failure decision, no exception): ${list(offSessionFailed.map((p) => `${p.id} (${p.source})`))}`,
      );
  } finally {
    await db.end().catch(() => {});
  }
  return { violations, counts };
}

/** A posting's last error, for a violation's text: what a person would read on the exception. */
function errorText(lastError: string | null): string {
  return lastError ? `: ${lastError.slice(0, 240)}` : '';
}
