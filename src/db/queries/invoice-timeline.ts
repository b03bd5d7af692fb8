// One invoice as the staff invoice page shows it: header, lines, the versions received from the PSA, the
// payments applied to it, and its timeline across the PSA, the processor and the books — every event
// Settle received about it (inbox events) or sent for it (charges, postings, e-mails), with the vendor's id.
// Every read is by index from the invoice, its payments and their ids (migration 0028), so the page costs
// the same with a million invoices.
import { sql } from 'kysely';
import type { Tx } from '../tenant.ts';
import { openMinorOf } from './invoice-list.ts';

export interface InvoiceHeader {
  id: string;
  number: string;
  type: string;
  client_id: string;
  client_name: string;
  currency: string;
  total_minor: bigint;
  open_minor: bigint;
  paid_minor: bigint;
  status: string;
  psa_status: string;
  issued_on: string;
  due_on: string | null;
  current_version: number;
  psa_updated_at: Date;
  first_seen_at: Date;
}

export interface InvoicePayment {
  id: string;
  state: string;
  source: string;
  processor: string;
  processor_payment_id: string | null;
  method_kind: string | null;
  method_brand: string | null;
  method_last4: string | null;
  currency: string;
  amount_minor: bigint;
  allocated_minor: bigint;
  reversed_minor: bigint;
  created_at: Date;
}

export type TimelineSystem = 'psa' | 'processor' | 'books' | 'settle' | 'email';
export type TimelineOutcome = 'ok' | 'bad' | 'pending' | null;

export interface TimelineEntry {
  readonly at: Date;
  readonly system: TimelineSystem;
  /** The vendor of that system ('connectwise', 'stripe', 'quickbooks-online'), or null for Settle and e-mail. */
  readonly vendor: string | null;
  /** received: a vendor told Settle; sent: Settle asked a vendor (or a person); recorded: Settle's own step. */
  readonly direction: 'received' | 'sent' | 'recorded';
  readonly title: string;
  readonly outcome: TimelineOutcome;
  /** What the outcome was, in words ("posted", "declined: insufficient_funds"). */
  readonly outcomeText: string | null;
  /** The amount the event is about (in the invoice's currency), shown with it. */
  readonly amountMinor: bigint | null;
  readonly remoteId: string | null;
  /** What the remote id names at the vendor, for the link to its screen (http/staff/vendor-links.ts). */
  readonly remoteKind: 'invoice' | 'payment' | 'refund' | 'payment_reversal' | 'deposit' | 'bank_withdrawal' | 'payout' | null;
}

