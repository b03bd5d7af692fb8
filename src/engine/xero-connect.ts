// "Connect to Xero": Xero's OAuth 2.0 authorization-code flow as the staff app runs it — the steps and guards
// QuickBooks' has, from one place (engine/oauth-connect.ts): a signed state naming the workspace, the staff
// session and a one-use nonce (oauth_states, vendor 'xero'); the callback must come back to the same session,
// unused and in time. Then the code is exchanged (Basic client auth, redirect_uri repeated), GET /connections names the
// organisation the person allowed (Xero has no realmId in the redirect; the newest connection is the one
// just made), the chart of accounts gives first choices for the account codes (a reconnect keeps the codes
// chosen before), and the connection is saved through saveConnection (tokens sealed, audited).
// The Xero app (client id/secret) is the Settle install's: SETTLE_XERO_* (README), or the demo's simulator.
import type { Logger } from 'pino';
import type { Db } from '../db/pool.ts';
import type { SecretBox } from '../db/crypto.ts';
import { XeroApi } from '../connectors/accounting/xero/api.ts';
import { readXeroChart } from '../connectors/accounting/xero/chart.ts';
import { XeroLimiter } from '../connectors/accounting/xero/limiter.ts';
import { MemoryTokenStore, type OAuthTokens } from '../connectors/accounting/oauth-tokens.ts';
import type { TenantConnectors } from './context.ts';
import { readConnection, saveConnection } from './connections.ts';
import type { Actor } from './audit.ts';
import { consumeOAuthState, exchangeAuthorizationCode, startOAuthState, type OAuthVendor } from './oauth-connect.ts';

export interface XeroApp {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  /** Where /connections lives (https://api.xero.com). */
  readonly identityApiUrl: string;
  /** The Accounting API root (https://api.xero.com/api.xro/2.0). */
  readonly apiUrl: string;
}

export const XERO_CALLBACK_PATH = '/app/connections/xero/callback';
export const xeroRedirectUri = (publicUrl: string): string => `${publicUrl.replace(/\/+$/, '')}${XERO_CALLBACK_PATH}`;
export const XERO_SCOPES = 'offline_access accounting.transactions accounting.settings accounting.contacts';

const AGAIN = 'Press “Connect to Xero” to start again.';

export class XeroConnectError extends Error {
  override readonly name = 'XeroConnectError';
  constructor(
    message: string,
    readonly returnTo: string = '/app/connections',
  ) {
    super(message);
  }
}

/** Xero's words for the shared OAuth steps (oauth-connect.ts). */
const XERO_OAUTH: OAuthVendor = {
  key: 'xero',
  name: 'Xero',
  again: AGAIN,
  fail: (_code, message, returnTo) => new XeroConnectError(message, returnTo),
};

function notConfigured(): XeroConnectError {
  return new XeroConnectError(
    'This Settle has no Xero app configured. The person who runs Settle sets SETTLE_XERO_CLIENT_ID and SETTLE_XERO_CLIENT_SECRET (developer.xero.com → My Apps) and restarts it.',
  );
}

export async function beginXeroConnect(
  db: Db,
  app: XeroApp | null,
  input: { tenantId: string; sessionId: string; returnTo: string },
  publicUrl: string,
  stateKey: string,
  now: Date = new Date(),
): Promise<string> {
  if (!app) throw notConfigured();
  const state = await startOAuthState(db, XERO_OAUTH, input, stateKey, now);
  const url = new URL(app.authorizeUrl);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', app.clientId);
  url.searchParams.set('redirect_uri', xeroRedirectUri(publicUrl));
  url.searchParams.set('scope', XERO_SCOPES);
  url.searchParams.set('state', state);
  return url.toString();
}

export async function finishXeroConnect(
  deps: { readonly db: Db; readonly box: SecretBox; readonly connectors: TenantConnectors; readonly log: Logger },
  app: XeroApp | null,
  input: { tenantId: string; sessionId: string; query: Readonly<Record<string, string | undefined>>; actor: Actor },
  publicUrl: string,
  stateKey: string,
  now: Date = new Date(),
): Promise<{ returnTo: string; xeroTenantId: string }> {
  const q = input.query;
  const returnTo = await consumeOAuthState(deps.db, XERO_OAUTH, input, stateKey, now);
  if (!app) throw notConfigured();
  if (!q['code']) throw new XeroConnectError(`Xero sent you back without an authorization code; nothing was connected. ${AGAIN}`, returnTo);
  const tokens = await exchangeCode(app, q['code'], xeroRedirectUri(publicUrl), returnTo, now);
  const xeroTenantId = await newestTenant(app, tokens.accessToken, returnTo);
  const config = await connectionConfig(deps, app, input.tenantId, xeroTenantId, tokens, returnTo);
  await saveConnection(deps.db, deps.box, input.tenantId, {
    role: 'accounting',
    vendor: 'xero',
    config,
    secrets: { clientSecret: app.clientSecret, ...tokens },
    actor: input.actor,
  });
  deps.connectors.forget(input.tenantId);
  deps.log.info({ tenantId: input.tenantId, xeroTenantId }, 'Xero connected through OAuth');
  return { returnTo, xeroTenantId };
}

