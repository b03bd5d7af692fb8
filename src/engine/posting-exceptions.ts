// A posting that cannot complete is never left for nobody to see: it becomes one exception (dedupe key
// `posting:<id>`) that says what is wrong and what to do, and that closes itself when the posting is
// posted (the trigger of migrations/0012_books_waiting.sql), whichever path posted it.
import type { Tx } from '../db/tenant.ts';
import { money, parseCurrency, toDecimalString } from '../domain/money.ts';
import type { Actor } from './audit.ts';
import { raiseException } from './exceptions.ts';

export type PostingProblem =
  | { readonly kind: 'waiting_for_invoice'; readonly invoiceNumber: string; readonly nextAttemptAt: Date }
  // attempts: the PSA write-backs' count (told after a few); without it, the books' hourly wording.
  | { readonly kind: 'failing'; readonly error: string; readonly nextAttemptAt: Date; readonly attempts?: number }
  | { readonly kind: 'failed'; readonly error: string };

const VENDOR_NAMES: Readonly<Record<string, string>> = {
  'quickbooks-online': 'QuickBooks',
  'quickbooks-desktop': 'QuickBooks Desktop',
  xero: 'Xero',
  connectwise: 'ConnectWise',
  halopsa: 'HaloPSA',
  autotask: 'Autotask',
  stripe: 'Stripe',
};
/** The vendor's name as an MSP knows it (staff pages and exception texts). */
export const vendorName = (v: string): string => VENDOR_NAMES[v] ?? v;

export const postingExceptionKey = (postingId: string): string => `posting:${postingId}`;
export const retryPath = (postingId: string): string => `POST /api/v1/postings/${postingId}/retry`;

function what(kind: string, target: string): string {
  if (kind === 'deposit') return 'deposit';
  if (kind === 'bank_withdrawal') return 'bank debit of an ACH return';
  if (kind === 'credit_memo') return 'credit memo application';
  if (kind === 'refund' || kind === 'payment_reversal') return target === 'psa' ? 'reversal of a payment' : 'reversal';
  return 'payment';
}

/** Open (or refresh) the exception for a posting that waits or fails. */
export async function tellAboutPosting(tx: Tx, tenantId: string, actor: Actor, postingId: string, problem: PostingProblem): Promise<string> {
  const p = await tx
    .selectFrom('postings as po')
    .leftJoin('payments as pa', 'pa.id', 'po.payment_id')
    .leftJoin('invoices as i', 'i.id', 'po.invoice_id')
    .select(['po.id', 'po.target', 'po.vendor', 'po.kind', 'po.payment_id', 'po.invoice_id', 'po.amount_minor', 'po.currency', 'pa.client_id', 'i.number'])
    .where('po.id', '=', postingId)
    .executeTakeFirstOrThrow();
  const vendor = vendorName(p.vendor);
  const amount = toDecimalString(money(p.amount_minor, parseCurrency(p.currency)));
  const thing = what(p.kind, p.target);
  const invoice = p.number ? ` for invoice #${p.number}` : '';
  const base = {
    dedupeKey: postingExceptionKey(p.id),
    clientId: p.client_id ?? null,
    // Not invoice_ids: an exception naming invoices closes when they are paid (0006), and this invoice is
    // paid already — what closes this one is the posting being posted (0012).
    invoiceIds: [],
    paymentId: p.payment_id,
  };
  const data = {
    posting_id: p.id,
    invoice_id: p.invoice_id,
    target: p.target,
    vendor: p.vendor,
    posting_kind: p.kind,
    amount_minor: p.amount_minor,
    retry: retryPath(p.id),
  };
  switch (problem.kind) {
    case 'waiting_for_invoice':
      return raiseException(tx, tenantId, actor, {
        ...base,
        kind: 'posting_waiting_for_invoice',
        title: `Waiting for invoice #${problem.invoiceNumber} to appear in ${vendor} — export it from the PSA`,
        detail:
          `The ${thing} of ${amount} ${p.currency}${invoice} cannot be posted to ${vendor} because the invoice is not there yet ` +
          `(the PSA's accounting export has not sent it). Export invoice #${problem.invoiceNumber} from the PSA to ${vendor}. ` +
          `Settle keeps looking for it and posts the ${thing} by itself when it appears (next full attempt ${problem.nextAttemptAt.toISOString()}); ` +
          `the payout's deposit is already in the books with this money on the clearing line, and it is moved onto the payment then. ` +
          `To try at once: ${retryPath(p.id)}. This closes itself when the ${thing} is posted.`,
        data: { ...data, invoice_number: problem.invoiceNumber, next_attempt_at: problem.nextAttemptAt.toISOString() },
      });
    case 'failing':
      return raiseException(tx, tenantId, actor, {
        ...base,
        kind: 'posting_failing',
        title: `${vendor} keeps refusing a ${thing}${invoice}; Settle is still trying`,
        detail:
          `Posting the ${thing} of ${amount} ${p.currency}${invoice} to ${vendor} has failed ` +
          `${problem.attempts ? `${problem.attempts} times in a row` : 'for over an hour'}: ${problem.error}. ` +
          `Settle keeps trying ${problem.attempts ? 'with growing waits' : 'hourly'} (next ${problem.nextAttemptAt.toISOString()}). Check ${vendor}'s status and Settle's connection to it ` +
          `(settle doctor); to try at once: ${retryPath(p.id)}. This closes itself when the ${thing} is posted.`,
        data: { ...data, error: problem.error, next_attempt_at: problem.nextAttemptAt.toISOString() },
      });
    case 'failed':
      return raiseException(tx, tenantId, actor, {
        ...base,
        kind: 'posting_failed',
        title: `A ${thing}${invoice} could not be posted to ${vendor}`,
        detail:
          `${vendor} refused the ${thing} of ${amount} ${p.currency}${invoice}: ${problem.error}. Trying again unchanged cannot help: ` +
          `fix the cause in ${vendor} (or reconnect it with settle connect if it is an authorisation problem), then retry: ` +
          `${retryPath(p.id)}. This closes itself when the ${thing} is posted.`,
        data: { ...data, error: problem.error },
      });
    default: {
      const _: never = problem;
      return _;
    }
  }
}
