// The simulator's database: one table per entity, records keyed by their PascalCase field names as in the
// swagger (routes.ts lowers the first letter on the way out, as the vendor's JSON does). `/_sim` changes go
// through here, stamping the change fields Autotask keeps (Company LastTrackedModifiedDateTime, Contact
// LastModifiedDate, Invoice VoidedDate) — and nothing on invoices that a poller could use as a modified time,
// because Autotask has none.
import { ENTITIES } from './fields.ts';
import { seedContractClient } from './contract-seed.ts';

export type Row = Record<string, unknown> & { Id: number };

export interface LineInput {
  readonly itemName?: string;
  readonly description?: string;
  readonly quantity?: number;
  readonly rate?: number; // decimal per unit, e.g. 45.5
  /** 1 Labor, 2 Expense, 3 Charge, … (fields.ts BILLING_ITEM_TYPES) */
  readonly type?: number;
  readonly taxDollars?: number;
  readonly contractId?: number;
  readonly ticketId?: number;
  readonly projectId?: number;
}

export interface InvoiceInput {
  readonly companyId: number;
  readonly invoiceNumber?: string;
  readonly invoiceDate?: string; // YYYY-MM-DD
  readonly dueDate?: string;
  readonly lines: readonly LineInput[];
}

export interface InvoiceChange {
  readonly void?: boolean;
  readonly paidDate?: string | null;
  readonly comments?: string;
  readonly webServiceDate?: string | null;
  /** Changes no change field: only a sweep of open invoices can notice it (as with a total re-keyed in the UI). */
  readonly dueDate?: string;
}

/** Cents arithmetic for the simulator's own sums: amounts are whole cents, never accumulated floats. */
const cents = (n: number): number => Math.round(n * 100);
const fromCents = (c: number): number => c / 100;

export class AutotaskState {
  readonly tables = new Map<string, Map<number, Row>>(Object.keys(ENTITIES).map((k) => [k, new Map<number, Row>()]));
  private nextId = new Map<string, number>();
  private invoiceSeq = 1000;
  /** Told about each company create/update (webhooks.ts). */
  onCompanyChange: ((action: 'Create' | 'Update', row: Row, changed: readonly string[]) => void) | null = null;

  /** Mutable so tests can move time forward. */
  constructor(public clock: () => Date = () => new Date()) {}

  now(): string {
    return this.clock().toISOString();
  }

  table(entity: string): Map<number, Row> {
    const t = this.tables.get(entity);
    if (!t) throw new Error(`no table ${entity}`);
    return t;
  }

  insert(entity: string, values: Record<string, unknown>): Row {
    const base = entity === 'Invoices' ? 500 : entity === 'BillingItems' ? 80_000 : entity === 'Companies' ? 0 : 30_000;
    const id = (this.nextId.get(entity) ?? base) + 1;
    this.nextId.set(entity, id);
    const row: Row = { ...values, Id: id };
    this.table(entity).set(id, row);
    return row;
  }

  createCompany(name: string, extra: Record<string, unknown> = {}): Row {
    const now = this.now();
    const row = this.insert('Companies', {
      CompanyName: name,
      CompanyNumber: `C${String(this.table('Companies').size + 1).padStart(4, '0')}`,
      CompanyType: 1,
      IsActive: true,
      OwnerResourceID: 29682885,
      Phone: '555-0100',
      InvoiceMethod: 1,
      CreateDate: now,
      LastActivityDate: now,
      LastTrackedModifiedDateTime: now,
      ...extra,
    });
    this.onCompanyChange?.('Create', row, Object.keys(row));
    return row;
  }

  updateCompany(id: number, change: Record<string, unknown>): Row {
    const row = this.table('Companies').get(id);
    if (!row) throw new Error(`company ${id} does not exist`);
    Object.assign(row, change, { LastTrackedModifiedDateTime: this.now() });
    this.onCompanyChange?.('Update', row, Object.keys(change));
    return row;
  }

  createContact(companyId: number, first: string, last: string, email: string, primary = true): Row {
    const now = this.now();
    return this.insert('Contacts', {
      CompanyID: companyId,
      FirstName: first,
      LastName: last,
      EmailAddress: email,
      IsActive: 1,
      PrimaryContact: primary,
      CreateDate: now,
      LastModifiedDate: now,
      LastActivityDate: now,
    });
  }

  updateContact(id: number, change: Record<string, unknown>): Row {
    const row = this.table('Contacts').get(id);
    if (!row) throw new Error(`contact ${id} does not exist`);
    return Object.assign(row, change, { LastModifiedDate: this.now() });
  }