type Tokens = OAuthTokens;

async function exchangeCode(app: XeroApp, code: string, redirectUri: string, returnTo: string, now: Date): Promise<Tokens> {
  const res = await exchangeAuthorizationCode(XERO_OAUTH, app, code, redirectUri, returnTo);
  const body = res.body;
  if (body['error'] === 'invalid_client')
    throw new XeroConnectError('Xero refused this Settle’s app keys (SETTLE_XERO_CLIENT_ID / SETTLE_XERO_CLIENT_SECRET).', returnTo);
  if (res.status >= 300 || typeof body['access_token'] !== 'string' || typeof body['refresh_token'] !== 'string') {
    throw new XeroConnectError(
      `Xero did not accept the authorization code (${String(body['error'] ?? res.status)}): it lasts 5 minutes and works once. ${AGAIN}`,
      returnTo,
    );
  }
  return {
    accessToken: body['access_token'],
    refreshToken: body['refresh_token'],
    accessTokenExpiresAt: now.getTime() + Number(body['expires_in'] ?? 1800) * 1000,
    refreshTokenExpiresAt: now.getTime() + 60 * 86_400_000,
  };
}

/** GET /connections: the organisation the person just allowed is the newest connection. */
async function newestTenant(app: XeroApp, accessToken: string, returnTo: string): Promise<string> {
  const res = await fetch(`${app.identityApiUrl}/connections`, {
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
    signal: AbortSignal.timeout(30_000),
  });
  const list = res.ok ? ((await res.json()) as { tenantId: string; tenantType: string; createdDateUtc: string }[]) : [];
  const orgs = list.filter((c) => c.tenantType === 'ORGANISATION').sort((a, b) => a.createdDateUtc.localeCompare(b.createdDateUtc));
  if (orgs.length === 0)
    throw new XeroConnectError(`Xero lists no organisation for this connection (GET /connections answered ${res.status}). ${AGAIN}`, returnTo);
  return orgs[orgs.length - 1]!.tenantId;
}

async function connectionConfig(
  deps: { readonly db: Db; readonly box: SecretBox },
  app: XeroApp,
  tenantId: string,
  xeroTenantId: string,
  tokens: Tokens,
  returnTo: string,
): Promise<Record<string, unknown>> {
  const base = { apiUrl: app.apiUrl, tokenUrl: app.tokenUrl, tenantId: xeroTenantId, clientId: app.clientId };
  const existing = await readConnection(deps.db, deps.box, tenantId, 'accounting').catch(() => null);
  if (existing?.vendor === 'xero' && existing.config['tenantId'] === xeroTenantId) return { ...existing.config, ...base };
  const api = new XeroApi({ ...base, clientSecret: app.clientSecret }, new MemoryTokenStore(tokens), { limiter: new XeroLimiter() });
  const chart = await readXeroChart(api);
  const banks = chart.accounts.filter((a) => a.type === 'BANK');
  const clearing = banks.find((a) => /clearing/i.test(a.name));
  const bank = banks.find((a) => a !== clearing);
  const fees = chart.accounts.find((a) => a.type === 'EXPENSE' && /fee/i.test(a.name)) ?? chart.accounts.find((a) => a.type === 'EXPENSE');
  if (!clearing || !bank || !fees) {
    throw new XeroConnectError(
      `The Xero organisation needs a bank account for payouts, a second bank-type account named like “Settle Clearing” that payments go into, and an expense account for fees. Add what is missing in Xero (Accounting → Chart of accounts), then ${AGAIN.toLowerCase()}`,
      returnTo,
    );
  }
  return { ...base, bankAccountCode: bank.id, clearingAccountCode: clearing.id, feeAccountCode: fees.id, processorContactName: 'Stripe' };
}
