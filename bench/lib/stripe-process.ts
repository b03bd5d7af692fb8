// Parent side of stripe-child.ts: start the Stripe simulator in its own process and steer it over IPC.
import { startChildSim } from './child-sim.ts';
import type { StripeLimits } from '../../simulators/stripe/limits.ts';

export interface StripeSnapshot {
  readonly counts: Map<string, number>;
  readonly intents: readonly { status: string; payment: string | null }[];
}

export interface StripeProcess {
  readonly baseUrl: string;
  readonly secretKey: string;
  readonly publishableKey: string;
  setLimits(limits: Partial<StripeLimits>): Promise<void>;
  resetCalls(): Promise<void>;
  snapshot(): Promise<StripeSnapshot>;
  close(): Promise<void>;
}

/** A live-mode account whose overall and per-endpoint limits start at `ratePerSecond`. */
export async function startStripeProcess(ratePerSecond: number): Promise<StripeProcess> {
  const child = await startChildSim<{ baseUrl: string; secretKey: string; publishableKey: string }>('stripe-child.ts', {
    STRIPE_RATE: String(ratePerSecond),
    STRIPE_ENDPOINT_RATE: String(ratePerSecond),
  });
  const { baseUrl, secretKey, publishableKey } = child.ready;
  return {
    baseUrl,
    secretKey,
    publishableKey,
    setLimits: (limits) => child.ask({ cmd: 'setLimits', limits }),
    resetCalls: () => child.ask({ cmd: 'resetCalls' }),
    snapshot: async () => {
      const s = await child.ask<{ counts: Record<string, number>; intents: { status: string; payment: string | null }[] }>({ cmd: 'snapshot' });
      return { counts: new Map(Object.entries(s.counts)), intents: s.intents };
    },
    close: () => child.close(),
  };
}
