// HaloPSA simulator: the authorisation server (auth.ts), the resource API under /api (routes.ts,
// writes.ts), webhook delivery (webhooks.ts) and the in-process / `/_sim/*` control surface that tests,
// benchmarks and the demo use. What is modelled and which readings are assumptions: README.md.
import { pathToFileURL } from 'node:url';
import { addLatency, createSimulatorApp, Faults, listen, parseLatency, RateLimiter, type CallLog, type Latency } from '../kit.ts';
import { registerAuth, TokenStore, type HaloCredentials } from './auth.ts';
import { invoiceJson } from './model.ts';
import { API_PATH, registerRoutes } from './routes.ts';
import { seedState, type SeedOptions, type SeedSummary } from './seed.ts';
import { HaloState, type Invoice, type InvoiceChange, type InvoiceInput, type Payment } from './store.ts';
import { WebhookDispatcher, type DeliveryRecord, type WebhookOptions } from './webhooks.ts';

export { API_PATH } from './routes.ts';
export type { HaloCredentials } from './auth.ts';
export type { SeedOptions, SeedSummary } from './seed.ts';
export type { DeliveryRecord, WebhookOptions } from './webhooks.ts';
export type { Invoice, InvoiceChange, InvoiceInput, LineInput, Payment } from './store.ts';

/**
 * Halo publishes no rate limit in the spec. The simulator enforces 700 requests per rolling 5 minutes per
 * API client by default — the strictest figure in circulation for Halo-hosted tenants (README: verify).
 */
export const DEFAULT_RATE_LIMIT = { limit: 700, windowMs: 300_000 } as const;

export interface HaloSimulatorOptions {
  readonly port?: number;
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Hosted tenant name (`?tenant=` on the token request); null for a self-hosted instance. */
  readonly tenant?: string | null;
  /** Access token lifetime. Default 3600 s, as Halo issues. */
  readonly tokenTtlMs?: number;
  readonly seed?: SeedOptions;
  /** Default DEFAULT_RATE_LIMIT; null: none. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number } | null;
  readonly clock?: () => Date;
  /** Latency added to every vendor call (benchmarks: a realistic `[100, 300]`, uniform); default 0. */
  readonly latencyMs?: Latency;
}

export interface HaloSimControl {
  readonly state: HaloState;
  seed(opts: SeedOptions): SeedSummary;
  /** A new invoice now (fires `Invoice Created` webhooks). Defaults: first client, one line. */
  createInvoice(input?: Partial<InvoiceInput>): Invoice;
  /** Lines added/removed, due date, void (fires `Invoice Updated`). */
  updateInvoice(id: number, change: InvoiceChange): Invoice;
  invoiceJson(id: number): Record<string, unknown>;
  paymentsFor(invoiceId: number): Payment[];
  readonly webhookOptions: WebhookOptions;
  readonly deliveries: readonly DeliveryRecord[];
  flushWebhooks(): Promise<void>;
  expireTokens(): void;
  setTokenTtl(ms: number): void;
  setRateLimit(limit: { limit: number; windowMs: number } | null): void;
  setLatency(latency: Latency | undefined): void;
  /** Token requests served (tests: the connector renews only when it must). */
  readonly auth: { tokenRequests: number };
  readonly faults: Faults;
  /** Requests matching these are handled (the store changes), then the connection is dropped unanswered. */
  readonly lostAnswers: Faults;
  readonly calls: CallLog;
}

export interface RunningHaloSimulator {
  /** Scheme, host and port: the resource API is at `${baseUrl}/api`, tokens at `${baseUrl}/auth/token`. */
  readonly baseUrl: string;
  readonly credentials: HaloCredentials;
  readonly sim: HaloSimControl;
  readonly state: HaloState;
  close(): Promise<void>;
}

export const DEFAULT_CREDENTIALS: HaloCredentials = {
  clientId: '3f1c2a9e-7b7d-4c55-9d0e-5a8f6b2c1d40',
  clientSecret: 'Sim0HaloSecret-9b1f3c7e2d',
  tenant: 'settledemo',
};

