// A bench workspace whose PSA is Autotask or HaloPSA, run by bench/lib/psa-child.ts in a process of its own:
// the bench stack (Stripe, QuickBooks, Settle over HTTP) is built as for ConnectWise with an empty ConnectWise,
// then the PSA connection is replaced by the child simulator's, saved the way `settle connect psa …` saves it.
import { saveConnection } from '../../src/engine/connections.ts';
import type { Latency } from '../../simulators/kit.ts';
import { startChildSim, type ChildSim } from './child-sim.ts';
import type { PsaChildReady, PsaChildSpec, PsaChildStats } from './psa-child.ts';
import { startBenchStack, type BenchStack } from './stack.ts';

export interface PsaBench {
  readonly stack: BenchStack;
  readonly child: ChildSim<PsaChildReady>;
  stats(): Promise<PsaChildStats>;
  close(): Promise<void>;
}

export async function startPsaBench(opts: {
  pgServerUrl: string;
  label: string;
  vendor: 'autotask' | 'halopsa';
  companies: number;
  invoices: number;
  linesPerInvoice: number;
  latencyMs: Latency;
  worker: boolean;
  /** Autotask: how often a poll sweeps all open invoices (the connection's setting, default 1 h). */
  sweepEveryHours?: number;
}): Promise<PsaBench> {
  const spec: PsaChildSpec = {
    vendor: opts.vendor,
    companies: opts.companies,
    invoices: opts.invoices,
    linesPerInvoice: opts.linesPerInvoice,
    latencyMs: opts.latencyMs,
  };
  const child = await startChildSim<PsaChildReady>('psa-child.ts', { PSA_CHILD: JSON.stringify(spec) });
  let stack: BenchStack;
  try {
    stack = await startBenchStack({
      pgServerUrl: opts.pgServerUrl,
      label: opts.label,
      companies: 1,
      invoices: 0,
      worker: opts.worker,
      mirrorBooks: false,
      initialSync: false,
    });
  } catch (e) {
    await child.close();
    throw e;
  }
  const r = child.ready;
  const c = r.credentials;
  await saveConnection(stack.db, stack.settle.box, stack.tenantId, {
    role: 'psa',
    vendor: opts.vendor,
    ...(opts.vendor === 'autotask'
      ? {
          config: {
            username: c.username,
            integrationCode: c.integrationCode,
            globalUrl: r.baseUrl,
            ...(opts.sweepEveryHours === undefined ? {} : { sweepEveryHours: opts.sweepEveryHours }),
          },
          secrets: { secret: c.secret },
        }
      : { config: { baseUrl: r.baseUrl, clientId: c.clientId, tenant: c.tenant }, secrets: { clientSecret: c.clientSecret } }),
    actor: 'system:bench',
  });
  stack.settle.ctx.connectors.forget(stack.tenantId);
  return {
    stack,
    child,
    stats: () => child.ask<PsaChildStats>({ cmd: 'stats' }),
    close: async () => {
      await stack.close();
      await child.close();
    },
  };
}
