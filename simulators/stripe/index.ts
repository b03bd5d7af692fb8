// A Stripe-compatible API for what Settle uses (API version 2023-08-16), in-process or standalone.
// Vendor routes live under /v1 with Stripe's paths, auth, form encoding, idempotency, errors and
// rate limit; everything under /_sim is the simulator's own control surface (see README.md).
import { createSimulatorApp, listen, type CallLog, type Faults } from '../kit.ts';
import { noSuch, paramError } from './errors.ts';
import { parseForm } from './form.ts';
import { registerElements } from './elements.ts';
import { closeDispute, createDispute, runPayout, type PayoutRunOptions } from './money.ts';
import type { Dispute, Payout } from './objects.ts';
import { settleAch, type AchScheduler, type SettleOutcome } from './payments.ts';
import { StripeRouter, type LostResponseRule, type RecordedExchange, type RouterContext } from './router.ts';
import type { RouteContext } from './routes-common.ts';
import { registerCustomerRoutes } from './routes-customers.ts';
import { registerIntentRoutes } from './routes-intents.ts';
import { registerLedgerRoutes } from './routes-ledger.ts';
import { documentedLimits, modeOfKey, StripeLimiter, type StripeLimits, type StripeMode } from './limits.ts';
import { registerMicrodepositPage } from './microdeposits.ts';
import { StripeStore } from './store.ts';
import { WebhookDispatcher, type DeliveryOptions } from './webhooks.ts';

export interface StripeSimulatorOptions {
  port?: number;
  host?: string;
  /**
   * Live or test mode (default: from `secretKey`'s prefix, else test). Live mode answers sk_live_/pk_live_
   * keys, says `livemode: true` and has live limits. Nothing else differs: test numbers and tokens work.
   */
  mode?: StripeMode;
  secretKey?: string;
  publishableKey?: string;
  /** Global limit per account: Stripe publishes 100 requests/s in live mode and 25/s in test mode (docs.stripe.com/rate-limits). */
  rateLimitPerSecond?: number;
  /** Default limit per endpoint (Stripe: 25 requests/s); higher for an account whose limits Stripe raised. */
  endpointLimitPerSecond?: number;
  /** Search API reads per second (Stripe: 20). */
  searchLimitPerSecond?: number;
  /** How long an ACH debit stays `processing` before it settles by itself; null = only when told. */
  achSettleDelayMs?: number | null;
  /** Delay before new objects show up in /search results (Stripe: typically under a minute). */
  searchLagMs?: number;
  /** Keep every /v1 response (for the contract test). */
  record?: boolean;
}

export const DEFAULT_SECRET_KEY = 'sk_test_51SettleSimulatorKey000000000000000000000000';
export const DEFAULT_PUBLISHABLE_KEY = 'pk_test_51SettleSimulatorKey000000000000000000000000';
export const DEFAULT_LIVE_SECRET_KEY = 'sk_live_51SettleSimulatorKey000000000000000000000000';
export const DEFAULT_LIVE_PUBLISHABLE_KEY = 'pk_live_51SettleSimulatorKey000000000000000000000000';

/** In-process handle on a running simulator: state and the same controls as /_sim. */
export class StripeSimulator implements AchScheduler {
  readonly store = new StripeStore();
  readonly webhooks: WebhookDispatcher;
  readonly recorded: RecordedExchange[] = [];
  readonly lostResponses: LostResponseRule[] = [];
  private readonly achTimers = new Map<string, NodeJS.Timeout>();

  readonly routeCtx: RouteContext;

  constructor(
    readonly faults: Faults,
    readonly calls: CallLog,
    readonly limiter: StripeLimiter,
    public achSettleDelayMs: number | null,
    searchLagMs: number,
  ) {
    this.webhooks = new WebhookDispatcher(this.store);
    this.routeCtx = { store: this.store, ach: this, searchLagMs };
  }

  scheduleSettlement(paymentIntentId: string): void {
    if (this.achSettleDelayMs === null) return;
    const t = setTimeout(() => {
      this.achTimers.delete(paymentIntentId);
      const pi = this.store.paymentIntents.get(paymentIntentId);
      if (pi) settleAch(this.store, pi);
    }, this.achSettleDelayMs);
    t.unref();
    this.achTimers.set(paymentIntentId, t);
  }

