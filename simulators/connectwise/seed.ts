// Deterministic demo/benchmark data: the same seed always yields the same companies, contacts,
// invoices and lines. Invoices are back-dated across a date range, and their `lastUpdated` stamps
// fall on quarter hours so that many invoices share a timestamp — as after a ConnectWise
// "process invoices" batch — which is what exposes paging bugs at page edges.
import { addDays, type ConnectWiseState, type LineInput } from './store.ts';
import type { CwInvoiceType } from './model.ts';
import { cents } from './decimal.ts';
import { seedContractClient } from './contract-seed.ts';

export interface SeedOptions {
  readonly companies: number;
  readonly invoices: number;
  /** First and last invoice date, YYYY-MM-DD. Default: the 90 days before today. */
  readonly from?: string;
  readonly to?: string;
  readonly seed?: number;
  /** Average lines per invoice (1 … 2n−1, uniform). Default 3. */
  readonly linesPerInvoice?: number;
  /** Share of invoices older than 30 days that carry a full payment (0 … 1). Default 0.3. */
  readonly paidShare?: number;
  /** Add the demo's contract client (contract-seed.ts): agreement + per-device + retainer + project. */
  readonly contractClient?: boolean;
}

export interface SeedSummary {
  readonly companyIds: readonly number[];
  readonly invoiceIds: readonly number[];
  readonly lines: number;
}

/** mulberry32: a tiny deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const PREFIXES = ['Acme', 'Harbor', 'Summit', 'Blue Ridge', 'Cedar', 'Northwind', 'Maple', 'Granite', 'Riverside', 'Oak Valley', 'Lakeside', 'Pioneer'];
const TRADES = ['Dental', 'Law Group', 'Logistics', 'Family Clinic', 'Accounting', 'Realty', 'Builders', 'Veterinary', 'Insurance', 'Architects'];
const FIRST = ['Alex', 'Sam', 'Jordan', 'Taylor', 'Morgan', 'Casey', 'Riley', 'Jamie', 'Drew', 'Avery'];
const LAST = ['Nguyen', 'Patel', 'Garcia', 'Smith', 'Okafor', 'Kowalski', 'Haddad', 'Larsen', 'Moreau', 'Chen'];
const PRODUCTS: [string, string][] = [
  ['Managed Workstation', '45.00'],
  ['Managed Server', '150.00'],
  ['Microsoft 365 Business Premium', '22.00'],
  ['Backup Storage (TB)', '35.50'],
  ['Firewall Subscription', '89.99'],
  ['Endpoint Security', '7.25'],
];
const TYPES: [CwInvoiceType, number][] = [
  ['Standard', 0.7],
  ['Agreement', 0.2],
  ['Miscellaneous', 0.05],
  ['Progress', 0.02],
  ['DownPayment', 0.02],
  ['CreditMemo', 0.01],
];

export function seedState(state: ConnectWiseState, opts: SeedOptions): SeedSummary {
  const rnd = prng(opts.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const today = state.now().slice(0, 10);
  const to = opts.to ?? today;
  const from = opts.from ?? addDays(to, -90);
  const spanDays = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000));
  const avgLines = opts.linesPerInvoice ?? 3;
  const paidShare = opts.paidShare ?? 0.3;

  const companyIds: number[] = [];
  for (let i = 0; i < opts.companies; i++) {
    const name = `${pick(PREFIXES)} ${pick(TRADES)}`;
    const identifier = `${name.replace(/\W+/g, '')}${state.companies.size + 1}`;
    const at = new Date(Date.parse(`${from}T00:00:00Z`) - (i + 1) * 3_600_000);
    const company = state.addCompany(identifier, name, at);
    companyIds.push(company.id);
    const domain = `${identifier.toLowerCase()}.example`;
    const first = pick(FIRST);
    const last = pick(LAST);
    // Every fifth company has no separate billing contact: the default contact gets the bills.
    const oneContact = i % 5 === 4;
    state.addContact(company.id, first, last, `${first.toLowerCase()}@${domain}`, { default: true, billing: false }, at);
    if (!oneContact) {
      state.addContact(company.id, pick(FIRST), pick(LAST), `ap@${domain}`, { default: false, billing: true }, at);
    }
    // Two in three companies are on a monthly managed-services agreement (no draw on the PRNG, so
    // the rest of the seeded data is unchanged by it).
    if (i % 3 !== 2) state.addAgreement(company.id, `${name} Managed Services`, BigInt(50_000 + (i % 7) * 12_500), from, at);
  }

  const invoiceIds: number[] = [];
  let lines = 0;
  for (let i = 0; i < opts.invoices; i++) {
    const companyId = companyIds.length > 0 ? pick(companyIds) : 0;
    if (!companyId) break;
    let r = rnd();
    let type: CwInvoiceType = 'Standard';
    for (const [t, share] of TYPES) {
      if (r < share) {
        type = t;
        break;
      }
      r -= share;
    }
    const date = addDays(from, Math.floor(rnd() * (spanDays + 1)));
    const count = 1 + Math.floor(rnd() * (2 * avgLines - 1));
    const invoiceLines: LineInput[] = [];
    for (let l = 0; l < count; l++) {
      const kind = rnd();
      if (type === 'CreditMemo') {
        const [description, price] = pick(PRODUCTS);
        invoiceLines.push({ kind: 'product', description: `Credit: ${description}`, quantity: 1, price: `-${price}` });
      } else if (kind < 0.5) {
        const [description, price] = pick(PRODUCTS);
        invoiceLines.push({ kind: 'product', description, quantity: 1 + Math.floor(rnd() * 12), price });
      } else if (kind < 0.85) {
        // Quarter hours at whole-dollar rates keep the extended amount in whole cents.
        const hours = (1 + Math.floor(rnd() * 16)) / 4;
        invoiceLines.push({
          kind: 'time',
          notes: `Remote support ticket #${40_000 + i}`,
          hours,
          rate: pick(['125', '150', '175']),
          billableOption: rnd() < 0.05 ? 'NoCharge' : 'Billable',
        });
      } else {
        invoiceLines.push({ kind: 'expense', notes: 'Onsite visit mileage', amount: (Math.floor(rnd() * 9000) + 500) / 100 });
      }
    }
    const quarterHours = Math.floor(rnd() * 96 * 3);
    // A record is never last updated in the future: clients order changes by this stamp.
    const nowMs = Date.parse(state.now());
    const updated = new Date(Math.min(Date.parse(`${date}T00:00:00Z`) + quarterHours * 900_000, nowMs - 1000));
    const invoice = state.createInvoice(
      { companyId, type, date, lines: invoiceLines, taxRateBasisPoints: rnd() < 0.5 ? 825 : 0, status: 'Sent', lastUpdated: updated },
      false,
    );
    lines += count;
    invoiceIds.push(invoice.id);
    const ageDays = (Date.parse(today) - Date.parse(date)) / 86_400_000;
    if (ageDays > 30 && invoice.balance > 0 && rnd() < paidShare) {
      const paidAt = new Date(Math.min(updated.getTime() + 20 * 86_400_000, nowMs - 1000));
      state.recordPayment(invoice.id, cents(invoice.balance), `${addDays(date, 20)}T00:00:00Z`, { at: paidAt, appliedBy: 'asmith', announce: false });
    }
  }
  if (opts.contractClient) {
    const c = seedContractClient(state, to);
    companyIds.push(c.companyId);
    invoiceIds.push(...c.invoiceIds);
  }
  return { companyIds, invoiceIds, lines };
}
