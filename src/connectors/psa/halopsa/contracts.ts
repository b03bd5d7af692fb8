// The contract of a HaloPSA invoice line. Halo puts what a line is billed under on the line itself
// (InvoiceDetail `contract_id`, `recurring_invoice_id`, `prepay_id`, `ticket_id`, and
// `calculate_price_from_assets` for lines priced per device), and the contract's reference as staff know it on
// the invoice (`contract_ref`, for the invoice's own `contract_id`). Halo's contract types are the MSP's own, so
// where the line's fields do not settle the kind, the reference's words do (domain/contracts.ts kindFromName);
// the table is in docs/architecture.md "Contracts".
import { kindFromName, type ContractKind, type ContractRef } from '../../../domain/contracts.ts';
import type { HaloInvoice, HaloLine } from './schema.ts';

const positive = (n: number | null | undefined): n is number => typeof n === 'number' && n > 0;

export function haloLineContract(l: HaloLine, inv: Pick<HaloInvoice, 'contract_id' | 'contract_ref' | 'recurring_invoice_id'>): ContractRef | undefined {
  const perDevice = l.calculate_price_from_assets === true;
  const ref = positive(l.contract_id) && l.contract_id === inv.contract_id ? inv.contract_ref?.trim() || null : null;
  const kindOf = (fallback: ContractKind): ContractKind => {
    if (positive(l.prepay_id)) return 'block_hours';
    if (perDevice) return 'per_device';
    return kindFromName(ref) ?? fallback;
  };
  if (positive(l.contract_id)) {
    const recurring = positive(l.recurring_invoice_id);
    return {
      externalId: `contract:${l.contract_id}`,
      name: ref ?? `Contract ${l.contract_id}`,
      kind: kindOf(recurring || !positive(l.ticket_id) ? 'managed_services' : 'time_and_materials'),
    };
  }
  // Billed from a recurring invoice without a contract: the recurring invoice is the agreement.
  const recurring = positive(l.recurring_invoice_id) ? l.recurring_invoice_id : positive(inv.recurring_invoice_id) ? inv.recurring_invoice_id : 0;
  if (recurring > 0) return { externalId: `recurring:${recurring}`, name: `Recurring invoice ${recurring}`, kind: kindOf('managed_services') };
  if (positive(l.prepay_id)) return { externalId: `prepay:${l.prepay_id}`, name: `Pre-pay ${l.prepay_id}`, kind: 'block_hours' };
  if (positive(l.ticket_id)) return { externalId: `ticket:${l.ticket_id}`, name: `Ticket ${l.ticket_id}`, kind: 'time_and_materials' };
  return undefined;
}
