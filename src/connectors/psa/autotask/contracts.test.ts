// Autotask contract identity and kind: ContractType → kind, billing items → contract, and the page's
// contracts read from the simulator with one `in` query (not one call per line).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../../../simulators/autotask/index.ts';
import { billingItemContract, contractKind } from './contracts.ts';
import { atBillingItem, mapLine } from './mapping.ts';
import { createAutotaskConnector } from './connector.ts';

describe('Autotask contracts (pure)', () => {
  it('maps every ContractType to a kind; a Recurring Service contract is per-device when its name says so', () => {
    expect(contractKind(1, 'T&M')).toBe('time_and_materials');
    expect(contractKind(8, 'Per ticket')).toBe('time_and_materials');
    expect(contractKind(3, 'Office move')).toBe('project');
    expect(contractKind(4, 'Block')).toBe('block_hours');
    expect(contractKind(6, 'Retainer')).toBe('block_hours');
    expect(contractKind(7, 'Managed IT')).toBe('managed_services');
    expect(contractKind(7, 'Per Device Monitoring')).toBe('per_device');
    expect(contractKind(null, null)).toBe('managed_services');
  });

  it('a billing item takes its contract, else its project, else its ticket; the lookup gives names and types', () => {
    const lookup = { contracts: new Map([[9, { id: 9, contractName: 'Retainer 2026', contractType: 6 }]]), projects: new Map([[4, 'Firewall refresh']]) };
    expect(billingItemContract({ contractID: 9, projectID: 4 }, lookup)).toEqual({ externalId: 'contract:9', name: 'Retainer 2026', kind: 'block_hours' });
    expect(billingItemContract({ projectID: 4 }, lookup)).toEqual({ externalId: 'project:4', name: 'Firewall refresh', kind: 'project' });
    expect(billingItemContract({ ticketID: 77 })).toEqual({ externalId: 'ticket:77', name: 'Ticket 77', kind: 'time_and_materials' });
    expect(billingItemContract({ contractID: 10 })).toEqual({ externalId: 'contract:10', name: 'Contract 10', kind: 'managed_services' });
    expect(billingItemContract({})).toBeUndefined();
    const line = mapLine(atBillingItem.parse({ id: 1, invoiceID: 2, extendedPrice: 10, projectID: 4 }), 'USD', lookup);
    expect(line.contract?.name).toBe('Firewall refresh');
    expect(mapLine(atBillingItem.parse({ id: 1, invoiceID: 2, extendedPrice: 10 }), 'USD').contract).toBeUndefined();
  });
});

describe('Autotask contracts through the simulator', () => {
  let at: RunningAutotaskSimulator;
  beforeAll(async () => {
    at = await startAutotaskSimulator({ limits: { latencyAtHalfMs: 0, latencyAtThreeQuartersMs: 0 } });
  });
  afterAll(async () => at.close());

  it('imports each line with its contract name and kind, reading Contracts and Projects once per page', async () => {
    const s = at.sim.state;
    const c = s.createCompany('Contract Co');
    const msp = s.addContract(c.Id, 'Managed IT', 7, '2026-01-01');
    const retainer = s.addContract(c.Id, 'Retainer', 6, '2026-01-01');
    const project = s.addProject(c.Id, 'Server migration');
    for (let i = 0; i < 3; i++) {
      s.createInvoice({
        companyId: c.Id,
        invoiceDate: `2026-0${i + 1}-01`,
        lines: [
          { itemName: 'Managed IT', rate: 1500, type: 5, contractId: msp.Id },
          { itemName: 'Retainer', rate: 2000, type: 3, contractId: retainer.Id },
          { itemName: 'Migration', rate: 900, type: 1, projectId: project.Id },
          { itemName: 'Onsite', rate: 150, type: 1, ticketId: 5 },
        ],
      });
    }
    at.sim.calls.reset();
    const connector = createAutotaskConnector({ globalUrl: at.baseUrl, ...at.credentials, api: { sleep: async () => {}, timeoutMs: 5_000 } });
    const invoices = [];
    for await (const page of connector.listInvoices(null)) invoices.push(...page);
    expect(invoices).toHaveLength(3);
    expect(invoices[0]!.lines.map((l) => [l.contract?.name, l.contract?.kind])).toEqual([
      ['Managed IT', 'managed_services'],
      ['Retainer', 'block_hours'],
      ['Server migration', 'project'],
      ['Ticket 5', 'time_and_materials'],
    ]);
    // invoices, their billing items, the contracts, the projects, Settle's payment notes: not one call per line
    expect(at.sim.calls.counts.get('POST /zone15/ATServicesRest/V1.0/:entity/query')).toBeLessThanOrEqual(5);
  });
});
