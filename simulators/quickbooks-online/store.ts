// One QuickBooks Online company (realm) in memory. Entities are kept as the JSON QBO returns, so
// what the simulator stores is what it serves; business rules live in transactions.ts / names.ts.
import { money, parseDecimal, toVendorNumber, MoneyError, type Currency } from '../../src/domain/money.ts';
import { faults, qboDateTime } from './faults.ts';

export type EntityName =
  | 'Invoice'
  | 'CreditMemo'
  | 'Payment'
  | 'Deposit'
  | 'Customer'
  | 'Account'
  | 'Item'
  | 'JournalEntry'
  | 'Vendor'
  | 'Purchase'
  | 'CompanyInfo'
  | 'Preferences'
  | 'Class'
  | 'Department';
export const ENTITY_NAMES: readonly EntityName[] = [
  'Invoice',
  'CreditMemo',
  'Payment',
  'Deposit',
  'Customer',
  'Account',
  'Item',
  'JournalEntry',
  'Vendor',
  'Purchase',
  'CompanyInfo',
  'Preferences',
  'Class',
  'Department',
];

/** A deleted record as Change Data Capture reports it: only its id, the deletion time and `status: "Deleted"`. */
export interface Tombstone {
  readonly entity: EntityName;
  readonly id: string;
  readonly at: number;
}

/** URL path segment → entity (QBO paths are the lower-cased entity name). */
export function entityFromPath(segment: string): EntityName | null {
  return ENTITY_NAMES.find((e) => e.toLowerCase() === segment.toLowerCase()) ?? null;
}

export type Entity = Record<string, unknown> & { Id: string; SyncToken: string };
export interface Ref {
  value: string;
  name?: string;
}

/** The chart of accounts a new simulated company starts with (the ids tests and the demo use). */
export interface DefaultAccounts {
  readonly accountsReceivable: string;
  readonly undepositedFunds: string;
  readonly checking: string;
  readonly merchantFees: string;
  readonly servicesIncome: string;
  readonly servicesItem: string;
}

export class QboStore {
  private readonly maps = new Map<EntityName, Map<string, Entity>>(ENTITY_NAMES.map((n) => [n, new Map()]));
  private nextId = 1;
  /** Deleted records, for CDC (QBO keeps only the id and the time). */
  readonly tombstones: Tombstone[] = [];
  readonly defaults: DefaultAccounts;
  /**
   * What of each journal entry's A/R lines is still open for its customer (debits owed, credits to use).
   * QBO tracks this but does not show it on the JournalEntry object, so it is kept beside the JSON.
   */
  readonly journalOpen = new Map<string, bigint>();

  constructor(
    readonly realmId: string,
    readonly homeCurrency: Currency,
    readonly now: () => number = Date.now,
  ) {
    const ar = this.insert('Account', account('Accounts Receivable (A/R)', 'Accounts Receivable', 'AccountsReceivable', 'Asset'));
    const uf = this.insert('Account', account('Undeposited Funds', 'Other Current Asset', 'UndepositedFunds', 'Asset'));
    const checking = this.insert('Account', account('Checking', 'Bank', 'Checking', 'Asset'));
    const fees = this.insert('Account', account('Merchant Fees', 'Expense', 'BankCharges', 'Expense'));
    const income = this.insert('Account', account('Services', 'Income', 'ServiceFeeIncome', 'Revenue'));
    const item = this.insert('Item', {
      Name: 'Services',
      FullyQualifiedName: 'Services',
      Active: true,
      Type: 'Service',
      Taxable: false,
      IncomeAccountRef: { value: income.Id, name: 'Services' },
    });
    this.defaults = {
      accountsReceivable: ar.Id,
      undepositedFunds: uf.Id,
      checking: checking.Id,
      merchantFees: fees.Id,
      servicesIncome: income.Id,
      servicesItem: item.Id,
    };
  }

  list(type: EntityName): Entity[] {
    return [...this.maps.get(type)!.values()];
  }

  find(type: EntityName, id: string): Entity | undefined {
    return this.maps.get(type)!.get(id);
  }

  get(type: EntityName, id: string): Entity {
    const e = this.find(type, id);
    if (!e) throw faults.objectNotFound(type, id);
    return e;
  }

