// The initial import reads Halo's invoice pages side by side (connector.ts, PAGES_AT_ONCE). A change during
// such a walk can shift a record past a page edge unseen, so the walk is checked at its end and walked again.
import { afterEach, describe, expect, it } from 'vitest';
import { startHaloSimulator, type RunningHaloSimulator } from '../../../../simulators/halopsa/index.ts';
import type { PsaInvoice } from '../types.ts';
import { createHaloConnector } from './connector.ts';

let halo: RunningHaloSimulator | null = null;
afterEach(async () => {
  await halo?.close();
  halo = null;
});

async function importAll(h: RunningHaloSimulator, during?: (pageNo: number) => void): Promise<PsaInvoice[]> {
  const c = createHaloConnector({ baseUrl: h.baseUrl, ...h.credentials, api: { sleep: async () => {} } });
  const get = c.api.get.bind(c.api);
  c.api.get = async (path, query = {}) => {
    const body = await get(path, query);
    if (path === '/Invoice' && typeof query.page_no === 'number' && query.includelines) during?.(query.page_no);
    return body;
  };
  const all: PsaInvoice[] = [];
  for await (const page of c.listInvoices(null)) all.push(...page);
  return all;
}

describe('HaloPSA initial import read side by side', () => {
  it('reads every invoice once, in few requests, when nothing changes', async () => {
    halo = await startHaloSimulator({ seed: { clients: 3, invoices: 450, seed: 3 }, rateLimit: null });
    halo.sim.calls.reset();
    const all = await importAll(halo);
    expect(new Set(all.map((i) => i.externalId)).size).toBe(450);
    expect(all).toHaveLength(450);
    // 5 pages and the check of page 1.
    expect(halo.sim.calls.counts.get('GET /api/Invoice')).toBe(6);
  });

  it('an invoice changed during the walk (moving to the front) makes it walk again: none is missed', async () => {
    halo = await startHaloSimulator({ seed: { clients: 3, invoices: 450, seed: 4 }, rateLimit: null });
    const oldest = [...halo.state.invoices.values()].sort((a, b) => a.updatedMs - b.updatedMs || a.id - b.id)[0]!;
    let changed = false;
    halo.sim.calls.reset();
    const all = await importAll(halo, (pageNo) => {
      if (pageNo === 1 && !changed) {
        changed = true;
        halo!.sim.updateInvoice(oldest.id, { dueDate: '2031-01-31' });
      }
    });
    expect(changed).toBe(true);
    expect(new Set(all.map((i) => i.externalId)).size).toBe(450);
    expect(halo.sim.calls.counts.get('GET /api/Invoice')).toBeGreaterThan(6);
  });
});