export interface InvoicePageData {
  readonly invoice: InvoiceHeader;
  /** The invoice's id in each system that knows it (external_refs: the PSA's id). */
  readonly remoteIds: Record<string, string>;
  readonly lines: {
    line_no: number;
    kind: string;
    description: string;
    quantity: string;
    amount_minor: bigint;
    /** The contract the line is billed under (0035); null: none. */
    contract_ref: string | null;
    contract_name: string | null;
    contract_kind: string | null;
  }[];
  readonly versions: { version: number; total_minor: bigint; received_at: Date; line_count: number }[];
  readonly payments: InvoicePayment[];
  /** The latest state of its postings, per target: 'posted', 'failed', 'pending' or null (none). */
  readonly postingState: { psa: string | null; books: string | null };
  readonly timeline: TimelineEntry[];
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const words = (s: string): string => s.replace(/_/g, ' ');

export async function invoicePage(tx: Tx, invoiceId: string): Promise<InvoicePageData | null> {
  const inv = (
    await sql<InvoiceHeader>`
      SELECT i.id, i.number, i.type, i.client_id, c.name AS client_name, i.currency, i.total_minor,
             ${openMinorOf(sql.ref('i.id'), sql.ref('i.psa_balance_minor'))} AS open_minor, i.paid_minor,
             i.status, i.psa_status, to_char(i.issued_on, 'YYYY-MM-DD') AS issued_on, to_char(i.due_on, 'YYYY-MM-DD') AS due_on,
             i.current_version, i.psa_updated_at, i.first_seen_at
        FROM invoices i JOIN clients c ON c.id = i.client_id WHERE i.id = ${invoiceId}::uuid`.execute(tx)
  ).rows[0];
  if (!inv) return null;
  const invoice = { ...inv, total_minor: BigInt(inv.total_minor), open_minor: BigInt(inv.open_minor), paid_minor: BigInt(inv.paid_minor) };

  const refs = await tx
    .selectFrom('external_refs')
    .select(['system', 'remote_id'])
    .where('entity', '=', 'invoice')
    .where('entity_id', '=', invoiceId)
    .execute();
  const remoteIds = Object.fromEntries(refs.map((r) => [r.system, r.remote_id]));
  const lines = await tx
    .selectFrom('invoice_lines')
    .select(['line_no', 'kind', 'description', 'quantity', 'amount_minor', 'contract_ref', 'contract_name', 'contract_kind'])
    .where('invoice_id', '=', invoiceId)
    .where('version', '=', invoice.current_version)
    .orderBy('line_no')
    .execute();
  const versions = (
    await sql<{ version: number; total_minor: bigint; received_at: Date; line_count: number }>`
      SELECT v.version, v.total_minor, v.received_at,
             (SELECT count(*)::int FROM invoice_lines l WHERE l.invoice_id = v.invoice_id AND l.version = v.version) AS line_count
        FROM invoice_versions v WHERE v.invoice_id = ${invoiceId}::uuid ORDER BY v.version`.execute(tx)
  ).rows;
  const payments = (
    await sql<InvoicePayment>`
      SELECT p.id, p.state, p.source, p.processor, p.processor_payment_id, p.method_kind, p.method_brand, p.method_last4,
             p.currency, p.amount_minor, coalesce(a.amount_minor, 0) AS allocated_minor, coalesce(a.reversed_minor, 0) AS reversed_minor, p.created_at
        FROM payments p LEFT JOIN allocations a ON a.payment_id = p.id AND a.invoice_id = ${invoiceId}::uuid
       WHERE p.id IN (SELECT payment_id FROM allocations WHERE invoice_id = ${invoiceId}::uuid
                      -- a charge that never succeeded has no allocation, only its plan: the client's payments
                      -- (0028's index) that planned this invoice. A UNION, not an OR: each side by its index.
                      UNION
                      SELECT id FROM payments WHERE client_id = ${inv.client_id}::uuid
                         AND planned_allocations @> ${JSON.stringify([{ invoiceId }])}::jsonb)
       ORDER BY p.created_at`.execute(tx)
  ).rows;
  const paymentIds = payments.map((p) => p.id);
  const timeline = await timelineOf(tx, invoice, remoteIds, payments, versions);
  const postings = await postingsOf(tx, invoiceId, paymentIds);
  const latest = (target: 'psa' | 'accounting'): string | null => {
    const mine = postings.filter((p) => p.target === target && p.kind !== 'deposit');
    if (mine.length === 0) return null;
    if (mine.some((p) => p.status === 'failed')) return 'failed';
    if (mine.some((p) => p.status === 'pending')) return 'pending';
    return 'posted';
  };
  return { invoice, remoteIds, lines, versions, payments, postingState: { psa: latest('psa'), books: latest('accounting') }, timeline };
}

interface PostingRow {
  id: string;
  target: 'psa' | 'accounting';
  vendor: string;
  kind: 'payment' | 'deposit' | 'payment_reversal' | 'refund' | 'bank_withdrawal' | 'credit_memo';
  invoice_id: string | null;
  amount_minor: bigint;
  currency: string;
  status: string;
  remote_id: string | null;
  attempts: number;
  last_error: string | null;
  waiting_for: string | null;
  created_at: Date;
  posted_at: Date | null;
}

/** This invoice's postings, and its payments' postings that name no invoice or this one (not another invoice's share). */
async function postingsOf(tx: Tx, invoiceId: string, paymentIds: string[]): Promise<PostingRow[]> {
  const r = await sql<PostingRow>`
    SELECT id, target, vendor, kind, invoice_id, amount_minor, currency, status, remote_id, attempts, last_error, waiting_for, created_at, posted_at
      FROM postings WHERE invoice_id = ${invoiceId}::uuid
    UNION
    SELECT id, target, vendor, kind, invoice_id, amount_minor, currency, status, remote_id, attempts, last_error, waiting_for, created_at, posted_at
      FROM postings WHERE payment_id = ANY(${paymentIds}::uuid[]) AND (invoice_id IS NULL OR invoice_id = ${invoiceId}::uuid)`.execute(tx);
  return r.rows;
}

const POSTING_WORDS: Record<string, string> = {
  payment: 'Payment',
  refund: 'Refund',
  payment_reversal: 'Payment reversal',
  deposit: 'Deposit',
  bank_withdrawal: 'Bank withdrawal',
  credit_memo: 'Credit memo applied',
};

async function timelineOf(
  tx: Tx,
  invoice: InvoiceHeader,
  remoteIds: Record<string, string>,
  payments: InvoicePayment[],
  versions: { version: number; total_minor: bigint; received_at: Date }[],
): Promise<TimelineEntry[]> {
  const out: TimelineEntry[] = [];
  const conns = await tx.selectFrom('connections').select(['role', 'vendor']).where('status', '!=', 'disabled').execute();
  const psaVendor = conns.find((c) => c.role === 'psa')?.vendor ?? Object.keys(remoteIds)[0] ?? null;
  const psaId = psaVendor ? (remoteIds[psaVendor] ?? null) : null;

  // The PSA: each version of the invoice Settle stored, and each change notice the PSA pushed.
  for (const v of versions) {
    out.push({
      at: v.received_at,
      system: 'psa',
      vendor: psaVendor,
      direction: 'received',
      title: v.version === 1 ? `Invoice ${invoice.number} received (version 1)` : `Invoice changed in the PSA: version ${v.version}`,
      outcome: 'ok',
      outcomeText: 'stored',
      amountMinor: BigInt(v.total_minor),
      remoteId: psaId,
      remoteKind: 'invoice',
    });
  }
  const piIds = payments.map((p) => p.processor_payment_id).filter((x): x is string => !!x);
  const subjects = [...(psaId ? [psaId] : []), ...piIds];
  if (subjects.length) {
    // The expression is the one indexed by inbox_events_subject (0028).
    const inbox = await sql<{ source: string; event_type: string; received_at: Date; processed_at: Date | null; last_error: string | null; subject: string }>`
      SELECT source, event_type, received_at, processed_at, last_error, coalesce(payload ->> 'externalId', payload ->> 'processorPaymentId') AS subject
        FROM inbox_events
       WHERE source = ANY(${[...new Set(conns.map((c) => c.vendor))]}::text[])
         AND coalesce(payload ->> 'externalId', payload ->> 'processorPaymentId') = ANY(${subjects}::text[])
         AND (payload ->> 'entity' IS NULL OR payload ->> 'entity' = 'invoice')
       ORDER BY received_at LIMIT 500`.execute(tx);
    for (const e of inbox.rows) {
      const fromPsa = e.source === psaVendor;
      out.push({
        at: e.received_at,
        system: fromPsa ? 'psa' : 'processor',
        vendor: e.source,
        direction: 'received',
        title: fromPsa ? `PSA notice: invoice ${words(e.event_type.replace(/^invoice\./, ''))}` : `Processor event: ${words(e.event_type)}`,
        outcome: e.processed_at ? 'ok' : e.last_error ? 'bad' : 'pending',
        outcomeText: e.processed_at ? 'processed' : e.last_error ? `not processed: ${e.last_error}` : 'waiting to be processed',
        amountMinor: null,
        remoteId: e.subject,
        remoteKind: fromPsa ? 'invoice' : 'payment',
      });
    }
  }

  // The processor: each charge attempt Settle sent, and each state the payment went through.
  const paymentIds = payments.map((p) => p.id);
  if (paymentIds.length) {
    const attempts = await tx
      .selectFrom('payment_attempts as a')
      .innerJoin('payments as p', 'p.id', 'a.payment_id')
      .select(['a.attempt_no', 'a.outcome', 'a.processor_payment_id', 'a.decline_code', 'a.message', 'a.created_at', 'p.processor', 'p.amount_minor'])
      .where('a.payment_id', 'in', paymentIds)
      .execute();
    for (const a of attempts) {
      out.push({
        at: a.created_at,
        system: 'processor',
        vendor: a.processor,
        direction: 'sent',
        title: `Charge sent (attempt ${a.attempt_no})`,
        outcome: a.outcome === 'succeeded' ? 'ok' : a.outcome === 'declined' || a.outcome === 'not_sent' ? 'bad' : 'pending',
        outcomeText: [words(a.outcome), a.decline_code, a.message].filter(Boolean).join(': '),
        amountMinor: a.amount_minor,
        remoteId: a.processor_payment_id,
        remoteKind: 'payment',
      });
    }
    const events = await tx
      .selectFrom('payment_events')
      .select(['payment_id', 'from_state', 'to_state', 'event', 'created_at'])
      .where('payment_id', 'in', paymentIds)
      .orderBy('id')
      .execute();
    for (const e of events) {
      const p = payments.find((x) => x.id === e.payment_id);
      out.push({
        at: e.created_at,
        system: 'settle',
        vendor: null,
        direction: 'recorded',
        title: `Payment ${e.from_state ? `${words(e.from_state)} → ` : ''}${words(e.to_state)}`,
        outcome: /succeeded/.test(e.to_state) ? 'ok' : /fail|return|disput|charged_back|unknown/.test(e.to_state) ? 'bad' : null,
        outcomeText: words(e.event),
        amountMinor: null,
        remoteId: p?.processor_payment_id ?? null,
        remoteKind: 'payment',
      });
    }
  }

  // The PSA and the books: every posting Settle made (or is making) for this invoice and its payments.
  for (const po of await postingsOf(tx, invoice.id, paymentIds)) {
    const where = po.target === 'psa' ? 'PSA' : 'books';
    out.push({
      at: po.posted_at ?? po.created_at,
      system: po.target === 'psa' ? 'psa' : 'books',
      vendor: po.vendor,
      direction: 'sent',
      title: `${POSTING_WORDS[po.kind] ?? po.kind} posted to the ${where}`,
      outcome: po.status === 'posted' ? 'ok' : po.status === 'failed' ? 'bad' : 'pending',
      outcomeText:
        po.status === 'posted'
          ? 'posted'
          : po.status === 'failed'
            ? `failed after ${po.attempts} attempt${po.attempts === 1 ? '' : 's'}: ${po.last_error ?? 'no reason given'}`
            : po.waiting_for === 'invoice_in_books'
              ? `waiting for the ${po.kind === 'credit_memo' ? 'credit memo or the invoice' : 'invoice'} to reach the books`
              : po.last_error
                ? `retrying: ${po.last_error}`
                : 'queued',
      amountMinor: BigInt(po.amount_minor),
      remoteId: po.remote_id,
      // A credit memo applied in QuickBooks is a (zero) Payment there.
      remoteKind: po.kind === 'credit_memo' ? 'payment' : po.kind,
    });
  }

  // E-mails about this invoice or its payments (their outbox keys name the invoice, payment, failure or schedule).
  const keyIds = [invoice.id, ...paymentIds];
  const more = await sql<{ id: string }>`
    SELECT id FROM autopay_schedules WHERE invoice_id = ${invoice.id}::uuid
    UNION ALL SELECT id FROM payment_failures WHERE root_payment_id = ANY(${paymentIds}::uuid[])`.execute(tx);
  keyIds.push(...more.rows.map((r) => r.id));
  const emails = await sql<{
    kind: string;
    to_email: string;
    subject: string;
    status: string;
    last_error: string | null;
    created_at: Date;
    sent_at: Date | null;
  }>`
    SELECT kind, to_email, subject, status, last_error, created_at, sent_at FROM notifications
     WHERE client_id = ${invoice.client_id}::uuid AND idempotency_key LIKE ANY(${keyIds.map((k) => `%${k}%`)}::text[])
     ORDER BY created_at LIMIT 200`.execute(tx);
  for (const e of emails.rows) {
    out.push({
      at: e.sent_at ?? e.created_at,
      system: 'email',
      vendor: null,
      direction: 'sent',
      title: `E-mail to ${e.to_email}: ${e.subject}`,
      outcome: e.status === 'sent' ? 'ok' : e.status === 'failed' ? 'bad' : 'pending',
      outcomeText: e.status === 'skipped' ? 'kept in the outbox (no mail relay configured)' : e.last_error ? `${e.status}: ${e.last_error}` : e.status,
      amountMinor: null,
      remoteId: null,
      remoteKind: null,
    });
  }

  // What people and Settle's jobs did to it (audit log), except what the entries above already show.
  const audits = await sql<{ actor: string; action: string; created_at: Date }>`
    SELECT actor, action, created_at FROM audit_log
     WHERE (subject_type = 'invoice' AND subject_id = ${invoice.id})
        OR (subject_type = 'payment' AND subject_id = ANY(${paymentIds}::text[]))
     ORDER BY id LIMIT 200`.execute(tx);
  for (const a of audits.rows) {
    const who = a.actor.startsWith('user:') ? 'staff' : a.actor.startsWith('api_key:') ? 'an API key' : a.actor.split(':')[0];
    out.push({
      at: a.created_at,
      system: 'settle',
      vendor: null,
      direction: 'recorded',
      title: `${cap(words(a.action.replace(/\./g, ' ')))} (by ${who})`,
      outcome: null,
      outcomeText: null,
      amountMinor: null,
      remoteId: null,
      remoteKind: null,
    });
  }
  return out.sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
}
