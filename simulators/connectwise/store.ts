// The simulator's records and the bookkeeping ConnectWise does on them: invoice totals follow from
// the billable lines that reference the invoice, payments reduce the balance, and every change moves
// `_info.lastUpdated` and is announced to callback subscribers.
import { amount, cents, productCents } from './decimal.ts';
import {
  type AgreementRef,
  cwTimestamp,
  type BillableOption,
  type CompanyRef,
  type CwAgreement,
  type CwCallbackEntry,
  type CwCompany,
  type CwCompanySite,
  type CwContact,
  type CwExpenseEntry,
  type CwInvoice,
  type CwInvoiceType,
  type CwPayment,
  type CwProductItem,
  type CwTimeEntry,
  type CurrencyRef,
} from './model.ts';
import { Table } from './table.ts';
import type { CwCompanyNote } from './notes.ts';
import { divideRounded } from '../../src/domain/money.ts';

/** What a line is billed under: an agreement of the company (by id), or a project (ProductItem.project). */
export interface LineUnder {
  readonly agreementId?: number;
  readonly project?: { readonly id: number; readonly name: string };
}

export type LineInput = (
  | {
      readonly kind: 'product';
      readonly description: string;
      readonly quantity: string | number;
      readonly price: string | number;
      readonly billableOption?: BillableOption;
    }
  | { readonly kind: 'time'; readonly notes: string; readonly hours: string | number; readonly rate: string | number; readonly billableOption?: BillableOption }
  | { readonly kind: 'expense'; readonly notes: string; readonly amount: string | number; readonly billableOption?: BillableOption }
) & { readonly under?: LineUnder };

export interface InvoiceInput {
  readonly companyId: number;
  readonly type?: CwInvoiceType;
  readonly date?: string; // YYYY-MM-DD; default today
  readonly dueDate?: string;
  readonly lines: readonly LineInput[];
  readonly taxRateBasisPoints?: number; // e.g. 825 = 8.25 %
  readonly status?: string;
  readonly lastUpdated?: Date; // seeding back-dates records
}

export interface InvoiceChange {
  readonly addLines?: readonly LineInput[];
  readonly removeLineIds?: readonly { readonly kind: LineInput['kind']; readonly id: number }[];
  readonly status?: string;
  readonly dueDate?: string;
}

export type InvoiceEvent = { readonly action: 'added' | 'updated' | 'deleted'; readonly invoice: CwInvoice };

export class PaymentRejected extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const USD: CurrencyRef = {
  id: 1,
  symbol: '$',
  currencyCode: 'USD',
  decimalSeparator: '.',
  numberOfDecimals: 2,
  thousandsSeparator: ',',
  negativeParenthesesFlag: false,
  displaySymbolFlag: true,
  currencyIdentifier: 'Default Currency',
  displayIdFlag: false,
  rightAlign: false,
  name: 'US Dollars',
};

const STATUSES: Record<string, number> = { New: 1, Sent: 2, Paid: 3, Closed: 4, 'Partially Paid': 5 };
/** Agreement types as an MSP names them (ConnectWise ships none fixed; ids are the site's own). */
const AGREEMENT_TYPE_IDS: Record<string, number> = { 'Managed Services': 3, 'Per Device': 4, 'Block Time': 5, Project: 6 };
const MEMBER = { id: 176, identifier: 'jtech', name: 'Jordan Tech' };

