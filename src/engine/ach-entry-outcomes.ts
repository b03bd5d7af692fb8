// What happens to a bank ACH entry, its account and its payment when it cannot go on: an entry cancelled
// before it left (revoked or closed account, reinitiation window passed), an account revoked or disabled
// after a return (payments-rules.md §2.4 actions), and the client's email about a returned debit.
import { format, money, parseCurrency } from '../domain/money.ts';
import type { Tx } from '../db/tenant.ts';
import { queueEmail } from '../notify/queue-email.ts';
import { composeEmail, templateOf } from '../notify/templates/compose.ts';
import { audit } from './audit.ts';
import { recordPaymentFailed } from './record-payment-outcome.ts';
import { ACH_ACTOR } from './ach-store.ts';
import { raiseException } from './exceptions.ts';

/** Take a pending entry out of the queue; a debit's payment fails with `code` (nothing was sent). */
export async function cancelEntry(tx: Tx, tenantId: string, entryId: string, code: string, message: string): Promise<void> {
  const e = await tx
    .updateTable('ach_entries')
    .set({ status: 'cancelled', status_reason: code, updated_at: new Date() })
    .where('id', '=', entryId)
    .where('status', '=', 'pending')
    .returning(['id', 'payment_id', 'kind', 'presentment'])
    .executeTakeFirst();
  if (!e) return;
  await audit(tx, tenantId, ACH_ACTOR, 'ach_entry.cancelled', { type: 'ach_entry', id: e.id }, { code, message, payment_id: e.payment_id });
  if (e.kind === 'debit' && e.payment_id) {
    await tx
      .updateTable('payment_attempts')
      .set({ outcome: 'declined', decline_code: code, message, resolved_at: new Date() })
      .where('processor_payment_id', '=', e.id)
      .execute();
    await recordPaymentFailed(tx, e.payment_id, code, message);
  }
}

/**
 * Stop debiting an account: `revoked` for unauthorized returns (R05/R07/R10/R29…, never retried, a new
 * authorization is needed), `disabled` for account returns (R02/R03/R04/R20…) and failed validation.
 * Every entry still waiting for it is cancelled.
 */
export async function stopAccount(
  tx: Tx,
  tenantId: string,
  bankAccountId: string,
  status: 'revoked' | 'disabled',
  code: string,
  reason: string,
): Promise<number> {
  const acct = await tx
    .updateTable('ach_bank_accounts')
    .set({ status, status_reason: `${code}: ${reason}`, updated_at: new Date() })
    .where('id', '=', bankAccountId)
    .where('status', '=', 'active')
    .returning(['id', 'account_last4', 'client_id'])
    .executeTakeFirst();
  if (!acct) return 0;
  if (status === 'revoked') {
    await tx
      .updateTable('ach_mandates')
      .set({ revoked_at: new Date(), revoked_reason: `${code}: ${reason}` })
      .where('bank_account_id', '=', bankAccountId)
      .where('revoked_at', 'is', null)
      .execute();
  }
  await raiseException(tx, tenantId, ACH_ACTOR, {
    kind: status === 'revoked' ? 'ach_mandate_revoked' : 'ach_account_disabled',
    dedupeKey: `ach-account:${bankAccountId}:${status}`,
    clientId: acct.client_id,
    invoiceIds: [],
    paymentId: null,
    title: status === 'revoked' ? `Debit authorization revoked (${code})` : `Bank account can no longer be debited (${code})`,
    detail: `Account ending ${acct.account_last4}: ${reason}. ${status === 'revoked' ? 'Nothing is debited from it again until the client authorizes debits anew (§2.4: never retried).' : 'Ask the client for another account.'}`,
    data: { code, bank_account_id: bankAccountId },
  });
  await audit(
    tx,
    tenantId,
    ACH_ACTOR,
    status === 'revoked' ? 'ach_mandate.revoked' : 'ach_bank_account.disabled',
    { type: 'ach_bank_account', id: bankAccountId },
    { code, reason, last4: acct.account_last4 },
  );
  const waiting = await tx.selectFrom('ach_entries').select('id').where('bank_account_id', '=', bankAccountId).where('status', '=', 'pending').execute();
  for (const w of waiting) await cancelEntry(tx, tenantId, w.id, code, `the account ending ${acct.account_last4} can no longer be debited: ${reason}`);
  return waiting.length;
}

export interface ReturnEmail {
  readonly paymentId: string;
  readonly entryId: string;
  readonly code: string;
  readonly description: string;
  /** Set when the debit will be presented again on this day. */
  readonly retryOn: string | null;
  readonly accountStopped: 'revoked' | 'disabled' | null;
}

/** Tell the client their bank returned a debit: what, why, and what happens next. One email per return. */
export async function queueReturnEmail(tx: Tx, tenantId: string, r: ReturnEmail): Promise<void> {
  const p = await tx
    .selectFrom('payments as p')
    .innerJoin('clients as c', 'c.id', 'p.client_id')
    .select(['p.amount_minor', 'p.currency', 'p.method_last4', 'c.id as client_id', 'c.name as client_name', 'c.billing_email'])
    .where('p.id', '=', r.paymentId)
    .executeTakeFirstOrThrow();
  if (!p.billing_email) return;
  const tenant = await tx.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirstOrThrow();
  const amount = format(money(p.amount_minor, parseCurrency(p.currency)));
  const next = r.retryOn
    ? `We will present the debit to your bank again on ${r.retryOn}, for the same amount. Please make sure the funds are available.`
    : r.accountStopped === 'revoked'
      ? `We have stopped all debits from this account. To pay by bank again, please authorize debits again in your payment portal, or pay by card.`
      : r.accountStopped === 'disabled'
        ? `We will not debit this account again. Please add another bank account in your payment portal, or pay by card.`
        : `The invoices are still open. Please pay them in your payment portal, or contact us.`;
  const email = composeEmail(
    'ach_returned',
    {
      msp_name: tenant.name,
      client_name: p.client_name,
      amount,
      account_last4: p.method_last4 ?? '????',
      return_code: r.code,
      return_reason: r.description,
      next_step: next,
    },
    await templateOf(tx, 'ach_returned'),
  );
  await queueEmail(tx, tenantId, {
    kind: 'ach_returned',
    clientId: p.client_id,
    to: p.billing_email,
    ...email,
    idempotencyKey: `ach-return:${r.entryId}:email`,
  });
}
