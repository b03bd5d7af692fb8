// Autotask PSA simulator: zone discovery and the REST API of one database (routes.ts), its limits
// (limits.ts), company webhooks (webhooks.ts), and the in-process / `/_sim/*` control surface for tests,
// benchmarks and the demo. Nothing under /_sim exists at the vendor.
import { pathToFileURL } from 'node:url';
import { addLatency, createSimulatorApp, Faults, listen, parseLatency, type CallLog, type Latency } from '../kit.ts';
import { ApiLimits, type LimitOptions } from './limits.ts';
import { GLOBAL_PATH, registerRoutes, ZONE_PATH, type Credentials } from './routes.ts';
import { AutotaskState, type InvoiceChange, type InvoiceInput, type Row } from './store.ts';
import { WebhookDispatcher, type WebhookDelivery } from './webhooks.ts';

export { GLOBAL_PATH, ZONE_PATH, type Credentials } from './routes.ts';
export type { InvoiceChange, InvoiceInput, LineInput, Row } from './store.ts';
export { signPayload } from './webhooks.ts';

export interface AutotaskSimulatorOptions {
  readonly port?: number;
  readonly credentials?: Partial<Credentials>;
  readonly seed?: { companies?: number; invoices?: number; linesPerInvoice?: number; contractClient?: boolean };
  readonly limits?: LimitOptions;
  readonly clock?: () => Date;
  /** Latency added to every vendor call (benchmarks: a realistic `[100, 300]`, uniform); default 0. */
  readonly latencyMs?: Latency;
}

export interface AutotaskSimControl {
  readonly state: AutotaskState;
  readonly limits: ApiLimits;
  createInvoice(input: Partial<InvoiceInput> & { lines?: InvoiceInput['lines'] }): { invoice: Row; items: Row[] };
  changeInvoice(id: number, change: InvoiceChange): Row;
  notes(): Row[];
  readonly webhooks: WebhookDispatcher;
  readonly faults: Faults;
  /** Requests matching these are handled (the store changes) but the connection is dropped before the answer. */
  readonly lostAnswers: Faults;
  readonly calls: CallLog;
}

export interface RunningAutotaskSimulator {
  /** Global host: the URL zone discovery starts from (`…/ATServicesRest`). */
  readonly baseUrl: string;
  /** The zone's base URL ZoneInformation names (`…/zone15/ATServicesRest/`). */
  readonly zoneUrl: string;
  readonly origin: string;
  readonly credentials: Credentials;
  readonly sim: AutotaskSimControl;
  close(): Promise<void>;
}

export const DEFAULT_CREDENTIALS: Credentials = {
  integrationCode: 'SETTLE7TRACKINGID0000000001',
  username: 'settle-api@msp.example',
  secret: 'Sim0Autotask0Secret9',
};

export async function startAutotaskSimulator(opts: AutotaskSimulatorOptions = {}): Promise<RunningAutotaskSimulator> {
  const credentials: Credentials = { ...DEFAULT_CREDENTIALS, ...opts.credentials };
  const { app, faults, calls } = createSimulatorApp();
  const state = new AutotaskState(opts.clock);
  const limits = new ApiLimits(opts.limits ?? {});
  const webhooks = new WebhookDispatcher(state);
  const lostAnswers = new Faults();
  let latency: Latency | undefined = opts.latencyMs;
  app.addHook('onSend', async (req, _reply, payload) => {
    const path = req.url.split('?')[0] ?? req.url;
    if (!path.startsWith('/_sim') && lostAnswers.take(req.method, path)) req.raw.socket.destroy();
    return payload;
  });
  let origin = '';
  registerRoutes(app, { state, limits, credentials, origin: () => origin });
  addLatency(app, () => latency);

  const sim: AutotaskSimControl = {
    state,
    limits,
    createInvoice: (input) => {
      const companyId = input.companyId ?? [...state.table('Companies').keys()][0];
      if (companyId === undefined) throw new Error('seed at least one company before creating invoices');
      return state.createInvoice({ ...input, companyId, lines: input.lines ?? [{ itemName: 'Managed Workstation', quantity: 10, rate: 45 }] });
    },
    changeInvoice: (id, change) => state.changeInvoice(id, change),
    notes: () => [...state.table('CompanyNotes').values()],
    webhooks,
    faults,
    lostAnswers,
    calls,
  };
  registerControl(app, sim, (ms) => (latency = ms));
  if (opts.seed) state.seed(opts.seed);
  origin = await listen(app, opts.port ?? 0);
  return {
    baseUrl: `${origin}${GLOBAL_PATH}`,
    zoneUrl: `${origin}${ZONE_PATH}/`,
    origin,
    credentials,
    sim,
    close: async () => {
      await webhooks.flush();
      await app.close();
    },
  };
}

