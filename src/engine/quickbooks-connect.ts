// "Connect to QuickBooks": Intuit's OAuth 2.0 authorization-code flow, as the staff app runs it.
//   1. begin: a signed `state` (HMAC, 10 minutes) naming the workspace, the staff session and a random nonce;
//      the nonce's hash is stored (oauth_states) so the state works once. The owner is sent to Intuit's
//      consent page with client_id, redirect_uri, response_type=code, scope and that state.
//   2. finish (the redirect back): the state must verify, be unexpired, name this workspace AND this browser's
//      session (CSRF for OAuth: a callback link someone else started is refused), and be unused — consumed by a
//      conditional UPDATE, so two callbacks with one state cannot both pass. Then the code is exchanged at the
//      token endpoint (Basic client auth, redirect_uri repeated), the company's chart of accounts is read with
//      the new token, and the connection is saved through the same path as `settle connect` (saveConnection:
//      validated, tokens sealed with the other secrets, audited), so refresh-token rotation works as before.
// The Intuit app (client id/secret) is the Settle install's: SETTLE_QBO_* in the environment (README).
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db/pool.ts';
import type { SecretBox } from '../db/crypto.ts';
import { QBO_CATALOGUE } from '../connectors/accounting/quickbooks-online/catalogue.ts';
import { QboApi } from '../connectors/accounting/quickbooks-online/api.ts';
import { MemoryTokenStore, type OAuthTokens } from '../connectors/accounting/oauth-tokens.ts';
import type { TenantConnectors } from './context.ts';
import { readConnection, saveConnection } from './connections.ts';
import { readChart, suggestAccounts, BOOKS_ACCOUNT_SETTINGS } from './books-accounts.ts';
import type { Actor } from './audit.ts';
import { consumeOAuthState, exchangeAuthorizationCode, startOAuthState, type ConnectErrorCode, type OAuthVendor } from './oauth-connect.ts';
import type { XeroApp } from './xero-connect.ts';

export interface IntuitApp {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  /** The API host the connection will use (production or sandbox). */
  readonly apiBaseUrl: string;
}

/** The install's OAuth apps; a holder so the demo can fill it with its simulator's app after start. */
export interface OAuthApps {
  quickbooks: IntuitApp | null;
  /** The install's Xero app (engine/xero-connect.ts); absent or null ⇒ no "Connect to Xero". */
  xero?: XeroApp | null;
}

export function oauthAppsFromConfig(c: Config): OAuthApps {
  return {
    quickbooks:
      c.SETTLE_QBO_CLIENT_ID && c.SETTLE_QBO_CLIENT_SECRET
        ? {
            clientId: c.SETTLE_QBO_CLIENT_ID,
            clientSecret: c.SETTLE_QBO_CLIENT_SECRET,
            authorizeUrl: c.SETTLE_QBO_AUTHORIZE_URL,
            tokenUrl: c.SETTLE_QBO_TOKEN_URL,
            apiBaseUrl: c.SETTLE_QBO_API_URL,
          }
        : null,
    xero:
      c.SETTLE_XERO_CLIENT_ID && c.SETTLE_XERO_CLIENT_SECRET
        ? {
            clientId: c.SETTLE_XERO_CLIENT_ID,
            clientSecret: c.SETTLE_XERO_CLIENT_SECRET,
            authorizeUrl: c.SETTLE_XERO_AUTHORIZE_URL,
            tokenUrl: c.SETTLE_XERO_TOKEN_URL,
            identityApiUrl: c.SETTLE_XERO_API_URL,
            apiUrl: `${c.SETTLE_XERO_API_URL}/api.xro/2.0`,
          }
        : null,
  };
}

export const QBO_CALLBACK_PATH = '/app/connections/quickbooks/callback';

/** The redirect URI the MSP registers on the Intuit app's Keys tab (exact match). */
export const quickbooksRedirectUri = (publicUrl: string): string => `${publicUrl.replace(/\/+$/, '')}${QBO_CALLBACK_PATH}`;

const VENDOR = 'quickbooks-online';

export type { ConnectErrorCode };

/** What went wrong, in words for the page, and where the person goes back to. */
export class QuickBooksConnectError extends Error {
  override readonly name = 'QuickBooksConnectError';
  constructor(
    readonly code: ConnectErrorCode,
    message: string,
    readonly returnTo: string = '/app/connections',
  ) {
    super(message);
  }
}

/** Step 1: the consent URL to send the owner to. */
export async function beginQuickBooksConnect(
  db: Db,
  app: IntuitApp | null,
  input: { tenantId: string; sessionId: string; returnTo: string },
  publicUrl: string,
  stateKey: string,
  now: Date = new Date(),
): Promise<string> {
  if (!app) throw notConfigured();
  const state = await startOAuthState(db, QBO_OAUTH, input, stateKey, now);
  const url = new URL(app.authorizeUrl);
  url.searchParams.set('client_id', app.clientId);
  url.searchParams.set('redirect_uri', quickbooksRedirectUri(publicUrl));
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', QBO_CATALOGUE.oauth.scope);
  url.searchParams.set('state', state);
  return url.toString();
}

function notConfigured(): QuickBooksConnectError {
  return new QuickBooksConnectError(
    'not_configured',
    'This Settle has no Intuit app configured. The person who runs Settle sets SETTLE_QBO_CLIENT_ID and SETTLE_QBO_CLIENT_SECRET (from the app’s Keys tab at developer.intuit.com) and restarts it.',
  );
}

