// ConnectWise contract identity and kind: agreement type names → kind, and what lines and invoices name.
import { describe, expect, it } from 'vitest';
import { agreementKind, invoiceContract, lineContract } from './contracts.ts';
import { mapInvoice, mapProductLine, mapTimeLine } from './mapping.ts';
import { cwInvoice, cwProductItem, cwTimeEntry } from './schema.ts';

const base = {
  id: 7001,
  invoiceNumber: 'INV-17001',
  type: 'Agreement',
  company: { id: 5, identifier: 'Harbor', name: 'Harbor Dental' },
  date: '2026-11-01T00:00:00Z',
  subtotal: 0,
  total: 0,
  salesTax: 0,
  balance: 0,
  _info: { lastUpdated: '2026-11-01T10:00:00Z' },
};

describe('ConnectWise contracts', () => {
  it('sorts agreement types into Settle kinds by the name the MSP gave the type', () => {
    expect(agreementKind('Managed Services')).toBe('managed_services');
    expect(agreementKind('MSP - All You Can Eat')).toBe('managed_services');
    expect(agreementKind(null)).toBe('managed_services');
    expect(agreementKind('Per Device')).toBe('per_device');
    expect(agreementKind('Per-User M365')).toBe('per_device');
    expect(agreementKind('Block Time')).toBe('block_hours');
    expect(agreementKind('Prepaid Retainer')).toBe('block_hours');
    expect(agreementKind('Project')).toBe('project');
    expect(agreementKind('Time & Materials')).toBe('time_and_materials');
    expect(agreementKind('Break/Fix')).toBe('time_and_materials');
  });

  it('a product under an agreement carries the agreement (id, name, kind from its type)', () => {
    const p = cwProductItem.parse({
      id: 11,
      description: 'Managed Workstation',
      quantity: 12,
      price: 45,
      billableOption: 'Billable',
      invoice: { id: 7001 },
      agreement: { id: 40, name: 'Harbor Per Device', type: 'Per Device' },
    });
    expect(mapProductLine(p, 'USD')?.contract).toEqual({ externalId: 'agreement:40', name: 'Harbor Per Device', kind: 'per_device' });
  });

  it('a product on a project is project work; time on a service ticket is time and materials', () => {
    const p = cwProductItem.parse({ id: 12, quantity: 1, price: 900, billableOption: 'Billable', project: { id: 8, name: 'Server migration' } });
    expect(mapProductLine(p, 'USD')?.contract).toEqual({ externalId: 'project:8', name: 'Server migration', kind: 'project' });
    const t = cwTimeEntry.parse({ id: 13, hoursBilled: 2, hourlyRate: 150, billableOption: 'Billable', chargeToType: 'ServiceTicket', chargeToId: 4401 });
    expect(mapTimeLine(t, 'USD')?.contract).toEqual({ externalId: 'ticket:4401', name: 'Ticket #4401', kind: 'time_and_materials' });
    const none = cwTimeEntry.parse({ id: 14, hoursBilled: 1, hourlyRate: 150, billableOption: 'Billable', chargeToType: 'Activity' });
    expect(mapTimeLine(none, 'USD')?.contract).toBeUndefined();
    expect(lineContract({})).toBeUndefined();
  });

  it("lines naming no contract take the invoice's agreement (applyToType Agreement), and keep their own otherwise", () => {
    const inv = cwInvoice.parse({ ...base, applyToType: 'Agreement', applyToId: 40 });
    expect(invoiceContract(inv)).toEqual({ externalId: 'agreement:40', name: 'Agreement 40', kind: 'managed_services' });
    const own = mapProductLine(cwProductItem.parse({ id: 15, quantity: 1, price: 10, billableOption: 'Billable', project: { id: 9, name: 'P' } }), 'USD')!;
    const bare = mapProductLine(cwProductItem.parse({ id: 16, quantity: 1, price: 10, billableOption: 'Billable' }), 'USD')!;
    const mapped = mapInvoice(inv, [own, bare], 'USD');
    expect(mapped.lines.map((l) => l.contract?.externalId)).toEqual(['project:9', 'agreement:40']);
    expect(mapInvoice(cwInvoice.parse({ ...base, applyToType: 'All' }), [bare], 'USD').lines[0]!.contract).toBeUndefined();
    expect(invoiceContract(cwInvoice.parse({ ...base, applyToType: 'Project', applyToId: 3 }))?.kind).toBe('project');
  });
});
