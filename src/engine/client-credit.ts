// A client's credit: money the client paid that no invoice needed (an invoice lowered in the PSA while the
// payment was on its way, or paid twice). It is a liability (ledger `client_credit`), never income, and it
// is applied to the client's next invoices — automatically when the client next pays, or by staff — or
// refunded by a staff decision (refund-client-credit.ts).
//
// An application is recorded as a payment of its own (processor 'client_credit', no processor call)
// allocated to the invoice, so everything downstream treats it as what it is for the MSP: a payment
// against that invoice. The PSA gets it as a payment on the invoice; the books get a Payment against the
// invoice (post-to-accounting.ts: drawn from the clearing account the overpayment was deposited to).
import { sql } from 'kysely';
import { journal } from '../domain/ledger.ts';
import { money, parseCurrency } from '../domain/money.ts';
import { byOldestDue } from '../domain/allocation.ts';
import type { Payment } from '../db/schema.ts';
import type { Tx } from '../db/tenant.ts';
import { openBalanceMinor, refreshInvoiceStatus } from '../db/queries/invoice-balance.ts';
import { audit, type Actor } from './audit.ts';
import { enqueue } from './enqueue.ts';
import { writeJournal } from './ledger-writer.ts';
// What a payment on its way (a bank debit, a charge awaiting its answer, an open portal checkout) will pay.
import { inFlightMinor } from './checkout-guard.ts';

export const CREDIT_PROCESSOR = 'client_credit';

/** Called by recordPaymentSucceeded with what was left after allocation: that part is the client's credit. */
export async function recordOverpaymentCredit(tx: Tx, p: Payment, remainingMinor: bigint): Promise<void> {
  if (remainingMinor <= 0n) return;
  const row = await tx
    .insertInto('client_credit_entries')
    .values({
      tenant_id: p.tenant_id,
      client_id: p.client_id,
      currency: p.currency,
      amount_minor: remainingMinor,
      kind: 'overpayment',
      source_payment_id: p.id,
      actor: 'system:record-payment',
      note: 'payment exceeded what its invoices still owed',
    })
    .onConflict((oc) => oc.column('source_payment_id').where('kind', '=', 'overpayment').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (row)
    await audit(
      tx,
      p.tenant_id,
      'system:record-payment',
      'credit.created',
      { type: 'client', id: p.client_id },
      { payment_id: p.id, amount_minor: remainingMinor, currency: p.currency },
    );
}

export interface CreditSource {
  readonly sourcePaymentId: string;
  readonly currency: string;
  readonly availableMinor: bigint;
}

/**
 * Credit still available, per paying payment, oldest first (first in, first applied). A refund staff
 * decided is reserved until the processor confirms it (then the refund path writes the 'refund' movement)
 * or refuses it (then the credit is available again).
 */
export async function creditSources(tx: Tx, clientId: string, currency?: string): Promise<CreditSource[]> {
  const r = await sql<{ source_payment_id: string; currency: string; available: string }>`
    SELECT e.source_payment_id, e.currency,
           (sum(e.amount_minor) - coalesce((
              SELECT sum(cr.amount_minor) FROM credit_refunds cr
               WHERE cr.source_payment_id = e.source_payment_id AND cr.status IN ('decided', 'sent')
                 AND NOT EXISTS (SELECT 1 FROM refunds rf WHERE rf.idempotency_key = 'credit-refund:' || cr.id AND rf.status IN ('succeeded', 'failed'))
            ), 0))::text AS available
      FROM client_credit_entries e
     WHERE e.client_id = ${clientId} AND (${currency ?? null}::text IS NULL OR e.currency = ${currency ?? null})
     GROUP BY e.source_payment_id, e.currency
     ORDER BY min(e.created_at)`.execute(tx);
  return r.rows
    .map((x) => ({ sourcePaymentId: x.source_payment_id, currency: x.currency, availableMinor: BigInt(x.available) }))
    .filter((x) => x.availableMinor > 0n);
}

export async function creditBalance(tx: Tx, clientId: string): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const s of await creditSources(tx, clientId)) out.set(s.currency, (out.get(s.currency) ?? 0n) + s.availableMinor);
  return out;
}

