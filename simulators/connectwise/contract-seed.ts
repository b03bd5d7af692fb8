// The demo's contract client: one company billed under a managed-services agreement, a per-device agreement,
// a block-time retainer and a project, with invoices over three months — so Settle's per-contract jump check
// has previous invoices to compare with. The latest agreement invoice bills 32 devices instead of 20 (a jump
// within the per-device agreement); the project invoice is large but the first of its project (not a jump).
import { addDays, type ConnectWiseState, type LineInput } from './store.ts';

export function seedContractClient(state: ConnectWiseState, today: string): { companyId: number; invoiceIds: number[] } {
  const at = new Date(Date.parse(`${addDays(today, -100)}T00:00:00Z`));
  const company = state.addCompany('NorthwindContracts', 'Northwind Dental Group', at);
  state.addContact(company.id, 'Nora', 'Lind', 'ap@northwinddental.example', { default: true, billing: true }, at);
  const start = addDays(today, -100);
  const managed = state.addAgreement(company.id, 'Northwind Managed IT', 150_000n, start, at);
  const devices = state.addAgreement(company.id, 'Northwind Per Device', 90_000n, start, at, 'Per Device');
  const retainer = state.addAgreement(company.id, 'Northwind Support Retainer', 150_000n, start, at, 'Block Time', 'Hours');
  const agreementLines = (deviceCount: number): LineInput[] => [
    { kind: 'product', description: 'Managed IT (monthly)', quantity: 1, price: '1500.00', under: { agreementId: managed.id } },
    { kind: 'product', description: 'Managed Workstation', quantity: deviceCount, price: '45.00', under: { agreementId: devices.id } },
  ];
  const retainerLines: LineInput[] = [
    { kind: 'product', description: 'Support retainer, 10 hours', quantity: 10, price: '150.00', under: { agreementId: retainer.id } },
  ];
  const invoices: { date: string; type: 'Agreement' | 'Standard'; lines: LineInput[] }[] = [
    { date: addDays(today, -60), type: 'Agreement', lines: agreementLines(20) },
    { date: addDays(today, -60), type: 'Agreement', lines: retainerLines },
    { date: addDays(today, -30), type: 'Agreement', lines: agreementLines(20) },
    { date: addDays(today, -30), type: 'Agreement', lines: retainerLines },
    {
      date: addDays(today, -2),
      type: 'Standard',
      lines: [
        {
          kind: 'product',
          description: 'Office move: network and cabling',
          quantity: 1,
          price: '4800.00',
          under: { project: { id: 9001, name: 'Office move' } },
        },
      ],
    },
    { date: today, type: 'Agreement', lines: agreementLines(32) },
  ];
  const invoiceIds = invoices.map(
    (i) =>
      state.createInvoice(
        { companyId: company.id, type: i.type, date: i.date, lines: i.lines, status: 'Sent', lastUpdated: new Date(Date.parse(`${i.date}T09:00:00Z`)) },
        false,
      ).id,
  );
  return { companyId: company.id, invoiceIds };
}
