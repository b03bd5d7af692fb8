// Simulator-only controls (nothing here exists at Intuit): seed the books the way an MSP's PSA
// accounting export would, look at what was posted, expire tokens, tune limits, lose answers.
import type { FastifyInstance } from 'fastify';
import type { CallLog, Faults } from '../kit.ts';
import { money, parseDecimal, toVendorNumber, type Money } from '../../src/domain/money.ts';
import { QboFault, faultBody } from './faults.ts';
import type { LimitOptions, QboLimits } from './limits.ts';
import type { TokenAuthority } from './oauth.ts';
import { acceptableRedirectUri } from './consent.ts';
import type { ApiContext } from './routes.ts';
import type { Entity, QboStore } from './store.ts';
import { createAccount, createCustomer } from './names.ts';
import { createInvoice } from './transactions.ts';
import { createCreditMemo } from './credit-memo.ts';
import { deleteRecord, voidRecord } from './lifecycle.ts';
import { createTrackingEntity, setTracking, updateTrackingEntity, type TrackingEntity } from './tracking.ts';

export interface SeedInvoice {
  readonly docNumber: string;
  /** An existing customer's DisplayName, created if missing. */
  readonly customerName: string;
  /** Decimal text ("1250.00") or Money; one "Services" line of this amount. */
  readonly amount: string | Money;
  readonly txnDate?: string;
  readonly dueDate?: string;
  readonly email?: string;
}

export class QboControl {
  constructor(
    readonly store: QboStore,
    readonly auth: TokenAuthority,
    readonly limits: QboLimits,
    private readonly api: ApiContext,
    /** The kit's fault injection (5xx, 429, timeouts, drops before the request is processed). */
    readonly faults: Faults,
    /** Requests per "METHOD /route" since start or the last reset. */
    readonly calls: CallLog,
  ) {}

  get accounts(): QboStore['defaults'] {
    return this.store.defaults;
  }

  seedCustomer(displayName: string, email?: string): Entity {
    const existing = this.store.list('Customer').find((c) => c['DisplayName'] === displayName);
    if (existing) return existing;
    return createCustomer(this.store, { DisplayName: displayName, ...(email ? { PrimaryEmailAddr: { Address: email } } : {}) });
  }

  seedInvoice(s: SeedInvoice): Entity {
    const customer = this.seedCustomer(s.customerName, s.email);
    const amount = typeof s.amount === 'string' ? parseDecimal(s.amount, this.store.homeCurrency) : s.amount;
    if (amount.currency !== this.store.homeCurrency)
      throw new Error(`the simulated company keeps its books in ${this.store.homeCurrency}, not ${amount.currency}`);
    return createInvoice(this.store, {
      DocNumber: s.docNumber,
      CustomerRef: { value: customer.Id },
      ...(s.txnDate ? { TxnDate: s.txnDate } : {}),
      ...(s.dueDate ? { DueDate: s.dueDate } : {}),
      Line: [
        {
          Amount: toVendorNumber(money(amount.amountMinor, this.store.homeCurrency)),
          DetailType: 'SalesItemLineDetail',
          SalesItemLineDetail: { ItemRef: { value: this.store.defaults.servicesItem } },
        },
      ],
    });
  }

  /** A credit memo as the PSA's accounting export would create it: one "Services" line of this amount. */
  seedCreditMemo(s: Omit<SeedInvoice, 'dueDate'>): Entity {
    const customer = this.seedCustomer(s.customerName, s.email);
    const amount = typeof s.amount === 'string' ? parseDecimal(s.amount, this.store.homeCurrency) : s.amount;
    return createCreditMemo(this.store, {
      DocNumber: s.docNumber,
      CustomerRef: { value: customer.Id },
      ...(s.txnDate ? { TxnDate: s.txnDate } : {}),
      Line: [
        {
          Amount: toVendorNumber(money(amount.amountMinor, this.store.homeCurrency)),
          DetailType: 'SalesItemLineDetail',
          SalesItemLineDetail: { ItemRef: { value: this.store.defaults.servicesItem } },
        },
      ],
    });
  }

