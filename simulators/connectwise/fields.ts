// The field names each collection recognises in `conditions`, `childConditions` and `orderBy`.
// ConnectWise refuses a condition on a name its model does not have with 400
// `{"code":"ApiFindCondition","message":"typeids is not a recognized name."}` (as users of the real API
// report it; see README.md) instead of answering an empty list — so a misspelt field fails loudly here too.
//
// Names: plain fields (`invoiceNumber`), reference sub-fields (`company/id`, `status/name`), and the
// audit stamps as the developer guide writes them (`lastUpdated > [2016-08-20T18:04:26Z]`), which read
// the record's `_info`. The `_info/…` path itself is NOT accepted: the vendor documents `lastUpdated`,
// and the simulator only accepts what the vendor documents (README.md, "assumed"). Array fields
// (`communicationItems`) are reachable only through `childConditions`.
import type { Condition } from './conditions.ts';

/** A reference field and the sub-fields a condition may name on it. */
type Ref = { readonly ref: readonly string[] };
/** An array of child records and the (possibly nested, `type/name`) fields each child has. */
type Children = { readonly children: readonly string[] };
type Field = 'scalar' | Ref | Children;

export interface EntityFields {
  readonly name: string;
  readonly fields: Readonly<Record<string, Field>>;
}

// Reference shapes as the vendor's types have them (the conformance suite checks every name here
// against those types, so the simulator recognises nothing ConnectWise does not have).
const REF: Ref = { ref: ['id', 'identifier', 'name'] };
const ID_NAME: Ref = { ref: ['id', 'name'] };
const AGREEMENT: Ref = { ref: ['id', 'name', 'type'] };
const INVOICE: Ref = { ref: ['id', 'identifier'] };
const CURRENCY: Ref = { ref: ['id', 'symbol', 'currencyCode', 'name', 'currencyIdentifier'] };
const s = 'scalar' as const;

/** The `_info` stamps, by their condition names. */
const INFO: Readonly<Record<string, string>> = {
  lastupdated: 'lastUpdated',
  updatedby: 'updatedBy',
  dateentered: 'dateEntered',
  enteredby: 'enteredBy',
};

export const ENTITIES = {
  company: {
    name: 'Company',
    fields: { id: s, identifier: s, name: s, status: ID_NAME, accountNumber: s, billingTerms: ID_NAME, defaultContact: ID_NAME, deletedFlag: s },
  },
  contact: {
    name: 'Contact',
    fields: {
      id: s,
      firstName: s,
      lastName: s,
      company: REF,
      defaultFlag: s,
      defaultBillingFlag: s,
      inactiveFlag: s,
      communicationItems: { children: ['id', 'type/id', 'type/name', 'value', 'defaultFlag', 'communicationType'] },
    },
  },
  invoice: {
    name: 'Invoice',
    fields: {
      id: s,
      invoiceNumber: s,
      type: s,
      status: ID_NAME,
      company: REF,
      billToCompany: REF,
      applyToType: s,
      applyToId: s,
      billingTerms: ID_NAME,
      reference: s,
      customerPO: s,
      date: s,
      dueDate: s,
      currency: CURRENCY,
      taxableFlag: s,
      serviceTotal: s,
      expenseTotal: s,
      productTotal: s,
      subtotal: s,
      total: s,
      salesTax: s,
      payments: s,
      credits: s,
      balance: s,
      agreement: AGREEMENT,
    },
  },
  productItem: {
    name: 'ProductItem',
    fields: {
      id: s,
      catalogItem: REF,
      description: s,
      quantity: s,
      price: s,
      cost: s,
      discount: s,
      billableOption: s,
      taxableFlag: s,
      company: REF,
      invoice: INVOICE,
      agreement: AGREEMENT,
      project: ID_NAME,
      ticket: { ref: ['id', 'summary'] },
    },
  },
  timeEntry: {
    name: 'TimeEntry',
    fields: {
      id: s,
      company: REF,
      chargeToId: s,
      chargeToType: s,
      member: REF,
      timeStart: s,
      timeEnd: s,
      actualHours: s,
      hoursBilled: s,
      billableOption: s,
      notes: s,
      hourlyRate: s,
      invoice: INVOICE,
      agreement: AGREEMENT,
    },
  },
  expenseEntry: {
    name: 'ExpenseEntry',
    fields: {
      id: s,
      company: REF,
      chargeToId: s,
      chargeToType: s,
      type: ID_NAME,
      member: REF,
      amount: s,
      billableOption: s,
      date: s,
      notes: s,
      invoiceAmount: s,
      invoice: INVOICE,
      agreement: AGREEMENT,
    },
  },
  payment: {
    name: 'Payment',
    fields: { id: s, type: s, invoice: INVOICE, credit: INVOICE, amount: s, paymentDate: s, appliedBy: s },
  },
  callbackEntry: {
    name: 'CallbackEntry',
    fields: {
      id: s,
      description: s,
      url: s,
      objectId: s,
      type: s,
      level: s,
      memberId: s,
      payloadVersion: s,
      inactiveFlag: s,
      isSoapCallbackFlag: s,
      isSelfSuppressedFlag: s,
    },
  },
  companyNote: {
    name: 'CompanyNote',
    fields: { id: s, text: s, type: ID_NAME, flagged: s, enteredBy: s, company: REF },
  },
  agreement: {
    name: 'Agreement',
    fields: {
      id: s,
      name: s,
      type: ID_NAME,
      company: REF,
      contact: ID_NAME,
      site: ID_NAME,
      agreementStatus: s,
      startDate: s,
      endDate: s,
      noEndingDateFlag: s,
      cancelledFlag: s,
      billAmount: s,
      billingCycle: ID_NAME,
      billToCompany: REF,
      billToSite: ID_NAME,
      applicationUnits: s,
      taxable: s,
      currency: CURRENCY,
    },
  },
  companySite: {
    name: 'CompanySite',
    fields: {
      id: s,
      name: s,
      addressLine1: s,
      addressLine2: s,
      city: s,
      stateReference: REF,
      zip: s,
      country: REF,
      phoneNumber: s,
      primaryAddressFlag: s,
      defaultShippingFlag: s,
      defaultBillingFlag: s,
      defaultMailingFlag: s,
      inactiveFlag: s,
      company: REF,
    },
  },
} satisfies Record<string, EntityFields>;