  /** Settle processing ACH debits now (all, or one), by their test account's behaviour or as forced. */
  settleAch(opts: { paymentIntent?: string | undefined; outcome?: SettleOutcome | undefined } = {}): string[] {
    const targets = opts.paymentIntent
      ? [
          this.store.paymentIntents.get(opts.paymentIntent) ??
            (() => {
              throw noSuch('payment_intent', opts.paymentIntent ?? '', 'payment_intent');
            })(),
        ]
      : [...this.store.paymentIntents.values()].filter((pi) => pi.status === 'processing');
    const settled: string[] = [];
    for (const pi of targets) {
      if (pi.status !== 'processing') continue;
      const t = this.achTimers.get(pi.id);
      if (t) clearTimeout(t);
      this.achTimers.delete(pi.id);
      settleAch(this.store, pi, opts.outcome);
      settled.push(pi.id);
    }
    return settled;
  }

  runPayouts(opts: PayoutRunOptions = {}): Payout | null {
    return runPayout(this.store, opts);
  }

  createDispute(opts: { paymentIntent?: string | undefined; charge?: string | undefined; reason?: string | undefined; amount?: number | undefined }): Dispute {
    let chargeId = opts.charge;
    if (!chargeId && opts.paymentIntent) chargeId = this.store.paymentIntents.get(opts.paymentIntent)?.latest_charge ?? undefined;
    const charge = chargeId ? this.store.charges.get(chargeId) : undefined;
    if (!charge) throw noSuch('charge', chargeId ?? opts.paymentIntent ?? '', 'charge');
    return createDispute(this.store, charge, {
      ...(opts.reason ? { reason: opts.reason } : {}),
      ...(opts.amount !== undefined ? { amount: opts.amount } : {}),
    });
  }

  /** The issuer's decision on an open dispute (by id, or the latest dispute of a PaymentIntent). */
  resolveDispute(opts: { dispute?: string | undefined; paymentIntent?: string | undefined; outcome: 'won' | 'lost' }): Dispute {
    const dispute = opts.dispute
      ? this.store.disputes.get(opts.dispute)
      : [...this.store.disputes.values()].filter((d) => d.payment_intent === opts.paymentIntent).at(-1);
    if (!dispute) throw noSuch('dispute', opts.dispute ?? opts.paymentIntent ?? '', 'dispute');
    return closeDispute(this.store, dispute, opts.outcome);
  }

  /** The next matching request(s) are processed, but the answer is lost (socket dropped, or never sent). */
  loseResponses(rule: { method?: string | undefined; pathPattern?: string | undefined; mode?: 'drop' | 'hang' | undefined; times?: number | undefined }): void {
    this.lostResponses.push({
      ...(rule.method ? { method: rule.method } : {}),
      ...(rule.pathPattern ? { pathPattern: rule.pathPattern } : {}),
      mode: rule.mode ?? 'drop',
      times: rule.times ?? 1,
    });
  }

  /** Change the global limit per account (requests/s). */
  setRateLimit(perSecond: number): void {
    this.limiter.set({ perSecond });
  }

  /** Change any of the limits (an account whose limits Stripe raised, or a test of the throttle). */
  setLimits(changes: Partial<StripeLimits>): void {
    this.limiter.set(changes);
  }

  setDelivery(options: Partial<DeliveryOptions>): void {
    this.webhooks.setOptions(options);
  }

  /** Objects younger than this stay out of search results (Stripe search is eventually consistent). */
  setSearchLag(ms: number): void {
    this.routeCtx.searchLagMs = ms;
  }

  advanceClock(seconds: number): void {
    this.store.clockOffsetSeconds += seconds;
  }

  dispose(): void {
    for (const t of this.achTimers.values()) clearTimeout(t);
    this.achTimers.clear();
    this.webhooks.close();
  }
}

export interface RunningStripeSimulator {
  readonly baseUrl: string;
  readonly secretKey: string;
  readonly publishableKey: string;
  readonly mode: StripeMode;
  /** The limits this account enforces now (what Settle's connection should be configured with). */
  readonly limits: StripeLimits;
  /** Every /v1 route the simulator registers, as "METHOD /template". */
  readonly routes: readonly string[];
  readonly sim: StripeSimulator;
  close(): Promise<void>;
}

