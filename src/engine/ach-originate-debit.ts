// Debit a client's authorized bank account for invoices, by NACHA file. The payment is planned like every
// other collection (plan-payment.ts: amounts checked against what each invoice still owes), and its entry
// waits for the next cut-off in the same transaction. The payment is `processing` from that moment: the
// debit is committed to the bank's queue, and an invoice with a debit in flight cannot be collected again
// (plan-payment's in-flight check). It stays `processing` until the debit is settled (ach-confirm-
// settlements.ts) — there is no per-transaction processor fee on this rail.
import { entryDescriptionFor } from '../connectors/payments/bank-ach/catalogue.ts';
import { remittanceFor } from '../connectors/payments/bank-ach/build-file.ts';
import { withTenant } from '../db/tenant.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { planPayment, type InvoiceChoice, type PlannedPayment } from './plan-payment.ts';
import type { Tx } from '../db/tenant.ts';
import { audit, type Actor } from './audit.ts';
import { recordPaymentProcessing } from './record-payment-outcome.ts';
import { bankAchOf, bankToday } from './ach-store.ts';

export interface OriginateDebitInput {
  readonly bankAccountId: string;
  readonly choices: readonly InvoiceChoice[];
  readonly actor: Actor;
  readonly source: Parameters<typeof planPayment>[2]['source'];
  /** Ask for Same Day ACH (§2.3); honoured when the bank agreement allows it and the amount is within the limit. */
  readonly sameDay?: boolean;
  /** An installment-plan fee debited on top of the invoices (plan-payment.ts). */
  readonly planFeeMinor?: bigint;
}

/** What a caller such as the autopay run adds (the same hooks as charge-saved-method's ChargeOptions). */
export interface OriginateOptions {
  /** The payment attempt's idempotency key (autopay: per invoice version and attempt). */
  readonly idempotencyKey?: string;
  /** Runs inside the planning transaction: link the payment to what asked for it, or throw to refuse. */
  readonly onPlanned?: (tx: Tx, plan: PlannedPayment) => Promise<void>;
}

export interface OriginatedDebit {
  readonly paymentId: string;
  readonly entryId: string;
  readonly amountMinor: bigint;
  readonly state: 'processing';
}

export async function originateAchDebit(
  ctx: EngineContext,
  tenantId: string,
  input: OriginateDebitInput,
  opts: OriginateOptions = {},
): Promise<OriginatedDebit> {
  const c = await bankAchOf(ctx, tenantId);
  const today = bankToday(ctx, c);
  return withTenant(ctx.db, tenantId, async (tx) => {
    const account = await tx.selectFrom('ach_bank_accounts').selectAll().where('id', '=', input.bankAccountId).forUpdate().executeTakeFirst();
    if (!account) throw new UseCaseError('not_found', `bank account ${input.bankAccountId} is not authorized for debits in this workspace`);
    if (account.status === 'revoked')
      throw new UseCaseError(
        'conflict',
        `the debit authorization for the account ending ${account.account_last4} was revoked (${account.status_reason ?? 'by the client'}); the client must authorize debits again`,
      );
    if (account.status === 'disabled')
      throw new UseCaseError(
        'conflict',
        `the account ending ${account.account_last4} cannot be debited (${account.status_reason ?? 'returned by the bank'}); ask the client for another account`,
      );
    if (account.validation === 'failed')
      throw new UseCaseError('conflict', `the account ending ${account.account_last4} failed validation; ask the client for another account`);
    const plan = await planPayment(tx, tenantId, {
      clientId: account.client_id,
      choices: input.choices,
      source: input.source,
      processor: 'bank-ach',
      keyPrefix: 'bank-ach',
      ...(input.planFeeMinor ? { planFeeMinor: input.planFeeMinor } : {}),
      ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
    });
    if (plan.currency !== 'USD') throw new UseCaseError('invalid', `bank ACH debits are in US dollars; these invoices are in ${plan.currency}`);
    await opts.onPlanned?.(tx, plan);
    const planned = await tx
      .selectFrom('invoices')
      .select(['id', 'number'])
      .where(
        'id',
        'in',
        input.choices.map((x) => x.invoiceId),
      )
      .execute();
    const payment = await tx.selectFrom('payments').select('planned_allocations').where('id', '=', plan.paymentId).executeTakeFirstOrThrow();
    const remittance =
      account.sec_code === 'CCD'
        ? remittanceFor(
            payment.planned_allocations.map((a) => ({
              invoiceNumber: planned.find((i) => i.id === a.invoiceId)?.number ?? '',
              amountCents: BigInt(a.amountMinor),
            })),
          )
        : null;
    const entry = await tx
      .insertInto('ach_entries')
      .values({
        tenant_id: tenantId,
        payment_id: plan.paymentId,
        bank_account_id: account.id,
        kind: 'debit',
        sec_code: account.sec_code,
        amount_minor: plan.amountMinor,
        company_name: c.originator.companyName,
        company_id: c.originator.companyId,
        entry_description: entryDescriptionFor(account.sec_code, today),
        remittance,
        same_day: input.sameDay === true,
        not_before: today,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx
      .updateTable('payments')
      .set({ method_kind: 'us_bank_account', method_brand: null, method_last4: account.account_last4 })
      .where('id', '=', plan.paymentId)
      .execute();
    await tx.updateTable('payment_attempts').set({ outcome: 'processing', processor_payment_id: entry.id }).where('id', '=', plan.attemptId).execute();
    await recordPaymentProcessing(tx, plan.paymentId, entry.id);
    await audit(
      tx,
      tenantId,
      input.actor,
      'payment.ach_debit_originated',
      { type: 'payment', id: plan.paymentId },
      {
        amount_minor: plan.amountMinor,
        entry_id: entry.id,
        sec_code: account.sec_code,
        account_last4: account.account_last4,
        same_day_requested: input.sameDay === true,
      },
    );
    return { paymentId: plan.paymentId, entryId: entry.id, amountMinor: plan.amountMinor, state: 'processing' };
  });
}
