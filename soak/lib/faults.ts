// Vendor faults while the soak runs, through each simulator's own /_sim controls: 429s and 5xxs before the
// work, timeouts (no answer at all), lost answers (the work is done, the answer never arrives), and Stripe
// webhooks and ConnectWise callbacks delivered twice and out of order. Each injection is counted by kind.
import { call, type SimProcesses } from './sims.ts';

export interface FaultInjector {
  readonly counts: Record<string, number>;
  stop(): Promise<void>;
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/**
 * A fault not met within this long is gone (simulators/kit.ts FaultRule.ttlMs): a vendor's bad moment is a
 * window of time. Queued without end, QuickBooks' 429s (each a 60-s wait for Settle, as Intuit asks) piled up
 * faster than a throttled flush could meet them, and every flush met one until the process was killed.
 */
const FAULT_TTL_MS = 30_000;

export function startFaults(sims: SimProcesses, everyMs: number): FaultInjector {
  const counts: Record<string, number> = {};
  const stripe = sims.stripe.baseUrl;
  const cw = sims.connectwise.origin;
  const qbo = sims.quickbooks.baseUrl;
  const stripe429 = { error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly.' } };
  const stripe500 = { error: { type: 'api_error', message: 'An unknown error occurred' } };
  const injections: Record<string, () => Promise<unknown>> = {
    'stripe 429': () =>
      call(`${stripe}/_sim/faults`, { body: { pathPattern: '^/v1/', fault: { kind: 'status', status: 429, body: stripe429 }, times: 3, ttlMs: FAULT_TTL_MS } }),
    'stripe 500': () =>
      call(`${stripe}/_sim/faults`, { body: { pathPattern: '^/v1/', fault: { kind: 'status', status: 500, body: stripe500 }, times: 2, ttlMs: FAULT_TTL_MS } }),
    'stripe timeout': () =>
      call(`${stripe}/_sim/faults`, {
        body: { method: 'POST', pathPattern: '^/v1/payment_intents', fault: { kind: 'timeout' }, times: 1, ttlMs: FAULT_TTL_MS },
      }),
    'stripe lost answer': () =>
      call(`${stripe}/_sim/lost-responses`, { body: { method: 'POST', path_pattern: pick(['^/v1/payment_intents', '^/v1/refunds']), mode: 'drop', times: 1 } }),
    'stripe webhooks duplicated': () => call(`${stripe}/_sim/webhooks/options`, { body: { duplicate: 5 } }),
    'stripe webhooks out of order': async () => {
      await call(`${stripe}/_sim/webhooks/options`, { body: { out_of_order: true, out_of_order_window_ms: 400 } });
      setTimeout(() => void call(`${stripe}/_sim/webhooks/options`, { body: { out_of_order: false } }).catch(() => {}), 5000);
    },
    'connectwise 500': () =>
      call(`${cw}/_sim/faults`, { body: { pathPattern: '/apis/3.0/', fault: { kind: 'status', status: 500 }, times: 2, ttlMs: FAULT_TTL_MS } }),
    'connectwise 429': () =>
      call(`${cw}/_sim/faults`, {
        body: { pathPattern: '/apis/3.0/', fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } }, times: 2, ttlMs: FAULT_TTL_MS },
      }),
    'connectwise timeout': () =>
      call(`${cw}/_sim/faults`, { body: { pathPattern: '/apis/3.0/finance/invoices', fault: { kind: 'timeout' }, times: 1, ttlMs: FAULT_TTL_MS } }),
    'connectwise lost answer': () => call(`${cw}/_sim/lost-answers`, { body: { method: 'POST', pathPattern: '/payments', times: 1 } }),
    'connectwise callbacks duplicated/reversed': async () => {
      await call(`${cw}/_sim/callback-options`, { method: 'PUT', body: { duplicate: true, reverseBursts: true, burstWindowMs: 300 } });
      setTimeout(() => void call(`${cw}/_sim/callback-options`, { method: 'PUT', body: { duplicate: false, reverseBursts: false } }).catch(() => {}), 8000);
    },
    'quickbooks 500': () =>
      call(`${qbo}/_sim/faults`, { body: { pathPattern: '/v3/company/', fault: { kind: 'status', status: 500 }, times: 2, ttlMs: FAULT_TTL_MS } }),
    'quickbooks 429': () =>
      call(`${qbo}/_sim/faults`, { body: { pathPattern: '/v3/company/', fault: { kind: 'status', status: 429 }, times: 2, ttlMs: FAULT_TTL_MS } }),
    'quickbooks timeout': () =>
      call(`${qbo}/_sim/faults`, { body: { pathPattern: '/v3/company/', fault: { kind: 'timeout' }, times: 1, ttlMs: FAULT_TTL_MS } }),
    'quickbooks lost answer': () => call(`${qbo}/_sim/lose-answers`, { body: { pathPattern: '/(batch|payment|deposit)', times: 1 } }),
  };
  const names = Object.keys(injections);
  let running = true;
  const loop = (async () => {
    while (running) {
      await new Promise((r) => setTimeout(r, everyMs * (0.5 + Math.random())));
      if (!running) break;
      let name = pick(names);
      // A QuickBooks request left unanswered stalls the workspace's books queue for the client's whole
      // timeout (120 s): at the same rate as the other faults (one every ~45 s) QuickBooks would be "down"
      // for most of the run and no backlog could drain. Three in four are turned into another fault.
      if (name === 'quickbooks timeout' && Math.random() < 0.75) name = pick(names.filter((n) => n !== name));
      try {
        await injections[name]!();
        counts[name] = (counts[name] ?? 0) + 1;
      } catch {
        counts['(injection failed)'] = (counts['(injection failed)'] ?? 0) + 1;
      }
    }
  })();
  return {
    counts,
    stop: async () => {
      running = false;
      await loop;
      // Nothing left armed for the drain: it must show what Settle does once the vendors are healthy.
      await Promise.allSettled([
        call(`${stripe}/_sim/faults`, { method: 'DELETE' }),
        call(`${stripe}/_sim/webhooks/options`, { body: { duplicate: 0, out_of_order: false } }),
        call(`${cw}/_sim/faults`, { method: 'DELETE' }),
        call(`${cw}/_sim/lost-answers`, { method: 'DELETE' }),
        call(`${cw}/_sim/callback-options`, { method: 'PUT', body: { duplicate: false, reverseBursts: false } }),
        call(`${qbo}/_sim/faults`, { method: 'DELETE' }),
      ]);
    },
  };
}