export class ConnectWiseState {
  readonly companies = new Table<CwCompany>(250);
  readonly contacts = new Table<CwContact>(1000, { 'company/id': (c) => c.company.id });
  readonly invoices = new Table<CwInvoice>(5000);
  readonly products = new Table<CwProductItem>(10_000, { 'invoice/id': (p) => p.invoice?.id ?? null });
  readonly timeEntries = new Table<CwTimeEntry>(20_000, { 'invoice/id': (t) => t.invoice?.id ?? null });
  readonly expenses = new Table<CwExpenseEntry>(3000, { 'invoice/id': (e) => e.invoice?.id ?? null });
  readonly payments = new Table<CwPayment>(700, { 'invoice/id': (p) => p.invoice.id });
  readonly callbacks = new Table<CwCallbackEntry>(1);
  readonly companyNotes = new Table<CwCompanyNote>(1, { 'company/id': (n) => n.company.id });
  readonly sites = new Table<CwCompanySite>(100, { 'company/id': (n) => n.company.id });
  readonly agreements = new Table<CwAgreement>(40, { 'company/id': (a) => a.company.id });
  private readonly taxRates = new Map<number, bigint>();
  private readonly listeners: ((e: InvoiceEvent) => void)[] = [];

  constructor(
    readonly apiMember: string,
    readonly clock: () => Date = () => new Date(),
  ) {}

  onInvoiceChange(fn: (e: InvoiceEvent) => void): void {
    this.listeners.push(fn);
  }

  now(): string {
    return cwTimestamp(this.clock());
  }

  companyRef(id: number): CompanyRef {
    const c = this.companies.get(id);
    if (!c) throw new Error(`company ${id} does not exist`);
    return { id: c.id, identifier: c.identifier, name: c.name };
  }

  /** A company with its "Main" site (every ConnectWise company has at least one site). */
  addCompany(identifier: string, name: string, at = this.clock()): CwCompany {
    const stamp = cwTimestamp(at);
    const company = this.companies.insert({
      id: this.companies.nextId(),
      identifier,
      name,
      status: { id: 1, name: 'Active' },
      accountNumber: null,
      billingTerms: { id: 1, name: 'Net 30 days' },
      defaultContact: null,
      deletedFlag: false,
      _info: { lastUpdated: stamp, updatedBy: MEMBER.identifier, dateEntered: stamp, enteredBy: MEMBER.identifier },
    });
    this.sites.insert({
      id: this.sites.nextId(),
      name: 'Main',
      addressLine1: `${100 + company.id} Main Street`,
      addressLine2: null,
      city: 'Springfield',
      stateReference: { id: 14, identifier: 'IL', name: 'Illinois' },
      zip: '62701',
      country: { id: 1, identifier: 'US', name: 'United States' },
      phoneNumber: null,
      primaryAddressFlag: true,
      defaultShippingFlag: true,
      defaultBillingFlag: true,
      defaultMailingFlag: true,
      inactiveFlag: false,
      company: { id: company.id, identifier, name },
      _info: { lastUpdated: stamp, updatedBy: MEMBER.identifier, dateEntered: stamp, enteredBy: MEMBER.identifier },
    });
    return company;
  }

  /** A monthly agreement for the company, billed to it; `typeName` is the agreement type the MSP named. */
  addAgreement(
    companyId: number,
    name: string,
    billAmountMinor: bigint,
    startDate: string,
    at = this.clock(),
    typeName = 'Managed Services',
    applicationUnits: CwAgreement['applicationUnits'] = null,
  ): CwAgreement {
    const stamp = cwTimestamp(at);
    const company = this.companyRef(companyId);
    const site = this.sites.referencing('company/id', companyId)[0];
    return this.agreements.insert({
      id: this.agreements.nextId(),
      name,
      type: { id: AGREEMENT_TYPE_IDS[typeName] ?? 9, name: typeName },
      company,
      contact: null,
      site: site ? { id: site.id, name: site.name } : null,
      agreementStatus: 'Active',
      startDate: `${startDate}T00:00:00Z`,
      endDate: null,
      noEndingDateFlag: true,
      cancelledFlag: false,
      billAmount: amount(billAmountMinor),
      billingCycle: { id: 2, name: 'Monthly' },
      billToCompany: company,
      applicationUnits,
      taxable: true,
      currency: USD,
      _info: { lastUpdated: stamp, updatedBy: MEMBER.identifier, dateEntered: stamp, enteredBy: MEMBER.identifier },
    });
  }

