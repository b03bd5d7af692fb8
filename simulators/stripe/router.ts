// The request pipeline every /v1 route shares, in the order Stripe applies it: authentication,
// rate limit, form decoding, Idempotency-Key replay, the handler, Stripe's error envelope.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimiter } from '../kit.ts';
import { authError, idempotencyInFlight, idempotencyMismatch, paramError, rateLimitError, StripeApiError } from './errors.ts';
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
  readonly route: string; // Fastify template, e.g. /v1/payment_intents/:intent
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

export interface RouterContext {
  readonly store: StripeStore;
  readonly secretKey: string;
  readonly publishableKey: string;
  readonly limiter: RateLimiter;
  readonly lostResponses: LostResponseRule[];
  readonly recorder: ((x: RecordedExchange) => void) | null;
}

/** Stripe prunes idempotency keys after at least 24 hours. */
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

export class StripeRouter {
  private readonly saved = new Map<string, SavedResponse>();
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly app: FastifyInstance,
    private readonly ctx: RouterContext,
  ) {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  }

  get(path: string, handler: Handler, opts: { publishable?: boolean } = {}): void {
    this.app.get(path, (req, reply) => this.handle(req, reply, path, handler, opts.publishable ?? false));
  }
  post(path: string, handler: Handler, opts: { publishable?: boolean } = {}): void {
    this.app.post(path, (req, reply) => this.handle(req, reply, path, handler, opts.publishable ?? false));
  }
  delete(path: string, handler: Handler): void {
    this.app.delete(path, (req, reply) => this.handle(req, reply, path, handler, false));
  }

  private async handle(req: FastifyRequest, reply: FastifyReply, route: string, handler: Handler, allowPublishable: boolean): Promise<void> {
    const requestId = `req_${randomToken(14)}`;
    reply.header('request-id', requestId);
    reply.header('stripe-version', headerOf(req, 'stripe-version') ?? API_VERSION);
    const send = (status: number, body: object): void => {
      this.ctx.recorder?.({ method: req.method, route, status, body: JSON.parse(JSON.stringify(body)) });
      if (this.loseResponse(req, reply)) return;
      void reply
        .code(status)
        .type('application/json')
        .send(JSON.stringify(body, null, 2));
    };
    const sendError = (e: StripeApiError): void =>
      send(e.status, { error: { ...e.body, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}` } });

    let apiKey: string;
    try {
      apiKey = this.authenticate(req, allowPublishable);
    } catch (e) {
      return sendError(e as StripeApiError);
    }
    if (!this.ctx.limiter.take(apiKey).ok) return sendError(rateLimitError());

    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
    const params = req.method === 'GET' || req.method === 'DELETE' ? parseForm(query) : parseForm(typeof req.body === 'string' ? req.body : '');
    const idemKey = req.method === 'POST' ? headerOf(req, 'idempotency-key') : undefined;
    const cause: Cause = { requestId, idempotencyKey: idemKey ?? null };
    const path = (req.params ?? {}) as Record<string, string>;

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

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function mask(key: string): string {
  const prefix = /^(sk|pk|rk)_(test|live)_/.exec(key)?.[0] ?? '';
  return `${prefix}${'*'.repeat(Math.max(0, key.length - prefix.length - 4))}${key.slice(-4)}`;
}