  /** "Process invoices" in Autotask: the invoice and its posted billing items, with totals from the lines. */
  createInvoice(input: InvoiceInput): { invoice: Row; items: Row[] } {
    if (!this.table('Companies').has(input.companyId)) throw new Error(`company ${input.companyId} does not exist`);
    if (input.lines.length === 0) throw new Error('an invoice needs at least one line');
    const now = this.now();
    const day = input.invoiceDate ?? now.slice(0, 10);
    const due = input.dueDate ?? new Date(Date.parse(`${day}T00:00:00Z`) + 30 * 86_400_000).toISOString().slice(0, 10);
    this.invoiceSeq += 1;
    const invoice = this.insert('Invoices', {
      BatchID: 1,
      Comments: '',
      CompanyID: input.companyId,
      CreateDateTime: now,
      CreatorResourceID: 29682885,
      DueDate: `${due}T00:00:00.000Z`,
      InvoiceDateTime: `${day}T00:00:00.000Z`,
      InvoiceNumber: input.invoiceNumber ?? String(this.invoiceSeq),
      InvoiceTotal: 0,
      IsVoided: false,
      PaidDate: null,
      PaymentTerm: 1,
      TotalTaxValue: 0,
      VoidedDate: null,
      WebServiceDate: null,
    });
    let total = 0;
    let tax = 0;
    const items = input.lines.map((l) => {
      const qty = l.quantity ?? 1;
      const extended = Math.round(cents(l.rate ?? 100) * qty);
      const taxCents = cents(l.taxDollars ?? 0);
      total += extended + taxCents;
      tax += taxCents;
      return this.insert('BillingItems', {
        BillingItemType: l.type ?? 3,
        CompanyID: input.companyId,
        ContractID: l.contractId ?? null,
        Description: l.description ?? l.itemName ?? 'Managed services',
        ExtendedPrice: fromCents(extended),
        InvoiceID: invoice.Id,
        ItemDate: `${day}T00:00:00.000Z`,
        ItemName: l.itemName ?? 'Managed services',
        PostedDate: now,
        ProjectID: l.projectId ?? null,
        Quantity: qty,
        Rate: l.rate ?? 100,
        TaxDollars: fromCents(taxCents),
        TicketID: l.ticketId ?? null,
        TotalAmount: fromCents(extended + taxCents),
        WebServiceDate: null,
      });
    });
    invoice.InvoiceTotal = fromCents(total);
    invoice.TotalTaxValue = fromCents(tax);
    return { invoice, items };
  }

  /** A contract of the company (ContractType: fields.ts CONTRACT_TYPES, e.g. 7 Recurring Service, 6 Retainer). */
  addContract(companyId: number, name: string, contractType: number, startDate: string): Row {
    if (!this.table('Companies').has(companyId)) throw new Error(`company ${companyId} does not exist`);
    return this.insert('Contracts', {
      CompanyID: companyId,
      ContractName: name,
      ContractNumber: `CN-${this.table('Contracts').size + 1}`,
      ContractType: contractType,
      StartDate: `${startDate}T00:00:00.000Z`,
      EndDate: null,
      Status: 1,
    });
  }

  addProject(companyId: number, name: string): Row {
    if (!this.table('Companies').has(companyId)) throw new Error(`company ${companyId} does not exist`);
    return this.insert('Projects', {
      CompanyID: companyId,
      ContractID: null,
      ProjectName: name,
      ProjectNumber: `P${this.table('Projects').size + 1}`,
      Status: 1,
    });
  }

  changeInvoice(id: number, change: InvoiceChange): Row {
    const row = this.table('Invoices').get(id);
    if (!row) throw new Error(`invoice ${id} does not exist`);
    if (change.void) Object.assign(row, { IsVoided: true, VoidedDate: this.now(), VoidedByResourceID: 29682885 });
    if (change.paidDate !== undefined) row.PaidDate = change.paidDate === null ? null : new Date(change.paidDate).toISOString();
    if (change.webServiceDate !== undefined) row.WebServiceDate = change.webServiceDate === null ? null : new Date(change.webServiceDate).toISOString();
    if (change.comments !== undefined) row.Comments = change.comments;
    if (change.dueDate !== undefined) row.DueDate = `${change.dueDate}T00:00:00.000Z`;
    return row;
  }

  /** A deterministic book: `companies` companies with a primary contact each and `invoices` invoices spread over them. */
  seed(opts: { companies?: number; invoices?: number; linesPerInvoice?: number; contractClient?: boolean }): { companies: number; invoices: number } {
    const nCompanies = opts.companies ?? 5;
    const companies: Row[] = [];
    for (let i = 1; i <= nCompanies; i++) {
      const c = this.createCompany(`Client ${String(i).padStart(3, '0')} Ltd`);
      this.createContact(c.Id, 'Billing', `Person ${i}`, `billing${i}@client${i}.example`);
      companies.push(c);
    }
    const lines = opts.linesPerInvoice ?? 2;
    for (let i = 0; i < (opts.invoices ?? 0); i++) {
      const company = companies[i % companies.length]!;
      this.createInvoice({
        companyId: company.Id,
        invoiceDate: new Date(Date.UTC(2026, 0, 1) + (i % 300) * 86_400_000).toISOString().slice(0, 10),
        lines: Array.from({ length: lines }, (_, k) => ({
          itemName: k === 0 ? 'Managed Workstation' : `Service ${k}`,
          quantity: 1 + ((i + k) % 5),
          rate: 45 + ((i * 7 + k * 3) % 40) + 0.5,
          type: k === 0 ? 5 : 1,
        })),
      });
    }
    // The demo's contract client (contract-seed.ts): managed IT + per-device + retainer + project.
    if (opts.contractClient) seedContractClient(this, this.now().slice(0, 10));
    return { companies: nCompanies, invoices: opts.invoices ?? 0 };
  }
}
