// Activity that makes the demo feel like a working MSP: the PSA's invoices mirrored into the books (what
// the MSP's PSA→accounting export does in real life), and a new invoice every few seconds.
import { toDecimalString } from '../../domain/money.ts';
import type { PsaConnector } from '../../connectors/psa/types.ts';
import type { RunningQuickBooksSimulator } from '../../../simulators/quickbooks-online/index.ts';
import type { Simulators } from './wire-workspace.ts';

export async function mirrorInvoicesIntoBooks(psa: PsaConnector, books: RunningQuickBooksSimulator): Promise<number> {
  const names = new Map<string, { name: string; email: string | null }>();
  for await (const page of psa.listClients(null)) for (const c of page) names.set(c.externalId, { name: c.name, email: c.billingEmail });
  let n = 0;
  for await (const page of psa.listInvoices(null)) {
    for (const inv of page) {
      if (inv.total.amountMinor <= 0n) continue;
      const client = names.get(inv.clientExternalId);
      books.sim.seedInvoice({
        docNumber: inv.number,
        customerName: client?.name ?? `Client ${inv.clientExternalId}`,
        amount: toDecimalString(inv.total),
        txnDate: inv.issuedOn,
        ...(inv.dueOn ? { dueDate: inv.dueOn } : {}),
        ...(client?.email ? { email: client.email } : {}),
      });
      n++;
    }
  }
  return n;
}

const SERVICES = [
  { description: 'Managed services — per user', price: '45.00' },
  { description: 'Microsoft 365 Business Premium', price: '22.00' },
  { description: 'Endpoint protection (EDR)', price: '6.50' },
  { description: 'Backup storage — per TB', price: '38.00' },
  { description: 'Firewall subscription', price: '120.00' },
] as const;

export async function newDemoInvoice(sims: Simulators): Promise<void> {
  const companies = sims.connectwise.state.companies.all();
  const company = companies[Math.floor(Math.random() * companies.length)];
  if (!company) return;
  const lines = SERVICES.filter(() => Math.random() < 0.6).map((s) => ({
    kind: 'product' as const,
    description: s.description,
    quantity: String(1 + Math.floor(Math.random() * 20)),
    price: s.price,
  }));
  const invoice = sims.connectwise.sim.createInvoice({
    companyId: company.id,
    lines: lines.length ? lines : [{ kind: 'product', description: SERVICES[0].description, quantity: '10', price: SERVICES[0].price }],
  });
  sims.quickbooks.sim.seedInvoice({
    docNumber: invoice.invoiceNumber,
    customerName: company.name,
    amount: String(invoice.total),
    txnDate: invoice.date.slice(0, 10),
    dueDate: invoice.dueDate.slice(0, 10),
  });
}
