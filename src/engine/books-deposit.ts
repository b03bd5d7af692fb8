// Deposits to the books that equal the bank line the day the money lands, whether or not every payment in
// it is in the books yet. Two steps, both inside the tenant's accounting flush:
//
//   postDepositPlan   — posts a deposit posting: payments already in the books are linked; each one that
//                       is not (its invoice has not been exported from the PSA, or its posting is still
//                       retrying) is carried on a line to the clearing account. deposit_lines records which.
//   linkWaitingPayments — for each clearing line whose payment posting has since been posted, moves the
//                       line onto the payment in the books (the connector's linkDepositPayments); the
//                       deposit total never changes.
//
// Any deposit posting can use it (processor payouts here, bank ACH settlements likewise): build a
// DepositPlan from what the bank line is made of, then call postDepositPlan.
import { money, parseCurrency, type Currency } from '../domain/money.ts';
import { withTenant } from '../db/tenant.ts';
import type { Posting } from '../db/schema.ts';
import type { AccountingConnector, PostDepositInput, PostingTracking, PostResult } from '../connectors/accounting/types.ts';
import { postingSchedule } from '../domain/posting-schedule.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { raiseException } from './exceptions.ts';
import { resolveException } from './lifecycle-exceptions.ts';
import { recordBooksAttempt, type AttemptResult } from './books-posting-outcome.ts';
import { retryPath } from './posting-exceptions.ts';

/** One payment the deposit carries: a books payment posting (target accounting, kind payment). */
export interface DepositPlanPayment {
  readonly postingId: string;
  readonly idempotencyKey: string;
  readonly amountMinor: bigint;
  readonly status: Posting['status'];
  readonly remoteId: string | null;
  readonly invoiceNumber: string | null;
  /** The invoice's class / location by the GL mapping's rules (gl-mapping.ts trackingForInvoices); absent ⇒ none. */
  readonly tracking?: PostingTracking;
}

export interface DepositPlan {
  /** Shown on the deposit's lines, e.g. the processor's payout id. */
  readonly reference: string;
  readonly depositedOn: string; // YYYY-MM-DD, the bank line's date
  readonly currency: Currency;
  readonly payments: readonly DepositPlanPayment[];
  /** Positive; a negative line. */
  readonly feesMinor: bigint;
  /** Signed: whatever else is in the bank line (refunds, returns, adjustments). */
  readonly adjustmentsMinor: bigint;
  readonly surchargesMinor: bigint;
  /** Installment-plan fees charged with the payout's payments (income of their own). */
  readonly planFeesMinor: bigint;
  readonly clientCreditMinor: bigint;
  /** Of adjustmentsMinor, the ACH discounts given (positive); booked on a line of their own where mapped. */
  readonly achDiscountsMinor?: bigint;
  readonly memo: string;
}

/** The connector's input for a deposit posting and its plan (posted, or put back by the reconciliation's fix). */
export function depositInput(deposit: Posting, plan: DepositPlan): PostDepositInput {
  const inBooks = (p: DepositPlanPayment): boolean => p.status === 'posted' && p.remoteId !== null;
  const m = (minor: bigint) => money(minor, plan.currency);
  return {
    idempotencyKey: deposit.idempotency_key,
    payoutId: plan.reference,
    depositedOn: plan.depositedOn,
    payments: plan.payments
      .filter(inBooks)
      .map((p) => ({ paymentRemoteId: p.remoteId!, amount: m(p.amountMinor), ...(p.tracking ? { tracking: p.tracking } : {}) })),
    awaiting: plan.payments
      .filter((p) => !inBooks(p))
      .map((p) => ({
        key: p.idempotencyKey,
        amount: m(p.amountMinor),
        description: `Payment${p.invoiceNumber ? ` for invoice ${p.invoiceNumber}` : ''} not in the books yet (${plan.reference}); moved onto the payment when it is`,
      })),
    fees: m(plan.feesMinor),
    adjustments: m(plan.adjustmentsMinor),
    surcharges: m(plan.surchargesMinor),
    planFees: m(plan.planFeesMinor),
    clientCredit: m(plan.clientCreditMinor),
    ...(plan.achDiscountsMinor ? { achDiscounts: m(plan.achDiscountsMinor) } : {}),
    memo: plan.memo,
    requestGeneration: deposit.request_generation,
  };
}

