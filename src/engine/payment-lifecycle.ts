// When a payment counts as paid, and when as final (payments-rules.md §2.8):
//
// - "Mark invoice paid on" (tenant setting, lifecycle.mark_paid_on): `submit` allocates a bank debit to
//   its invoices and writes it back to the PSA and the books as soon as the bank has it (processing);
//   `settlement` (default) waits until the processor says it settled; `payout` allocates at settlement
//   (so nobody collects the invoice twice) but writes back to the PSA and the books only when the payout
//   containing it is reconciled (the money is in the bank). Cards settle at once, so `submit` is
//   `settlement` for them.
// - Final: a settled ACH debit can still be returned until the return window of its SEC code has passed
//   (§2.4; rules/ach-return-window.ts). `payments.final_after` is the last day a return may reach us.
//   An invoice is shown `paid` as soon as it is paid; it is *final* once every payment on it is final
//   (API: `final_after`, `final`).
import { sql } from 'kysely';
import { finalAfter, type SecCode } from '../domain/rules/ach-return-window.ts';
import { utcDateOf } from '../domain/rules/calendar-date.ts';
import type { Tx } from '../db/tenant.ts';
import type { Payment } from '../db/schema.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError } from './context.ts';
import { enqueue, enqueueMany, type JobSpec } from './enqueue.ts';
import { booksFlushJob, wakeBooksFlushAfterCommit } from './wake-books-flush.ts';

export const MARK_PAID_ON = ['submit', 'settlement', 'payout'] as const;
export type MarkPaidOn = (typeof MARK_PAID_ON)[number];
const SETTING = 'lifecycle.mark_paid_on';

export async function markPaidOn(tx: Tx, tenantId: string): Promise<MarkPaidOn> {
  const t = await tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirst();
  return markPaidOnFrom((t?.settings as Record<string, unknown> | undefined)?.[SETTING]);
}

/** The setting's value as stored (absent or unknown: the default). */
export function markPaidOnFrom(v: unknown): MarkPaidOn {
  return MARK_PAID_ON.find((m) => m === v) ?? 'settlement';
}

/** The setting read inside another statement (a scalar subquery on the tenant whose row `tenantIdRef` names). */
export const markPaidOnSql = (tenantIdRef: string) => sql<string | null>`(SELECT t.settings->>${SETTING} FROM tenants t WHERE t.id = ${sql.ref(tenantIdRef)})`;

export async function setMarkPaidOn(tx: Tx, tenantId: string, value: string, actor: Actor): Promise<MarkPaidOn> {
  const chosen = MARK_PAID_ON.find((m) => m === value);
  if (!chosen) throw new UseCaseError('invalid', `mark_paid_on must be one of ${MARK_PAID_ON.join(', ')}; got "${value}"`);
  const before = await markPaidOn(tx, tenantId);
  const t = await tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).forUpdate().executeTakeFirstOrThrow();
  await tx
    .updateTable('tenants')
    .set({ settings: JSON.stringify({ ...(t.settings as Record<string, unknown>), [SETTING]: chosen }) as never })
    .where('id', '=', tenantId)
    .execute();
  await audit(tx, tenantId, actor, 'settings.lifecycle_changed', { type: 'tenant', id: tenantId }, { mark_paid_on: { from: before, to: chosen } });
  return chosen;
}

/**
 * The SEC code a settled debit is judged by. A bank-ACH debit knows it (the entry's SEC code); Stripe
 * does not say: an individual's account is debited as WEB, a company's as CCD, and without knowing
 * which, the longer consumer window (60 days for unauthorized returns, §2.4) is the safe assumption.
 */
export function secCodeOf(p: Pick<Payment, 'sec_code'>, given: SecCode | undefined): SecCode {
  return given ?? p.sec_code ?? 'WEB';
}

/** A bank debit: it was saved as one, or it went through `processing` (only delayed-notification methods do). */
export function isBankDebit(p: Pick<Payment, 'method_kind' | 'state' | 'sec_code'>): boolean {
  return p.method_kind === 'us_bank_account' || p.sec_code !== null || p.state === 'processing';
}

export function achFinality(p: Pick<Payment, 'sec_code'>, given: SecCode | undefined, settledAt: Date): { secCode: SecCode; finalAfter: string } {
  const secCode = secCodeOf(p, given);
  return { secCode, finalAfter: finalAfter(secCode, utcDateOf(settledAt)) };
}