export async function startHaloSimulator(opts: HaloSimulatorOptions = {}): Promise<RunningHaloSimulator> {
  const credentials: HaloCredentials = {
    clientId: opts.clientId ?? DEFAULT_CREDENTIALS.clientId,
    clientSecret: opts.clientSecret ?? DEFAULT_CREDENTIALS.clientSecret,
    tenant: opts.tenant === undefined ? DEFAULT_CREDENTIALS.tenant : opts.tenant,
  };
  const { app, faults, calls } = createSimulatorApp();
  const state = new HaloState(opts.clock);
  const tokens = new TokenStore(opts.tokenTtlMs ?? 3_600_000);
  const webhooks = new WebhookDispatcher(state);
  const lostAnswers = new Faults();
  app.addHook('onSend', async (req, _reply, payload) => {
    const path = req.url.split('?')[0] ?? req.url;
    if (!path.startsWith('/_sim') && lostAnswers.take(req.method, path)) req.raw.socket.destroy();
    return payload;
  });
  const limitOpt = opts.rateLimit === undefined ? DEFAULT_RATE_LIMIT : opts.rateLimit;
  let limiter: RateLimiter | null = limitOpt ? new RateLimiter(limitOpt.limit, limitOpt.windowMs) : null;
  const auth = { tokenRequests: 0 };
  let latency: Latency | undefined = opts.latencyMs;

  const sim: HaloSimControl = {
    state,
    seed: (s) => seedState(state, s),
    createInvoice: (input = {}) => {
      const clientId = input.clientId ?? [...state.clients.keys()][0];
      if (clientId === undefined) throw new Error('seed at least one client before creating invoices');
      return state.createInvoice({
        ...input,
        clientId,
        lines: input.lines ?? [{ description: 'Managed Workstation', quantity: '10', unitPrice: '45.00', itemCode: 'MWS' }],
      });
    },
    updateInvoice: (id, change) => state.updateInvoice(id, change),
    invoiceJson: (id) => invoiceJson(state, state.invoices.get(id)!, { lines: true, payments: true }),
    paymentsFor: (id) => [...state.payments.values()].filter((p) => p.invoice_id === id),
    webhookOptions: webhooks.options,
    deliveries: webhooks.deliveries,
    flushWebhooks: () => webhooks.flush(),
    expireTokens: () => tokens.expireAll(),
    setTokenTtl: (ms) => {
      tokens.ttlMs = ms;
    },
    setRateLimit: (l) => {
      limiter = l ? new RateLimiter(l.limit, l.windowMs) : null;
    },
    setLatency: (l) => {
      latency = l;
    },
    auth,
    faults,
    lostAnswers,
    calls,
  };

  registerAuth(app, credentials, tokens, auth);
  registerRoutes(app, { state, tokens, rateLimiter: () => limiter });
  addLatency(app, () => latency);
  registerControl(app, sim);
  if (opts.seed) sim.seed(opts.seed);
  const baseUrl = await listen(app, opts.port ?? 0);
  return {
    baseUrl,
    credentials,
    sim,
    state,
    close: async () => {
      webhooks.close();
      await app.close();
    },
  };
}

