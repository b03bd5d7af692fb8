// /v1 routes for charges, refunds, balance transactions, payouts, disputes, mandates, events and
// webhook endpoints.
import { missingParam, noSuch, paramError } from './errors.ts';
import type { FormObject } from './form.ts';
import { closeDispute, createRefund } from './money.ts';
import type { Charge, WebhookEndpoint } from './objects.ts';
import { applyMetadata, expand, listOf, newestFirst, optInteger, optNullableString, optString, optStringArray, rejectUnknown, reqString } from './params.ts';
import type { StripeRouter } from './router.ts';
import { matches, parseQuery, SEARCHABLE } from './search.ts';
import { API_VERSION, randomToken, type StripeStore } from './store.ts';
import type { WebhookDispatcher } from './webhooks.ts';

/** The 223 event types of this API version are not all simulated; these are the ones that can occur. */
const KNOWN_EVENT_PREFIXES = ['charge.', 'customer.', 'mandate.', 'payment_intent.', 'payment_method.', 'payout.', 'refund.', 'setup_intent.'];

export function registerLedgerRoutes(r: StripeRouter, store: StripeStore, webhooks: WebhookDispatcher): void {
  const chargeOr404 = (id: string, param = 'charge'): Charge => {
    const c = store.charges.get(id);
    if (!c) throw noSuch('charge', id, param);
    return c;
  };

  // ---- charges
  r.get('/v1/charges/:charge', (req) => expand(chargeOr404(req.path['charge'] ?? '', 'id'), req.params, store));
  r.get('/v1/charges', (req) => {
    const customer = optString(req.params, 'customer');
    const pi = optString(req.params, 'payment_intent');
    const items = newestFirst(store.charges).filter(
      (c) => (customer === undefined || c.customer === customer) && (pi === undefined || c.payment_intent === pi),
    );
    return listOf(items, req.params, '/v1/charges', store);
  });
  r.get('/v1/charges/search', (req) => {
    const q = parseQuery(reqString(req.params, 'query'), SEARCHABLE.charges);
    const limit = optInteger(req.params, 'limit') ?? 10;
    const hits = newestFirst(store.charges).filter((c) => matches(c, q));
    return { object: 'search_result', data: hits.slice(0, limit), has_more: hits.length > limit, next_page: null, url: '/v1/charges/search' };
  });

  // ---- refunds
  r.post('/v1/refunds', (req) => {
    rejectUnknown(req.params, ['charge', 'payment_intent', 'amount', 'reason', 'metadata', 'expand']);
    const chargeId = optString(req.params, 'charge');
    const piId = optString(req.params, 'payment_intent');
    if (chargeId === undefined && piId === undefined) throw missingParam('charge');
    let charge: Charge;
    if (chargeId !== undefined) charge = chargeOr404(chargeId);
    else {
      const pi = store.paymentIntents.get(piId ?? '');
      if (!pi) throw noSuch('payment_intent', piId ?? '', 'payment_intent');
      if (!pi.latest_charge)
        throw paramError(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, 'payment_intent', 'charge_not_refundable');
      charge = chargeOr404(pi.latest_charge, 'payment_intent');
    }
    const reason = optString(req.params, 'reason');
    if (reason !== undefined && !['duplicate', 'fraudulent', 'requested_by_customer'].includes(reason)) {
      throw paramError('Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer', 'reason');
    }
    const amount = optInteger(req.params, 'amount');
    const refund = createRefund(
      store,
      charge,
      { ...(amount !== undefined ? { amount } : {}), reason: reason ?? null, metadata: applyMetadata({}, req.params) },
      req.cause,
    );
    return expand(refund, req.params, store);
  });
  r.get('/v1/refunds/:refund', (req) => {
    const re = store.refunds.get(req.path['refund'] ?? '');
    if (!re) throw noSuch('refund', req.path['refund'] ?? '', 'id');
    return expand(re, req.params, store);
  });
  r.get('/v1/refunds', (req) => {
    const charge = optString(req.params, 'charge');
    const pi = optString(req.params, 'payment_intent');
    const items = newestFirst(store.refunds).filter((x) => (charge === undefined || x.charge === charge) && (pi === undefined || x.payment_intent === pi));
    return listOf(items, req.params, '/v1/refunds', store);
  });

  // ---- balance transactions
  r.get('/v1/balance_transactions/:id', (req) => {
    const bt = store.balanceTransactions.get(req.path['id'] ?? '');
    if (!bt) throw noSuch('balance transaction', req.path['id'] ?? '', 'id');
    return expand(store.renderBalanceTransaction(bt), req.params, store);
  });
  r.get('/v1/balance_transactions', (req) => {
    const payout = optString(req.params, 'payout');
    const type = optString(req.params, 'type');
    const source = optString(req.params, 'source');
    const currency = optString(req.params, 'currency')?.toLowerCase();
    if (payout !== undefined && !store.payouts.has(payout)) throw noSuch('payout', payout, 'payout');
    const items = newestFirst(store.balanceTransactions)
      .filter(
        (bt) =>
          (payout === undefined || store.paidOutBy.get(bt.id) === payout) &&
          (type === undefined || bt.type === type) &&
          (source === undefined || bt.source === source) &&
          (currency === undefined || bt.currency === currency),
      )
      .map((bt) => store.renderBalanceTransaction(bt));
    return listOf(items, req.params, '/v1/balance_transactions', store);
  });

  // ---- payouts, disputes, mandates
  r.get('/v1/payouts/:payout', (req) => {
    const po = store.payouts.get(req.path['payout'] ?? '');
    if (!po) throw noSuch('payout', req.path['payout'] ?? '', 'id');
    return expand(po, req.params, store);
  });
  r.get('/v1/payouts', (req) => {
    const status = optString(req.params, 'status');
    return listOf(
      newestFirst(store.payouts).filter((p) => status === undefined || p.status === status),
      req.params,
      '/v1/payouts',
      store,
    );
  });
  r.get('/v1/disputes/:dispute', (req) => {
    const dp = store.disputes.get(req.path['dispute'] ?? '');
    if (!dp) throw noSuch('dispute', req.path['dispute'] ?? '', 'dispute');
    return expand(dp, req.params, store);
  });
  r.get('/v1/disputes', (req) => listOf(newestFirst(store.disputes), req.params, '/v1/disputes', store));
  // Closing = the merchant accepts the dispute (it is lost); spec3.yaml › paths › /v1/disputes/{dispute}/close.
  r.post('/v1/disputes/:dispute/close', (req) => {
    rejectUnknown(req.params, ['expand']);
    const dp = store.disputes.get(req.path['dispute'] ?? '');
    if (!dp) throw noSuch('dispute', req.path['dispute'] ?? '', 'dispute');
    return expand(closeDispute(store, dp, 'lost', req.cause), req.params, store);
  });
  r.get('/v1/mandates/:mandate', (req) => {
    const m = store.mandates.get(req.path['mandate'] ?? '');
    if (!m) throw noSuch('mandate', req.path['mandate'] ?? '', 'mandate');
    return expand(m, req.params, store);
  });

  // ---- events: 30 days of history, the backfill source for missed webhooks
  r.get('/v1/events/:id', (req) => {
    const e = store.events.get(req.path['id'] ?? '');
    if (!e) throw noSuch('event', req.path['id'] ?? '', 'id');
    return expand(e, req.params, store);
  });
  r.get('/v1/events', (req) => {
    const type = optString(req.params, 'type');
    const types = optStringArray(req.params, 'types');
    if (type !== undefined && types !== undefined) throw paramError('You may only specify one of these parameters: type, types.', 'types');
    if (types && types.length > 20) throw paramError('You may pass at most 20 types.', 'types');
    const typeMatch = (t: string): boolean => {
      if (types) return types.includes(t);
      if (type === undefined) return true;
      return type.endsWith('*') ? t.startsWith(type.slice(0, -1)) : t === type;
    };
    const items = newestFirst(store.events).filter((e) => typeMatch(e.type));
    return listOf(items, req.params, '/v1/events', store);
  });

  // ---- webhook endpoints
  const weOr404 = (id: string): WebhookEndpoint => {
    const we = store.webhookEndpoints.get(id);
    if (!we) throw noSuch('webhook endpoint', id, 'webhook_endpoint');
    return we;
  };
  const eventsParam = (params: FormObject): string[] => {
    const events = optStringArray(params, 'enabled_events');
    if (!events || events.length === 0) throw missingParam('enabled_events');
    for (const e of events) {
      if (e !== '*' && !KNOWN_EVENT_PREFIXES.some((p) => e.startsWith(p)))
        throw paramError(`Invalid enabled_events: ${e} is not a known event type (in this simulator).`, 'enabled_events');
    }
    return events;
  };
  const urlParam = (params: FormObject): string => {
    const url = reqString(params, 'url');
    if (!/^https?:\/\/[^\s]+$/.test(url)) throw paramError('Invalid URL: URL must be publicly accessible (simulator: any http(s) URL).', 'url', 'url_invalid');
    return url;
  };
  r.post('/v1/webhook_endpoints', (req) => {
    rejectUnknown(req.params, ['url', 'enabled_events', 'description', 'metadata', 'api_version', 'connect', 'expand']);
    const id = store.newId('we');
    const secret = `whsec_${randomToken(32)}`;
    const we: WebhookEndpoint = {
      id,
      object: 'webhook_endpoint',
      api_version: optString(req.params, 'api_version') ?? API_VERSION,
      application: null,
      created: store.now(),
      description: optNullableString(req.params, 'description') ?? null,
      enabled_events: eventsParam(req.params),
      livemode: false,
      metadata: applyMetadata({}, req.params),
      status: 'enabled',
      url: urlParam(req.params),
    };
    store.webhookEndpoints.set(id, we);
    webhooks.secrets.set(id, secret);
    // The signing secret is only ever returned by this call.
    return { ...structuredClone(we), secret };
  });
  r.get('/v1/webhook_endpoints', (req) => listOf(newestFirst(store.webhookEndpoints), req.params, '/v1/webhook_endpoints', store));
  r.get('/v1/webhook_endpoints/:webhook_endpoint', (req) => expand(weOr404(req.path['webhook_endpoint'] ?? ''), req.params, store));
  r.post('/v1/webhook_endpoints/:webhook_endpoint', (req) => {
    rejectUnknown(req.params, ['url', 'enabled_events', 'description', 'metadata', 'disabled', 'expand']);
    const we = weOr404(req.path['webhook_endpoint'] ?? '');
    if (req.params['url'] !== undefined) we.url = urlParam(req.params);
    if (req.params['enabled_events'] !== undefined) we.enabled_events = eventsParam(req.params);
    const description = optNullableString(req.params, 'description');
    if (description !== undefined) we.description = description;
    const disabled = optString(req.params, 'disabled');
    if (disabled !== undefined) we.status = disabled === 'true' ? 'disabled' : 'enabled';
    we.metadata = applyMetadata(we.metadata, req.params);
    return expand(we, req.params, store);
  });
  r.delete('/v1/webhook_endpoints/:webhook_endpoint', (req) => {
    const we = weOr404(req.path['webhook_endpoint'] ?? '');
    store.webhookEndpoints.delete(we.id);
    webhooks.secrets.delete(we.id);
    return { id: we.id, object: 'webhook_endpoint', deleted: true };
  });
}
