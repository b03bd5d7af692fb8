// Shared first step of every collection: check the invoices the client chose, work out what each still
// owes, and create the payment (state pending) with its first attempt and idempotency key, before any
// call to the processor. If the process dies after this commit, the janitor finds the attempt and asks
// the processor what became of it.
import crypto from 'node:crypto';
import { format, MAX_MINOR, money, parseCurrency } from '../domain/money.ts';
import type { Tx } from '../db/tenant.ts';
import { openBalanceMinor } from '../db/queries/invoice-balance.ts';
import { UseCaseError } from './context.ts';
import { inFlightMinor, refuseOverOpenCheckouts } from './checkout-guard.ts';
import { inFlightRefusal } from './in-flight-refusal.ts';
import { lockInvoiceRows } from './invoice-locks.ts';

export interface InvoiceChoice {
  readonly invoiceId: string;
  /** Part of the invoice to pay now; the whole open balance when absent. */
  readonly amountMinor?: bigint;
}

export interface PlannedPayment {
  readonly paymentId: string;
  readonly attemptId: string;
  readonly idempotencyKey: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly clientId: string;
}

export async function planPayment(
  tx: Tx,
  tenantId: string,
  input: {
    clientId?: string;
    choices: readonly InvoiceChoice[];
    source: 'portal' | 'autopay' | 'manual' | 'installment';
    processor: string;
    keyPrefix: string;
    /** A key derived from what is charged (autopay: keys.charge(invoice, version, attempt)) instead of the payment id. */
    idempotencyKey?: string;
    /** Open portal checkouts the caller will cancel before charging (a quote's dry run): not refused, not counted. */
    supersedes?: readonly string[];
    /** The saved method charged, when known now (written with the payment instead of by a second statement). */
    method?: { kind: string | null; brand: string | null; last4: string | null };
    /** When the payment was started, if not the database's now(): only an engine clock that stamps (context.ts `stampsWithClock`). */
    at?: Date;
    /**
     * An installment-plan fee charged on top of the invoices (collect-installments.ts, part 1): in the amount
     * charged, never in the planned allocations, so it is never applied to an invoice or left as credit.
     */
    planFeeMinor?: bigint;
  },
): Promise<PlannedPayment> {
  if (input.choices.length === 0) throw new UseCaseError('invalid', 'choose at least one invoice to pay');
  const ids = input.choices.map((c) => c.invoiceId);
  if (new Set(ids).size !== ids.length) throw new UseCaseError('invalid', 'an invoice is listed twice');
  const invoices = await lockInvoiceRows(tx, ids);
  if (invoices.length !== ids.length) throw new UseCaseError('not_found', 'one or more invoices do not exist in this workspace');
  const clientIds = new Set(invoices.map((i) => i.client_id));
  if (clientIds.size !== 1) throw new UseCaseError('invalid', 'one payment can only cover invoices of one client');
  const clientId = invoices[0]!.client_id;
  if (input.clientId && input.clientId !== clientId) throw new UseCaseError('not_found', 'these invoices belong to another client');
  const currencies = new Set(invoices.map((i) => i.currency));
  if (currencies.size !== 1) throw new UseCaseError('invalid', 'invoices in different currencies must be paid separately');
  const currency = parseCurrency(invoices[0]!.currency);
  // One open checkout per invoice (checkout-guard.ts): the caller reuses it or has it canceled, then plans again.
  if (!input.supersedes) await refuseOverOpenCheckouts(tx, invoices);

  const planned: { invoiceId: string; amountMinor: string }[] = [];
  let total = 0n;
  for (const choice of input.choices) {
    const inv = invoices.find((i) => i.id === choice.invoiceId)!;
    if (inv.status === 'void' || inv.status === 'credit') throw new UseCaseError('invalid', `invoice ${inv.number} is ${inv.status} and cannot be paid`);
    const owed = await openBalanceMinor(tx, inv.id);
    if (owed <= 0n) throw new UseCaseError('conflict', `invoice ${inv.number} is already paid`);
    // A payment still on its way (a bank debit until it settles, a charge awaiting the processor's answer) is
    // not money yet, but it will be: collecting that part again now would take the client's money twice.
    const inFlight = await inFlightMinor(tx, inv.id, input.supersedes ?? []);
    const open = owed - inFlight;
    const amount = choice.amountMinor ?? open;
    // 409 naming the payment in flight (in-flight-refusal.ts), also when only part of the amount is in flight.
    if (inFlight > 0n && (open <= 0n || amount > open)) throw await inFlightRefusal(tx, inv, open, input.supersedes ?? []);
    if (amount <= 0n) throw new UseCaseError('invalid', `the amount for invoice ${inv.number} must be more than zero`);
    if (amount > open)
      throw new UseCaseError(
        'invalid',
        `invoice ${inv.number} has ${format(money(open, currency))} left to pay; ${amount > MAX_MINOR ? 'the amount given' : format(money(amount, currency))} is more than that — enter at most ${format(money(open, currency))}`,
      );
    planned.push({ invoiceId: inv.id, amountMinor: amount.toString() });
    total += amount;
  }
  const planFee = input.planFeeMinor ?? 0n;
  if (planFee < 0n) throw new UseCaseError('invalid', 'a plan fee cannot be negative');
  total += planFee;
  if (total > MAX_MINOR) throw new UseCaseError('invalid', 'the amount is larger than Settle accepts in one payment');

  // The payment, its first attempt (holding the idempotency key) and its history's first row, in one statement:
  // the id is chosen here so the three rows need not wait for one another (the foreign keys are checked at the
  // end of the statement, when all three exist). One round trip instead of three on every charge's path.
  const payment = { id: crypto.randomUUID() };
  const key = input.idempotencyKey ?? `${input.keyPrefix}:payment:${payment.id}:attempt:1`;
  const attempt = await tx
    .with('payment', (db) =>
      db.insertInto('payments').values({
        id: payment.id,
        tenant_id: tenantId,
        client_id: clientId,
        currency,
        amount_minor: total,
        state: 'pending',
        source: input.source,
        processor: input.processor,
        planned_allocations: JSON.stringify(planned),
        ...(planFee > 0n ? { plan_fee_minor: planFee } : {}),
        ...(input.at ? { created_at: input.at, updated_at: input.at } : {}),
        ...(input.method ? { method_kind: input.method.kind, method_brand: input.method.brand, method_last4: input.method.last4 } : {}),
      }),
    )
    .with('created', (db) =>
      db.insertInto('payment_events').values({
        tenant_id: tenantId,
        payment_id: payment.id,
        from_state: null,
        to_state: 'pending',
        event: 'created',
        detail: JSON.stringify({ source: input.source, planned }),
        ...(input.at ? { created_at: input.at } : {}),
      }),
    )
    .insertInto('payment_attempts')
    .values({ tenant_id: tenantId, payment_id: payment.id, attempt_no: 1, idempotency_key: key, outcome: 'sending' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { paymentId: payment.id, attemptId: attempt.id, idempotencyKey: key, amountMinor: total, currency, clientId };
}

/** The processor customer for a client, created once (idempotency key per client) and remembered. */
export async function processorCustomerFor(tx: Tx, clientId: string): Promise<{ name: string; email: string | null; customerId: string | null }> {
  const c = await tx.selectFrom('clients').select(['name', 'billing_email', 'processor_customer_id']).where('id', '=', clientId).executeTakeFirstOrThrow();
  return { name: c.name, email: c.billing_email, customerId: c.processor_customer_id };
}
