// The Stripe simulator in a process of its own, for benchmarks where it must not share Settle's event loop
// (the real Stripe runs elsewhere; on a 2-core machine an in-process simulator eats the CPU being measured).
// Started by stripe-process.ts with fork(); answers a few control messages over IPC.
import { startStripeSimulator } from '../../simulators/stripe/index.ts';

type Command =
  { id: number; cmd: 'setRateLimit'; n: number } | { id: number; cmd: 'resetCalls' } | { id: number; cmd: 'snapshot' } | { id: number; cmd: 'close' };

const running = await startStripeSimulator({ achSettleDelayMs: null, searchLagMs: 0, rateLimitPerSecond: Number(process.env.STRIPE_RATE ?? 100) });
process.send!({ type: 'ready', baseUrl: running.baseUrl, secretKey: running.secretKey, publishableKey: running.publishableKey });
process.on('message', (m: Command) => {
  const reply = (body: unknown): void => void process.send!({ type: 'reply', id: m.id, body });
  switch (m.cmd) {
    case 'setRateLimit':
      running.sim.setRateLimit(m.n);
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
