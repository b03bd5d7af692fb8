// ConnectWise PSA (Manage) simulator: the vendor routes in routes.ts, callbacks in callbacks.ts,
// and the in-process / `/_sim/*` control surface that tests, benchmarks and the demo use.
import { pathToFileURL } from 'node:url';
import { addLatency, createSimulatorApp, Faults, listen, parseLatency, RateLimiter, type CallLog, type Latency } from '../kit.ts';
import { CallbackDispatcher, type CallbackOptions, type DeliveryRecord } from './callbacks.ts';
import type { CwInvoice, CwPayment } from './model.ts';
import { API_PATH, registerRoutes, type Credentials } from './routes.ts';
import { seedState, type SeedOptions, type SeedSummary } from './seed.ts';
import { ConnectWiseState, type InvoiceChange, type InvoiceInput } from './store.ts';

export { API_PATH, type Credentials } from './routes.ts';
export type { CallbackOptions, DeliveryRecord } from './callbacks.ts';
export type { SeedOptions, SeedSummary } from './seed.ts';
export type { InvoiceChange, InvoiceInput, LineInput } from './store.ts';
export type * from './model.ts';

export interface ConnectWiseSimulatorOptions {
  readonly port?: number;
  readonly companyId?: string;
  readonly publicKey?: string;
  readonly privateKey?: string;
  readonly clientId?: string;
  /** Identifier of the API member the keys belong to; ConnectWise stamps it as a payment's appliedBy. */
  readonly apiMember?: string;
  readonly seed?: SeedOptions;
  /** No limit is published for ConnectWise; set one to exercise 429 handling. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number };
  readonly clock?: () => Date;
  /** Latency added to every vendor call (benchmarks: a realistic `[100, 300]`, uniform); default 0. */
  readonly latencyMs?: Latency;
}

export interface ConnectWiseSimControl {
  readonly state: ConnectWiseState;
  seed(opts: SeedOptions): SeedSummary;
  /** A new invoice "now" (fires `added` callbacks). Defaults: first company, one product line. */
  createInvoice(input?: Partial<InvoiceInput>): CwInvoice;
  /** Add/remove lines or change status/due date (fires `updated` callbacks). */
  updateInvoice(id: number, change: InvoiceChange): CwInvoice;
  deleteInvoice(id: number): void;
  paymentsFor(invoiceId: number): readonly CwPayment[];
  /** Mutable delivery levers: duplicate, reverseBursts, burstWindowMs, drop, delayMs. */
  readonly callbackOptions: CallbackOptions;
  readonly deliveries: readonly DeliveryRecord[];
  flushCallbacks(): Promise<void>;
  rotateSigningKey(): void;
  setRateLimit(limit: { limit: number; windowMs: number } | null): void;
  setLatency(latency: Latency | undefined): void;
  /** Faults applied before a request is handled (kit): nothing reaches the store. */
  readonly faults: Faults;
  /**
   * Requests matching these rules are handled (the store changes) but the connection is dropped
   * instead of answering: the caller cannot know whether its write happened. Only `drop` applies.
   */
  readonly lostAnswers: Faults;
  readonly calls: CallLog;
  /** Every vendor route registered (method and Fastify URL template; not `/_sim/*`, not HEAD). */
  readonly routes: readonly { readonly method: string; readonly url: string }[];
}

export interface RunningConnectWiseSimulator {
  /** Including /v4_6_release/apis/3.0. */
  readonly baseUrl: string;
  /** Scheme, host and port only (the `/_sim` control routes live here). */
  readonly origin: string;
  readonly credentials: Credentials;
  readonly sim: ConnectWiseSimControl;
  readonly state: ConnectWiseState;
  close(): Promise<void>;
}

export const DEFAULT_CREDENTIALS: Credentials = {
  companyId: 'settle_demo',
  publicKey: 'Sim0PublicKey1',
  privateKey: 'Sim0PrivateKey9',
  clientId: '6a0c4f0e-5e1d-4f7a-9a57-3c1b2d8e9f01',
};