export interface CreditApplication {
  readonly invoiceId: string;
  readonly invoiceNumber: string;
  readonly amountMinor: bigint;
  readonly creditPaymentId: string;
}

/**
 * Apply the client's credit to its open invoices: the ones named (in that order), or all of them oldest
 * due first. Locks the client row, so two applications for one client never spend the same credit.
 */
export async function applyClientCredit(
  tx: Tx,
  tenantId: string,
  input: { clientId: string; invoiceIds?: readonly string[]; actor: Actor; source: 'portal' | 'manual' | 'installment' | 'autopay' },
): Promise<CreditApplication[]> {
  // NO KEY UPDATE: serialises credit spending per client, without blocking the key-share lock that inserting
  // a payment for the client takes (FOR UPDATE here deadlocked against a charge being planned).
  await tx.selectFrom('clients').select('id').where('id', '=', input.clientId).forNoKeyUpdate().executeTakeFirstOrThrow();
  const sources = await creditSources(tx, input.clientId);
  if (sources.length === 0) return [];
  let invQ = tx.selectFrom('invoices').selectAll().where('client_id', '=', input.clientId).where('status', 'in', ['open', 'partially_paid']);
  if (input.invoiceIds) {
    if (input.invoiceIds.length === 0) return [];
    invQ = invQ.where('id', 'in', [...input.invoiceIds]);
  }
  const rows = await invQ.forUpdate().execute();
  const ordered = input.invoiceIds
    ? input.invoiceIds.map((id) => rows.find((r) => r.id === id)).filter((r): r is (typeof rows)[number] => r !== undefined)
    : [...rows].sort((a, b) =>
        byOldestDue(
          { invoiceId: a.id, dueOn: a.due_on, issuedOn: a.issued_on, openBalance: money(0n, 'USD') },
          { invoiceId: b.id, dueOn: b.due_on, issuedOn: b.issued_on, openBalance: money(0n, 'USD') },
        ),
      );
  const left = new Map(sources.map((s) => [s.sourcePaymentId, s.availableMinor]));
  const applied: CreditApplication[] = [];
  for (const inv of ordered) {
    let open = (await openBalanceMinor(tx, inv.id)) - (await inFlightMinor(tx, inv.id));
    for (const s of sources) {
      if (open <= 0n) break;
      if (s.currency !== inv.currency) continue;
      const available = left.get(s.sourcePaymentId) ?? 0n;
      if (available <= 0n) continue;
      const amount = available < open ? available : open;
      const creditPaymentId = await applyOne(tx, tenantId, {
        sourcePaymentId: s.sourcePaymentId,
        invoice: inv,
        amount,
        actor: input.actor,
        source: input.source,
      });
      left.set(s.sourcePaymentId, available - amount);
      open -= amount;
      applied.push({ invoiceId: inv.id, invoiceNumber: inv.number, amountMinor: amount, creditPaymentId });
    }
  }
  return applied;
}