type Body = Record<string, unknown>;
const bodyOf = (raw: unknown): Body => (typeof raw === 'string' ? (parseForm(raw) as Body) : ((raw ?? {}) as Body));
const num = (v: unknown): number | undefined => (v === undefined || v === null || v === '' ? undefined : Number(v));
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export async function startStripeSimulator(opts: StripeSimulatorOptions = {}): Promise<RunningStripeSimulator> {
  const mode: StripeMode = opts.mode ?? (opts.secretKey ? modeOfKey(opts.secretKey) : 'test');
  const secretKey = opts.secretKey ?? (mode === 'live' ? DEFAULT_LIVE_SECRET_KEY : DEFAULT_SECRET_KEY);
  const publishableKey = opts.publishableKey ?? (mode === 'live' ? DEFAULT_LIVE_PUBLISHABLE_KEY : DEFAULT_PUBLISHABLE_KEY);
  if (modeOfKey(secretKey) !== mode || modeOfKey(publishableKey) !== mode) {
    throw new Error(`a ${mode}-mode Stripe account takes ${mode} keys (sk_${mode}_…, pk_${mode}_…)`);
  }
  const documented = documentedLimits(mode);
  const limiter = new StripeLimiter({
    perSecond: opts.rateLimitPerSecond ?? documented.perSecond,
    endpointPerSecond: opts.endpointLimitPerSecond ?? documented.endpointPerSecond,
    searchPerSecond: opts.searchLimitPerSecond ?? documented.searchPerSecond,
    intentUpdatesPerHour: documented.intentUpdatesPerHour,
  });
  const { app, faults, calls } = createSimulatorApp();
  const sim = new StripeSimulator(faults, calls, limiter, opts.achSettleDelayMs === undefined ? 3000 : opts.achSettleDelayMs, opts.searchLagMs ?? 0);
  const routeCtx = sim.routeCtx;
  sim.store.livemode = mode === 'live';

  const routerCtx: RouterContext = {
    store: sim.store,
    secretKey,
    publishableKey,
    livemode: mode === 'live',
    limiter,
    lostResponses: sim.lostResponses,
    recorder: opts.record ? (x) => sim.recorded.push(x) : null,
  };
  const router = new StripeRouter(app, routerCtx);
  registerCustomerRoutes(router, routeCtx);
  registerIntentRoutes(router, routeCtx);
  registerLedgerRoutes(router, sim.store, sim.webhooks);
  router.registerNotFound();
  registerElements(app, sim.store, publishableKey, sim);
  registerMicrodepositPage(app, sim.store, sim);

  // ---- /_sim control surface (JSON or form bodies)
  const control = (fn: (b: Body) => unknown) => async (req: { body: unknown }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
    try {
      return fn(bodyOf(req.body));
    } catch (e) {
      const err = e as { status?: number; body?: unknown; message: string };
      return reply.code(err.status ?? 400).send({ error: err.body ?? { message: err.message } });
    }
  };
  app.post(
    '/_sim/ach/settle',
    control((b) => {
      const outcome = str(b['outcome']);
      if (outcome !== undefined && outcome !== 'succeeded' && outcome !== 'failed') throw paramError('outcome must be succeeded or failed', 'outcome');
      return { settled: sim.settleAch({ paymentIntent: str(b['payment_intent']), outcome }) };
    }),
  );
  app.post(
    '/_sim/payouts/run',
    control((b) => ({
      payout: sim.runPayouts({
        currency: str(b['currency']),
        onlyAvailable: b['only_available'] === true || b['only_available'] === 'true',
        fail: b['fail'] === true || b['fail'] === 'true',
        failureCode: str(b['failure_code']) as PayoutRunOptions['failureCode'],
      }),
    })),
  );
  app.post(
    '/_sim/disputes/create',
    control((b) =>
      sim.createDispute({ paymentIntent: str(b['payment_intent']), charge: str(b['charge']), reason: str(b['reason']), amount: num(b['amount']) }),
    ),
  );
  app.post(
    '/_sim/disputes/resolve',
    control((b) => {
      const outcome = str(b['outcome']);
      if (outcome !== 'won' && outcome !== 'lost') throw paramError('outcome must be won or lost', 'outcome');
      return sim.resolveDispute({ dispute: str(b['dispute']), paymentIntent: str(b['payment_intent']), outcome });
    }),
  );
  app.post(
    '/_sim/webhooks/options',
    control((b) => {
      const delays = b['retry_delays_ms'];
      sim.setDelivery({
        ...(num(b['duplicate']) !== undefined ? { duplicate: num(b['duplicate']) } : {}),
        ...(num(b['drop']) !== undefined ? { drop: num(b['drop']) } : {}),
        ...(b['out_of_order'] !== undefined ? { outOfOrder: b['out_of_order'] === true || b['out_of_order'] === 'true' } : {}),
        ...(num(b['out_of_order_window_ms']) !== undefined ? { outOfOrderWindowMs: num(b['out_of_order_window_ms']) } : {}),
        ...(Array.isArray(delays) ? { retryDelaysMs: delays.map(Number) } : {}),
      } as Partial<DeliveryOptions>);
      return { options: sim.webhooks.options };
    }),
  );
  app.get('/_sim/webhooks/deliveries', async () => ({ deliveries: sim.webhooks.deliveries }));
  app.post(
    '/_sim/lost-responses',
    control((b) => {
      const mode = str(b['mode']) ?? 'drop';
      if (mode !== 'drop' && mode !== 'hang') throw paramError('mode must be drop or hang', 'mode');
      sim.loseResponses({ method: str(b['method']), pathPattern: str(b['path_pattern']), mode, times: num(b['times']) });
      return { ok: true };
    }),
  );
  app.post(
    '/_sim/rate-limit',
    control((b) => {
      const n = num(b['per_second']);
      if (n === undefined || !(n > 0)) throw paramError('per_second must be a positive number', 'per_second');
      const endpoint = num(b['endpoint_per_second']);
      if (endpoint !== undefined && !(endpoint > 0)) throw paramError('endpoint_per_second must be a positive number', 'endpoint_per_second');
      sim.setLimits({ perSecond: n, ...(endpoint !== undefined ? { endpointPerSecond: endpoint } : {}) });
      return { per_second: n, endpoint_per_second: limiter.limits.endpointPerSecond };
    }),
  );
  app.post(
    '/_sim/clock/advance',
    control((b) => {
      sim.advanceClock(num(b['seconds']) ?? 0);
      return { now: sim.store.now() };
    }),
  );
  app.post(
    '/_sim/search-lag',
    control((b) => {
      sim.setSearchLag(num(b['ms']) ?? 0);
      return { ms: routeCtx.searchLagMs };
    }),
  );

  const baseUrl = await listen(app, opts.port ?? 0, opts.host ?? '127.0.0.1');
  sim.store.hostedBaseUrl = baseUrl; // the hosted microdeposit page is served here
  return {
    baseUrl,
    secretKey,
    publishableKey,
    mode,
    get limits() {
      return limiter.limits;
    },
    routes: router.routes,
    sim,
    async close() {
      sim.dispose();
      const closing = app.close();
      app.server.closeAllConnections(); // sockets held open by 'hang' faults
      await closing;
    },
  };
}

