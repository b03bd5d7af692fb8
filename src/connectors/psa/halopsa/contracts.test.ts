// HaloPSA contract identity and kind from the line's own fields and the invoice's contract reference.
import { describe, expect, it } from 'vitest';
import { haloLineContract } from './contracts.ts';
import { mapInvoice } from './mapping.ts';
import { haloInvoice, haloLine } from './schema.ts';

const line = (extra: Record<string, unknown>) => haloLine.parse({ id: 1, qty_order: 1, unit_price: 10, net_amount: 10, ...extra });

describe('HaloPSA contracts', () => {
  it('names the contract by the invoice contract_ref and reads the kind from the line', () => {
    const inv = { contract_id: 70, contract_ref: 'Managed IT Gold', recurring_invoice_id: 0 };
    expect(haloLineContract(line({ contract_id: 70 }), inv)).toEqual({ externalId: 'contract:70', name: 'Managed IT Gold', kind: 'managed_services' });
    expect(haloLineContract(line({ contract_id: 70, calculate_price_from_assets: true }), inv)?.kind).toBe('per_device');
    expect(haloLineContract(line({ contract_id: 70, prepay_id: 3 }), inv)?.kind).toBe('block_hours');
    // a line of another contract than the invoice's has no reference to go by
    expect(haloLineContract(line({ contract_id: 71 }), inv)).toEqual({ externalId: 'contract:71', name: 'Contract 71', kind: 'managed_services' });
  });

  it("takes the kind from the reference's words where the line's fields say nothing more", () => {
    expect(haloLineContract(line({ contract_id: 72 }), { contract_id: 72, contract_ref: 'Project - Office move' })?.kind).toBe('project');
    expect(haloLineContract(line({ contract_id: 73 }), { contract_id: 73, contract_ref: 'Support Retainer' })?.kind).toBe('block_hours');
  });

  it('falls back to the recurring invoice, the pre-pay, the ticket; none when the line names nothing', () => {
    expect(haloLineContract(line({ recurring_invoice_id: 9 }), {})).toEqual({
      externalId: 'recurring:9',
      name: 'Recurring invoice 9',
      kind: 'managed_services',
    });
    expect(haloLineContract(line({ calculate_price_from_assets: true }), { recurring_invoice_id: 9 })?.kind).toBe('per_device');
    expect(haloLineContract(line({ prepay_id: 4 }), {})?.kind).toBe('block_hours');
    expect(haloLineContract(line({ ticket_id: 5 }), {})).toEqual({ externalId: 'ticket:5', name: 'Ticket 5', kind: 'time_and_materials' });
    expect(haloLineContract(line({ contract_id: 0 }), {})).toBeUndefined();
  });

  it('mapInvoice carries each line its contract', () => {
    const inv = haloInvoice.parse({
      id: 5,
      client_id: 2,
      invoice_date: '2026-11-01T00:00:00',
      total: 20,
      last_modified: '2026-11-01T10:00:00',
      contract_id: 70,
      contract_ref: 'Per Device Support',
      lines: [
        { id: 1, qty_order: 1, net_amount: 10, contract_id: 70 },
        { id: 2, qty_order: 1, net_amount: 10 },
      ],
    });
    const m = mapInvoice(inv, 'USD');
    expect(m.lines.map((l) => l.contract?.kind)).toEqual(['per_device', undefined]);
  });
});