export async function startConnectWiseSimulator(opts: ConnectWiseSimulatorOptions = {}): Promise<RunningConnectWiseSimulator> {
  const credentials: Credentials = {
    companyId: opts.companyId ?? DEFAULT_CREDENTIALS.companyId,
    publicKey: opts.publicKey ?? DEFAULT_CREDENTIALS.publicKey,
    privateKey: opts.privateKey ?? DEFAULT_CREDENTIALS.privateKey,
    clientId: opts.clientId ?? DEFAULT_CREDENTIALS.clientId,
  };
  const { app, faults, calls } = createSimulatorApp();
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD' && !r.url.startsWith('/_sim')) routes.push({ method, url: r.url });
  });
  const state = new ConnectWiseState(opts.apiMember ?? 'settle-api', opts.clock);
  let origin = '';
  const callbacks = new CallbackDispatcher(state, { origin: () => origin, companyId: credentials.companyId });
  const lostAnswers = new Faults();
  app.addHook('onSend', async (req, _reply, payload) => {
    const path = req.url.split('?')[0] ?? req.url;
    if (!path.startsWith('/_sim') && lostAnswers.take(req.method, path)) req.raw.socket.destroy();
    return payload;
  });
  let limiter: RateLimiter | null = opts.rateLimit ? new RateLimiter(opts.rateLimit.limit, opts.rateLimit.windowMs) : null;
  let latency: Latency | undefined = opts.latencyMs;

  const sim: ConnectWiseSimControl = {
    state,
    seed: (s) => seedState(state, s),
    createInvoice: (input = {}) => {
      const companyId = input.companyId ?? state.companies.all()[0]?.id;
      if (companyId === undefined) throw new Error('seed at least one company before creating invoices');
      return state.createInvoice({
        ...input,
        companyId,
        lines: input.lines ?? [{ kind: 'product', description: 'Managed Workstation', quantity: 10, price: '45.00' }],
      });
    },
    updateInvoice: (id, change) => state.updateInvoice(id, change),
    deleteInvoice: (id) => state.deleteInvoice(id),
    paymentsFor: (id) => state.paymentsFor(id),
    callbackOptions: callbacks.options,
    deliveries: callbacks.deliveries,
    flushCallbacks: () => callbacks.flush(),
    rotateSigningKey: () => void callbacks.rotateKey(),
    setRateLimit: (l) => {
      limiter = l ? new RateLimiter(l.limit, l.windowMs) : null;
    },
    setLatency: (l) => {
      latency = l;
    },
    faults,
    lostAnswers,
    calls,
    routes,
  };

  registerRoutes(app, { state, callbacks, credentials, origin: () => origin, rateLimiter: () => limiter });
  addLatency(app, () => latency);
  registerControl(app, sim);
  if (opts.seed) sim.seed(opts.seed);

  origin = await listen(app, opts.port ?? 0);
  return {
    baseUrl: `${origin}${API_PATH}`,
    origin,
    credentials,
    sim,
    state,
    close: async () => {
      callbacks.close();
      await app.close();
    },
  };
}

function registerControl(app: ReturnType<typeof createSimulatorApp>['app'], sim: ConnectWiseSimControl): void {
  const fail = (e: unknown) => ({ code: 'SimulatorError', message: (e as Error).message });
  app.post('/_sim/seed', async (req) => sim.seed(req.body as SeedOptions));
  app.post('/_sim/invoices', async (req, reply) => {
    try {
      return reply.code(201).send(sim.createInvoice((req.body ?? {}) as Partial<InvoiceInput>));
    } catch (e) {
      return reply.code(400).send(fail(e));
    }
  });
  app.patch('/_sim/invoices/:id', async (req, reply) => {
    try {
      return sim.updateInvoice(Number((req.params as { id: string }).id), (req.body ?? {}) as InvoiceChange);
    } catch (e) {
      return reply.code(400).send(fail(e));
    }
  });
  app.delete('/_sim/invoices/:id', async (req, reply) => {
    try {
      sim.deleteInvoice(Number((req.params as { id: string }).id));
      return { ok: true };
    } catch (e) {
      return reply.code(400).send(fail(e));
    }
  });
  app.get('/_sim/invoices/:id/payments', async (req) => sim.paymentsFor(Number((req.params as { id: string }).id)));
  // Every payment on every invoice, for checks made from outside the process (the soak's invariants).
  app.get('/_sim/payments', async () => sim.state.payments.all());
  // The next `times` requests matching method/pathPattern are handled, then the connection is dropped: the
  // caller cannot know whether its write happened (the in-process `lostAnswers`, over HTTP).
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
  app.delete('/_sim/lost-answers', async () => {
    sim.lostAnswers.clear();
    return { ok: true };
  });
  app.get('/_sim/callback-options', async () => sim.callbackOptions);
  app.put('/_sim/callback-options', async (req) => Object.assign(sim.callbackOptions, req.body as Partial<CallbackOptions>));
  app.post('/_sim/callbacks/flush', async () => {
    await sim.flushCallbacks();
    return { ok: true };
  });
  app.get('/_sim/deliveries', async () => sim.deliveries);
  app.put('/_sim/rate-limit', async (req) => {
    const body = req.body as { limit: number; windowMs: number } | null;
    sim.setRateLimit(body && typeof body.limit === 'number' ? body : null);
    return { ok: true };
  });
  app.put('/_sim/latency', async (req) => {
    sim.setLatency((req.body as { latencyMs?: Latency } | null)?.latencyMs);
    return { ok: true };
  });
}

/** `settle simulator connectwise --port N`: a seeded simulator that prints how to connect. */
export async function runStandalone(port: number): Promise<RunningConnectWiseSimulator> {
  const latency = parseLatency(process.env.SETTLE_SIM_LATENCY_MS);
  const running = await startConnectWiseSimulator({
    port,
    seed: { companies: 25, invoices: 300, seed: 7, contractClient: true },
    ...(latency === undefined ? {} : { latencyMs: latency }),
  });
  const c = running.credentials;
  process.stdout.write(
    [
      `ConnectWise PSA simulator listening`,
      `  base URL     ${running.baseUrl}`,
      `  company id   ${c.companyId}`,
      `  public key   ${c.publicKey}`,
      `  private key  ${c.privateKey}`,
      `  clientId     ${c.clientId}`,
      `  control      ${running.origin}/_sim/* (seed, invoices, callback-options, deliveries, faults)`,
      '',
    ].join('\n'),
  );
  return running;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const portArg = process.argv.indexOf('--port');
  void runStandalone(portArg > 0 ? Number(process.argv[portArg + 1]) : 8701);
}
