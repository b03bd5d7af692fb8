// The Autotask or HaloPSA simulator in a process of its own (seeded there, with a per-call latency), so a
// benchmark's memory and CPU figures are Settle's alone and the vendor's answers come over the network with
// a realistic delay. PSA_CHILD = { vendor, seed, latencyMs }. Counts calls and answers by status (429s).
import { startAutotaskSimulator } from '../../simulators/autotask/index.ts';
import { startHaloSimulator } from '../../simulators/halopsa/index.ts';
import type { CallLog, Latency } from '../../simulators/kit.ts';

export interface PsaChildSpec {
  readonly vendor: 'autotask' | 'halopsa';
  readonly companies: number;
  readonly invoices: number;
  readonly linesPerInvoice: number;
  readonly latencyMs: Latency;
}

export interface PsaChildReady {
  readonly vendor: 'autotask' | 'halopsa';
  /** Autotask: the global URL zone discovery starts from; HaloPSA: scheme, host and port. */
  readonly baseUrl: string;
  readonly origin: string;
  readonly credentials: Record<string, string | null>;
}

export interface PsaChildStats {
  readonly calls: Record<string, number>;
  readonly statuses: Record<string, number>;
  /** Autotask: what its limits refused (rolling hour, thread limit) and served. */
  readonly limits: { hourly: number; thread: number; served: number } | null;
  readonly invoices: number;
  readonly lines: number;
  readonly rssMb: number;
}

type Command =
  | { id: number; cmd: 'resetCalls' }
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'close' }
  | { id: number; cmd: 'create'; companyIndex: number }
  | { id: number; cmd: 'change'; invoiceId: number }
  | { id: number; cmd: 'latency'; latencyMs: Latency };

const spec = JSON.parse(process.env.PSA_CHILD ?? '{}') as PsaChildSpec;

interface Vendor {
  ready: PsaChildReady;
  calls: CallLog;
  stats(): Omit<PsaChildStats, 'calls' | 'statuses' | 'rssMb'>;
  /** A new invoice now; its id (a string, as Settle's external id). */
  create(companyIndex: number): string;
  /** A changed invoice now (a line added): what the vendor then tells or lets be found. */
  change(id: number): string;
  setLatency(l: Latency): void;
  close(): Promise<void>;
}

async function start(): Promise<Vendor> {
  if (spec.vendor === 'autotask') {
    const at = await startAutotaskSimulator({
      seed: { companies: spec.companies, invoices: spec.invoices, linesPerInvoice: spec.linesPerInvoice },
      latencyMs: spec.latencyMs,
    });
    const companies = [...at.sim.state.table('Companies').keys()];
    return {
      ready: { vendor: 'autotask', baseUrl: at.baseUrl, origin: at.origin, credentials: { ...at.credentials } },
      calls: at.sim.calls,
      stats: () => ({
        limits: { hourly: at.sim.limits.refused.hourly, thread: at.sim.limits.refused.thread, served: at.sim.limits.served },
        invoices: at.sim.state.table('Invoices').size,
        lines: at.sim.state.table('BillingItems').size,
      }),
      create: (i) => String(at.sim.createInvoice({ companyId: companies[i % companies.length]! }).invoice.Id),
      change: (id) => String(at.sim.changeInvoice(id, { paidDate: new Date().toISOString() }).Id),
      setLatency: () => {},
      close: () => at.close(),
    };
  }
  const halo = await startHaloSimulator({
    seed: { clients: spec.companies, invoices: spec.invoices, linesPerInvoice: spec.linesPerInvoice, paidShare: 0, seed: 42 },
    latencyMs: spec.latencyMs,
  });
  const clients = [...halo.state.clients.keys()];
  return {
    ready: { vendor: 'halopsa', baseUrl: halo.baseUrl, origin: halo.baseUrl, credentials: { ...halo.credentials } },
    calls: halo.sim.calls,
    stats: () => ({
      limits: null,
      invoices: halo.state.invoices.size,
      lines: [...halo.state.invoices.values()].reduce((n, i) => n + i.lines.length, 0),
    }),
    create: (i) => String(halo.sim.createInvoice({ clientId: clients[i % clients.length]! }).id),
    change: (id) => String(halo.sim.updateInvoice(id, { addLines: [{ description: 'Extra hour', quantity: '1', unitPrice: '125.00', itemCode: 'LAB' }] }).id),
    setLatency: (l) => halo.sim.setLatency(l),
    close: () => halo.close(),
  };
}

const v = await start();
process.send!({ type: 'ready', ...v.ready });
process.on('message', (m: Command) => {
  const reply = (body: unknown): void => void process.send!({ type: 'reply', id: m.id, body });
  try {
    switch (m.cmd) {
      case 'resetCalls':
        v.calls.reset();
        return reply(null);
      case 'stats':
        return reply({
          calls: Object.fromEntries(v.calls.counts),
          statuses: Object.fromEntries(v.calls.statuses),
          ...v.stats(),
          rssMb: Math.round(process.memoryUsage().rss / 1048576),
        } satisfies PsaChildStats);
      case 'create':
        return reply({ id: v.create(m.companyIndex) });
      case 'change':
        return reply({ id: v.change(m.invoiceId) });
      case 'latency':
        v.setLatency(m.latencyMs);
        return reply(null);
      case 'close':
        void v.close().then(() => {
          reply(null);
          process.exit(0);
        });
    }
  } catch (e) {
    reply({ error: (e as Error).message });
  }
});