const AGAIN = 'Press “Connect to QuickBooks” to start again.';

/** QuickBooks' words for the shared OAuth steps (oauth-connect.ts). */
const QBO_OAUTH: OAuthVendor = {
  key: VENDOR,
  name: 'QuickBooks',
  again: AGAIN,
  refusedHint: `Check that the Intuit app has the Accounting scope, then ${AGAIN.toLowerCase()}`,
  fail: (code, message, returnTo) => new QuickBooksConnectError(code, message, returnTo),
};

/** Step 2: the redirect back from Intuit. Returns where to send the person on success. */
export async function finishQuickBooksConnect(
  deps: { readonly db: Db; readonly box: SecretBox; readonly connectors: TenantConnectors; readonly log: Logger },
  app: IntuitApp | null,
  input: { tenantId: string; sessionId: string; query: Readonly<Record<string, string | undefined>>; actor: Actor },
  publicUrl: string,
  stateKey: string,
  now: Date = new Date(),
): Promise<{ returnTo: string; realmId: string }> {
  const q = input.query;
  const returnTo = await consumeOAuthState(deps.db, QBO_OAUTH, input, stateKey, now);
  if (!app) throw notConfigured();
  if (!q['code'] || !q['realmId'])
    throw new QuickBooksConnectError(
      'bad_state',
      `QuickBooks sent you back without an authorization code or company id; nothing was connected. ${AGAIN}`,
      returnTo,
    );
  const tokens = await exchangeCode(app, q['code'], quickbooksRedirectUri(publicUrl), returnTo, now);
  const realmId = q['realmId'];
  const config = await connectionConfig(deps, app, input.tenantId, realmId, tokens);
  await saveConnection(deps.db, deps.box, input.tenantId, {
    role: 'accounting',
    vendor: VENDOR,
    config,
    secrets: {
      clientSecret: app.clientSecret,
      refreshToken: tokens.refreshToken,
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
    },
    actor: input.actor,
  });
  deps.connectors.forget(input.tenantId);
  deps.log.info({ tenantId: input.tenantId, realmId }, 'QuickBooks Online connected through OAuth');
  return { returnTo, realmId };
}

type Tokens = OAuthTokens;

async function exchangeCode(app: IntuitApp, code: string, redirectUri: string, returnTo: string, now: Date): Promise<Tokens> {
  const res = await exchangeAuthorizationCode(QBO_OAUTH, app, code, redirectUri, returnTo);
  const body = res.body;
  if (res.status === 401 || body['error'] === 'invalid_client')
    throw new QuickBooksConnectError(
      'app_refused',
      'Intuit refused this Settle’s app keys (SETTLE_QBO_CLIENT_ID / SETTLE_QBO_CLIENT_SECRET). The person who runs Settle checks them against the app’s Keys tab at developer.intuit.com.',
      returnTo,
    );
  if (res.status >= 300 || typeof body['access_token'] !== 'string' || typeof body['refresh_token'] !== 'string')
    throw new QuickBooksConnectError(
      'code_refused',
      body['error'] === 'invalid_grant'
        ? `QuickBooks did not accept the authorization code: it was already used or has expired (it lasts only a few minutes). Nothing was connected. ${AGAIN}`
        : `QuickBooks answered ${res.status}${body['error'] ? ` (${String(body['error'])})` : ''} when Settle asked for the tokens; nothing was connected. ${AGAIN}`,
      returnTo,
    );
  const t = now.getTime();
  return {
    accessToken: body['access_token'],
    refreshToken: body['refresh_token'],
    accessTokenExpiresAt: t + Number(body['expires_in'] ?? 3600) * 1000,
    refreshTokenExpiresAt: t + Number(body['x_refresh_token_expires_in'] ?? 100 * 86_400) * 1000,
  };
}

/**
 * The connection's settings: a reconnect of the same company keeps the accounts chosen before; a new company
 * gets first choices from its live chart of accounts, for the person to confirm on the accounts step.
 */
async function connectionConfig(
  deps: { readonly db: Db; readonly box: SecretBox },
  app: IntuitApp,
  tenantId: string,
  realmId: string,
  tokens: Tokens,
): Promise<Record<string, unknown>> {
  const base = { baseUrl: app.apiBaseUrl, tokenUrl: app.tokenUrl, realmId, clientId: app.clientId, minorVersion: QBO_CATALOGUE.minorVersion };
  const existing = await readConnection(deps.db, deps.box, tenantId, 'accounting').catch(() => null);
  if (existing?.vendor === VENDOR && existing.config['realmId'] === realmId) return { ...existing.config, ...base };
  const api = new QboApi({ ...base, clientSecret: app.clientSecret }, new MemoryTokenStore(tokens));
  const suggested = suggestAccounts(await readChart(api));
  const missing = BOOKS_ACCOUNT_SETTINGS.filter((s) => s.required && !suggested[s.key]).map((s) => s.label.toLowerCase());
  if (missing.length > 0)
    throw new QuickBooksConnectError(
      'code_refused',
      `The QuickBooks company has no ${missing.join(' and no ')} account yet, which Settle posts to. Create one in QuickBooks (Chart of accounts → New), then ${AGAIN.toLowerCase()}`,
    );
  return { ...base, ...suggested };
}