  addContact(
    companyId: number,
    firstName: string,
    lastName: string,
    email: string,
    flags: { default?: boolean; billing?: boolean },
    at = this.clock(),
  ): CwContact {
    const stamp = cwTimestamp(at);
    const id = this.contacts.nextId();
    const contact = this.contacts.insert({
      id,
      firstName,
      lastName,
      company: this.companyRef(companyId),
      defaultFlag: flags.default ?? false,
      defaultBillingFlag: flags.billing ?? false,
      inactiveFlag: false,
      communicationItems: [
        { id: id * 10 + 1, type: { id: 1, name: 'Email' }, value: email, defaultFlag: true, communicationType: 'Email' },
        {
          id: id * 10 + 2,
          type: { id: 2, name: 'Direct' },
          value: `555-01${String(id % 100).padStart(2, '0')}`,
          defaultFlag: true,
          communicationType: 'Phone',
        },
      ],
      _info: { lastUpdated: stamp, updatedBy: MEMBER.identifier },
    });
    if (flags.default) {
      const company = this.companies.get(companyId)!;
      company.defaultContact = { id: contact.id, name: `${firstName} ${lastName}` };
    }
    return contact;
  }

  createInvoice(input: InvoiceInput, announce = true): CwInvoice {
    const at = input.lastUpdated ?? this.clock();
    const stamp = cwTimestamp(at);
    const date = input.date ?? stamp.slice(0, 10);
    const company = this.companyRef(input.companyId);
    const id = this.invoices.nextId();
    const type = input.type ?? 'Standard';
    const status = input.status ?? 'New';
    const invoice: CwInvoice = {
      id,
      invoiceNumber: `${type === 'CreditMemo' ? 'CM' : 'INV'}-${id + 10_000}`,
      type,
      status: { id: STATUSES[status] ?? 9, name: status },
      company,
      billToCompany: company,
      applyToType: type === 'Agreement' ? 'Agreement' : 'All',
      applyToId: null,
      billingTerms: { id: 1, name: 'Net 30 days' },
      reference: null,
      customerPO: null,
      date: `${date}T00:00:00Z`,
      dueDate: `${input.dueDate ?? addDays(date, 30)}T00:00:00Z`,
      currency: USD,
      taxableFlag: (input.taxRateBasisPoints ?? 0) > 0,
      serviceTotal: 0,
      expenseTotal: 0,
      productTotal: 0,
      subtotal: 0,
      total: 0,
      salesTax: 0,
      payments: 0,
      credits: 0,
      balance: 0,
      _info: { lastUpdated: stamp, updatedBy: MEMBER.identifier, dateEntered: stamp, enteredBy: MEMBER.identifier },
    };
    this.invoices.insert(invoice);
    this.taxRates.set(id, BigInt(input.taxRateBasisPoints ?? 0));
    for (const line of input.lines) this.insertLine(invoice, line, stamp);
    this.recalculate(invoice);
    if (announce) this.emit({ action: 'added', invoice });
    return invoice;
  }

  updateInvoice(id: number, change: InvoiceChange): CwInvoice {
    const invoice = this.invoices.get(id);
    if (!invoice) throw new Error(`invoice ${id} does not exist`);
    const stamp = this.now();
    for (const line of change.addLines ?? []) this.insertLine(invoice, line, stamp);
    for (const { kind, id: lineId } of change.removeLineIds ?? []) {
      const table = kind === 'product' ? this.products : kind === 'time' ? this.timeEntries : this.expenses;
      const row = table.get(lineId);
      if (!row || row.invoice?.id !== id) throw new Error(`${kind} line ${lineId} is not on invoice ${id}`);
      table.remove(lineId);
    }
    if (change.status) invoice.status = { id: STATUSES[change.status] ?? 9, name: change.status };
    if (change.dueDate) invoice.dueDate = `${change.dueDate}T00:00:00Z`;
    this.recalculate(invoice);
    this.touch(invoice, stamp);
    this.emit({ action: 'updated', invoice });
    return invoice;
  }