/** `settle simulator stripe --port N` */
export async function runStandalone(port: number, opts: { mode?: StripeMode } = {}): Promise<RunningStripeSimulator> {
  // `SETTLE_STRIPE_SIM_MODE=live settle simulator stripe` starts a live-mode account (sk_live_ keys, live limits).
  const mode = opts.mode ?? (process.env['SETTLE_STRIPE_SIM_MODE'] === 'live' ? 'live' : undefined);
  const running = await startStripeSimulator({ port, host: '127.0.0.1', ...(mode ? { mode } : {}) });
  const l = running.limits;
  process.stdout.write(
    [
      `Stripe simulator (API 2023-08-16, ${running.mode} mode) listening on ${running.baseUrl}`,
      `  limits: ${l.perSecond} requests/s per account, ${l.endpointPerSecond}/s per endpoint, search ${l.searchPerSecond}/s`,
      `  secret key:      ${running.secretKey}`,
      `  publishable key: ${running.publishableKey}`,
      `  stripe.js stand-in: ${running.baseUrl}/_sim/js/v3`,
      `  SDK: new Stripe(secretKey, { host: '127.0.0.1', port: ${new URL(running.baseUrl).port}, protocol: 'http' })`,
      '',
    ].join('\n'),
  );
  return running;
}
