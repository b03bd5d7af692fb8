// QuickBooks Online simulator: one company (realm) behind Intuit's OAuth 2.0 token endpoint and the
// Accounting API v3 paths. In-process for tests and the demo (`startQuickBooksSimulator`), or on a
// port for people (`settle simulator quickbooks-online --port N` → `runStandalone`).
import { randomBytes } from 'node:crypto';
import type { Currency } from '../../src/domain/money.ts';
import { createSimulatorApp, listen } from '../kit.ts';
import { QboControl, registerControlRoutes } from './control.ts';
import { registerDriftRoutes } from './drift.ts';
import { PUBLISHED_LIMITS, QboLimits, type LimitOptions } from './limits.ts';
import { registerOAuthRoutes, TokenAuthority } from './oauth.ts';
import { registerConsentRoutes } from './consent.ts';
import { registerApiRoutes, type ApiContext } from './routes.ts';
import { QboStore } from './store.ts';
import { seedCompany } from './company.ts';

export { QboControl, type SeedInvoice } from './control.ts';
export type { Entity } from './store.ts';

export interface QuickBooksSimulatorOptions {
  readonly port?: number;
  readonly host?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly realmId?: string;
  readonly homeCurrency?: Currency;
  /** Access-token lifetime; Intuit's is 3600 s. */
  readonly accessTokenTtlSec?: number;
  /** Refresh-token lifetime; Intuit's is 100 days (8,640,000 s). */
  readonly refreshTokenTtlSec?: number;
  /** How long a rotated-out refresh token keeps working while its successor is unused. */
  readonly refreshGraceSec?: number;
  /** Authorization-code lifetime (consent.ts); default 300 s. */
  readonly authorizationCodeTtlSec?: number;
  /** Redirect URIs registered for the app (more with `registerRedirectUri` or POST /_sim/oauth/redirect-uris). */
  readonly redirectUris?: readonly string[];
  readonly limits?: Partial<LimitOptions>;
  readonly now?: () => number;
}

export interface RunningQuickBooksSimulator {
  /** Root of the API host (Intuit: https://quickbooks.api.intuit.com); data paths are under /v3/company/{realmId}. */
  readonly baseUrl: string;
  readonly oauthTokenUrl: string;
  /** Intuit's authorization endpoint (the consent page; appcenter.intuit.com/connect/oauth2). */
  readonly authorizeUrl: string;
  readonly realmId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly initialRefreshToken: string;
  readonly sim: QboControl;
  /** Every route this simulator registered (HEAD twins left out), for suites that must exercise each one. */
  readonly routes: readonly { readonly method: string; readonly url: string }[];
  /** "METHOD /route/template" of every request answered since start, /_sim routes included. */
  readonly routesHit: ReadonlySet<string>;
  close(): Promise<void>;
}

export async function startQuickBooksSimulator(opts: QuickBooksSimulatorOptions = {}): Promise<RunningQuickBooksSimulator> {
  const now = opts.now ?? Date.now;
  const clientId = opts.clientId ?? `ABsim${randomBytes(12).toString('hex')}`;
  const clientSecret = opts.clientSecret ?? randomBytes(20).toString('hex');
  const realmId = opts.realmId ?? '9341452000000001';
  const { app, faults, calls } = createSimulatorApp();
  const routes: { method: string; url: string }[] = [];
  const routesHit = new Set<string>();
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url });
  });
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.url) routesHit.add(`${req.method} ${req.routeOptions.url}`);
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  const store = new QboStore(realmId, opts.homeCurrency ?? 'USD', now);
  seedCompany(store);
  const auth = new TokenAuthority({
    clientId,
    clientSecret,
    realmId,
    accessTokenTtlSec: opts.accessTokenTtlSec ?? 3600,
    refreshTokenTtlSec: opts.refreshTokenTtlSec ?? 8_640_000,
    refreshGraceSec: opts.refreshGraceSec ?? 120,
    authorizationCodeTtlSec: opts.authorizationCodeTtlSec ?? 300,
    now,
  });
  for (const uri of opts.redirectUris ?? []) auth.redirectUris.add(uri);
  const limits = new QboLimits({ ...PUBLISHED_LIMITS, ...opts.limits });
  const api: ApiContext = { store, auth, limits, replays: new Map(), stats: { replayed: 0, executed: 0 }, lostAnswers: [], now };
  registerOAuthRoutes(app, auth);
  registerConsentRoutes(app, auth, store);
  registerApiRoutes(app, api);
  const control = new QboControl(store, auth, limits, api, faults, calls);
  registerControlRoutes(app, control);
  registerDriftRoutes(app, store);
  const baseUrl = await listen(app, opts.port ?? 0, opts.host);
  return {
    baseUrl,
    oauthTokenUrl: `${baseUrl}/oauth2/v1/tokens/bearer`,
    authorizeUrl: `${baseUrl}/connect/oauth2`,
    realmId,
    clientId,
    clientSecret,
    initialRefreshToken: auth.initialRefreshToken,
    sim: control,
    routes,
    routesHit,
    close: () => app.close(),
  };
}

/** For `settle simulator quickbooks-online --port N`: start on a port and print how to connect. */
export async function runStandalone(port: number): Promise<RunningQuickBooksSimulator> {
  const s = await startQuickBooksSimulator({ port, clientId: 'settle-sim-client', clientSecret: 'settle-sim-secret' });
  s.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme Dental', amount: '1250.00' });
  s.sim.seedInvoice({ docNumber: '1002', customerName: 'Birch Law LLP', amount: '480.50' });
  const a = s.sim.accounts;
  console.log(
    [
      `QuickBooks Online simulator listening on ${s.baseUrl}`,
      `  API base:        ${s.baseUrl}/v3/company/${s.realmId}`,
      `  token endpoint:  ${s.oauthTokenUrl}`,
      `  consent page:    ${s.authorizeUrl} (register a redirect URI first: POST ${s.baseUrl}/_sim/oauth/redirect-uris {"uri":"…"})`,
      `  client id:       ${s.clientId}`,
      `  client secret:   ${s.clientSecret}`,
      `  realm id:        ${s.realmId}`,
      `  refresh token:   ${s.initialRefreshToken}`,
      `  accounts:        Undeposited Funds=${a.undepositedFunds} Checking=${a.checking} Merchant Fees=${a.merchantFees}`,
      `  control:         ${s.baseUrl}/_sim/{seed,invoices,payments,deposits,stats,tokens/expire,limits,faults,payments/:id/void,payments/:id/delete,drift}`,
    ].join('\n'),
  );
  return s;
}