async function applyOne(
  tx: Tx,
  tenantId: string,
  a: {
    sourcePaymentId: string;
    invoice: { id: string; client_id: string; currency: string; paid_minor: bigint; number: string };
    amount: bigint;
    actor: Actor;
    source: 'portal' | 'manual' | 'installment' | 'autopay';
  },
): Promise<string> {
  const { invoice: inv, amount } = a;
  const now = new Date();
  const planned = JSON.stringify([{ invoiceId: inv.id, amountMinor: amount.toString() }]);
  const payment = await tx
    .insertInto('payments')
    .values({
      tenant_id: tenantId,
      client_id: inv.client_id,
      currency: inv.currency,
      amount_minor: amount,
      state: 'succeeded',
      source: a.source,
      processor: CREDIT_PROCESSOR,
      method_kind: 'credit',
      succeeded_at: now,
      planned_allocations: planned,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx
    .insertInto('payment_events')
    .values({
      tenant_id: tenantId,
      payment_id: payment.id,
      from_state: null,
      to_state: 'succeeded',
      event: 'credit_applied',
      detail: JSON.stringify({ source_payment_id: a.sourcePaymentId }),
    })
    .execute();
  await tx.insertInto('allocations').values({ tenant_id: tenantId, payment_id: payment.id, invoice_id: inv.id, amount_minor: amount }).execute();
  await tx
    .updateTable('invoices')
    .set((eb) => ({ paid_minor: eb('paid_minor', '+', amount) }))
    .where('id', '=', inv.id)
    .execute();
  await refreshInvoiceStatus(tx, inv.id);
  await tx
    .insertInto('client_credit_entries')
    .values({
      tenant_id: tenantId,
      client_id: inv.client_id,
      currency: inv.currency,
      amount_minor: -amount,
      kind: 'applied',
      source_payment_id: a.sourcePaymentId,
      invoice_id: inv.id,
      credit_payment_id: payment.id,
      actor: a.actor,
      note: `applied to invoice ${inv.number}`,
    })
    .execute();
  await createPaymentPostings(tx, tenantId, { paymentId: payment.id, invoiceId: inv.id, amount, currency: inv.currency });
  const m = money(amount, parseCurrency(inv.currency));
  await writeJournal(
    tx,
    tenantId,
    'credit_applied',
    journal.creditApplied({ amount: m, memo: `credit from payment ${a.sourcePaymentId} applied to invoice ${inv.number}` }),
    { paymentId: payment.id, invoiceId: inv.id },
  );
  await audit(
    tx,
    tenantId,
    a.actor,
    'credit.applied',
    { type: 'invoice', id: inv.id },
    { amount_minor: amount, currency: inv.currency, source_payment_id: a.sourcePaymentId, credit_payment_id: payment.id },
  );
  return payment.id;
}

/** The PSA and books postings for money allocated to an invoice (the same keys recordPaymentSucceeded uses). */
export async function createPaymentPostings(
  tx: Tx,
  tenantId: string,
  a: { paymentId: string; invoiceId: string; amount: bigint; currency: string },
): Promise<void> {
  const psa = await tx.selectFrom('connections').select('vendor').where('role', '=', 'psa').where('status', '!=', 'disabled').executeTakeFirst();
  const books = await tx.selectFrom('connections').select('vendor').where('role', '=', 'accounting').where('status', '!=', 'disabled').executeTakeFirst();
  for (const t of [
    ...(psa ? [{ target: 'psa' as const, vendor: psa.vendor }] : []),
    ...(books ? [{ target: 'accounting' as const, vendor: books.vendor }] : []),
  ]) {
    const posting = await tx
      .insertInto('postings')
      .values({
        tenant_id: tenantId,
        target: t.target,
        vendor: t.vendor,
        kind: 'payment',
        payment_id: a.paymentId,
        invoice_id: a.invoiceId,
        amount_minor: a.amount,
        currency: a.currency,
        idempotency_key: `payment:${a.paymentId}:invoice:${a.invoiceId}:${t.vendor}:payment`,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (t.target === 'psa')
      await enqueue(tx, 'post-psa-payment', { tenantId, postingId: posting.id }, { queueName: `psa:${tenantId}`, jobKey: `psa-posting:${posting.id}` });
  }
  if (books) {
    await enqueue(
      tx,
      'flush-accounting',
      { tenantId },
      { queueName: `accounting:${tenantId}`, jobKey: `flush-accounting:${tenantId}`, jobKeyMode: 'preserve_run_at', runAt: new Date(Date.now() + 150) },
    );
  }
}