  /** A reference in a request must name an existing, active record (QBO answers 2500 / 610 otherwise). */
  ref(type: EntityName, field: string, ref: unknown, required = true): Entity | undefined {
    if (ref === undefined || ref === null) {
      if (required) throw faults.requiredParam(field);
      return undefined;
    }
    const id = typeof ref === 'object' && ref !== null ? (ref as Record<string, unknown>)['value'] : undefined;
    if (typeof id !== 'string' && typeof id !== 'number') throw faults.requiredParam(`${field}.value`);
    const e = this.find(type, String(id));
    if (!e) throw faults.invalidReference(field, String(id));
    // QBO refuses a new transaction naming an inactive account, customer or item (code 610).
    if (e['Active'] === false) throw faults.objectNotFound(type, String(id));
    return e;
  }

  /** Assign Id, SyncToken and MetaData as QBO does on create (CompanyInfo and Preferences have fixed ids). */
  insert(type: EntityName, body: Record<string, unknown>, fixedId?: string): Entity {
    const t = qboDateTime(this.now());
    const e: Entity = {
      ...body,
      domain: 'QBO',
      sparse: false,
      Id: fixedId ?? String(this.nextId++),
      SyncToken: '0',
      MetaData: { CreateTime: t, LastUpdatedTime: t },
    };
    this.maps.get(type)!.set(e.Id, e);
    return e;
  }

  /** Every change bumps SyncToken and LastUpdatedTime (what incremental queries and CDC rely on). */
  touch(e: Entity): void {
    e.SyncToken = String(Number(e.SyncToken) + 1);
    const meta = e['MetaData'] as Record<string, string>;
    meta['LastUpdatedTime'] = qboDateTime(this.now());
  }

  /**
   * The next invoice number when a request has none: QuickBooks continues from the company's last
   * number (custom transaction numbers off), so it never collides with numbers already used, whether
   * they came from the API, the UI or a PSA's accounting export. 1001 in an empty company.
   */
  docNumber(type: EntityName = 'Invoice'): string {
    let max = 1000n;
    for (const e of this.list(type)) {
      const n = e['DocNumber'];
      if (typeof n === 'string' && /^\d{1,18}$/.test(n) && BigInt(n) > max) max = BigInt(n);
    }
    return String(max + 1n);
  }

  /** Remove a record (operation=delete); CDC then answers it as deleted. */
  remove(type: EntityName, id: string): void {
    this.maps.get(type)!.delete(id);
    this.tombstones.push({ entity: type, id, at: this.now() });
  }

  /** A record's timestamp in milliseconds (for CDC's changedSince), from its LastUpdatedTime. */
  static updatedAt(e: Entity): number {
    return Date.parse(String((e['MetaData'] as Record<string, string> | undefined)?.['LastUpdatedTime'] ?? ''));
  }

  today(): string {
    return qboDateTime(this.now()).slice(0, 10);
  }

  // ---- amounts: JSON numbers on the wire, exact minor units inside ----------------------------------

  minor(value: unknown, field: string): bigint {
    if (typeof value !== 'number' && typeof value !== 'string') throw faults.badNumber(field, value);
    try {
      return parseDecimal(value, this.homeCurrency).amountMinor;
    } catch (e) {
      if (e instanceof MoneyError) throw faults.badNumber(field, value);
      throw e;
    }
  }

  amount(minor: bigint): number {
    return toVendorNumber(money(minor, this.homeCurrency));
  }

  currencyRef(): Ref {
    const names: Record<Currency, string> = {
      USD: 'United States Dollar',
      CAD: 'Canadian Dollar',
      GBP: 'British Pound Sterling',
      EUR: 'Euro',
      AUD: 'Australian Dollar',
      NZD: 'New Zealand Dollar',
    };
    return { value: this.homeCurrency, name: names[this.homeCurrency] };
  }
}

function account(name: string, type: string, subType: string, classification: string): Record<string, unknown> {
  return {
    Name: name,
    SubAccount: false,
    FullyQualifiedName: name,
    Active: true,
    Classification: classification,
    AccountType: type,
    AccountSubType: subType,
    CurrentBalance: 0,
    CurrentBalanceWithSubAccounts: 0,
  };
}

export function refTo(e: Entity, nameField = 'Name'): Ref {
  const name = e[nameField];
  return typeof name === 'string' ? { value: e.Id, name } : { value: e.Id };
}
