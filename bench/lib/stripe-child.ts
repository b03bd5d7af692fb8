// The Stripe simulator in a process of its own, for benchmarks where it must not share Settle's event loop
// (the real Stripe runs elsewhere; on a 2-core machine an in-process simulator eats the CPU being measured).
// Started by stripe-process.ts with fork(); answers a few control messages over IPC.
import { startStripeSimulator } from '../../simulators/stripe/index.ts';

import type { StripeLimits } from '../../simulators/stripe/limits.ts';

type Command =
  | { id: number; cmd: 'setLimits'; limits: Partial<StripeLimits> }
  | { id: number; cmd: 'resetCalls' }
  | { id: number; cmd: 'snapshot' }
  | { id: number; cmd: 'close' };

// A live-mode account (sk_live_ keys): the limits are set by the parent (setup fast, the run at the account's limits).
const rate = Number(process.env.STRIPE_RATE ?? 100);
const running = await startStripeSimulator({
  mode: 'live',
  achSettleDelayMs: null,
  searchLagMs: 0,
  rateLimitPerSecond: rate,
  endpointLimitPerSecond: Number(process.env.STRIPE_ENDPOINT_RATE ?? rate),
});
process.send!({ type: 'ready', baseUrl: running.baseUrl, secretKey: running.secretKey, publishableKey: running.publishableKey });
process.on('message', (m: Command) => {
  const reply = (body: unknown): void => void process.send!({ type: 'reply', id: m.id, body });
  switch (m.cmd) {
    case 'setLimits':
      running.sim.setLimits(m.limits);
      return reply(null);
    case 'resetCalls':
      running.sim.calls.reset();
      return reply(null);
    case 'snapshot':
      return reply({
        counts: Object.fromEntries(running.sim.calls.counts),
        intents: [...running.sim.store.paymentIntents.values()].map((pi) => ({ status: pi.status, payment: pi.metadata['settle_payment'] ?? null })),
      });
    case 'close':
      void running.close().then(() => {
        reply(null);
        process.exit(0);
      });
  }
});
