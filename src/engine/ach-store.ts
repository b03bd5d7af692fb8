// Shared pieces of the bank ACH use cases (src/engine/*ach*): the connector lookup, the per-tenant lock
// that serialises file building, bank-local dates, and when a debit counts as settled.
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { achReturnCode, addBankingDays, type IsoDate } from '../domain/rules/index.ts';
import type { Tx } from '../db/tenant.ts';
import type { BankAchConnector } from '../connectors/payments/bank-ach/connector.ts';
import { localClock } from '../connectors/payments/bank-ach/windows.ts';
import { UseCaseError, type EngineContext } from './context.ts';

export const ACH_ACTOR = 'system:bank-ach' as const;

export async function bankAchOf(ctx: EngineContext, tenantId: string): Promise<BankAchConnector> {
  const c = await ctx.connectors.bankAch(tenantId);
  if (!c) throw new UseCaseError('not_configured', 'this workspace has no bank ACH connection; connect the bank first (settle connect bank_ach bank-ach …)');
  return c;
}

/** Serialises file building and return handling of one tenant (transaction-scoped advisory lock). */
export async function lockTenantAch(tx: Tx, tenantId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`settle:bank-ach:${tenantId}`}))`.execute(tx);
}

/** The bank's business date now (file dates, "today" for return windows). */
export function bankToday(ctx: EngineContext, c: BankAchConnector): IsoDate {
  return localClock(ctx.now(), c.config.timeZone).date;
}

/**
 * The last day on which the bank can still tell us a debit did not go through for lack of funds or a bad
 * account: the RDFI's deadline for those returns (R01's window, 2 banking days after settlement, §2.4) plus
 * one banking day for the return to reach us — the same delivery allowance as ach-return-window.ts. From the
 * next day the debit counts as settled and the payment succeeds; unauthorized returns (R05/R07/R10, up to
 * 60 days for consumer accounts) can still arrive later and are handled as returns after success.
 */
export function settlesAfter(effectiveDate: IsoDate): IsoDate {
  const w = achReturnCode('R01').window;
  const days = w.kind === 'banking_days' ? w.days : 2;
  return addBankingDays(effectiveDate, days + 1);
}

export const sha256Hex = (data: Buffer | string): string => crypto.createHash('sha256').update(data).digest('hex');
