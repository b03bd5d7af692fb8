// Stripe's error envelope (spec3.yaml › components › schemas › error / api_errors):
// {"error": {"type", "code", "decline_code", "message", "param", "doc_url", ...}}.

export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  doc_url?: string;
  charge?: string;
  payment_intent?: Record<string, unknown>;
  payment_method?: Record<string, unknown>;
  payment_method_type?: string;
  setup_intent?: Record<string, unknown>;
  request_log_url?: string;
}

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /**
     * Whether an idempotent retry replays this error. Stripe saves a result only once the endpoint
     * "started executing"; parameter validation failures are not saved (docs.stripe.com/idempotency).
     */
    readonly replayable: boolean,
  ) {
    super(body.message);
  }
}

const docUrl = (code: string): string => `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;

/** 400 for a parameter problem found before anything ran (not saved for idempotent replay). */
export function paramError(message: string, param?: string, code = 'parameter_invalid_string'): StripeApiError {
  return new StripeApiError(400, { type: 'invalid_request_error', message, code, doc_url: docUrl(code), ...(param ? { param } : {}) }, false);
}

export function missingParam(param: string): StripeApiError {
  return paramError(`Missing required param: ${param}.`, param, 'parameter_missing');
}

export function unknownParam(param: string): StripeApiError {
  return paramError(`Received unknown parameter: ${param}`, param, 'parameter_unknown');
}

export function noSuch(kind: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError(
    404,
    { type: 'invalid_request_error', code: 'resource_missing', doc_url: docUrl('resource_missing'), message: `No such ${kind}: '${id}'`, param },
    false,
  );
}

/** 400 raised after the request started executing (state conflicts); replayed for the same key. */
export function stateError(message: string, code: string, param?: string): StripeApiError {
  return new StripeApiError(400, { type: 'invalid_request_error', message, code, doc_url: docUrl(code), ...(param ? { param } : {}) }, true);
}

export function authError(message: string): StripeApiError {
  return new StripeApiError(401, { type: 'invalid_request_error', message }, false);
}

const RATE_LIMIT_MESSAGES = {
  global: 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
  endpoint: 'Request rate limit exceeded for this endpoint. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
  search: 'Request rate limit exceeded for the Search API. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
  intent_updates: 'Too many updates to this PaymentIntent. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
} as const;

/** 429 from one of Stripe's limiters (the router adds `Stripe-Should-Retry: true`: nothing was done). */
export function rateLimitError(which: keyof typeof RATE_LIMIT_MESSAGES = 'global'): StripeApiError {
  return new StripeApiError(
    429,
    { type: 'invalid_request_error', code: 'rate_limit', doc_url: docUrl('rate_limit'), message: RATE_LIMIT_MESSAGES[which] },
    false,
  );
}

/** Stripe's answer for a path (or method) it does not have: 404 in the usual envelope. */
export function unrecognizedUrl(method: string, path: string): StripeApiError {
  return new StripeApiError(
    404,
    {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    },
    false,
  );
}

/** A `Stripe-Version` header the account does not answer (malformed, or older than the spec's version). */
export function apiVersionError(version: string, supported: string): StripeApiError {
  const older = /^\d{4}-\d{2}-\d{2}/.test(version);
  return new StripeApiError(
    400,
    {
      type: 'invalid_request_error',
      message: older
        ? `Stripe-Version ${version} is older than ${supported}, the API version this account answers. Send Stripe-Version: ${supported} (see https://stripe.com/docs/upgrades).`
        : `Invalid Stripe API version: ${version}. Send Stripe-Version: ${supported} (see https://stripe.com/docs/api/versioning).`,
    },
    false,
  );
}

/** Raw card numbers on a secret-key call: Stripe refuses them unless the account is enabled for raw card data. */
export function rawCardDataError(param: string): StripeApiError {
  return new StripeApiError(
    402,
    {
      type: 'invalid_request_error',
      param,
      message:
        'Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you use test tokens that map to the test card you are using, see https://stripe.com/docs/testing. To enable testing raw card data APIs, see https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis.',
    },
    false,
  );
}

export function idempotencyMismatch(key: string): StripeApiError {
  return new StripeApiError(
    400,
    {
      type: 'idempotency_error',
      message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
    },
    false,
  );
}

export function idempotencyInFlight(): StripeApiError {
  return new StripeApiError(
    409,
    {
      type: 'idempotency_error',
      code: 'idempotency_key_in_use',
      doc_url: docUrl('idempotency_key_in_use'),
      message:
        'There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): Please try again later.',
    },
    false,
  );
}

export { docUrl };
