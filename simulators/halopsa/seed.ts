// Deterministic demo/test data: the same seed always yields the same clients, users, invoices and lines.
// Invoice `last_modified` stamps fall on quarter hours so that many invoices share one (as after a Halo
// invoice run), which is what exposes paging bugs at page edges.
import { prng } from '../connectwise/seed.ts';
import { addDays, type HaloState } from './store.ts';
import { seedContractClient } from './contract-seed.ts';

export interface SeedOptions {
  readonly clients: number;
  readonly invoices: number;
  /** First and last invoice date, YYYY-MM-DD. Default: the 90 days before today. */
  readonly from?: string;
  readonly to?: string;
  readonly seed?: number;
  /** Average lines per invoice (1 … 2n−1). Default 3. */
  readonly linesPerInvoice?: number;
  /** Share of invoices older than 30 days carrying a full payment (0 … 1). Default 0.3. */
  readonly paidShare?: number;
  readonly currency?: string;
  /** Add the demo's contract client (contract-seed.ts): managed IT + per-device + retainer + project. */
  readonly contractClient?: boolean;
}

export interface SeedSummary {
  readonly clientIds: readonly number[];
  readonly invoiceIds: readonly number[];
  readonly lines: number;
}

const NAMES = ['Acme', 'Harbor', 'Summit', 'Cedar', 'Northwind', 'Maple', 'Granite', 'Riverside', 'Pioneer', 'Lakeside'];
const TRADES = ['Dental', 'Law Group', 'Logistics', 'Clinic', 'Accounting', 'Realty', 'Builders', 'Veterinary'];
const FIRST = ['Alex', 'Sam', 'Jordan', 'Taylor', 'Morgan', 'Casey', 'Riley', 'Jamie'];
const LAST = ['Nguyen', 'Patel', 'Garcia', 'Smith', 'Okafor', 'Larsen', 'Moreau', 'Chen'];
const ITEMS: [string, string, string][] = [
  ['MWS', 'Managed Workstation', '45.00'],
  ['MSV', 'Managed Server', '150.00'],
  ['M365BP', 'Microsoft 365 Business Premium', '22.00'],
  ['BKP-TB', 'Backup Storage (TB)', '35.50'],
  ['FW-SUB', 'Firewall Subscription', '89.99'],
  ['LAB', 'Remote support (hours)', '125.00'],
];

export function seedState(state: HaloState, opts: SeedOptions): SeedSummary {
  const rnd = prng(opts.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const today = new Date().toISOString().slice(0, 10);
  const to = opts.to ?? today;
  const from = opts.from ?? addDays(to, -90);
  const days = Math.max(1, Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000));
  const clientIds: number[] = [];
  for (let i = 0; i < opts.clients; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const name = `${NAMES[i % NAMES.length]} ${TRADES[Math.floor(i / NAMES.length) % TRADES.length]}${i >= NAMES.length * TRADES.length ? ` ${i}` : ''}`;
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '');
    const stamp = Date.parse(`${from}T00:00:00Z`) - 86_400_000 + i * 1000;
    const c = state.addClient({
      name,
      inactive: false,
      accountsid: `C${1000 + i}`,
      // One client in five has no accounts e-mail: its bills go to the main contact (a user).
      accountsemailaddress: i % 5 === 4 ? '' : `ap@${slug}.example`,
      accountsfirstname: i % 5 === 4 ? '' : first,
      accountslastname: i % 5 === 4 ? '' : last,
      currencyisocode: opts.currency ?? 'USD',
      updatedMs: stamp,
    });
    state.addUser({
      client_id: c.id,
      firstname: first,
      surname: last,
      emailaddress: `${first.toLowerCase()}@${slug}.example`,
      inactive: false,
      ismaincontact: true,
      updatedMs: stamp,
    });
    clientIds.push(c.id);
  }
  const invoiceIds: number[] = [];
  let lines = 0;
  const avg = opts.linesPerInvoice ?? 3;
  for (let i = 0; i < opts.invoices && clientIds.length > 0; i++) {
    const day = addDays(from, Math.floor((i / Math.max(1, opts.invoices)) * days));
    const quarter = Math.floor(rnd() * 40) * 15 * 60_000;
    const stamp = Date.parse(`${day}T08:00:00Z`) + quarter;
    const n = 1 + Math.floor(rnd() * (2 * avg - 1));
    const items = Array.from({ length: n }, () => {
      const [code, description, price] = pick(ITEMS);
      const qty = code === 'LAB' ? pick(['0.5', '1.25', '2', '3.75']) : String(1 + Math.floor(rnd() * 12));
      return { itemCode: code, description, quantity: qty, unitPrice: price, taxRate: rnd() < 0.5 ? '0' : '8.25' };
    });
    const inv = state.createInvoice(
      { clientId: pick(clientIds), invoiceDate: day, lines: items, contractId: rnd() < 0.3 ? 70 + (i % 5) : 0 },
      { stampMs: stamp, silent: true },
    );
    lines += n;
    invoiceIds.push(inv.id);
    const old = Date.parse(`${today}T00:00:00Z`) - Date.parse(`${day}T00:00:00Z`) > 30 * 86_400_000;
    if (old && rnd() < (opts.paidShare ?? 0.3)) {
      state.seedPayment({
        id: 9_000_000 + inv.id,
        invoice_id: inv.id,
        client_id: inv.client_id,
        amountCents: state.totalCents(inv),
        dateMs: stamp,
        method: 1,
        status: 0,
        thirdpartyid: '',
        intent_id: '',
      });
      inv.datepaidMs = stamp;
    }
  }
  if (opts.contractClient) {
    const c = seedContractClient(state, to);
    clientIds.push(c.clientId);
    invoiceIds.push(...c.invoiceIds);
  }
  return { clientIds, invoiceIds, lines };
}
