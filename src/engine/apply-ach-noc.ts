// A notification of change (addenda 98) for an entry we sent: the receiving bank says how the account
// details should read. The correction is applied to the stored bank account at once with domain/rules
// `applyNoc`, so the next entry for the account is built from the corrected details (payments-rules.md
// §2.6: "before the next entry"). The account number stays sealed; the audit log names the fields that
// changed and the last four digits before and after, never the number. A NOC whose corrected data is
// malformed, or that refuses one of ours, changes nothing and is recorded for staff. A WEB account whose
// number changes by NOC keeps its validation (§2.7 asks for validation on an account-number change): the
// new number comes from the receiving bank itself, which is the strongest validation there is.
import { applyNoc, NocError, nocCode, type NocChange } from '../domain/rules/index.ts';
import type { NocCorrection } from '../connectors/payments/bank-ach/nacha/index.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { bankAchOf } from './ach-store.ts';

export interface AchNocNotice {
  readonly inboundFileId: string;
  readonly addendaLine: number;
  readonly entryId: string | null;
  readonly code: string;
  readonly refused: boolean;
  readonly correction: NocCorrection;
  readonly receivedOn: string;
}

/** The parsed corrected data as the change applyNoc takes; null when there is nothing to apply. */
export function nocChangeOf(code: string, c: NocCorrection): NocChange | null {
  switch (c.kind) {
    case 'account_number':
      return { code, accountNumber: c.accountNumber };
    case 'routing_number':
      return { code, routingNumber: c.routingNumber };
    case 'routing_and_account':
      return { code, routingNumber: c.routingNumber, accountNumber: c.accountNumber };
    case 'name':
      return { code, holderName: c.name };
    case 'transaction_code':
      return { code, transactionCode: c.transactionCode };
    case 'account_and_transaction_code':
      return { code, accountNumber: c.accountNumber, transactionCode: c.transactionCode };
    case 'routing_account_and_transaction_code':
      return { code, routingNumber: c.routingNumber, accountNumber: c.accountNumber, transactionCode: c.transactionCode };
    case 'individual_id':
      return { code, receiverId: c.identificationNumber };
    case 'company_name':
      return { code, holderName: c.companyName };
    case 'company_identification':
      return { code, receiverId: c.companyIdentification };
    case 'company_name_and_identification':
      return { code, holderName: c.companyName, receiverId: c.companyIdentification };
    case 'sec_code':
    case 'other':
      return { code }; // C08/C13/C14: nothing on the stored account changes (noc-codes.ts)
    case 'malformed':
      return null;
    default: {
      const _: never = c;
      return _;
    }
  }
}

export async function applyAchNoc(ctx: EngineContext, tenantId: string, n: AchNocNotice): Promise<string> {
  const code = n.code.trim().toUpperCase();
  const c = await bankAchOf(ctx, tenantId);
  return withTenant(ctx.db, tenantId, async (tx) => {
    const store = async (outcome: string, detail: Record<string, unknown> = {}): Promise<boolean> => {
      const r = await tx
        .insertInto('ach_entry_notices')
        .values({
          tenant_id: tenantId,
          inbound_file_id: n.inboundFileId,
          addenda_line: n.addendaLine,
          entry_id: n.entryId,
          kind: 'noc',
          code,
          outcome,
          detail: JSON.stringify({ received_on: n.receivedOn, ...detail }),
        })
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .executeTakeFirst();
      return r !== undefined;
    };
    if (!n.entryId) return (await store('unmatched')) ? 'unmatched' : 'already applied';
    const e = await tx.selectFrom('ach_entries').select(['id', 'bank_account_id', 'kind']).where('id', '=', n.entryId).executeTakeFirstOrThrow();
    const change = n.refused || !nocCode(code) ? null : nocChangeOf(code, n.correction);
    if (!change) {
      const why = n.refused ? 'refused_noc' : !nocCode(code) ? 'unknown_change_code' : 'malformed_corrected_data';
      if (!(await store(why, n.correction.kind === 'malformed' ? { reason: n.correction.reason } : {}))) return 'already applied';
      ctx.log.warn({ tenantId, code, entryId: e.id, why }, 'bank ACH notification of change not applied');
      return why;
    }
    // Locked so a file being built now either sees the old details (and is already built) or the new ones.
    const a = await tx.selectFrom('ach_bank_accounts').selectAll().where('id', '=', e.bank_account_id).forUpdate().executeTakeFirstOrThrow();
    const current = {
      routingNumber: a.routing_number,
      accountNumber: c.openAccount(a.account_sealed),
      accountType: a.account_type,
      holderName: a.holder_name,
      receiverId: a.receiver_id,
    };
    let next;
    try {
      next = applyNoc(current, change);
    } catch (err) {
      if (!(err instanceof NocError)) throw err;
      if (!(await store('rejected_correction', { reason: err.message }))) return 'already applied';
      return 'rejected_correction';
    }
    if (!(await store('applied', { fields: changedFields(current, next) }))) return 'already applied';
    await updateAccount(tx, a.id, a.client_id, next, c.sealAccount(next.accountNumber));
    if (e.kind === 'prenote' && a.validation === 'pending') {
      // The receiving bank answered the test entry with the right details: the account exists and takes debits.
      await tx.updateTable('ach_bank_accounts').set({ validation: 'validated', validated_at: ctx.now() }).where('id', '=', a.id).execute();
    }
    await audit(
      tx,
      tenantId,
      'vendor:bank-ach',
      'ach_bank_account.corrected',
      { type: 'ach_bank_account', id: a.id },
      {
        code,
        fields: changedFields(current, next),
        last4_before: a.account_last4,
        last4_after: next.accountNumber.slice(-4),
        routing_before: a.routing_number,
        routing_after: next.routingNumber,
      },
    );
    return 'applied';
  });
}

type Details = ReturnType<typeof applyNoc>;

function changedFields(a: Details, b: Details): string[] {
  return (Object.keys(b) as (keyof Details)[]).filter((k) => a[k] !== b[k]);
}

async function updateAccount(tx: Tx, id: string, clientId: string, d: Details, sealed: string): Promise<void> {
  const last4 = d.accountNumber.slice(-4);
  await tx
    .updateTable('ach_bank_accounts')
    .set({
      routing_number: d.routingNumber,
      account_sealed: sealed,
      account_last4: last4,
      account_type: d.accountType,
      holder_name: d.holderName,
      receiver_id: d.receiverId,
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .execute();
  if (/^\d{4}$/.test(last4)) {
    await tx
      .updateTable('payment_methods')
      .set({ last4 })
      .where('processor', '=', 'bank-ach')
      .where('processor_method_id', '=', id)
      .where('client_id', '=', clientId)
      .execute();
  }
}
