// Pieces the /v1 route files share: the route context, lookups, Stripe's search result envelope.
import { noSuch, paramError } from './errors.ts';
import type { FormObject } from './form.ts';
import type { Customer } from './objects.ts';
import { expand, nestedExpand, optInteger, optString, optStringArray, reqString } from './params.ts';
import type { AchScheduler } from './payments.ts';
import type { StripeRequest } from './router.ts';
import { matches, parseQuery } from './search.ts';
import type { StripeStore } from './store.ts';

export interface RouteContext {
  readonly store: StripeStore;
  readonly ach: AchScheduler;
  /** Stripe search is eventually consistent ("searchable within 1 minute"); objects younger than this are not found. */
  searchLagMs: number;
}

export const METHOD_TYPES = ['card', 'us_bank_account'] as const;

export function customerOr404(store: StripeStore, id: string, param = 'customer'): Customer {
  const c = store.customers.get(id);
  if (!c) throw noSuch('customer', id, param);
  return c;
}

export function methodTypes(params: FormObject): string[] {
  const types = optStringArray(params, 'payment_method_types') ?? ['card'];
  for (const t of types) {
    if (!(METHOD_TYPES as readonly string[]).includes(t)) {
      throw paramError(
        `The payment method type "${t}" is invalid or not supported by this simulator (card, us_bank_account).`,
        'payment_method_types',
        'payment_method_invalid_parameter',
      );
    }
  }
  return types;
}

/** Publishable-key callers must prove they hold the intent's client secret. */
export function checkClientSecret(req: StripeRequest, secret: string): void {
  if (!req.publishable) return;
  if (optString(req.params, 'client_secret') !== secret)
    throw paramError('The client_secret provided does not match the client_secret associated with the PaymentIntent.', 'client_secret');
}

export function offSessionParam(params: FormObject): boolean {
  const v = optString(params, 'off_session');
  if (v === undefined || v === 'false') return false;
  if (v === 'true' || v === 'one_off' || v === 'recurring') return true;
  throw paramError(`Invalid off_session: ${v}`, 'off_session');
}

/** Search results (`object: "search_result"`), paged with an opaque `page` token. */
export function searchResult<T extends { created: number }>(
  items: T[],
  req: StripeRequest,
  url: string,
  fields: readonly string[],
  lagMs: number,
  store: StripeStore,
): object {
  const query = reqString(req.params, 'query');
  const q = parseQuery(query, fields);
  const limit = optInteger(req.params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw paramError('Invalid limit: must be between 1 and 100', 'limit');
  const page = optString(req.params, 'page');
  const offset = page ? Number(Buffer.from(page, 'base64url').toString('utf8')) : 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw paramError('Invalid page token.', 'page');
  const visibleBefore = store.now() - Math.ceil(lagMs / 1000);
  const hits = items.filter((x) => (lagMs <= 0 || x.created < visibleBefore) && matches(x, q));
  const data = hits.slice(offset, offset + limit);
  const more = hits.length > offset + limit;
  return {
    object: 'search_result',
    data: data.map((x) => expand(x, nestedExpand(req.params), store)),
    has_more: more,
    next_page: more ? Buffer.from(String(offset + limit)).toString('base64url') : null,
    url,
  };
}
