// Simulator-only controls (nothing here exists at Xero): seed the organisation as the PSA's accounting export
// would, look at what was posted, move the clock, expire or revoke tokens, tune limits, point webhooks at a
// receiver and run Xero's intent-to-receive check. Faults (5xx, 429, timeouts) come from the kit's /_sim/faults.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { CallLog, Faults } from '../kit.ts';
import type { ApiState } from './api-hooks.ts';
import { toCents, toDay } from './errors.ts';
import type { XeroIdentity } from './identity.ts';
import type { XeroLimitOptions, XeroLimits } from './limits.ts';
import type { XeroCreditNote, XeroInvoice, XeroStore } from './store.ts';
import { creditNoteEvent, invoiceEvent, type XeroWebhooks } from './webhooks.ts';
import { deletePayment } from './writes.ts';
import { creditNoteJson } from './credit-notes.ts';

export interface SeedXeroInvoice {
  readonly number: string;
  readonly contactName: string;
  /** Decimal text, e.g. "1250.00". */
  readonly amount: string;
  readonly date?: string;
  readonly dueDate?: string;
  readonly status?: 'DRAFT' | 'AUTHORISED';
}

/** A sales credit note as the PSA's export creates it (Settle never creates one; it allocates it). */
export interface SeedXeroCreditNote {
  readonly number: string;
  readonly contactName: string;
  readonly amount: string;
  readonly date?: string;
  readonly status?: 'DRAFT' | 'AUTHORISED';
}

export class XeroControl {
  /** Added to the real clock (POST /_sim/time): a day on resets the daily limit. */
  offsetMs = 0;
  baseUrl = '';

  constructor(
    readonly store: XeroStore,
    readonly identity: XeroIdentity,
    readonly limits: XeroLimits,
    readonly webhooks: XeroWebhooks,
    readonly api: ApiState,
    readonly faults: Faults,
    readonly calls: CallLog,
  ) {}

  /** Account codes of the seeded chart (store.ts). */
  readonly codes = { bank: '090', clearing: '091', sales: '200', otherRevenue: '260', fees: '404', receivable: '610', clientCredit: '835' } as const;

  accountId(code: string): string {
    const a = this.store.accounts.find((x) => x.Code === code);
    if (!a) throw new Error(`no account with code ${code}`);
    return a.AccountID;
  }

  seedInvoice(s: SeedXeroInvoice): XeroInvoice {
    const total = toCents(s.amount);
    if (total === null || total <= 0) throw new Error(`amount "${s.amount}" is not a positive decimal`);
    if (this.store.invoices.some((i) => i.InvoiceNumber === s.number)) throw new Error(`invoice ${s.number} exists`);
    const date = toDay(s.date ?? new Date(this.store.now()).toISOString().slice(0, 10))!;
    const inv: XeroInvoice = {
      InvoiceID: randomUUID(),
      InvoiceNumber: s.number,
      Type: 'ACCREC',
      ContactID: this.store.contactByName(s.contactName).ContactID,
      Date: date,
      DueDate: toDay(s.dueDate ?? date)!,
      Status: s.status ?? 'AUTHORISED',
      totalCents: total,
      paidCents: 0,
      creditedCents: 0,
      CurrencyCode: this.store.currency,
      description: `Invoice ${s.number}`,
      updatedAt: this.store.now(),
    };
    this.store.invoices.push(inv);
    void this.webhooks.send([invoiceEvent(this.baseUrl, this.store.tenantId, inv.InvoiceID, 'CREATE', inv.updatedAt)]);
    return inv;
  }

  seedCreditNote(s: SeedXeroCreditNote): XeroCreditNote {
    const total = toCents(s.amount);
    if (total === null || total <= 0) throw new Error(`amount "${s.amount}" is not a positive decimal`);
    if (this.store.creditNotes.some((n) => n.CreditNoteNumber === s.number)) throw new Error(`credit note ${s.number} exists`);
    const note: XeroCreditNote = {
      CreditNoteID: randomUUID(),
      CreditNoteNumber: s.number,
      ContactID: this.store.contactByName(s.contactName).ContactID,
      Date: toDay(s.date ?? new Date(this.store.now()).toISOString().slice(0, 10))!,
      Status: s.status ?? 'AUTHORISED',
      totalCents: total,
      CurrencyCode: this.store.currency,
      allocations: [],
      updatedAt: this.store.now(),
    };
    this.store.creditNotes.push(note);
    void this.webhooks.send([creditNoteEvent(this.baseUrl, this.store.tenantId, note.CreditNoteID, note.updatedAt)]);
    return note;
  }

  creditNote(number: string): XeroCreditNote | undefined {
    return this.store.creditNotes.find((n) => n.CreditNoteNumber === number);
  }

  invoice(number: string): XeroInvoice | undefined {
    return this.store.invoices.find((i) => i.InvoiceNumber === number);
  }

