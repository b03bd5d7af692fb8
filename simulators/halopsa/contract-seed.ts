// The demo's contract client in HaloPSA: one client billed under a managed-IT contract with per-device lines
// (priced from the client's assets), a pre-pay retainer and a project contract, invoiced over three months so
// Settle's per-contract jump check has previous invoices; the latest invoice bills 32 devices instead of 20.
import { addDays, type HaloState, type LineInput } from './store.ts';

export function seedContractClient(state: HaloState, today: string): { clientId: number; invoiceIds: number[] } {
  const stamp = Date.parse(`${addDays(today, -100)}T00:00:00Z`);
  const c = state.addClient({
    name: 'Northwind Dental Group',
    inactive: false,
    accountsid: 'NWD',
    accountsemailaddress: 'ap@northwinddental.example',
    accountsfirstname: 'Nora',
    accountslastname: 'Lind',
    currencyisocode: 'USD',
    updatedMs: stamp,
  });
  state.addUser({
    client_id: c.id,
    firstname: 'Nora',
    surname: 'Lind',
    emailaddress: 'nora@northwinddental.example',
    inactive: false,
    ismaincontact: true,
    updatedMs: stamp,
  });
  const agreement = (n: number): LineInput[] => [
    { itemCode: 'MSP', description: 'Managed IT (monthly)', quantity: 1, unitPrice: '1500.00', recurringInvoiceId: 61, contractId: 801 },
    // per-device lines come from the recurring invoice, priced from the client's assets (no contract of their own)
    { itemCode: 'WKS', description: 'Managed Workstation', quantity: n, unitPrice: '45.00', recurringInvoiceId: 61, contractId: 0, perAsset: true },
  ];
  const retainer: LineInput[] = [{ itemCode: 'RET', description: 'Support retainer, 10 hours', quantity: 10, unitPrice: '150.00', prepayId: 7 }];
  const invoices = [
    { invoiceDate: addDays(today, -60), lines: agreement(20), contractId: 801, contractRef: 'Northwind Managed IT', recurringInvoiceId: 61 },
    { invoiceDate: addDays(today, -60), lines: retainer, contractId: 803, contractRef: 'Northwind Support Retainer' },
    { invoiceDate: addDays(today, -30), lines: agreement(20), contractId: 801, contractRef: 'Northwind Managed IT', recurringInvoiceId: 61 },
    { invoiceDate: addDays(today, -30), lines: retainer, contractId: 803, contractRef: 'Northwind Support Retainer' },
    {
      invoiceDate: addDays(today, -2),
      lines: [{ itemCode: 'PRJ', description: 'Office move: network and cabling', quantity: 1, unitPrice: '4800.00' }],
      contractId: 804,
      contractRef: 'Project: Office move',
    },
    { invoiceDate: today, lines: agreement(32), contractId: 801, contractRef: 'Northwind Managed IT', recurringInvoiceId: 61 },
  ];
  const invoiceIds = invoices.map((i) => state.createInvoice({ clientId: c.id, ...i }, { stampMs: Date.parse(`${i.invoiceDate}T09:00:00Z`), silent: true }).id);
  return { clientId: c.id, invoiceIds };
}
