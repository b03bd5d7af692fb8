// The demo's contract client in Autotask: one company with a Recurring Service contract (managed IT), a
// per-device Recurring Service contract, a Retainer contract and a project, invoiced over three months so
// Settle's per-contract jump check has previous invoices; the latest invoice bills 32 devices instead of 20.
import type { AutotaskState } from './store.ts';

const day = (today: string, offset: number): string => new Date(Date.parse(`${today}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);

export function seedContractClient(state: AutotaskState, today: string): { companyId: number; invoiceIds: number[] } {
  const c = state.createCompany('Northwind Dental Group');
  state.createContact(c.Id, 'Nora', 'Lind', 'ap@northwinddental.example');
  const start = day(today, -100);
  const managed = state.addContract(c.Id, 'Northwind Managed IT', 7, start);
  const devices = state.addContract(c.Id, 'Northwind Per Device Monitoring', 7, start);
  const retainer = state.addContract(c.Id, 'Northwind Support Retainer', 6, start);
  const project = state.addProject(c.Id, 'Office move');
  const agreement = (n: number) => [
    { itemName: 'Managed IT (monthly)', quantity: 1, rate: 1500, type: 5, contractId: managed.Id },
    { itemName: 'Managed Workstation', quantity: n, rate: 45, type: 5, contractId: devices.Id },
  ];
  const retainerLines = [{ itemName: 'Support retainer, 10 hours', quantity: 10, rate: 150, type: 3, contractId: retainer.Id }];
  const invoices = [
    { invoiceDate: day(today, -60), lines: agreement(20) },
    { invoiceDate: day(today, -60), lines: retainerLines },
    { invoiceDate: day(today, -30), lines: agreement(20) },
    { invoiceDate: day(today, -30), lines: retainerLines },
    { invoiceDate: day(today, -2), lines: [{ itemName: 'Office move: network and cabling', quantity: 1, rate: 4800, type: 1, projectId: project.Id }] },
    { invoiceDate: today, lines: agreement(32) },
  ];
  const invoiceIds = invoices.map((i) => state.createInvoice({ companyId: c.Id, ...i }).invoice.Id);
  return { companyId: c.Id, invoiceIds };
}