  creditMemos(): Entity[] {
    return this.store.list('CreditMemo');
  }

  /** The account of that name, created (as an MSP would in QuickBooks) when the company has none. */
  ensureAccount(name: string, accountType: string, accountSubType: string): Entity {
    const existing = this.store.list('Account').find((a) => String(a['Name']).toLowerCase() === name.toLowerCase());
    return existing ?? createAccount(this.store, { Name: name, AccountType: accountType, AccountSubType: accountSubType });
  }

  /** Account and settings → Advanced → Categories: track classes (per row or per transaction) and locations. */
  setTracking(opts: { classes?: 'line' | 'transaction' | false; departments?: boolean }): Record<string, unknown> {
    return setTracking(this.store, opts);
  }

  /** The class (or location) of that name, created when missing; `parent` names an existing one. */
  ensureTracking(entity: TrackingEntity, name: string, parent?: string): Entity {
    const existing = this.store.list(entity).find((e) => String(e['Name']).toLowerCase() === name.toLowerCase());
    if (existing) return existing;
    const p = parent === undefined ? undefined : this.store.list(entity).find((e) => e['Name'] === parent);
    return createTrackingEntity(this.store, entity, { Name: name, ...(p ? { ParentRef: { value: p.Id } } : {}) });
  }

  /** What a bookkeeper does in QuickBooks' list: make a class or location inactive ("delete" in the screens). */
  setTrackingActive(entity: TrackingEntity, id: string, active: boolean): Entity {
    const e = this.store.get(entity, id);
    return updateTrackingEntity(this.store, entity, { Id: e.Id, SyncToken: e.SyncToken, sparse: true, Active: active });
  }

  invoices(): Entity[] {
    return this.store.list('Invoice');
  }
  payments(): Entity[] {
    return this.store.list('Payment');
  }
  deposits(): Entity[] {
    return this.store.list('Deposit');
  }
  customers(): Entity[] {
    return this.store.list('Customer');
  }
  journalEntries(): Entity[] {
    return this.store.list('JournalEntry');
  }

  /**
   * What a bookkeeper does in QuickBooks' own screens: void or delete a payment (Settle's reconciliation
   * must notice). Same rules as the API (a deposited payment is refused).
   */
  voidPayment(id: string): Entity {
    const p = this.store.get('Payment', id);
    return voidRecord(this.store, 'Payment', { Id: p.Id, SyncToken: p.SyncToken, sparse: true });
  }
  deletePayment(id: string): void {
    const p = this.store.get('Payment', id);
    deleteRecord(this.store, 'Payment', { Id: p.Id, SyncToken: p.SyncToken });
  }

  expireAccessTokens(): void {
    this.auth.expireAccessTokens();
  }

  /** What the app's developer does on Intuit's Keys tab: allow a redirect URI (refused unless https or localhost). */
  registerRedirectUri(uri: string): void {
    if (!acceptableRedirectUri(uri)) throw new Error(`Intuit accepts only https redirect URIs (http for localhost): ${uri}`);
    this.auth.redirectUris.add(uri);
  }

  expireAuthorizationCodes(): void {
    this.auth.expireAuthorizationCodes();
  }

  accessTokenUses(token: string): number {
    return this.auth.accessTokenUses(token);
  }

  /** The next `times` writes matching `pathPattern` are executed, then the connection is dropped unanswered. */
  loseAnswers(pathPattern: string, times = 1): void {
    this.api.lostAnswers.push({ pathPattern, times });
  }

  configureLimits(patch: Partial<LimitOptions>): void {
    this.limits.configure(patch);
  }

  get stats(): ApiContext['stats'] & { throttled: QboLimits['throttled'] } {
    return { ...this.api.stats, throttled: this.limits.throttled };
  }
}