  /** A bookkeeper deletes a payment in Xero's screens. */
  deletePayment(paymentId: string): void {
    const r = deletePayment(this.store, paymentId, { Status: 'DELETED' });
    if (!r || !r.ok) throw new Error(r ? r.messages.join('; ') : 'no such payment');
  }

  /** A bookkeeper archives a tracking category, or one option of it, in Xero's settings. */
  archiveTracking(category: string, option?: string): void {
    const c = this.store.trackingCategories.find((x) => x.Name === category);
    const o = option === undefined ? undefined : c?.Options.find((x) => x.Name === option);
    if (!c || (option !== undefined && !o)) throw new Error(`no tracking ${option === undefined ? 'category' : 'option'} ${option ?? category}`);
    if (o) o.Status = 'ARCHIVED';
    else c.Status = 'ARCHIVED';
  }

  livePayments(): XeroStore['payments'] {
    return this.store.payments.filter((p) => p.Status === 'AUTHORISED');
  }

  balanceCents(code: string): number {
    return this.store.balanceCents(this.accountId(code));
  }

  state(): Record<string, unknown> {
    return {
      tenantId: this.store.tenantId,
      invoices: this.store.invoices.map((i) => this.store.invoiceJson(i, false)),
      payments: this.store.payments.map((p) => this.store.paymentJson(p)),
      bankTransfers: this.store.transfers.map((t) => this.store.transferJson(t)),
      bankTransactions: this.store.bankTransactions.map((b) => this.store.bankTransactionJson(b)),
      creditNotes: this.store.creditNotes.map((n) => creditNoteJson(this.store, n)),
      balances: Object.fromEntries(Object.entries(this.codes).map(([k, c]) => [k, this.balanceCents(c) / 100])),
      stats: { ...this.api.stats, throttled: this.limits.throttled },
      webhooks: { url: this.webhooks.url, status: this.webhooks.status, deliveries: this.webhooks.deliveries.length },
    };
  }
}

export function registerControlRoutes(app: FastifyInstance, c: XeroControl): void {
  app.post('/_sim/seed', async (req, reply) => {
    const b = (req.body ?? {}) as { invoices?: SeedXeroInvoice[]; creditNotes?: SeedXeroCreditNote[] };
    try {
      const made = (b.invoices ?? []).map((i) => c.seedInvoice(i));
      const notes = (b.creditNotes ?? []).map((n) => c.seedCreditNote(n));
      return {
        invoices: made.map((i) => ({ InvoiceID: i.InvoiceID, InvoiceNumber: i.InvoiceNumber })),
        creditNotes: notes.map((n) => ({ CreditNoteID: n.CreditNoteID, CreditNoteNumber: n.CreditNoteNumber })),
      };
    } catch (e) {
      return reply.code(400).send({ error: (e as Error).message });
    }
  });
  app.get('/_sim/state', async () => c.state());
  app.post('/_sim/time', async (req) => {
    c.offsetMs += Number((req.body as { advanceMs?: number } | undefined)?.advanceMs ?? 0);
    return { now: new Date(c.store.now()).toISOString() };
  });
  app.post('/_sim/tokens/expire', async () => {
    c.identity.expireAccessTokens();
    return { ok: true };
  });
  app.post('/_sim/tokens/revoke', async () => {
    c.identity.revokeAll();
    return { ok: true };
  });
  app.post('/_sim/limits', async (req) => {
    c.limits.configure((req.body ?? {}) as Partial<XeroLimitOptions>);
    return c.limits.options;
  });
  app.delete('/_sim/limits', async () => {
    c.limits.reset();
    return { ok: true };
  });
  app.post('/_sim/oauth/redirect-uris', async (req) => {
    c.identity.redirectUris.add(String((req.body as { uri?: string } | undefined)?.uri ?? ''));
    return { redirectUris: [...c.identity.redirectUris] };
  });
  app.post('/_sim/webhooks', async (req) => {
    const b = (req.body ?? {}) as { url?: string; key?: string };
    c.webhooks.configure(String(b.url ?? ''), b.key);
    return { url: c.webhooks.url, key: c.webhooks.key };
  });
  app.post('/_sim/webhooks/intent', async () => ({ status: await c.webhooks.intentToReceive() }));
  app.post('/_sim/tracking/archive', async (req, reply) => {
    const b = (req.body ?? {}) as { category?: string; option?: string };
    try {
      c.archiveTracking(String(b.category ?? ''), b.option);
      return { ok: true };
    } catch (e) {
      return reply.code(400).send({ error: (e as Error).message });
    }
  });
  app.post<{ Params: { id: string } }>('/_sim/payments/:id/delete', async (req, reply) => {
    try {
      c.deletePayment(req.params.id);
      return { ok: true };
    } catch (e) {
      return reply.code(400).send({ error: (e as Error).message });
    }
  });
}
