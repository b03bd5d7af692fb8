// The Xero connection's settings (connectors/registry.ts builds the connector from them): non-secret config
// and the secrets kept sealed in `connections` — the app's client secret, the rotating refresh token and the
// current access token, and the webhook key. A rotated refresh token goes through hooks.saveSecrets (sealed,
// stored) before its access token is used (tokens.ts).
import { z } from 'zod';
import { parseCurrency } from '../../../domain/money.ts';
import type { AccountingConnector } from '../types.ts';
import { XeroConnector } from './connector.ts';
import { xeroTokensFromRefreshToken, type OAuthTokens } from './tokens.ts';

const TRACKING_VALUE = /^[^:\s]+:[^:\s]+$/;
const TRACKING_HINT = 'a tracking option as "<TrackingCategoryID>:<TrackingOptionID>" (Settings → Accounts offers them)';

export const xeroConfigSchema = z.object({
  apiUrl: z.string().url().default('https://api.xero.com/api.xro/2.0'),
  tokenUrl: z.string().url().default('https://identity.xero.com/connect/token'),
  tenantId: z.string().uuid().describe('the organisation’s tenantId, from GET https://api.xero.com/connections'),
  clientId: z.string().min(1).describe('your Xero app’s client id (developer.xero.com → My Apps)'),
  bankAccountCode: z.string().min(1).describe('Code of the bank account payouts land in'),
  clearingAccountCode: z.string().min(1).describe('Code of a BANK-type account Settle pays payments into (e.g. "Settle Clearing")'),
  feeAccountCode: z.string().min(1).describe('Code of the expense account for processing fees'),
  processorContactName: z.string().min(1).default('Stripe').describe('the contact on fee and income bank transactions'),
  surchargeAccountCode: z.string().optional(),
  planFeeAccountCode: z.string().optional(),
  clientCreditAccountCode: z.string().optional().describe('an account with "Enable payments" ticked holding clients’ credit'),
  currency: z.string().default('USD'),
  // Workspace-wide tracking on the payout's fee and income lines (tracking.ts): "<TrackingCategoryID>:<TrackingOptionID>".
  tracking1: z.string().regex(TRACKING_VALUE, TRACKING_HINT).optional(),
  tracking2: z.string().regex(TRACKING_VALUE, TRACKING_HINT).optional(),
});

/**
 * The GL mapping's ledger-neutral account keys (engine/books-accounts.ts, Settings → Accounts) → the Xero
 * connection's own. Xero has no Undeposited Funds (payments go into the clearing account, which it needs)
 * and Settle books no ACH-discount or adjustment lines there, so those three have no Xero key.
 */
export const XERO_ACCOUNT_KEYS: Readonly<Record<string, string>> = {
  bankAccountId: 'bankAccountCode',
  clearingAccountId: 'clearingAccountCode',
  feeExpenseAccountId: 'feeAccountCode',
  surchargeIncomeAccountId: 'surchargeAccountCode',
  planFeeIncomeAccountId: 'planFeeAccountCode',
  clientCreditAccountId: 'clientCreditAccountCode',
};

/** The saved account codes under the neutral keys, for the pickers. */
export function xeroNeutralAccounts(config: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [neutral, own] of Object.entries(XERO_ACCOUNT_KEYS)) if (typeof config[own] === 'string' && config[own]) out[neutral] = String(config[own]);
  return out;
}

export const xeroSecretsSchema = z.object({
  clientSecret: z.string().min(1),
  refreshToken: z.string().min(1),
  accessToken: z.string().default(''),
  accessTokenExpiresAt: z.number().default(0),
  refreshTokenExpiresAt: z.number().optional(),
  /** The webhook key Xero shows for the app's webhook (x-xero-signature); absent ⇒ no webhooks, polling only. */
  webhookKey: z.string().min(1).optional(),
});

export interface XeroBuildHooks {
  saveSecrets(secrets: Record<string, unknown>): Promise<void>;
  loadSecrets(): Promise<Record<string, unknown>>;
}

export function buildXeroConnector(c: z.infer<typeof xeroConfigSchema>, s: z.infer<typeof xeroSecretsSchema>, hooks: XeroBuildHooks): AccountingConnector {
  let current = s;
  const store = {
    load: async (): Promise<OAuthTokens> => {
      current = xeroSecretsSchema.parse(await hooks.loadSecrets());
      return current.accessToken
        ? {
            accessToken: current.accessToken,
            refreshToken: current.refreshToken,
            accessTokenExpiresAt: current.accessTokenExpiresAt,
            refreshTokenExpiresAt: current.refreshTokenExpiresAt ?? Date.now() + 60 * 86_400_000,
          }
        : xeroTokensFromRefreshToken(current.refreshToken);
    },
    save: async (t: OAuthTokens): Promise<void> => {
      const next = { ...current, ...t };
      await hooks.saveSecrets(next);
      current = next;
    },
  };
  return new XeroConnector(
    {
      apiUrl: c.apiUrl,
      tokenUrl: c.tokenUrl,
      tenantId: c.tenantId,
      clientId: c.clientId,
      clientSecret: s.clientSecret,
      bankAccountCode: c.bankAccountCode,
      clearingAccountCode: c.clearingAccountCode,
      feeAccountCode: c.feeAccountCode,
      processorContactName: c.processorContactName,
      currency: parseCurrency(c.currency),
      ...(c.surchargeAccountCode ? { surchargeAccountCode: c.surchargeAccountCode } : {}),
      ...(c.planFeeAccountCode ? { planFeeAccountCode: c.planFeeAccountCode } : {}),
      ...(c.clientCreditAccountCode ? { clientCreditAccountCode: c.clientCreditAccountCode } : {}),
      ...(s.webhookKey ? { webhookKey: s.webhookKey } : {}),
      ...(c.tracking1 ? { tracking1: c.tracking1 } : {}),
      ...(c.tracking2 ? { tracking2: c.tracking2 } : {}),
    },
    store,
  );
}