  deleteInvoice(id: number): void {
    const invoice = this.invoices.get(id);
    if (!invoice) throw new Error(`invoice ${id} does not exist`);
    for (const p of [...this.products.referencing('invoice/id', id)]) this.products.remove(p.id);
    for (const t of [...this.timeEntries.referencing('invoice/id', id)]) this.timeEntries.remove(t.id);
    for (const e of [...this.expenses.referencing('invoice/id', id)]) this.expenses.remove(e.id);
    this.invoices.remove(id);
    this.emit({ action: 'deleted', invoice });
  }

  /** POST /finance/invoices/{id}/payments: amount must be positive and at most the balance. */
  recordPayment(
    invoiceId: number,
    amountMinor: bigint,
    paymentDate: string,
    opts: { type?: string | null; at?: Date; appliedBy?: string; announce?: boolean } = {},
  ): CwPayment {
    const at = opts.at ?? this.clock();
    const appliedBy = opts.appliedBy ?? this.apiMember;
    const invoice = this.invoices.get(invoiceId);
    if (!invoice) throw new Error(`invoice ${invoiceId} does not exist`);
    if (amountMinor <= 0n) throw new PaymentRejected('amount', 'Amount must be greater than zero.');
    const balance = cents(invoice.balance);
    if (amountMinor > balance) throw new PaymentRejected('amount', `Amount ${amount(amountMinor)} exceeds the invoice balance ${invoice.balance}.`);
    const stamp = cwTimestamp(at);
    const payment = this.payments.insert({
      id: this.payments.nextId(),
      type: opts.type ?? null,
      invoice: { id: invoice.id, identifier: invoice.invoiceNumber },
      credit: null,
      amount: amount(amountMinor),
      paymentDate,
      appliedBy,
      _info: { lastUpdated: stamp, updatedBy: appliedBy, dateEntered: stamp, enteredBy: appliedBy },
    });
    invoice.payments = amount(cents(invoice.payments) + amountMinor);
    this.recalculate(invoice);
    if (cents(invoice.balance) === 0n) invoice.status = { id: STATUSES.Paid!, name: 'Paid' };
    this.touch(invoice, stamp);
    if (opts.announce ?? true) this.emit({ action: 'updated', invoice });
    return payment;
  }

  /**
   * A credit memo applied to an invoice in ConnectWise (staff, Finance › Invoices › apply a credit): a payment
   * row on the invoice that names the credit memo in `credit`, the invoice's credits up and the memo's open
   * credit down by the amount, both invoices updated (and announced). Not through the API (ConnectWise sets
   * `credit` itself); the simulator's control, for tests and the demo.
   */
  applyCreditMemo(invoiceId: number, memoId: number, amountMinor: bigint, paymentDate: string, opts: { at?: Date; appliedBy?: string } = {}): CwPayment {
    const at = opts.at ?? this.clock();
    const appliedBy = opts.appliedBy ?? 'accounting.staff';
    const invoice = this.invoices.get(invoiceId);
    const memo = this.invoices.get(memoId);
    if (!invoice || !memo) throw new Error(`invoice ${invoiceId} or credit memo ${memoId} does not exist`);
    if (memo.type !== 'CreditMemo') throw new PaymentRejected('credit', `Invoice ${memo.invoiceNumber} is not a credit memo.`);
    if (memo.company.id !== invoice.company.id) throw new PaymentRejected('credit', 'The credit memo belongs to another company.');
    if (amountMinor <= 0n) throw new PaymentRejected('amount', 'Amount must be greater than zero.');
    if (amountMinor > cents(invoice.balance))
      throw new PaymentRejected('amount', `Amount ${amount(amountMinor)} exceeds the invoice balance ${invoice.balance}.`);
    if (amountMinor > -cents(memo.balance))
      throw new PaymentRejected('amount', `Amount ${amount(amountMinor)} exceeds the credit left, ${amount(-cents(memo.balance))}.`);
    const stamp = cwTimestamp(at);
    const payment = this.payments.insert({
      id: this.payments.nextId(),
      type: 'Credit',
      invoice: { id: invoice.id, identifier: invoice.invoiceNumber },
      credit: { id: memo.id, identifier: memo.invoiceNumber },
      amount: amount(amountMinor),
      paymentDate,
      appliedBy,
      _info: { lastUpdated: stamp, updatedBy: appliedBy, dateEntered: stamp, enteredBy: appliedBy },
    });
    invoice.credits = amount(cents(invoice.credits) + amountMinor);
    memo.credits = amount(cents(memo.credits) - amountMinor);
    for (const inv of [invoice, memo]) {
      this.recalculate(inv);
      this.touch(inv, stamp);
      this.emit({ action: 'updated', invoice: inv });
    }
    if (cents(invoice.balance) === 0n) invoice.status = { id: STATUSES.Paid!, name: 'Paid' };
    return payment;
  }

