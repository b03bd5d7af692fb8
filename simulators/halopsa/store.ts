// The HaloPSA simulator's data: clients (Halo's `Area`), users (contacts), invoices with lines, invoice
// payments and webhooks. Money is kept as integer cents and only turned into the JSON numbers Halo sends
// when serialised (model.ts); line amounts are exact decimal products rounded half-up to the cent.

export interface Client {
  id: number;
  name: string;
  inactive: boolean;
  accountsid: string;
  accountsemailaddress: string;
  accountsfirstname: string;
  accountslastname: string;
  currencyisocode: string;
  updatedMs: number;
}

export interface User {
  id: number;
  client_id: number;
  firstname: string;
  surname: string;
  emailaddress: string;
  inactive: boolean;
  ismaincontact: boolean;
  updatedMs: number;
}

export interface Line {
  id: number;
  ihid: number;
  item_code: string;
  item_shortdescription: string;
  item_longdescription: string;
  /** Decimal text, e.g. "1.5". */
  qty_order: string;
  /** Decimal text, e.g. "45.00". */
  unit_price: string;
  /** Percent, decimal text. */
  tax_rate: string;
  tax_code: string;
  nominal_code: string;
  contract_id: number;
  /** What the line is billed under besides its contract (InvoiceDetail fields; 0 / false = none). */
  recurring_invoice_id: number;
  ticket_id: number;
  prepay_id: number;
  calculate_price_from_assets: boolean;
  netCents: number;
  taxCents: number;
}

export interface Invoice {
  id: number;
  invoicenumber: string;
  client_id: number;
  invoiceDate: string; // YYYY-MM-DD
  dueDate: string | null;
  currency: string;
  posted: boolean;
  voided: boolean;
  contract_id: number;
  /** The contract's reference as staff know it (InvoiceHeader.contract_ref); '' without a contract. */
  contract_ref: string;
  recurring_invoice_id: number;
  lines: Line[];
  datepaidMs: number | null;
  createdMs: number;
  updatedMs: number;
}

export interface Payment {
  id: number;
  invoice_id: number;
  client_id: number;
  amountCents: number;
  dateMs: number;
  method: number;
  status: number;
  thirdpartyid: string;
  intent_id: string;
}

export interface Webhook {
  id: string; // uuid
  name: string;
  url: string;
  authentication_type: number;
  basic_username: string;
  basic_password: string;
  authentication_header: string;
  active: boolean;
  eventnos: number[];
}

export interface LineInput {
  readonly description: string;
  readonly quantity: string | number;
  readonly unitPrice: string | number;
  readonly taxRate?: string | number;
  readonly itemCode?: string;
  /** Billed under this contract instead of the invoice's, or from a recurring invoice, a ticket or a pre-pay. */
  readonly contractId?: number;
  readonly recurringInvoiceId?: number;
  readonly ticketId?: number;
  readonly prepayId?: number;
  /** Priced per asset (device) of the client: Halo's per-device recurring billing. */
  readonly perAsset?: boolean;
}

export interface InvoiceInput {
  readonly clientId: number;
  readonly number?: string;
  readonly invoiceDate?: string;
  readonly dueDate?: string | null;
  readonly currency?: string;
  readonly lines: readonly LineInput[];
  readonly contractId?: number;
  readonly contractRef?: string;
  readonly recurringInvoiceId?: number;
}

export interface InvoiceChange {
  readonly addLines?: readonly LineInput[];
  readonly removeLineIds?: readonly number[];
  readonly dueDate?: string | null;
  readonly voided?: boolean;
  readonly posted?: boolean;
}

export type InvoiceEvent = { readonly action: 'created' | 'updated'; readonly invoice: Invoice };

/** Decimal text → [scaled integer, scale]; refuses exponents and anything not a plain decimal. */
export function scaled(value: string | number): [bigint, number] {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`"${text}" is not a plain decimal`);
  const [whole = '0', frac = ''] = text.replace('-', '').split('.');
  const n = BigInt(whole + frac);
  return [text.startsWith('-') ? -n : n, frac.length];
}

