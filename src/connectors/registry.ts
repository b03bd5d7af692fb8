// Vendor catalogue of connectors: for each vendor, the shape of its connection settings (non-secret
// config and secrets, validated with zod) and how to build the connector from them. Adding a vendor means
// adding one entry here; nothing else in Settle names vendors.
import { z } from 'zod';
import type { PsaConnector } from './psa/types.ts';
import type { PaymentsConnector } from './payments/types.ts';
import type { AccountingConnector } from './accounting/types.ts';
import { createConnectWiseConnector } from './psa/connectwise/connector.ts';
import { createHaloConnector } from './psa/halopsa/connector.ts';
import { createAutotaskConnector } from './psa/autotask/connector.ts';
import { autotaskCatalogue } from './psa/autotask/catalogue.ts';
import { payLinkSettings } from './psa/pay-link-settings.ts';
import { parseCurrency } from '../domain/money.ts';
import { createStripeConnector } from './payments/stripe/connector.ts';
import { QuickBooksOnlineConnector } from './accounting/quickbooks-online/connector.ts';
import { tokensFromRefreshToken, type QboTokens } from './accounting/quickbooks-online/tokens.ts';
import { buildXeroConnector, xeroConfigSchema, xeroSecretsSchema } from './accounting/xero/settings.ts';
import { createBankAchConnector, type BankAchConnector } from './payments/bank-ach/connector.ts';
import { bankAchConfigSchema, bankAchSecretsSchema } from './payments/bank-ach/settings.ts';
import { buildQbdConnector, qbdConfigSchema, qbdSecretsSchema } from './accounting/quickbooks-desktop/settings.ts';
import type { Db } from '../db/pool.ts';

/** 'bank_ach': the MSP's bank as a second payments rail beside the card processor (NACHA files, §2). */
export type ConnectionRole = 'psa' | 'payments' | 'accounting' | 'bank_ach';

export interface BuildHooks {
  /** Persist changed secrets (a rotated OAuth refresh token) before the connector relies on them. */
  saveSecrets(secrets: Record<string, unknown>): Promise<void>;
  /** The secrets as stored now (another process may have rotated a token since this connector was built). */
  loadSecrets(): Promise<Record<string, unknown>>;
  /** Seal data the connector must keep unreadable at rest (bank account numbers), bound to the tenant and `purpose`. */
  seal(value: unknown, purpose: string): string;
  open<T>(sealed: string, purpose: string): T;
  /** The workspace and database, for a connector whose vendor calls Settle (QuickBooks Desktop's Web Connector queue). */
  readonly tenantId?: string;
  readonly db?: Db;
}

interface Entry<R extends ConnectionRole, C extends z.ZodTypeAny, S extends z.ZodTypeAny, T> {
  readonly role: R;
  readonly vendor: string;
  readonly config: C;
  readonly secrets: S;
  build(config: z.infer<C>, secrets: z.infer<S>, hooks: BuildHooks): T;
}

const connectwise: Entry<'psa', z.ZodTypeAny, z.ZodTypeAny, PsaConnector> = {
  role: 'psa',
  vendor: 'connectwise',
  config: z.object({
    baseUrl: z.string().url().describe('https://{site}/v4_6_release/apis/3.0'),
    companyId: z.string().min(1),
    clientId: z.string().min(1).describe('your ConnectWise developer clientId'),
    currency: z.string().default('USD'),
    apiMemberIdentifier: z.string().optional(),
    ...payLinkSettings('connectwise'),
  }),
  secrets: z.object({ publicKey: z.string().min(1), privateKey: z.string().min(1) }),
  build: (c, s) =>
    createConnectWiseConnector({
      baseUrl: c.baseUrl,
      companyId: c.companyId,
      clientId: c.clientId,
      publicKey: s.publicKey,
      privateKey: s.privateKey,
      currency: parseCurrency(c.currency),
      ...(c.apiMemberIdentifier ? { apiMemberIdentifier: c.apiMemberIdentifier } : {}),
    }),
};