  /**
   * DELETE /finance/invoices/{id}/payments/{paymentId}: the payment is gone and the invoice owes its
   * amount again (a Paid invoice goes back to Partially Paid or Sent). Returns false when there is none.
   */
  deletePayment(invoiceId: number, paymentId: number, opts: { at?: Date } = {}): boolean {
    const payment = this.payments.get(paymentId);
    const invoice = this.invoices.get(invoiceId);
    if (!payment || !invoice || payment.invoice.id !== invoiceId) return false;
    this.payments.remove(paymentId);
    invoice.payments = amount(cents(invoice.payments) - cents(payment.amount));
    this.afterPaymentChange(invoice, opts.at ?? this.clock());
    return true;
  }

  /**
   * PATCH / PUT …/payments/{paymentId}: a new amount (same rules as POST: more than zero, within what
   * the invoice allows) and/or payment date. Returns null when the payment is not on the invoice.
   */
  changePayment(
    invoiceId: number,
    paymentId: number,
    to: { readonly amount?: bigint; readonly paymentDate?: string },
    opts: { at?: Date } = {},
  ): CwPayment | null {
    const payment = this.payments.get(paymentId);
    const invoice = this.invoices.get(invoiceId);
    if (!payment || !invoice || payment.invoice.id !== invoiceId) return null;
    const before = cents(payment.amount);
    const amountMinor = to.amount ?? before;
    if (amountMinor <= 0n) throw new PaymentRejected('amount', 'Amount must be greater than zero.');
    const room = cents(invoice.balance) + before;
    if (amountMinor > room) throw new PaymentRejected('amount', `Amount ${amount(amountMinor)} exceeds the invoice balance ${amount(room)}.`);
    const stamp = cwTimestamp(opts.at ?? this.clock());
    payment.amount = amount(amountMinor);
    if (to.paymentDate !== undefined) payment.paymentDate = to.paymentDate;
    payment._info = { ...payment._info, lastUpdated: stamp, updatedBy: this.apiMember };
    invoice.payments = amount(cents(invoice.payments) - before + amountMinor);
    this.afterPaymentChange(invoice, opts.at ?? this.clock());
    return payment;
  }

  private afterPaymentChange(invoice: CwInvoice, at: Date): void {
    this.recalculate(invoice);
    const balance = cents(invoice.balance);
    if (balance === 0n) invoice.status = { id: STATUSES.Paid!, name: 'Paid' };
    else if (invoice.status.name === 'Paid' || invoice.status.name === 'Partially Paid') {
      const name = cents(invoice.payments) > 0n ? 'Partially Paid' : 'Sent';
      invoice.status = { id: STATUSES[name]!, name };
    }
    this.touch(invoice, cwTimestamp(at));
    this.emit({ action: 'updated', invoice });
  }

  paymentsFor(invoiceId: number): readonly CwPayment[] {
    return this.payments.referencing('invoice/id', invoiceId);
  }

