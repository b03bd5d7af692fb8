// The three PSA simulators the demo and the test stack can run Settle on (SETTLE_DEMO_PSA), started with the
// same seed shape, and what a person would type into `settle connect psa <vendor> …` (or the set-up wizard) to
// connect each one — the demo and the tests connect through that very door (engine/connect-system.ts).
import crypto from 'node:crypto';
import { startConnectWiseSimulator, type RunningConnectWiseSimulator } from '../../../simulators/connectwise/index.ts';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../../simulators/autotask/index.ts';
import { startHaloSimulator, type RunningHaloSimulator } from '../../../simulators/halopsa/index.ts';

export const DEMO_PSAS = ['connectwise', 'autotask', 'halopsa'] as const;
export type DemoPsa = (typeof DEMO_PSAS)[number];

export interface PsaSimulators {
  readonly connectwise: RunningConnectWiseSimulator;
  readonly autotask: RunningAutotaskSimulator;
  readonly halopsa: RunningHaloSimulator;
}

export interface PsaSeed {
  readonly companies: number;
  readonly invoices: number;
  readonly seed?: number;
  /** Share of older invoices already paid in the PSA (ConnectWise and HaloPSA seeds). */
  readonly paidShare?: number;
  /** Add the contract client (simulators/<vendor>/contract-seed.ts): agreement + per-device + retainer + project. */
  readonly contractClient?: boolean;
}

export async function startPsaSimulator<P extends DemoPsa>(vendor: P, opts: { port?: number; seed: PsaSeed }): Promise<PsaSimulators[P]> {
  const { companies, invoices, seed = 42, paidShare = 0, contractClient = false } = opts.seed;
  const port = opts.port ? { port: opts.port } : {};
  switch (vendor) {
    case 'connectwise':
      return (await startConnectWiseSimulator({ ...port, seed: { companies, invoices, seed, paidShare, contractClient } })) as PsaSimulators[P];
    case 'autotask':
      return (await startAutotaskSimulator({ ...port, seed: { companies, invoices, contractClient } })) as PsaSimulators[P];
    case 'halopsa':
      return (await startHaloSimulator({ ...port, seed: { clients: companies, invoices, seed, paidShare, contractClient } })) as PsaSimulators[P];
    default:
      throw new Error(`no simulator for PSA "${String(vendor)}"`);
  }
}

export interface PsaConnectionInput {
  readonly vendor: DemoPsa;
  readonly config: Record<string, unknown>;
  readonly secrets: Record<string, unknown>;
}

/**
 * The settings a person enters to connect the simulated PSA, as for the real one (only the URLs differ). The
 * Autotask company webhook needs a secret Settle chooses (the vendor never reads it back); a fresh one per start.
 */
export function psaConnectionFor(vendor: DemoPsa, sims: Partial<PsaSimulators>): PsaConnectionInput {
  if (vendor === 'connectwise') {
    const s = need(sims.connectwise, vendor);
    const c = s.credentials;
    return {
      vendor,
      config: { baseUrl: s.baseUrl, companyId: c.companyId, clientId: c.clientId },
      secrets: { publicKey: c.publicKey, privateKey: c.privateKey },
    };
  }
  if (vendor === 'autotask') {
    const s = need(sims.autotask, vendor);
    const c = s.credentials;
    return {
      vendor,
      config: { username: c.username, integrationCode: c.integrationCode, globalUrl: s.baseUrl },
      secrets: { secret: c.secret, webhookSecret: crypto.randomBytes(16).toString('hex') },
    };
  }
  const s = need(sims.halopsa, vendor);
  const c = s.credentials;
  return {
    vendor,
    config: { baseUrl: s.baseUrl, clientId: c.clientId, ...(c.tenant ? { tenant: c.tenant } : {}) },
    secrets: { clientSecret: c.clientSecret },
  };
}

/** Where a person looks at the simulated PSA (banner). */
export function psaSimulatorUrl(vendor: DemoPsa, sims: Partial<PsaSimulators>): string {
  if (vendor === 'connectwise') return need(sims.connectwise, vendor).baseUrl;
  if (vendor === 'autotask') return need(sims.autotask, vendor).zoneUrl;
  return need(sims.halopsa, vendor).baseUrl;
}

export const PSA_LABEL: Record<DemoPsa, string> = { connectwise: 'ConnectWise', autotask: 'Autotask', halopsa: 'HaloPSA' };

function need<T>(sim: T | undefined, vendor: DemoPsa): T {
  if (!sim) throw new Error(`the ${vendor} simulator is not running`);
  return sim;
}
