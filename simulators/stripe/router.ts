// The request pipeline every /v1 route shares, in the order Stripe applies it: authentication, API
// version, rate limits, form decoding, Idempotency-Key replay, the handler, Stripe's error envelope.
// Paths it does not have answer Stripe's 404 envelope too.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiVersionError, authError, idempotencyInFlight, idempotencyMismatch, paramError, rateLimitError, StripeApiError, unrecognizedUrl } from './errors.ts';
import type { StripeLimiter } from './limits.ts';
import { canonical, parseForm, type FormObject } from './form.ts';
import { API_VERSION, randomToken, type Cause, type StripeStore } from './store.ts';

export interface StripeRequest {
  readonly params: FormObject;
  readonly path: Record<string, string>;
  readonly apiKey: string;
  readonly publishable: boolean;
  readonly cause: Cause;
}

export type Handler = (req: StripeRequest) => object | { readonly status: number; readonly body: object };

interface SavedResponse {
  readonly fingerprint: string;
  readonly status: number;
  readonly body: object;
  readonly requestId: string;
  readonly at: number;
}

export interface RecordedExchange {
  readonly method: string;
  readonly route: string; // Fastify template, e.g. /v1/payment_intents/:intent; UNRECOGNIZED for unknown paths
  readonly status: number;
  readonly body: unknown;
}

/** "The response was lost": the work is done, then the connection drops or never answers. */
export interface LostResponseRule {
  readonly method?: string;
  readonly pathPattern?: string;
  readonly mode: 'drop' | 'hang';
  times: number;
}

/** The route recorded for requests to paths Stripe does not have. */
export const UNRECOGNIZED = '(unrecognized)';

export interface RouterContext {
  readonly store: StripeStore;
  readonly secretKey: string;
  readonly publishableKey: string;
  /** A live-mode account (sk_live_ keys): objects say livemode true. */
  readonly livemode: boolean;
  readonly limiter: StripeLimiter;
  readonly lostResponses: LostResponseRule[];
  readonly recorder: ((x: RecordedExchange) => void) | null;
}

/** Stripe prunes idempotency keys after at least 24 hours. */
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

export class StripeRouter {
  private readonly saved = new Map<string, SavedResponse>();
  private readonly inFlight = new Set<string>();
  /** Every /v1 route registered, as "METHOD /template" (the conformance suite checks each is exercised). */
  readonly routes: string[] = [];

  constructor(
    private readonly app: FastifyInstance,
    private readonly ctx: RouterContext,
  ) {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  }

  get(path: string, handler: Handler, opts: { publishable?: boolean } = {}): void {
    this.routes.push(`GET ${path}`);
    this.app.get(path, (req, reply) => this.handle(req, reply, path, handler, opts.publishable ?? false));
  }
  post(path: string, handler: Handler, opts: { publishable?: boolean } = {}): void {
    this.routes.push(`POST ${path}`);
    this.app.post(path, (req, reply) => this.handle(req, reply, path, handler, opts.publishable ?? false));
  }
  delete(path: string, handler: Handler): void {
    this.routes.push(`DELETE ${path}`);
    this.app.delete(path, (req, reply) => this.handle(req, reply, path, handler, false));
  }

  /** Paths (or methods) Stripe does not have: its 404 envelope, not the web framework's. */
  registerNotFound(): void {
    this.app.setNotFoundHandler((req, reply) => {
      const path = req.url.split('?')[0] ?? req.url;
      const e = unrecognizedUrl(req.method, path);
      const body = { error: e.body };
      this.ctx.recorder?.({ method: req.method, route: UNRECOGNIZED, status: e.status, body });
      void reply
        .code(e.status)
        .header('request-id', `req_${randomToken(14)}`)
        .header('stripe-version', API_VERSION)
        .type('application/json')
        .send(JSON.stringify(body, null, 2));
    });
  }