const halopsa: Entry<'psa', z.ZodTypeAny, z.ZodTypeAny, PsaConnector> = {
  role: 'psa',
  vendor: 'halopsa',
  config: z.object({
    baseUrl: z.string().url().describe('https://{tenant}.halopsa.com — the address of your Halo (Settle adds /api and /auth/token)'),
    clientId: z.string().min(1).describe('the Client ID of an API application using Client ID and Secret (Services), permission "all"'),
    tenant: z.string().optional().describe('hosted Halo only: your tenant name (sent as tenant= when asking for a token)'),
    authUrl: z.string().url().optional().describe('the authorisation server, when it is not {address}/auth'),
    currency: z.string().default('USD'),
    webhookAuth: z.enum(['basic', 'header']).default('basic').describe('how Halo proves its webhook calls: basic or header authentication'),
    ...payLinkSettings('halopsa'),
  }),
  secrets: z.object({
    clientSecret: z.string().min(1),
    webhookSecret: z.string().min(16).optional().describe('what Halo sends with each webhook call; leave empty to derive it from the client secret'),
  }),
  build: (c, s) =>
    createHaloConnector({
      baseUrl: c.baseUrl,
      clientId: c.clientId,
      clientSecret: s.clientSecret,
      currency: parseCurrency(c.currency),
      webhookAuth: c.webhookAuth,
      ...(c.tenant ? { tenant: c.tenant } : {}),
      ...(c.authUrl ? { authUrl: c.authUrl } : {}),
      ...(s.webhookSecret ? { webhookSecret: s.webhookSecret } : {}),
    }),
};

const autotask: Entry<'psa', z.ZodTypeAny, z.ZodTypeAny, PsaConnector> = {
  role: 'psa',
  vendor: 'autotask',
  config: z.object({
    username: z.string().email().describe('the API user (Admin → Resources/Users, security level "API User"); its zone is looked up from it'),
    integrationCode: z.string().min(1).describe("the API user's tracking identifier (ApiIntegrationCode)"),
    globalUrl: z.string().url().default(autotaskCatalogue.globalUrl).describe('where zone discovery starts; keep the default'),
    currency: z.string().default('USD'),
    /** Settle's share of what the MSP's other integrations leave of the 10,000 requests an hour. */
    budgetShare: z
      .number()
      .min(0.01)
      .max(1)
      .default(autotaskCatalogue.defaultShare)
      .describe("Settle's share of the API requests other integrations leave each hour (0.25 = 25 %)"),
    sweepEveryHours: z.number().min(0.25).max(168).default(1).describe('how often every open invoice is re-read for changes Autotask leaves no trace of'),
    ...payLinkSettings('autotask'),
  }),
  secrets: z.object({
    secret: z.string().min(1).describe("the API user's password (Secret)"),
    webhookSecret: z.string().min(16).optional().describe('a secret Settle gives its company webhook; leave empty to poll only'),
  }),
  build: (c, s) =>
    createAutotaskConnector({
      globalUrl: c.globalUrl,
      username: c.username,
      integrationCode: c.integrationCode,
      secret: s.secret,
      currency: parseCurrency(c.currency),
      sweepEveryMs: Math.round(c.sweepEveryHours * 3_600_000),
      api: { share: c.budgetShare },
      ...(s.webhookSecret ? { webhookSecret: s.webhookSecret } : {}),
    }),
};