function registerControl(app: ReturnType<typeof createSimulatorApp>['app'], sim: AutotaskSimControl, setLatency: (ms: Latency) => void): void {
  const guard = async <T>(reply: { code(n: number): { send(b: unknown): unknown } }, fn: () => T): Promise<unknown> => {
    try {
      return fn();
    } catch (e) {
      return reply.code(400).send({ errors: [(e as Error).message] });
    }
  };
  app.post('/_sim/seed', async (req) => sim.state.seed((req.body ?? {}) as { companies?: number; invoices?: number }));
  app.post('/_sim/invoices', async (req, reply) => guard(reply, () => sim.createInvoice((req.body ?? {}) as Partial<InvoiceInput>)));
  app.patch('/_sim/invoices/:id', async (req, reply) =>
    guard(reply, () => sim.changeInvoice(Number((req.params as { id: string }).id), (req.body ?? {}) as InvoiceChange)),
  );
  app.post('/_sim/invoices/:id/void', async (req, reply) => guard(reply, () => sim.changeInvoice(Number((req.params as { id: string }).id), { void: true })));
  app.post('/_sim/companies', async (req, reply) =>
    guard(reply, () => {
      const b = (req.body ?? {}) as { name?: string; email?: string };
      const c = sim.state.createCompany(b.name ?? 'New Client Ltd');
      if (b.email) sim.state.createContact(c.Id, 'Billing', 'Contact', b.email);
      return c;
    }),
  );
  app.patch('/_sim/companies/:id', async (req, reply) =>
    guard(reply, () => sim.state.updateCompany(Number((req.params as { id: string }).id), (req.body ?? {}) as Record<string, unknown>)),
  );
  app.patch('/_sim/contacts/:id', async (req, reply) =>
    guard(reply, () => sim.state.updateContact(Number((req.params as { id: string }).id), (req.body ?? {}) as Record<string, unknown>)),
  );
  app.get('/_sim/notes', async () => sim.notes());
  app.get('/_sim/invoices/:id', async (req) => sim.state.table('Invoices').get(Number((req.params as { id: string }).id)) ?? null);
  // Other integrations of the same database spending part of the hour's threshold now.
  app.post('/_sim/threshold/others', async (req) => {
    sim.limits.addOthers(Math.max(0, Math.floor(Number((req.body as { requests?: number } | null)?.requests ?? 0))));
    return { currentTimeframeRequestCount: sim.limits.count() };
  });
  app.put('/_sim/limits', async (req) => {
    const b = (req.body ?? {}) as { limit?: number; threadLimit?: number; latencyAtHalfMs?: number; latencyAtThreeQuartersMs?: number; latencyMs?: Latency };
    if (b.limit !== undefined) sim.limits.limit = b.limit;
    if (b.threadLimit !== undefined) sim.limits.threadLimit = b.threadLimit;
    if (b.latencyAtHalfMs !== undefined) sim.limits.latencyAtHalfMs = b.latencyAtHalfMs;
    if (b.latencyAtThreeQuartersMs !== undefined) sim.limits.latencyAtThreeQuartersMs = b.latencyAtThreeQuartersMs;
    if (b.latencyMs !== undefined) setLatency(b.latencyMs);
    return { ok: true };
  });
  app.get('/_sim/limits', async () => ({
    limit: sim.limits.limit,
    count: sim.limits.count(),
    served: sim.limits.served,
    refused: sim.limits.refused,
    threadLimit: sim.limits.threadLimit,
  }));
  app.delete('/_sim/limits', async () => {
    sim.limits.reset();
    return { ok: true };
  });
  app.post('/_sim/lost-answers', async (req) => {
    const b = (req.body ?? {}) as { method?: string; pathPattern?: string; times?: number };
    sim.lostAnswers.add({
      ...(b.method ? { method: b.method } : {}),
      ...(b.pathPattern ? { pathPattern: b.pathPattern } : {}),
      fault: { kind: 'drop' },
      times: b.times ?? 1,
    });
    return { ok: true };
  });
  app.get('/_sim/webhook-deliveries', async (): Promise<readonly WebhookDelivery[]> => sim.webhooks.deliveries);
  app.put('/_sim/webhook-options', async (req) => {
    sim.webhooks.drop = Boolean((req.body as { drop?: boolean } | null)?.drop);
    return { ok: true };
  });
}

/** `settle simulator autotask --port N`: a seeded simulator that prints how to connect. */
export async function runStandalone(port: number): Promise<RunningAutotaskSimulator> {
  const latency = parseLatency(process.env.SETTLE_SIM_LATENCY_MS);
  const running = await startAutotaskSimulator({
    port,
    seed: { companies: 25, invoices: 300, contractClient: true },
    ...(latency === undefined ? {} : { latencyMs: latency }),
  });
  const c = running.credentials;
  process.stdout.write(
    [
      `Autotask PSA simulator listening`,
      `  zone lookup         ${running.baseUrl}/V1.0/ZoneInformation?user=${c.username}`,
      `  zone URL            ${running.zoneUrl}`,
      `  ApiIntegrationCode  ${c.integrationCode}`,
      `  UserName            ${c.username}`,
      `  Secret              ${c.secret}`,
      `  control             ${running.origin}/_sim/* (seed, invoices, companies, threshold/others, limits, faults, lost-answers)`,
      `  connect with        settle connect psa autotask --workspace SLUG --config '${JSON.stringify({ username: c.username, integrationCode: c.integrationCode, globalUrl: running.baseUrl })}' --secrets '${JSON.stringify({ secret: c.secret })}'`,
      '',
    ].join('\n'),
  );
  return running;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const portArg = process.argv.indexOf('--port');
  void runStandalone(portArg > 0 ? Number(process.argv[portArg + 1]) : 8711);
}