export function registerControlRoutes(app: FastifyInstance, control: QboControl): void {
  app.post('/_sim/seed', async (req, reply) => {
    const body = (req.body ?? {}) as {
      customers?: { displayName: string; email?: string }[];
      invoices?: SeedInvoice[];
      /** Turn class / location tracking on or off first (as the company's owner would in Settings). */
      tracking?: { classes?: 'line' | 'transaction' | false; departments?: boolean };
      classes?: { name: string; parent?: string; active?: boolean }[];
      departments?: { name: string; parent?: string; active?: boolean }[];
    };
    const tracked = (entity: TrackingEntity, list: { name: string; parent?: string; active?: boolean }[] | undefined): Entity[] =>
      (list ?? []).map((c) => {
        const e = control.ensureTracking(entity, c.name, c.parent);
        return c.active === false ? control.setTrackingActive(entity, e.Id, false) : e;
      });
    const guard = <T>(fn: () => T): T | ReturnType<typeof faultBody> => {
      try {
        return fn();
      } catch (e) {
        if (!(e instanceof QboFault)) throw e;
        void reply.code(e.status);
        return faultBody(e);
      }
    };
    return guard(() => ({
      ...(body.tracking ? { tracking: control.setTracking(body.tracking) } : {}),
      classes: tracked('Class', body.classes),
      departments: tracked('Department', body.departments),
      customers: (body.customers ?? []).map((c) => control.seedCustomer(c.displayName, c.email)),
      invoices: (body.invoices ?? []).map((i) => control.seedInvoice(i)),
    }));
  });
  app.get('/_sim/accounts', async () => control.accounts);
  // Find or create an account by name (what an MSP does once in QuickBooks' chart of accounts), for a
  // simulator running in a process of its own.
  app.post('/_sim/accounts', async (req, reply) => {
    const b = (req.body ?? {}) as { name?: unknown; accountType?: unknown; accountSubType?: unknown };
    if (typeof b.name !== 'string' || typeof b.accountType !== 'string' || typeof b.accountSubType !== 'string') {
      return reply.code(400).send({ error: 'name, accountType and accountSubType (strings) are required' });
    }
    return control.ensureAccount(b.name, b.accountType, b.accountSubType);
  });
  app.get('/_sim/invoices', async () => control.invoices());
  app.get('/_sim/payments', async () => control.payments());
  app.get('/_sim/deposits', async () => control.deposits());
  app.get('/_sim/journal-entries', async () => control.journalEntries());
  app.get('/_sim/customers', async () => control.customers());
  app.get('/_sim/stats', async () => control.stats);
  for (const op of ['void', 'delete'] as const) {
    app.post(`/_sim/payments/:id/${op}`, async (req, reply) => {
      try {
        const id = (req.params as { id: string }).id;
        return op === 'void' ? control.voidPayment(id) : (control.deletePayment(id), { ok: true });
      } catch (e) {
        if (!(e instanceof QboFault)) throw e;
        return reply.code(e.status).send(faultBody(e));
      }
    });
  }
  app.post('/_sim/oauth/redirect-uris', async (req, reply) => {
    const uri = String((req.body as { uri?: unknown } | null)?.uri ?? '');
    try {
      control.registerRedirectUri(uri);
    } catch (e) {
      return reply.code(400).send({ error: (e as Error).message });
    }
    return { registered: uri };
  });
  app.post('/_sim/oauth/codes/expire', async () => {
    control.expireAuthorizationCodes();
    return { expired: true };
  });
  app.post('/_sim/tokens/expire', async () => {
    control.expireAccessTokens();
    return { ok: true };
  });
  app.post('/_sim/limits', async (req) => {
    control.configureLimits((req.body ?? {}) as Partial<LimitOptions>);
    return control.limits.options;
  });
  app.post('/_sim/lose-answers', async (req) => {
    const b = (req.body ?? {}) as { pathPattern?: string; times?: number };
    control.loseAnswers(b.pathPattern ?? '.', b.times ?? 1);
    return { ok: true };
  });
}
