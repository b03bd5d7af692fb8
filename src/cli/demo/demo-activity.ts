// Activity that makes the demo feel like a working MSP: the PSA's invoices mirrored into the books (what
// the MSP's PSA→accounting export does in real life), and a new invoice every few seconds in whichever PSA
// the demo runs on (SETTLE_DEMO_PSA).
import { money, toDecimalString } from '../../domain/money.ts';
import type { PsaConnector } from '../../connectors/psa/types.ts';
import type { RunningQuickBooksSimulator } from '../../../simulators/quickbooks-online/index.ts';
import type { PaymentSimulators } from './wire-workspace.ts';
import type { DemoPsa, PsaSimulators } from './psa-simulators.ts';

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

/** A new invoice in the demo's PSA (whichever of the three it runs on), mirrored into the books. */
export async function newDemoInvoice(sims: PaymentSimulators & Partial<PsaSimulators>, psa: DemoPsa = 'connectwise'): Promise<void> {
  const picked = SERVICES.filter(() => Math.random() < 0.6);
  const lines = (picked.length ? picked : [SERVICES[0]]).map((s) => ({
    description: s.description,
    price: s.price,
    quantity: 1 + Math.floor(Math.random() * 20),
  }));
  const made = createPsaInvoice(sims, psa, { lines });
  if (!made) return;
  sims.quickbooks.sim.seedInvoice({
    docNumber: made.number,
    customerName: made.customerName,
    amount: made.total,
    txnDate: made.date,
    ...(made.dueDate ? { dueDate: made.dueDate } : {}),
  });
}

type DemoLine = { description: string; price: string; quantity: number };
type Made = { number: string; customerName: string; date: string; dueDate: string | null; total: string };

/** A new invoice for a company (its PSA id; default one at random), dated as asked (default today). */
export interface PsaInvoiceRequest {
  readonly companyRemoteId?: string;
  readonly date?: string;
  readonly dueDate?: string;
  readonly lines: readonly DemoLine[];
}

/** Created in whichever PSA simulator the demo runs on; null when it has no companies. Total: decimal text (no tax). */
export function createPsaInvoice(sims: Partial<PsaSimulators>, psa: DemoPsa, req: PsaInvoiceRequest): Made | null {
  const made = createInPsa(sims, psa, req);
  if (!made) return null;
  const cents = req.lines.reduce((sum, l) => sum + BigInt(l.quantity) * BigInt(l.price.replace('.', '')), 0n);
  return { ...made, total: toDecimalString(money(cents, 'USD')) };
}

function pick<T>(all: readonly T[]): T | undefined {
  return all[Math.floor(Math.random() * all.length)];
}

function createInPsa(sims: Partial<PsaSimulators>, psa: DemoPsa, req: PsaInvoiceRequest): Omit<Made, 'total'> | null {
  const { lines } = req;
  const wanted = req.companyRemoteId === undefined ? null : Number(req.companyRemoteId);
  const dates = { ...(req.date ? { invoiceDate: req.date } : {}), ...(req.dueDate ? { dueDate: req.dueDate } : {}) };
  if (psa === 'autotask') {
    const at = sims.autotask!;
    const company = wanted === null ? pick([...at.sim.state.table('Companies').values()]) : at.sim.state.table('Companies').get(wanted);
    if (!company) return null;
    const { invoice } = at.sim.createInvoice({
      companyId: Number(company['Id']),
      ...dates,
      lines: lines.map((l) => ({ itemName: l.description, quantity: l.quantity, rate: Number(l.price) })),
    });
    return {
      number: String(invoice['InvoiceNumber']),
      customerName: String(company['CompanyName']),
      date: String(invoice['InvoiceDateTime']).slice(0, 10),
      dueDate: invoice['DueDate'] ? String(invoice['DueDate']).slice(0, 10) : null,
    };
  }
  if (psa === 'halopsa') {
    const halo = sims.halopsa!;
    const client = wanted === null ? pick([...halo.state.clients.values()]) : halo.state.clients.get(wanted);
    if (!client) return null;
    const inv = halo.sim.createInvoice({
      clientId: client.id,
      ...dates,
      lines: lines.map((l) => ({ description: l.description, quantity: String(l.quantity), unitPrice: l.price })),
    });
    return { number: inv.invoicenumber, customerName: client.name, date: inv.invoiceDate, dueDate: inv.dueDate };
  }
  const cw = sims.connectwise!;
  const company = wanted === null ? pick(cw.state.companies.all()) : cw.state.companies.all().find((c) => c.id === wanted);
  if (!company) return null;
  const invoice = cw.sim.createInvoice({
    companyId: company.id,
    ...(req.date ? { date: req.date } : {}),
    ...(req.dueDate ? { dueDate: req.dueDate } : {}),
    lines: lines.map((l) => ({ kind: 'product' as const, description: l.description, quantity: String(l.quantity), price: l.price })),
  });
  return { number: invoice.invoiceNumber, customerName: company.name, date: invoice.date.slice(0, 10), dueDate: invoice.dueDate.slice(0, 10) };
}