function registerControl(app: ReturnType<typeof createSimulatorApp>['app'], sim: HaloSimControl): void {
  const fail = (e: unknown) => ({ title: 'SimulatorError', status: 400, detail: (e as Error).message });
  app.post('/_sim/seed', async (req) => sim.seed(req.body as SeedOptions));
  app.post('/_sim/clients', async (req, reply) => {
    try {
      const b = (req.body ?? {}) as { name?: string; accountsemailaddress?: string; currencyisocode?: string };
      const c = sim.state.addClient({
        name: b.name ?? 'New Client',
        inactive: false,
        accountsid: '',
        accountsemailaddress: b.accountsemailaddress ?? '',
        accountsfirstname: '',
        accountslastname: '',
        currencyisocode: b.currencyisocode ?? 'USD',
      });
      return reply.code(201).send(c);
    } catch (e) {
      return reply.code(400).send(fail(e));
    }
  });
  app.patch('/_sim/clients/:id', async (req, reply) => {
    try {
      return sim.state.updateClient(Number((req.params as { id: string }).id), (req.body ?? {}) as Record<string, never>);
    } catch (e) {
      return reply.code(400).send(fail(e));
    }
  });
  app.patch('/_sim/users/:id', async (req, reply) => {
    try {
      return sim.state.updateUser(Number((req.params as { id: string }).id), (req.body ?? {}) as Record<string, never>);
    } catch (e) {
      return reply.code(400).send(fail(e));
    }
  });
  app.post('/_sim/invoices', async (req, reply) => {
    try {
      const inv = sim.createInvoice((req.body ?? {}) as Partial<InvoiceInput>);
      return reply.code(201).send(sim.invoiceJson(inv.id));
    } catch (e) {
      return reply.code(400).send(fail(e));
    }
  });
  app.patch('/_sim/invoices/:id', async (req, reply) => {
    try {
      const inv = sim.updateInvoice(Number((req.params as { id: string }).id), (req.body ?? {}) as InvoiceChange);
      return sim.invoiceJson(inv.id);
    } catch (e) {
      return reply.code(400).send(fail(e));
    }
  });
  app.get('/_sim/invoices/:id/payments', async (req) => sim.paymentsFor(Number((req.params as { id: string }).id)));
  app.get('/_sim/payments', async () => [...sim.state.payments.values()]);
  app.post('/_sim/lost-answers', async (req, reply) => {
    const b = (req.body ?? {}) as { method?: string; pathPattern?: string; times?: number };
    if (b.pathPattern !== undefined) {
      try {
        new RegExp(b.pathPattern);
      } catch (e) {
        return reply.code(400).send(fail(e));
      }
    }
    sim.lostAnswers.add({
      ...(b.method ? { method: b.method } : {}),
      ...(b.pathPattern ? { pathPattern: b.pathPattern } : {}),
      fault: { kind: 'drop' },
      times: b.times ?? 1,
    });
    return { ok: true };
  });
  app.get('/_sim/webhook-options', async () => sim.webhookOptions);
  app.put('/_sim/webhook-options', async (req) => Object.assign(sim.webhookOptions, req.body as Partial<WebhookOptions>));
  app.post('/_sim/webhooks/flush', async () => {
    await sim.flushWebhooks();
    return { ok: true };
  });
  app.get('/_sim/deliveries', async () => sim.deliveries);
  app.post('/_sim/tokens/expire', async () => {
    sim.expireTokens();
    return { ok: true };
  });
  app.put('/_sim/latency', async (req) => {
    sim.setLatency((req.body as { latencyMs?: Latency } | null)?.latencyMs);
    return { ok: true };
  });
  app.put('/_sim/rate-limit', async (req) => {
    const body = req.body as { limit: number; windowMs: number } | null;
    sim.setRateLimit(body && typeof body.limit === 'number' ? body : null);
    return { ok: true };
  });
}

/** `settle simulator halopsa --port N`: a seeded simulator that prints how to connect. */
export async function runStandalone(port: number): Promise<RunningHaloSimulator> {
  const latency = parseLatency(process.env.SETTLE_SIM_LATENCY_MS);
  const running = await startHaloSimulator({
    port,
    seed: { clients: 25, invoices: 300, seed: 7, contractClient: true },
    ...(latency === undefined ? {} : { latencyMs: latency }),
  });
  const c = running.credentials;
  process.stdout.write(
    [
      `HaloPSA simulator listening`,
      `  base URL       ${running.baseUrl}   (API ${running.baseUrl}${API_PATH}, tokens ${running.baseUrl}/auth/token)`,
      `  tenant         ${c.tenant ?? '(self-hosted: none)'}`,
      `  client id      ${c.clientId}`,
      `  client secret  ${c.clientSecret}`,
      `  control        ${running.baseUrl}/_sim/* (seed, clients, invoices, webhook-options, deliveries, faults, tokens/expire)`,
      '',
    ].join('\n'),
  );
  return running;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const portArg = process.argv.indexOf('--port');
  void runStandalone(portArg > 0 ? Number(process.argv[portArg + 1]) : 8705);
}