  private async handle(req: FastifyRequest, reply: FastifyReply, route: string, handler: Handler, allowPublishable: boolean): Promise<void> {
    const requestId = `req_${randomToken(14)}`;
    reply.header('request-id', requestId);
    // The version the answer is shaped by (Stripe answers in the version it used, whatever was asked).
    reply.header('stripe-version', API_VERSION);
    const live = this.ctx.livemode;
    const send = (status: number, body: object): void => {
      const text = live ? JSON.stringify(body, (k, v: unknown) => (k === 'livemode' && v === false ? true : v)) : JSON.stringify(body);
      this.ctx.recorder?.({ method: req.method, route, status, body: JSON.parse(text) });
      if (this.loseResponse(req, reply)) return;
      void reply
        .code(status)
        .type('application/json')
        .send(JSON.stringify(JSON.parse(text), null, 2));
    };
    const logs = `https://dashboard.stripe.com/${live ? '' : 'test/'}logs/${requestId}`;
    const sendError = (e: StripeApiError): void => {
      // Stripe tells its clients whether a retry may succeed: a refused rate or a busy idempotency key may.
      if (e.status === 429 || e.status === 409) reply.header('stripe-should-retry', 'true');
      send(e.status, { error: { ...e.body, request_log_url: logs } });
    };

    let apiKey: string;
    try {
      apiKey = this.authenticate(req, allowPublishable);
    } catch (e) {
      return sendError(e as StripeApiError);
    }
    const version = headerOf(req, 'stripe-version');
    if (version !== undefined && !versionAnswered(version)) return sendError(apiVersionError(version, API_VERSION));
    const pathParams = (req.params ?? {}) as Record<string, string>;
    // Limits are per account: its secret and publishable keys share them (one account per simulator).
    const hit = this.ctx.limiter.take('account', req.method, route, pathParams['intent']);
    if (hit) return sendError(rateLimitError(hit));

    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
    const params = req.method === 'GET' || req.method === 'DELETE' ? parseForm(query) : parseForm(typeof req.body === 'string' ? req.body : '');
    const idemKey = req.method === 'POST' ? headerOf(req, 'idempotency-key') : undefined;
    const cause: Cause = { requestId, idempotencyKey: idemKey ?? null };
    const path = pathParams;

    if (idemKey !== undefined) {
      if (idemKey.length > 255) return sendError(paramError('Idempotency-Key must be at most 255 characters long.', 'Idempotency-Key'));
      reply.header('idempotency-key', idemKey);
      const scoped = `${apiKey}\u0000${idemKey}`; // keys are scoped to the account's API key
      const fingerprint = `${req.method} ${req.url.split('?')[0]} ${canonical(params)}`;
      const prior = this.saved.get(scoped);
      if (prior && Date.now() - prior.at < IDEMPOTENCY_TTL_MS) {
        if (prior.fingerprint !== fingerprint) return sendError(idempotencyMismatch(idemKey));
        reply.header('idempotent-replayed', 'true');
        reply.header('original-request', prior.requestId);
        return send(prior.status, prior.body);
      }
      if (this.inFlight.has(scoped)) return sendError(idempotencyInFlight());
      this.inFlight.add(scoped);
      try {
        const { status, body, save } = this.run(handler, { params, path, apiKey, publishable: apiKey === this.ctx.publishableKey, cause }, requestId);
        if (save) this.saved.set(scoped, { fingerprint, status, body, requestId, at: Date.now() });
        return send(status, body);
      } finally {
        this.inFlight.delete(scoped);
      }
    }
    const { status, body } = this.run(handler, { params, path, apiKey, publishable: apiKey === this.ctx.publishableKey, cause }, requestId);
    return send(status, body);
  }

  private run(handler: Handler, sreq: StripeRequest, requestId: string): { status: number; body: object; save: boolean } {
    try {
      const out = handler(sreq);
      if ('status' in out && 'body' in out && typeof out.status === 'number') return { status: out.status, body: out.body as object, save: true };
      return { status: 200, body: out, save: true };
    } catch (e) {
      if (e instanceof StripeApiError) {
        return { status: e.status, body: { error: { ...e.body, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}` } }, save: e.replayable };
      }
      // An unexpected failure inside "Stripe": a 500 api_error, saved and replayed like Stripe does.
      return { status: 500, body: { error: { type: 'api_error', message: `An unknown error occurred (${(e as Error).message})` } }, save: true };
    }
  }

  private authenticate(req: FastifyRequest, allowPublishable: boolean): string {
    const auth = headerOf(req, 'authorization');
    let key: string | undefined;
    if (auth?.startsWith('Bearer ')) key = auth.slice(7).trim();
    else if (auth?.startsWith('Basic ')) {
      key = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8').split(':')[0];
    }
    if (!key) {
      throw authError(
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      );
    }
    if (key === this.ctx.secretKey) return key;
    if (key === this.ctx.publishableKey) {
      if (allowPublishable) return key;
      throw authError(
        'This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.',
      );
    }
    throw authError(`Invalid API Key provided: ${mask(key)}`);
  }

  private loseResponse(req: FastifyRequest, reply: FastifyReply): boolean {
    const path = req.url.split('?')[0] ?? req.url;
    const rules = this.ctx.lostResponses;
    const i = rules.findIndex((r) => (!r.method || r.method.toUpperCase() === req.method) && (!r.pathPattern || new RegExp(r.pathPattern).test(path)));
    if (i < 0) return false;
    const rule = rules[i]!;
    rule.times -= 1;
    if (rule.times <= 0) rules.splice(i, 1);
    reply.hijack();
    if (rule.mode === 'drop') req.raw.socket.destroy();
    // 'hang': keep the socket open without an answer; the client's timeout fires.
    return true;
  }
}

/**
 * Versions this account answers: the spec's own (2023-08-16) and newer ones, which it answers in the
 * spec's shape and says so in the `Stripe-Version` response header. Older versions are refused: Settle
 * must never depend on a shape older than the one it was built against.
 */
function versionAnswered(v: string): boolean {
  const m = /^(\d{4}-\d{2}-\d{2})(\.[a-z]+)?(; *[a-z_]+=v\d+)*$/.exec(v.trim());
  return m !== null && m[1]! >= API_VERSION;
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function mask(key: string): string {
  const prefix = /^(sk|pk|rk)_(test|live)_/.exec(key)?.[0] ?? '';
  return `${prefix}${'*'.repeat(Math.max(0, key.length - prefix.length - 4))}${key.slice(-4)}`;
}
