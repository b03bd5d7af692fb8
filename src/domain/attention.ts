// How a Needs-attention item reads to a person (issue #9, UI.md): what failed, where (PSA, processor, books,
// bank, or Settle itself), why in plain words, what Settle will do next, and which fixes apply. One function
// for the staff page and GET /api/v1/exceptions, so the two say the same. Pure: it reads the queue row
// (db/queries/attention.ts) and the time; times are returned as Dates for the caller to show in the
// workspace's timezone.

export type Where = 'psa' | 'processor' | 'books' | 'bank' | 'settle';
export type Fix = 'retry' | 'remap' | 'resolve' | 'dismiss';

/** What of the queue row this needs (a structural subset of AttentionRow). */
export interface ExplainInput {
  readonly kind: string;
  readonly status: 'open' | 'resolved';
  readonly title: string;
  readonly detail: string;
  readonly data: Record<string, unknown>;
  readonly invoice_ids: readonly string[];
  readonly invoices: readonly { readonly number: string; readonly status: string }[];
  readonly posting_id: string | null;
  readonly posting_target: 'psa' | 'accounting' | null;
  readonly posting_vendor: string | null;
  readonly posting_kind: string | null;
  readonly posting_status: 'pending' | 'posted' | 'failed' | null;
  readonly posting_last_error: string | null;
  readonly posting_next_attempt_at: Date | null;
}

export interface Explained {
  readonly where: Where;
  /** "Books (QuickBooks)", "PSA (ConnectWise)", … */
  readonly whereLabel: string;
  readonly why: string;
  /** What Settle does next without anyone acting; `nextAt` is the time in it, if any. */
  readonly next: string;
  readonly nextAt: Date | null;
  readonly fixes: readonly Fix[];
}

const VENDORS: Readonly<Record<string, string>> = {
  'quickbooks-online': 'QuickBooks',
  'quickbooks-desktop': 'QuickBooks Desktop',
  xero: 'Xero',
  connectwise: 'ConnectWise',
  stripe: 'Stripe',
};
const vendor = (v: string | null): string => (v ? (VENDORS[v] ?? v) : 'the books');

const WHERE_LABELS: Readonly<Record<Where, string>> = { psa: 'PSA', processor: 'Payment processor', books: 'Books', bank: 'Bank', settle: 'Settle' };

/** Where the problem is, by kind (a posting exception: where the posting goes). */
export function whereOf(kind: string, postingTarget: 'psa' | 'accounting' | null): Where {
  if (postingTarget) return postingTarget === 'psa' ? 'psa' : 'books';
  if (kind.startsWith('psa_')) return 'psa';
  if (kind.startsWith('books_') || kind === 'deposit_clearing_line') return 'books';
  if (kind.startsWith('ach_') || kind.startsWith('bank_')) return 'bank';
  if (kind === 'job_failed' || kind === 'webhook_failing') return 'settle';
  return 'processor';
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
const at = (v: unknown): Date | null => {
  const s = str(v);
  const d = s ? new Date(s) : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
};

/** Why, in plain words: for postings from the posting itself; otherwise the text raised with the item. */
function whyOf(e: ExplainInput): string {
  const books = vendor(e.posting_vendor);
  const error = e.posting_last_error ?? str(e.data['error']);
  switch (e.kind) {
    case 'posting_waiting_for_invoice': {
      const number = str(e.data['invoice_number']) ?? e.invoices[0]?.number ?? '';
      return `Invoice #${number} is not in ${books} yet: the PSA's accounting export has not sent it there, so the payment has nothing to be applied to.`;
    }
    case 'posting_failing':
      return `${books} did not take it for over an hour${error ? `: ${error}` : ''}. This is usually an outage or a connection problem at ${books}.`;
    case 'posting_failed':
      return `${books} refused it${error ? `: ${error}` : ''}. Sending it again unchanged will not help until the cause is fixed in ${books}.`;
    default:
      return e.detail;
  }
}

function nextOf(e: ExplainInput, now: Date): { next: string; nextAt: Date | null } {
  if (e.status === 'resolved') return { next: 'Nothing: this is closed.', nextAt: null };
  const books = vendor(e.posting_vendor);
  const due = e.posting_next_attempt_at;
  if (e.posting_id && e.posting_status === 'pending' && due && due.getTime() <= now.getTime() + 5_000) {
    return { next: `Settle is sending it to ${books} now; this item closes by itself once it is posted.`, nextAt: null };
  }
  switch (e.kind) {
    case 'posting_waiting_for_invoice':
      return {
        next: `Settle looks for the invoice in ${books} every few minutes and posts the payment by itself when it appears; this item then closes by itself.`,
        nextAt: due,
      };
    case 'posting_failing':
      return { next: `Settle keeps trying every hour; this item closes by itself once it is posted.`, nextAt: due };
    case 'posting_failed':
    case 'books_record_gone':
      return { next: `Nothing until someone acts: fix the cause in ${books}, then Retry. It closes by itself once it is posted.`, nextAt: null };
    case 'payment_failed': {
      const retryAt = at(e.data['retry_at']);
      return retryAt
        ? { next: 'Settle charges again at the time below; this item closes by itself when the invoice is paid.', nextAt: retryAt }
        : {
            next: 'No automatic retry. This item closes by itself when the invoice is paid (the client was sent a link to pay or update their card).',
            nextAt: null,
          };
    }
    case 'job_failed':
      return {
        next: 'Settle re-queues pending postings and vendor events once the cause clears; this item closes by itself when the job can run.',
        nextAt: null,
      };
    case 'webhook_failing':
      return {
        next: 'Settle keeps sending new events to this receiver; this item closes by itself when one is delivered (replay the failed ones from Settings → Webhooks).',
        nextAt: null,
      };
    case 'psa_record_rejected':
      return { next: 'This item closes by itself when a corrected record arrives from the PSA.', nextAt: null };
    case 'payout_waiting':
      return {
        next: 'Settle asks the processor for the payout again every 5 minutes and books its deposit as soon as it answers; this item then closes by itself.',
        nextAt: null,
      };
    default:
      if (e.invoice_ids.length > 0) return { next: 'This item closes by itself when the invoice is paid.', nextAt: null };
      return { next: 'Nothing automatic: it stays here until someone marks it resolved or dismisses it.', nextAt: null };
  }
}

/** Whether a posting can be retried now: one that is not posted. */
export function retryable(e: Pick<ExplainInput, 'status' | 'posting_id' | 'posting_status'>): boolean {
  return e.status === 'open' && e.posting_id !== null && (e.posting_status === 'pending' || e.posting_status === 'failed');
}

/** Whether the books invoice a payment goes to can be changed: a books payment not posted yet. */
export function remappable(e: Pick<ExplainInput, 'status' | 'posting_target' | 'posting_kind' | 'posting_status'>): boolean {
  return e.status === 'open' && e.posting_target === 'accounting' && e.posting_kind === 'payment' && e.posting_status !== 'posted' && e.posting_status !== null;
}

export function explain(e: ExplainInput, now: Date): Explained {
  const where = whereOf(e.kind, e.posting_target);
  const name = e.posting_vendor ? vendor(e.posting_vendor) : null;
  const fixes: Fix[] = [];
  if (retryable(e)) fixes.push('retry');
  if (remappable(e)) fixes.push('remap');
  if (e.status === 'open') fixes.push('resolve', 'dismiss');
  return {
    where,
    whereLabel: name ? `${WHERE_LABELS[where]} (${name})` : WHERE_LABELS[where],
    why: whyOf(e),
    ...nextOf(e, now),
    fixes,
  };
}