/** a × b (decimal texts) in cents, rounded half-up (away from zero). */
export function productCents(a: string | number, b: string | number, divideBy = 1n): number {
  const [x, xs] = scaled(a);
  const [y, ys] = scaled(b);
  const num = x * y;
  const den = 10n ** BigInt(xs + ys) * divideBy;
  const scaledNum = num * 100n;
  const neg = scaledNum < 0n;
  const abs = neg ? -scaledNum : scaledNum;
  const q = (abs + den / 2n) / den;
  return Number(neg ? -q : q);
}

export class HaloState {
  readonly clients = new Map<number, Client>();
  readonly users = new Map<number, User>();
  readonly invoices = new Map<number, Invoice>();
  readonly payments = new Map<number, Payment>();
  readonly webhooks = new Map<string, Webhook>();
  private seq = { client: 100, user: 500, invoice: 1000, line: 5000, payment: 9000 };
  private lastStamp = 0;
  private readonly listeners: ((e: InvoiceEvent) => void)[] = [];

  constructor(private readonly clock: () => Date = () => new Date()) {}

  /** Now, strictly after the previous stamp (two changes never share a millisecond within one process). */
  nowMs(): number {
    const t = Math.max(this.clock().getTime(), this.lastStamp + 1);
    this.lastStamp = t;
    return t;
  }

  onInvoiceChange(fn: (e: InvoiceEvent) => void): void {
    this.listeners.push(fn);
  }

  private emit(e: InvoiceEvent): void {
    for (const l of this.listeners) l(e);
  }

  addClient(c: Omit<Client, 'id' | 'updatedMs'> & { updatedMs?: number }): Client {
    const client: Client = { ...c, id: ++this.seq.client, updatedMs: c.updatedMs ?? this.nowMs() };
    this.clients.set(client.id, client);
    return client;
  }

  updateClient(id: number, change: Partial<Omit<Client, 'id' | 'updatedMs'>>): Client {
    const c = this.clients.get(id);
    if (!c) throw new Error(`no client ${id}`);
    Object.assign(c, change, { updatedMs: this.nowMs() });
    return c;
  }

  addUser(u: Omit<User, 'id' | 'updatedMs'> & { updatedMs?: number }): User {
    if (!this.clients.has(u.client_id)) throw new Error(`no client ${u.client_id}`);
    const user: User = { ...u, id: ++this.seq.user, updatedMs: u.updatedMs ?? this.nowMs() };
    this.users.set(user.id, user);
    return user;
  }

  updateUser(id: number, change: Partial<Omit<User, 'id' | 'updatedMs' | 'client_id'>>): User {
    const u = this.users.get(id);
    if (!u) throw new Error(`no user ${id}`);
    Object.assign(u, change, { updatedMs: this.nowMs() });
    return u;
  }

  private makeLine(invoiceId: number, l: LineInput, contractId: number): Line {
    const rate = String(l.taxRate ?? '0');
    const net = productCents(l.quantity, l.unitPrice);
    return {
      id: ++this.seq.line,
      ihid: invoiceId,
      item_code: l.itemCode ?? '',
      item_shortdescription: l.description,
      item_longdescription: l.description,
      qty_order: String(l.quantity),
      unit_price: String(l.unitPrice),
      tax_rate: rate,
      tax_code: rate === '0' ? 'NT' : 'TX',
      nominal_code: '4000',
      contract_id: l.contractId ?? contractId,
      recurring_invoice_id: l.recurringInvoiceId ?? 0,
      ticket_id: l.ticketId ?? 0,
      prepay_id: l.prepayId ?? 0,
      calculate_price_from_assets: l.perAsset ?? false,
      netCents: net,
      taxCents: productCents(String(net), rate, 10_000n), // net cents × rate % → cents
    };
  }

