// What every use case is given: the database, the tenant's connectors, a logger and the clock.
// Use cases never construct connectors or read configuration themselves.
import type { Logger } from 'pino';
import type { Db } from '../db/pool.ts';
import type { AccountingConnector } from '../connectors/accounting/types.ts';
import type { PaymentsConnector } from '../connectors/payments/types.ts';
import type { PsaConnector } from '../connectors/psa/types.ts';
import type { BankAchConnector } from '../connectors/payments/bank-ach/connector.ts';
import type { Mailer } from '../notify/mailer.ts';
import type { SecretBox } from '../db/crypto.ts';

export interface TenantConnectors {
  psa(tenantId: string): Promise<PsaConnector | null>;
  payments(tenantId: string): Promise<PaymentsConnector | null>;
  accounting(tenantId: string): Promise<AccountingConnector | null>;
  /** The MSP's bank for NACHA debits (connection role 'bank_ach'), beside the card processor. */
  bankAch(tenantId: string): Promise<BankAchConnector | null>;
  /** Drop cached connectors after a connection changes. */
  forget(tenantId: string): void;
  /** The workspace's `connections_revision` as the caller just read it: stale connectors are dropped at once. */
  observeRevision?(tenantId: string, revision: bigint): void;
}

export interface EngineContext {
  readonly db: Db;
  readonly connectors: TenantConnectors;
  readonly log: Logger;
  readonly publicUrl: string;
  readonly now: () => Date;
  /**
   * Stamp a payment's start, success and allocations with `now()` instead of the database's clock. Only the
   * demo's history builder sets it (src/cli/demo/demo-history.ts): it tells three months of payments through
   * the real engine paths, each at the instant of the story. Unset everywhere else: nothing changes.
   */
  readonly stampsWithClock?: boolean;
  readonly mailer: Mailer;
  /** Envelope sender for client emails (SETTLE_MAIL_FROM). */
  readonly mailFrom: string;
  /** The instance's sealed-secrets box: portal links are signed with a sealed per-workspace secret (db/portal-secret.ts). */
  readonly box?: SecretBox;
  /** How long a portal checkout the client never confirmed stays open (SETTLE_CHECKOUT_EXPIRY_HOURS; expire-portal-checkouts.ts). */
  readonly checkoutExpiryMs?: number;
  /** How long the staff dashboard serves its kept figures without a refresh (SETTLE_DASHBOARD_FRESH_SECONDS; dashboard-figures.ts). */
  readonly dashboardFreshMs?: number;
  /** Outbound webhooks may go to private and loopback addresses (SETTLE_WEBHOOKS_ALLOW_PRIVATE; webhooks-out/address-guard.ts). */
  readonly webhooksAllowPrivate?: boolean;
}

/** The box, or a clear error where a context without one (a test's) is asked to make a link. */
export function boxOf(ctx: EngineContext): SecretBox {
  if (!ctx.box) throw new Error('this engine context has no SecretBox (portal and update-method links need one)');
  return ctx.box;
}

export class UseCaseError extends Error {
  override readonly name = 'UseCaseError';
  constructor(
    readonly code: 'not_found' | 'invalid' | 'conflict' | 'not_configured' | 'expired',
    message: string,
    /** Machine-readable facts added to the API's error object (e.g. the payment already in flight). */
    readonly detail?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

export const today = (d: Date): string => d.toISOString().slice(0, 10);
