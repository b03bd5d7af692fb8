// Xero simulator: one organisation (tenant) behind Xero's identity service (consent page, token endpoint,
// /connections) and the Accounting API (/api.xro/2.0). In-process for tests and the demo
// (`startXeroSimulator`), or on a port for people (`settle simulator xero --port N` → `runStandalone`).
// One host plays login.xero.com, identity.xero.com and api.xero.com (README.md lists the mapping).
import { randomBytes, randomUUID } from 'node:crypto';
import { addLatency, createSimulatorApp, listen, type Latency } from '../kit.ts';
import { registerApiHooks, type ApiState } from './api-hooks.ts';
import { registerConsentRoutes } from './consent.ts';
import { XeroControl, registerControlRoutes } from './control.ts';
import { registerIdentityRoutes, XeroIdentity } from './identity.ts';
import { PUBLISHED_LIMITS, XeroLimits, type XeroLimitOptions } from './limits.ts';
import { registerApiRoutes } from './routes.ts';
import { XeroStore } from './store.ts';
import { XeroWebhooks } from './webhooks.ts';

export { XeroControl, type SeedXeroInvoice } from './control.ts';
export { signature as xeroWebhookSignature } from './webhooks.ts';

export interface XeroSimulatorOptions {
  readonly port?: number;
  readonly host?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly tenantId?: string;
  readonly tenantName?: string;
  readonly currency?: string;
  /** Xero: 1800 s. */
  readonly accessTokenTtlSec?: number;
  /** Xero: 60 days. */
  readonly refreshTokenTtlSec?: number;
  /** How long a used refresh token still works; default 0 (refused at once). */
  readonly refreshGraceSec?: number;
  readonly redirectUris?: readonly string[];
  readonly limits?: Partial<XeroLimitOptions>;
  readonly latency?: Latency;
  /** Keep every Accounting API request (method, route, body) in `requests`, for the conformance suite. */
  readonly recordRequests?: boolean;
}

export interface RecordedXeroRequest {
  readonly method: string;
  /** The route template, e.g. `/api.xro/2.0/Payments/:id`. */
  readonly route: string;
  readonly body: unknown;
}

export interface RunningXeroSimulator {
  /** Plays api.xero.com: the Accounting API is at `${baseUrl}/api.xro/2.0`, /connections at the root. */
  readonly baseUrl: string;
  readonly apiUrl: string;
  /** identity.xero.com/connect/token */
  readonly tokenUrl: string;
  /** login.xero.com/identity/connect/authorize (the consent page) */
  readonly authorizeUrl: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly initialRefreshToken: string;
  readonly sim: XeroControl;
  /** Xero's routes this simulator serves (not its `/_sim` control): the conformance suite must reach each. */
  readonly routes: readonly { readonly method: string; readonly url: string }[];
  /** With `recordRequests`: the Accounting API requests received, in order. */
  readonly requests: readonly RecordedXeroRequest[];
  close(): Promise<void>;
}

export async function startXeroSimulator(opts: XeroSimulatorOptions = {}): Promise<RunningXeroSimulator> {
  const clientId = opts.clientId ?? randomBytes(16).toString('hex').toUpperCase();
  const clientSecret = opts.clientSecret ?? randomBytes(24).toString('base64url');
  const tenantId = opts.tenantId ?? randomUUID();
  const { app, faults, calls } = createSimulatorApp();
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD' && !r.url.startsWith('/_sim')) routes.push({ method, url: r.url });
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  let control: XeroControl | null = null;
  const now = (): number => Date.now() + (control?.offsetMs ?? 0);
  const store = new XeroStore(tenantId, opts.tenantName ?? 'Demo MSP Ltd', opts.currency ?? 'USD', now);
  const identity = new XeroIdentity({
    clientId,
    clientSecret,
    tenantId,
    tenantName: store.tenantName,
    accessTokenTtlSec: opts.accessTokenTtlSec ?? 1800,
    refreshTokenTtlSec: opts.refreshTokenTtlSec ?? 60 * 86_400,
    refreshGraceSec: opts.refreshGraceSec ?? 0,
    now,
  });
  for (const u of opts.redirectUris ?? []) identity.redirectUris.add(u);
  const limits = new XeroLimits({ ...PUBLISHED_LIMITS, ...opts.limits }, now);
  const state: ApiState = { replays: new Map(), stats: { replayed: 0, executed: 0 } };
  const webhooks = new XeroWebhooks();
  const requests: RecordedXeroRequest[] = [];
  if (opts.recordRequests)
    app.addHook('preHandler', async (req) => {
      if (req.url.startsWith('/api.xro/')) requests.push({ method: req.method, route: req.routeOptions.url ?? req.url, body: req.body });
    });
  registerApiHooks(app, identity, limits);
  if (opts.latency !== undefined) addLatency(app, () => opts.latency);
  registerIdentityRoutes(app, identity);
  registerConsentRoutes(app, identity);
  registerApiRoutes(app, store, state);
  control = new XeroControl(store, identity, limits, webhooks, state, faults, calls);
  registerControlRoutes(app, control);
  const baseUrl = await listen(app, opts.port ?? 0, opts.host);
  control.baseUrl = baseUrl;
  return {
    baseUrl,
    apiUrl: `${baseUrl}/api.xro/2.0`,
    tokenUrl: `${baseUrl}/connect/token`,
    authorizeUrl: `${baseUrl}/identity/connect/authorize`,
    tenantId,
    clientId,
    clientSecret,
    initialRefreshToken: identity.initialRefreshToken,
    sim: control,
    routes,
    requests,
    close: () => app.close(),
  };
}

/** For `settle simulator xero --port N`: start on a port and print how to connect. */
export async function runStandalone(port: number): Promise<RunningXeroSimulator> {
  const s = await startXeroSimulator({ port, clientId: 'SETTLESIMXEROCLIENT', clientSecret: 'settle-sim-xero-secret' });
  s.sim.seedInvoice({ number: 'INV-1001', contactName: 'Acme Dental', amount: '1250.00' });
  s.sim.seedInvoice({ number: 'INV-1002', contactName: 'Birch Law LLP', amount: '480.50' });
  const c = s.sim.codes;
  console.log(
    [
      `Xero simulator listening on ${s.baseUrl}`,
      `  Accounting API:  ${s.apiUrl}   (header xero-tenant-id: ${s.tenantId})`,
      `  token endpoint:  ${s.tokenUrl}`,
      `  consent page:    ${s.authorizeUrl} (register a redirect URI first: POST ${s.baseUrl}/_sim/oauth/redirect-uris {"uri":"…"})`,
      `  connections:     ${s.baseUrl}/connections`,
      `  client id:       ${s.clientId}`,
      `  client secret:   ${s.clientSecret}`,
      `  refresh token:   ${s.initialRefreshToken}`,
      `  accounts:        bank=${c.bank} clearing=${c.clearing} (bank type) fees=${c.fees}`,
      `  control:         ${s.baseUrl}/_sim/{seed,state,time,tokens/expire,tokens/revoke,limits,webhooks,webhooks/intent,faults,payments/:id/delete,tracking/archive}`,
    ].join('\n'),
  );
  return s;
}