/** What the success transaction already holds, so the postings need not read it again (bench autopay-run). */
export interface KnownToPostings {
  readonly payment?: { readonly id: string; readonly tenant_id: string; readonly currency: string };
  /** The payment's allocations, in the order they were made. */
  readonly allocations?: ReadonlyArray<{ readonly invoice_id: string; readonly amount_minor: bigint; readonly reversed_minor: bigint }>;
  /** Other jobs of the same transaction (keys new to this payment), added in the same statement. */
  readonly jobs?: readonly JobSpec[];
  /** The workspace's PSA and books connections (role, vendor), not disabled — as `postingConnectionsSql` reads them. */
  readonly connections?: ReadonlyArray<{ readonly role: string; readonly vendor: string }>;
}

/** The PSA and books connections as one JSON value, to be read inside another statement (the success's lock). */
export const postingConnectionsSql = () =>
  sql<Array<{ role: string; vendor: string }>>`(SELECT coalesce(json_agg(json_build_object('role', c.role, 'vendor', c.vendor)), '[]'::json)
     FROM connections c WHERE c.role IN ('psa', 'accounting') AND c.status <> 'disabled')`;

/**
 * The PSA and books postings of a payment's allocations (what is still allocated after any reversal),
 * with their jobs. Safe to call again: the idempotency keys make a second call add nothing.
 */
export async function createPaymentPostings(tx: Tx, paymentId: string, known: KnownToPostings = {}): Promise<number> {
  const p = known.payment ?? (await tx.selectFrom('payments').select(['id', 'tenant_id', 'currency']).where('id', '=', paymentId).executeTakeFirstOrThrow());
  const tenantId = p.tenant_id;
  // One round trip for both connections and one insert for every posting: this runs in the transaction
  // that records every success, and on a 2-core machine each statement costs the charge path (bench autopay-run).
  const conns =
    known.connections ??
    (await tx.selectFrom('connections').select(['role', 'vendor']).where('role', 'in', ['psa', 'accounting']).where('status', '!=', 'disabled').execute());
  const psa = conns.find((c) => c.role === 'psa');
  const books = conns.find((c) => c.role === 'accounting');
  const targets = [
    ...(psa ? [{ target: 'psa' as const, vendor: psa.vendor }] : []),
    ...(books ? [{ target: 'accounting' as const, vendor: books.vendor }] : []),
  ];
  const allocations =
    known.allocations ??
    (await tx
      .selectFrom('allocations')
      .select(['invoice_id', 'amount_minor', 'reversed_minor'])
      .where('payment_id', '=', paymentId)
      .orderBy('created_at')
      .execute());
  const rows = allocations.flatMap((a) => {
    const amount = a.amount_minor - a.reversed_minor;
    if (amount <= 0n) return [];
    return targets.map((t) => ({
      tenant_id: tenantId,
      target: t.target,
      vendor: t.vendor,
      kind: 'payment' as const,
      payment_id: p.id,
      invoice_id: a.invoice_id,
      amount_minor: amount,
      currency: p.currency,
      idempotency_key: `payment:${p.id}:invoice:${a.invoice_id}:${t.vendor}:payment`,
    }));
  });
  // A posting that already exists (a second call) is skipped by its idempotency key and gets no second job.
  const inserted = rows.length
    ? await tx
        .insertInto('postings')
        .values(rows)
        .onConflict((oc) => oc.columns(['tenant_id', 'idempotency_key']).doNothing())
        .returning(['id', 'target'])
        .execute()
    : [];
  const created = inserted.length;
  const jobs: JobSpec[] = [...(known.jobs ?? [])];
  jobs.push(
    ...inserted
      .filter((posting) => posting.target === 'psa')
      .map((posting) => ({
        task: 'post-psa-payment' as const,
        payload: { tenantId, postingId: posting.id },
        options: { queueName: `psa:${tenantId}`, jobKey: `psa-posting:${posting.id}` },
      })),
  );
  // The tenant's one books flush, due at once: alone when the books queue is idle, and together with every
  // payment that succeeds meanwhile when a flush is already writing (wake-books-flush.ts). Woken after the
  // commit where the transaction allows it (wake-books-flush.ts says why), otherwise with the PSA postings' jobs.
  if (books && created > 0 && !wakeBooksFlushAfterCommit(tx, tenantId)) {
    const { jobKeyMode: _inTheCall, ...options } = booksFlushJob(tenantId).options ?? {};
    jobs.push({ task: 'flush-accounting', payload: { tenantId }, options });
  }
  // One statement for all of them. preserve_run_at keeps a pending flush's earlier time; the PSA postings'
  // keys are new, so for them the mode changes nothing.
  if (jobs.length) await enqueueMany(tx, jobs, { preserveRunAt: true });
  return created;
}