export async function postDepositPlan(
  ctx: EngineContext,
  tenantId: string,
  books: AccountingConnector,
  deposit: Posting,
  plan: DepositPlan,
): Promise<AttemptResult> {
  const r = await books.postDeposit(depositInput(deposit, plan));
  return withTenant(ctx.db, tenantId, async (tx) => {
    const outcome = await recordBooksAttempt(ctx, tx, tenantId, books.vendor, deposit, r);
    if (!r.ok) return outcome;
    const clearing = new Set(r.onClearing);
    for (const p of plan.payments) {
      const status = clearing.has(p.idempotencyKey) ? 'clearing' : 'linked';
      await tx
        .insertInto('deposit_lines')
        .values({
          tenant_id: tenantId,
          deposit_posting_id: deposit.id,
          payment_posting_id: p.postingId,
          amount_minor: p.amountMinor,
          currency: plan.currency,
          status,
          linked_at: status === 'linked' ? new Date() : null,
        })
        .onConflict((oc) => oc.columns(['deposit_posting_id', 'payment_posting_id']).doNothing())
        .execute();
    }
    await audit(
      tx,
      tenantId,
      'system:post-to-accounting',
      'deposit.posted',
      { type: 'posting', id: deposit.id },
      {
        vendor: books.vendor,
        remote_id: r.remoteId,
        amount_minor: deposit.amount_minor,
        on_clearing: clearing.size,
        linked: plan.payments.length - clearing.size,
      },
    );
    return outcome;
  });
}

const depositLineExceptionKey = (depositPostingId: string): string => `deposit-clearing:${depositPostingId}`;

/** Move clearing lines onto their payments once those are in the books. Returns how many lines moved. */
export async function linkWaitingPayments(ctx: EngineContext, tenantId: string, books: AccountingConnector): Promise<number> {
  const ready = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('deposit_lines as dl')
      .innerJoin('postings as d', 'd.id', 'dl.deposit_posting_id')
      .innerJoin('postings as p', 'p.id', 'dl.payment_posting_id')
      .select([
        'dl.id',
        'dl.attempts',
        'dl.amount_minor',
        'dl.currency',
        'dl.deposit_posting_id',
        'd.remote_id as deposit_remote_id',
        'p.remote_id as payment_remote_id',
        'p.idempotency_key as key',
      ])
      .where('dl.status', '=', 'clearing')
      .where('dl.next_attempt_at', '<=', ctx.now())
      .where('p.status', '=', 'posted')
      .where('p.remote_id', 'is not', null)
      .where('d.remote_id', 'is not', null)
      .orderBy('dl.created_at')
      .limit(300)
      .execute(),
  );
  const byDeposit = new Map<string, typeof ready>();
  for (const l of ready) byDeposit.set(l.deposit_posting_id, [...(byDeposit.get(l.deposit_posting_id) ?? []), l]);
  let moved = 0;
  for (const [depositPostingId, lines] of byDeposit) {
    // One update per deposit for every line that is ready (a Line list replaces every line).
    const r: PostResult = await books.linkDepositPayments({
      depositRemoteId: lines[0]!.deposit_remote_id!,
      links: lines.map((l) => ({ key: l.key, paymentRemoteId: l.payment_remote_id!, amount: money(l.amount_minor, parseCurrency(l.currency)) })),
    });
    await withTenant(ctx.db, tenantId, async (tx) => {
      if (r.ok) {
        for (const l of lines) {
          await tx.updateTable('deposit_lines').set({ status: 'linked', linked_at: new Date(), last_error: null }).where('id', '=', l.id).execute();
          await audit(
            tx,
            tenantId,
            'system:post-to-accounting',
            'deposit.payment_linked',
            { type: 'posting', id: depositPostingId },
            { vendor: books.vendor, deposit_remote_id: r.remoteId, payment_remote_id: l.payment_remote_id, amount_minor: l.amount_minor },
          );
        }
        moved += lines.length;
        await resolveException(tx, tenantId, depositLineExceptionKey(depositPostingId), 'linked');
        return;
      }
      const attempts = Math.max(...lines.map((l) => l.attempts)) + 1;
      const plan = postingSchedule(r.retryable ? 'transient' : 'final', attempts);
      // A refusal waits for a person (the retry of the deposit posting brings it forward); an error backs off.
      const next = new Date(ctx.now().getTime() + (plan.retry ? plan.delayMs : 30 * 86_400_000));
      for (const l of lines) {
        await tx
          .updateTable('deposit_lines')
          .set({ attempts, last_error: r.error.slice(0, 2000), next_attempt_at: next })
          .where('id', '=', l.id)
          .execute();
      }
      if (plan.tellPerson) {
        await raiseException(tx, tenantId, 'system:post-to-accounting', {
          kind: 'deposit_clearing_line',
          dedupeKey: depositLineExceptionKey(depositPostingId),
          clientId: null,
          invoiceIds: [],
          paymentId: null,
          title: `A payment could not be moved from the clearing line onto its deposit in ${books.vendor === 'quickbooks-online' ? 'QuickBooks' : books.vendor}`,
          detail:
            `The payment is in the books now, but its deposit still carries it on the clearing line: ${r.error}. ` +
            (plan.retry ? 'Settle keeps trying. ' : 'Fix the deposit in the books (or link the payment by hand), then retry: ') +
            `${retryPath(depositPostingId)}. This closes itself when the line is moved.`,
          data: { deposit_posting_id: depositPostingId, error: r.error, retry: retryPath(depositPostingId) },
        });
      }
    });
  }
  return moved;
}
