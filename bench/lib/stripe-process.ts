// Parent side of stripe-child.ts: start the Stripe simulator in its own process and steer it over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface StripeSnapshot {
  readonly counts: Map<string, number>;
  readonly intents: readonly { status: string; payment: string | null }[];
}

export interface StripeProcess {
  readonly baseUrl: string;
  readonly secretKey: string;
  readonly publishableKey: string;
  setRateLimit(n: number): Promise<void>;
  resetCalls(): Promise<void>;
  snapshot(): Promise<StripeSnapshot>;
  close(): Promise<void>;
}

export async function startStripeProcess(ratePerSecond: number): Promise<StripeProcess> {
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'stripe-child.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, STRIPE_RATE: String(ratePerSecond) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ baseUrl: string; secretKey: string; publishableKey: string }>((resolve, reject) => {
    child.once('message', (m: { type: string; baseUrl: string; secretKey: string; publishableKey: string }) =>
      m.type === 'ready' ? resolve(m) : reject(new Error('unexpected message')),
    );
    child.once('exit', (code) => reject(new Error(`Stripe simulator process exited (${code})`)));
  });
  let next = 0;
  const ask = <T>(msg: Record<string, unknown>): Promise<T> =>
    new Promise<T>((resolve) => {
      const id = ++next;
      const onMessage = (m: { type: string; id: number; body: T }): void => {
        if (m.type === 'reply' && m.id === id) {
          child.off('message', onMessage);
          resolve(m.body);
        }
      };
      child.on('message', onMessage);
      child.send({ ...msg, id });
    });
  return {
    ...ready,
    setRateLimit: (n) => ask({ cmd: 'setRateLimit', n }),
    resetCalls: () => ask({ cmd: 'resetCalls' }),
    snapshot: async () => {
      const s = await ask<{ counts: Record<string, number>; intents: { status: string; payment: string | null }[] }>({ cmd: 'snapshot' });
      return { counts: new Map(Object.entries(s.counts)), intents: s.intents };
    },
    close: async () => {
      if (child.exitCode !== null) return;
      await Promise.race([ask({ cmd: 'close' }), new Promise((r) => setTimeout(r, 3000))]);
      child.kill('SIGKILL');
    },
  };
}