  createInvoice(input: InvoiceInput, opts: { stampMs?: number; silent?: boolean } = {}): Invoice {
    const client = this.clients.get(input.clientId);
    if (!client) throw new Error(`no client ${input.clientId}`);
    const id = ++this.seq.invoice;
    const stamp = opts.stampMs ?? this.nowMs();
    const invoiceDate = input.invoiceDate ?? new Date(stamp).toISOString().slice(0, 10);
    const inv: Invoice = {
      id,
      invoicenumber: input.number ?? `INV${String(id).padStart(6, '0')}`,
      client_id: client.id,
      invoiceDate,
      dueDate: input.dueDate === undefined ? addDays(invoiceDate, 30) : input.dueDate,
      currency: input.currency ?? client.currencyisocode,
      posted: true,
      voided: false,
      contract_id: input.contractId ?? 0,
      contract_ref: input.contractRef ?? '',
      recurring_invoice_id: input.recurringInvoiceId ?? 0,
      lines: [],
      datepaidMs: null,
      createdMs: stamp,
      updatedMs: stamp,
    };
    inv.lines = input.lines.map((l) => this.makeLine(id, l, inv.contract_id));
    this.invoices.set(id, inv);
    if (!opts.silent) this.emit({ action: 'created', invoice: inv });
    return inv;
  }

  updateInvoice(id: number, change: InvoiceChange): Invoice {
    const inv = this.invoices.get(id);
    if (!inv) throw new Error(`no invoice ${id}`);
    if (change.removeLineIds) inv.lines = inv.lines.filter((l) => !change.removeLineIds!.includes(l.id));
    if (change.addLines) inv.lines.push(...change.addLines.map((l) => this.makeLine(id, l, inv.contract_id)));
    if (change.dueDate !== undefined) inv.dueDate = change.dueDate;
    if (change.voided !== undefined) inv.voided = change.voided;
    if (change.posted !== undefined) inv.posted = change.posted;
    this.touch(inv);
    return inv;
  }

  /** Stamp an invoice as changed now and announce it (a payment added or removed changes its invoice). */
  touch(inv: Invoice): void {
    inv.updatedMs = this.nowMs();
    const due = this.dueCents(inv);
    inv.datepaidMs = due <= 0 && this.totalCents(inv) > 0 ? (inv.datepaidMs ?? inv.updatedMs) : null;
    this.emit({ action: 'updated', invoice: inv });
  }

  netCents(inv: Invoice): number {
    return inv.lines.reduce((n, l) => n + l.netCents, 0);
  }
  taxCents(inv: Invoice): number {
    return inv.lines.reduce((n, l) => n + l.taxCents, 0);
  }
  totalCents(inv: Invoice): number {
    return this.netCents(inv) + this.taxCents(inv);
  }
  /** Kept per invoice as payments come and go: serialising a page must not scan every payment per invoice. */
  private readonly paid = new Map<number, number>();
  private bumpPaid(invoiceId: number, cents: number): void {
    this.paid.set(invoiceId, (this.paid.get(invoiceId) ?? 0) + cents);
  }
  paidCents(inv: Invoice): number {
    return this.paid.get(inv.id) ?? 0;
  }

  /** A payment already on an invoice when the data was seeded (no change stamp, no webhook). */
  seedPayment(p: Payment): void {
    this.payments.set(p.id, p);
    this.bumpPaid(p.invoice_id, p.amountCents);
  }
  dueCents(inv: Invoice): number {
    return inv.voided ? 0 : this.totalCents(inv) - this.paidCents(inv);
  }

  addPayment(p: Omit<Payment, 'id'>): Payment {
    const payment: Payment = { ...p, id: ++this.seq.payment };
    this.payments.set(payment.id, payment);
    this.bumpPaid(payment.invoice_id, payment.amountCents);
    this.touch(this.invoices.get(p.invoice_id)!);
    return payment;
  }

  updatePayment(id: number, change: Partial<Pick<Payment, 'amountCents' | 'dateMs' | 'thirdpartyid' | 'method' | 'status'>>): Payment {
    const p = this.payments.get(id)!;
    const before = p.amountCents;
    Object.assign(p, change);
    this.bumpPaid(p.invoice_id, p.amountCents - before);
    this.touch(this.invoices.get(p.invoice_id)!);
    return p;
  }

  removePayment(id: number): boolean {
    const p = this.payments.get(id);
    if (!p) return false;
    this.payments.delete(id);
    this.bumpPaid(p.invoice_id, -p.amountCents);
    const inv = this.invoices.get(p.invoice_id);
    if (inv) this.touch(inv);
    return true;
  }
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