  private touch(invoice: CwInvoice, stamp: string): void {
    invoice._info = { ...invoice._info, lastUpdated: stamp, updatedBy: MEMBER.identifier };
  }

  private emit(e: InvoiceEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  /** The AgreementReference a line carries (id, name, the agreement type's name). */
  private agreementRef(id: number | undefined): AgreementRef | null {
    if (id === undefined) return null;
    const a = this.agreements.get(id);
    if (!a) throw new Error(`agreement ${id} does not exist`);
    return { id: a.id, name: a.name, type: a.type.name };
  }

  private insertLine(invoice: CwInvoice, line: LineInput, stamp: string): void {
    const ref = { id: invoice.id, identifier: invoice.invoiceNumber };
    const agreement = this.agreementRef(line.under?.agreementId);
    const info = { lastUpdated: stamp, updatedBy: MEMBER.identifier };
    const billableOption = line.billableOption ?? 'Billable';
    switch (line.kind) {
      case 'product':
        this.products.insert({
          id: this.products.nextId(),
          catalogItem: { id: 40, identifier: line.description.slice(0, 20).toUpperCase().replace(/\W+/g, '-') },
          description: line.description,
          quantity: Number(line.quantity),
          price: Number(line.price),
          cost: 0,
          discount: 0,
          billableOption,
          taxableFlag: true,
          company: invoice.company,
          invoice: ref,
          agreement,
          project: line.under?.project ?? null,
          _info: info,
        });
        return;
      case 'time': {
        const start = `${invoice.date.slice(0, 10)}T14:00:00Z`;
        this.timeEntries.insert({
          id: this.timeEntries.nextId(),
          company: invoice.company,
          chargeToId: null,
          chargeToType: 'ServiceTicket',
          member: MEMBER,
          timeStart: start,
          timeEnd: cwTimestamp(new Date(Date.parse(start) + Math.round(Number(line.hours) * 3_600_000))),
          actualHours: Number(line.hours),
          hoursBilled: Number(line.hours),
          billableOption,
          notes: line.notes,
          hourlyRate: Number(line.rate),
          invoice: ref,
          agreement,
          _info: info,
        });
        return;
      }
      case 'expense':
        this.expenses.insert({
          id: this.expenses.nextId(),
          company: invoice.company,
          chargeToId: null,
          chargeToType: 'ServiceTicket',
          type: { id: 3, name: 'Mileage' },
          member: MEMBER,
          amount: Number(line.amount),
          billableOption,
          date: invoice.date,
          notes: line.notes,
          invoiceAmount: billableOption === 'Billable' ? Number(line.amount) : 0,
          invoice: ref,
          agreement,
          _info: info,
        });
        return;
    }
  }

  private recalculate(invoice: CwInvoice): void {
    const billed = (opt: BillableOption, v: bigint): bigint => (opt === 'Billable' || opt === 'NoDefault' ? v : 0n);
    let products = 0n;
    let services = 0n;
    let expenses = 0n;
    for (const p of this.products.referencing('invoice/id', invoice.id)) products += billed(p.billableOption, productCents(p.quantity, p.price));
    for (const t of this.timeEntries.referencing('invoice/id', invoice.id)) services += billed(t.billableOption, productCents(t.hoursBilled, t.hourlyRate));
    for (const e of this.expenses.referencing('invoice/id', invoice.id)) expenses += billed(e.billableOption, cents(e.invoiceAmount));
    const subtotal = products + services + expenses;
    const tax = divideRounded(subtotal * (this.taxRates.get(invoice.id) ?? 0n), 10_000n, 'half-up');
    const total = subtotal + tax;
    invoice.productTotal = amount(products);
    invoice.serviceTotal = amount(services);
    invoice.expenseTotal = amount(expenses);
    invoice.subtotal = amount(subtotal);
    invoice.salesTax = amount(tax);
    invoice.total = amount(total);
    invoice.balance = amount(total - cents(invoice.payments) - cents(invoice.credits));
  }
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
