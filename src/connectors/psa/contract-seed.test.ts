// The demo's contract client in each PSA simulator, read through Settle's connector for that PSA over HTTP:
// one client billed under managed services, per-device, a retainer and a project, over three months — the
// per-device contract on two earlier invoices (20 devices) and on the latest (32). Only vendor fields carry it.
import { afterAll, describe, expect, it } from 'vitest';
import { startConnectWiseSimulator } from '../../../simulators/connectwise/index.ts';
import { startAutotaskSimulator } from '../../../simulators/autotask/index.ts';
import { startHaloSimulator } from '../../../simulators/halopsa/index.ts';
import { createConnectWiseConnector } from './connectwise/connector.ts';
import { createAutotaskConnector } from './autotask/connector.ts';
import { createHaloConnector } from './halopsa/connector.ts';
import type { PsaConnector, PsaInvoice } from './types.ts';

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

async function all(psa: PsaConnector): Promise<PsaInvoice[]> {
  const out: PsaInvoice[] = [];
  for await (const page of psa.listInvoices(null)) out.push(...page);
  return out;
}

/** Per contract kind: how many of the client's invoices bill it, and the per-device quantities in date order. */
function summary(invoices: readonly PsaInvoice[]) {
  const byKind = new Map<string, number>();
  for (const inv of invoices) for (const k of new Set(inv.lines.map((l) => l.contract?.kind ?? 'none'))) byKind.set(k, (byKind.get(k) ?? 0) + 1);
  const devices = [...invoices]
    .sort((a, b) => a.issuedOn.localeCompare(b.issuedOn))
    .flatMap((inv) => inv.lines.filter((l) => l.contract?.kind === 'per_device').map((l) => l.quantity));
  return { kinds: Object.fromEntries([...byKind].sort()), devices };
}

const expected = { kinds: { block_hours: 2, managed_services: 3, per_device: 3, project: 1 }, devices: ['20', '20', '32'] };

describe('contract client seed', () => {
  it('ConnectWise', async () => {
    const cw = await startConnectWiseSimulator({ seed: { companies: 0, invoices: 0, contractClient: true } });
    closers.push(() => cw.close());
    const invoices = await all(createConnectWiseConnector({ baseUrl: cw.baseUrl, ...cw.credentials, apiMemberIdentifier: 'settle-api' }));
    expect(invoices).toHaveLength(6);
    expect(summary(invoices)).toEqual(expected);
  });

  it('Autotask', async () => {
    const at = await startAutotaskSimulator({
      seed: { companies: 0, invoices: 0, contractClient: true },
      limits: { latencyAtHalfMs: 0, latencyAtThreeQuartersMs: 0 },
    });
    closers.push(() => at.close());
    const invoices = await all(createAutotaskConnector({ globalUrl: at.baseUrl, ...at.credentials, api: { sleep: async () => {}, timeoutMs: 5_000 } }));
    expect(invoices).toHaveLength(6);
    expect(summary(invoices)).toEqual(expected);
  });

  it('HaloPSA', async () => {
    const halo = await startHaloSimulator({ seed: { clients: 0, invoices: 0, contractClient: true } });
    closers.push(() => halo.close());
    const invoices = await all(createHaloConnector({ baseUrl: halo.baseUrl, ...halo.credentials, api: { sleep: async () => {} } }));
    expect(invoices).toHaveLength(6);
    expect(summary(invoices)).toEqual(expected);
  });
});