export type EntityKey = keyof typeof ENTITIES;

/** A name the entity does not have. ConnectWise's code for it is `ApiFindCondition`. */
export class UnknownField extends Error {
  readonly code = 'ApiFindCondition';
  constructor(readonly fieldName: string) {
    super(`${fieldName} is not a recognized name.`);
  }
}

/** A name the entity has, used where it cannot be (an array field in `conditions`). */
export class MisplacedField extends Error {
  readonly code = 'ApiFindCondition';
  constructor(
    readonly fieldName: string,
    message: string,
  ) {
    super(message);
  }
}

function findKey<T>(map: Readonly<Record<string, T>>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(map).find((k) => k.toLowerCase() === lower);
}

export type FieldUse = 'conditions' | 'childConditions' | 'orderBy';

/**
 * The record path a condition name refers to (canonical case), or UnknownField. `childConditions`
 * accept only names inside an array field; `conditions` and `orderBy` never do.
 */
export function resolveField(entity: EntityFields, path: readonly string[], use: FieldUse): string[] {
  const text = path.join('/');
  const [head = '', ...rest] = path;
  const info = INFO[head.toLowerCase()];
  if (info && rest.length === 0) {
    if (use === 'childConditions') throw new MisplacedField(text, `${text} is not a field of a child collection; use it in conditions.`);
    return ['_info', info];
  }
  const key = findKey(entity.fields, head);
  if (key === undefined) throw new UnknownField(text);
  const field = entity.fields[key]!;
  if (field === 'scalar') {
    if (rest.length > 0) throw new UnknownField(text);
    if (use === 'childConditions') throw new MisplacedField(text, `${text} is not a field of a child collection; use it in conditions.`);
    return [key];
  }
  if ('ref' in field) {
    if (rest.length !== 1) throw new UnknownField(text);
    const sub = field.ref.find((f) => f.toLowerCase() === rest[0]!.toLowerCase());
    if (sub === undefined) throw new UnknownField(text);
    if (use === 'childConditions') throw new MisplacedField(text, `${text} is not a field of a child collection; use it in conditions.`);
    return [key, sub];
  }
  const sub = field.children.find((f) => f.toLowerCase() === rest.join('/').toLowerCase());
  if (sub === undefined) throw new UnknownField(text);
  if (use !== 'childConditions') throw new MisplacedField(text, `${text} is in the child collection ${key}; filter on it with childConditions.`);
  return [key, ...sub.split('/')];
}

/** The condition with every field name resolved to its record path (throws UnknownField / MisplacedField). */
export function resolveCondition(c: Condition, entity: EntityFields, use: FieldUse): Condition {
  switch (c.k) {
    case 'and':
    case 'or':
      return { k: c.k, items: c.items.map((x) => resolveCondition(x, entity, use)) };
    case 'not':
      return { k: 'not', item: resolveCondition(c.item, entity, use) };
    default:
      return { ...c, field: resolveField(entity, c.field, use) };
  }
}

/** Array fields a (resolved) child condition reads. */
export function childRoots(c: Condition): string[] {
  switch (c.k) {
    case 'and':
    case 'or':
      return [...new Set(c.items.flatMap(childRoots))];
    case 'not':
      return childRoots(c.item);
    default:
      return [c.field[0]!];
  }
}