const stripe: Entry<'payments', z.ZodTypeAny, z.ZodTypeAny, PaymentsConnector> = {
  role: 'payments',
  vendor: 'stripe',
  config: z.object({
    baseUrl: z.string().url().default('https://api.stripe.com'),
    // Anchored at both ends: the key is written into the portal's inline script.
    publishableKey: z.string().regex(/^pk_(test|live)_[A-Za-z0-9]+$/, 'a publishable key is pk_test_… or pk_live_… (letters and digits)'),
    /** Where the portal loads Stripe.js (the hosted fields) from. */
    jsUrl: z
      .string()
      .url()
      .regex(/^https?:\/\//, 'jsUrl is an http(s) address')
      .default('https://js.stripe.com/v3/'),
    webhookEndpointId: z.string().optional(),
    /**
     * The account's rate limits where Stripe raised them (requests/s). Unset: Stripe's published figures
     * for the key's mode — 100/s overall live, 25/s test; 25/s per endpoint; search 20/s (pacing.ts).
     */
    requestsPerSecond: z.number().positive().max(10_000).optional(),
    endpointRequestsPerSecond: z.number().positive().max(10_000).optional(),
    searchRequestsPerSecond: z.number().positive().max(10_000).optional(),
  }),
  secrets: z.object({
    secretKey: z.string().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/, 'a secret or restricted key is sk_test_…, sk_live_…, rk_test_… or rk_live_…'),
    webhookSecret: z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, 'the webhook signing secret is whsec_ followed by letters and digits'),
  }),
  build: (c, s) =>
    createStripeConnector({
      secretKey: s.secretKey,
      baseUrl: c.baseUrl,
      webhookSecret: s.webhookSecret,
      rateLimits: { perSecond: c.requestsPerSecond, endpointPerSecond: c.endpointRequestsPerSecond, searchPerSecond: c.searchRequestsPerSecond },
    }),
};

const qboSecrets = z.object({
  clientSecret: z.string().min(1),
  refreshToken: z.string().min(1),
  accessToken: z.string().default(''),
  accessTokenExpiresAt: z.number().default(0),
  refreshTokenExpiresAt: z.number().optional(),
});

const quickbooksOnline: Entry<'accounting', z.ZodTypeAny, typeof qboSecrets, AccountingConnector> = {
  role: 'accounting',
  vendor: 'quickbooks-online',
  config: z.object({
    baseUrl: z.string().url().default('https://quickbooks.api.intuit.com'),
    tokenUrl: z.string().url().default('https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer'),
    realmId: z.string().min(1),
    clientId: z.string().min(1),
    bankAccountId: z.string().min(1).describe('QuickBooks Account Id of the bank account payouts land in'),
    feeExpenseAccountId: z.string().min(1).describe('QuickBooks Account Id for processing fees'),
    undepositedFundsAccountId: z.string().optional(),
    adjustmentAccountId: z.string().optional(),
    /** Income account for card surcharges; without it they go to the deposit's adjustments line. */
    surchargeIncomeAccountId: z.string().optional(),
    /** Income account for installment-plan fees; without it they go to the deposit's adjustments line. */
    planFeeIncomeAccountId: z.string().optional(),
    /** Other Current Asset clearing account for clients' credit (overpayments and payments made from credit). */
    clientCreditAccountId: z.string().optional(),
    /** Clearing account for payout money whose invoice is not in the books yet; without it, the adjustments account. */
    clearingAccountId: z.string().optional(),
    /** Account for ACH discounts given (a negative deposit line of their own); without it, in the adjustments line. */
    achDiscountAccountId: z.string().optional(),
    /** Class (Settings → Accounts) on deposit and journal lines, when the books track classes; absent ⇒ none. */
    classId: z.string().optional(),
    /** Location — QuickBooks' Department — on payments, deposits and journal entries; absent ⇒ none. */
    departmentId: z.string().optional(),
    minorVersion: z.number().int().default(75),
    homeCurrency: z.string().default('USD'),
    /** Wait after a 429 that carries no Retry-After (Intuit sends none and says 60 s); a Retry-After always wins. */
    throttleWaitMs: z.number().int().min(0).max(600_000).optional(),
  }),
  secrets: qboSecrets,
  build: (c, s, hooks) => {
    // Tokens live with the other secrets of the connection, sealed; a rotated refresh token is saved
    // through hooks.saveSecrets before the connector uses the new access token (tokens.ts).
    let current = s;
    const store = {
      load: async (): Promise<QboTokens> => {
        current = qboSecrets.parse(await hooks.loadSecrets());
        return current.accessToken
          ? {
              accessToken: current.accessToken,
              refreshToken: current.refreshToken,
              accessTokenExpiresAt: current.accessTokenExpiresAt,
              refreshTokenExpiresAt: current.refreshTokenExpiresAt ?? Date.now() + 100 * 86_400_000,
            }
          : tokensFromRefreshToken(current.refreshToken);
      },
      save: async (t: QboTokens): Promise<void> => {
        const next = { ...current, ...t };
        await hooks.saveSecrets(next);
        current = next;
      },
    };
    return new QuickBooksOnlineConnector(
      {
        baseUrl: c.baseUrl,
        tokenUrl: c.tokenUrl,
        realmId: c.realmId,
        clientId: c.clientId,
        clientSecret: s.clientSecret,
        bankAccountId: c.bankAccountId,
        feeExpenseAccountId: c.feeExpenseAccountId,
        minorVersion: c.minorVersion,
        homeCurrency: parseCurrency(c.homeCurrency),
        ...(c.undepositedFundsAccountId ? { undepositedFundsAccountId: c.undepositedFundsAccountId } : {}),
        ...(c.adjustmentAccountId ? { adjustmentAccountId: c.adjustmentAccountId } : {}),
        ...(c.surchargeIncomeAccountId ? { surchargeIncomeAccountId: c.surchargeIncomeAccountId } : {}),
        ...(c.planFeeIncomeAccountId ? { planFeeIncomeAccountId: c.planFeeIncomeAccountId } : {}),
        ...(c.clientCreditAccountId ? { clientCreditAccountId: c.clientCreditAccountId } : {}),
        ...(c.clearingAccountId ? { clearingAccountId: c.clearingAccountId } : {}),
        ...(c.achDiscountAccountId ? { achDiscountAccountId: c.achDiscountAccountId } : {}),
        ...(c.classId ? { classId: c.classId } : {}),
        ...(c.departmentId ? { departmentId: c.departmentId } : {}),
      },
      store,
      c.throttleWaitMs === undefined ? {} : { throttleWaitMs: c.throttleWaitMs },
    );
  },
};

