// A client authorizes Settle to debit a bank account by NACHA file. The account number is sealed at once
// (only the last four digits stay readable, payments-rules.md §2.7/§6), the mandate is stored with the exact
// text, time and IP address of the agreement, and the SEC code follows who holds the account and how they
// agreed (§2.2): a business account → CCD; a personal account authorized online → WEB; a personal account
// on a signed form entered by staff → PPD. A WEB account is validated on first use (§2.7) by a prenote:
// a zero-dollar entry in the next file; live debits wait until its return window has passed quietly.
import { isValidRoutingNumber } from '../connectors/payments/bank-ach/nacha/index.ts';
import { entryDescriptionFor } from '../connectors/payments/bank-ach/catalogue.ts';
import { withTenant } from '../db/tenant.ts';
import type { AchSecCode } from '../db/schema.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { audit, type Actor } from './audit.ts';
import { bankAchOf, bankToday, sha256Hex } from './ach-store.ts';
import { mandateTemplateSha256, renderMandate } from './ach-mandate.ts';

export interface EnrollBankAccountInput {
  readonly clientId: string;
  readonly holderName: string;
  readonly holderKind: 'business' | 'personal';
  readonly routingNumber: string;
  readonly accountNumber: string;
  readonly accountType: 'checking' | 'savings';
  readonly mandate: {
    readonly channel: 'portal' | 'staff';
    readonly acceptedBy: Actor;
    readonly ip: string;
    readonly userAgent: string | null;
    /** The hash of the authorization template the client was shown (ach-mandate.ts). */
    readonly templateSha256: string;
  };
}

export interface EnrolledBankAccount {
  readonly bankAccountId: string;
  readonly secCode: AchSecCode;
  readonly validation: 'not_required' | 'pending';
  readonly last4: string;
  readonly mandateText: string;
}

export function secCodeFor(holderKind: 'business' | 'personal', channel: 'portal' | 'staff'): AchSecCode {
  if (holderKind === 'business') return 'CCD';
  return channel === 'portal' ? 'WEB' : 'PPD';
}

export async function enrollAchBankAccount(ctx: EngineContext, tenantId: string, input: EnrollBankAccountInput): Promise<EnrolledBankAccount> {
  const routing = input.routingNumber.trim();
  const account = input.accountNumber.replace(/[\s-]/g, '');
  const holder = input.holderName.trim();
  if (!isValidRoutingNumber(routing))
    throw new UseCaseError(
      'invalid',
      `routing number "${routing}" is not a valid 9-digit ABA routing number (check digit); copy it from the bottom of a cheque or the bank's website`,
    );
  if (!/^\d{4,17}$/.test(account)) throw new UseCaseError('invalid', 'the account number must be 4 to 17 digits');
  if (holder.length < 2 || holder.length > 100) throw new UseCaseError('invalid', 'give the account holder name as the bank knows it (2 to 100 characters)');
  if (input.mandate.templateSha256 !== mandateTemplateSha256()) {
    throw new UseCaseError('conflict', 'the authorization text has changed since this form was opened; reload the page, read it again and agree');
  }
  const c = await bankAchOf(ctx, tenantId);
  const today = bankToday(ctx, c);
  const secCode = secCodeFor(input.holderKind, input.mandate.channel);
  const last4 = account.slice(-4);
  return withTenant(ctx.db, tenantId, async (tx) => {
    const client = await tx.selectFrom('clients').select(['id', 'name', 'identifier']).where('id', '=', input.clientId).executeTakeFirst();
    if (!client) throw new UseCaseError('not_found', `client ${input.clientId} does not exist in this workspace`);
    const tenant = await tx.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirstOrThrow();
    const text = renderMandate({
      mspName: tenant.name,
      clientName: client.name,
      holderName: holder,
      holderKind: input.holderKind,
      accountType: input.accountType,
      routingNumber: routing,
      last4,
      date: today,
    });
    const validation = secCode === 'WEB' ? 'pending' : 'not_required';
    const row = await tx
      .insertInto('ach_bank_accounts')
      .values({
        tenant_id: tenantId,
        client_id: client.id,
        holder_name: holder,
        holder_kind: input.holderKind,
        sec_code: secCode,
        routing_number: routing,
        account_sealed: c.sealAccount(account),
        account_last4: last4,
        account_type: input.accountType,
        receiver_id: client.identifier.slice(0, 15),
        validation,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx
      .insertInto('ach_mandates')
      .values({
        tenant_id: tenantId,
        bank_account_id: row.id,
        client_id: client.id,
        text,
        text_sha256: sha256Hex(text),
        channel: input.mandate.channel,
        accepted_by: input.mandate.acceptedBy,
        accepted_at: ctx.now(),
        accepted_ip: input.mandate.ip,
        user_agent: input.mandate.userAgent,
      })
      .execute();
    // Listed with the client's other saved methods (last4 only); the bank account id is the "processor" id.
    await tx
      .insertInto('payment_methods')
      .values({
        tenant_id: tenantId,
        client_id: client.id,
        processor: 'bank-ach',
        processor_method_id: row.id,
        kind: 'us_bank_account',
        brand: null,
        last4,
        funding: null,
      })
      .execute();
    if (validation === 'pending') {
      await tx
        .insertInto('ach_entries')
        .values({
          tenant_id: tenantId,
          bank_account_id: row.id,
          kind: 'prenote',
          sec_code: secCode,
          amount_minor: 0n,
          company_name: c.originator.companyName,
          company_id: c.originator.companyId,
          entry_description: entryDescriptionFor(secCode, today),
          not_before: today,
        })
        .execute();
    }
    await audit(
      tx,
      tenantId,
      input.mandate.acceptedBy,
      'ach_mandate.accepted',
      { type: 'ach_bank_account', id: row.id },
      {
        client_id: client.id,
        sec_code: secCode,
        last4,
        routing_number: routing,
        channel: input.mandate.channel,
        ip: input.mandate.ip,
        validation,
      },
    );
    return { bankAccountId: row.id, secCode, validation, last4, mandateText: text };
  });
}