// QuickBooks Desktop: the MSP's Web Connector calls Settle; the connector queues qbXML work for it.
const quickbooksDesktop: Entry<'accounting', typeof qbdConfigSchema, typeof qbdSecretsSchema, AccountingConnector> = {
  role: 'accounting',
  vendor: 'quickbooks-desktop',
  config: qbdConfigSchema,
  secrets: qbdSecretsSchema,
  build: (c, s, hooks) => buildQbdConnector(c, s, hooks),
};

const bankAch: Entry<'bank_ach', typeof bankAchConfigSchema, typeof bankAchSecretsSchema, BankAchConnector> = {
  role: 'bank_ach',
  vendor: 'bank-ach',
  config: bankAchConfigSchema,
  secrets: bankAchSecretsSchema,
  build: (c, s, hooks) => createBankAchConnector(c, s, hooks),
};

const xero: Entry<'accounting', typeof xeroConfigSchema, typeof xeroSecretsSchema, AccountingConnector> = {
  role: 'accounting',
  vendor: 'xero',
  config: xeroConfigSchema,
  secrets: xeroSecretsSchema,
  build: (c, s, hooks) => buildXeroConnector(c, s, hooks),
};

export const psaVendors = { connectwise, halopsa, autotask } as const;
export const paymentsVendors: Record<string, Entry<'payments', z.ZodTypeAny, z.ZodTypeAny, PaymentsConnector>> = { stripe };
export const accountingVendors: Record<string, Entry<'accounting', z.ZodTypeAny, z.ZodTypeAny, AccountingConnector>> = {
  'quickbooks-online': quickbooksOnline,
  'quickbooks-desktop': quickbooksDesktop,
  xero,
};
export const bankAchVendors: Record<string, Entry<'bank_ach', z.ZodTypeAny, z.ZodTypeAny, BankAchConnector>> = { 'bank-ach': bankAch };

export function vendorEntry(role: ConnectionRole, vendor: string): Entry<ConnectionRole, z.ZodTypeAny, z.ZodTypeAny, unknown> | null {
  const table: Record<string, Entry<ConnectionRole, z.ZodTypeAny, z.ZodTypeAny, unknown>> = role === 'psa'
    ? psaVendors
    : role === 'payments'
      ? paymentsVendors
      : role === 'bank_ach'
        ? bankAchVendors
        : accountingVendors;
  return table[vendor] ?? null;
}
