// QuickBooks Online error bodies. Shapes from IntuitRestServiceDef.xsd › Fault / Error (JSON:
// {"Fault":{"Error":[{"Message","Detail","code","element"}],"type"},"time"}); codes and wording as
// Intuit's error-code list publishes them (docs: developer.intuit.com … /develop/troubleshooting/error-codes).
import { SCHEMA_FIELDS_RAW } from './schema-fields.ts';

export type QboFaultType = 'ValidationFault' | 'SystemFault' | 'AuthenticationFault' | 'AuthorizationFault' | 'SERVICE';

export interface QboErrorItem {
  readonly Message: string;
  readonly Detail: string;
  readonly code: string;
  readonly element?: string;
}

/** Thrown inside the simulator's handlers; rendered as a Fault body with `status`. */
export class QboFault extends Error {
  constructor(
    readonly status: number,
    readonly type: QboFaultType,
    readonly errors: readonly QboErrorItem[],
  ) {
    super(errors.map((e) => `${e.code} ${e.Message}: ${e.Detail}`).join('; '));
  }
  /** The `Fault` object as it appears in a response or inside a BatchItemResponse. */
  toFault(): { Error: QboErrorItem[]; type: QboFaultType } {
    return { Error: this.errors.map((e) => ({ ...e, element: e.element ?? '' })), type: this.type };
  }
}

const validation = (code: string, Message: string, Detail: string, element = ''): QboFault =>
  new QboFault(400, 'ValidationFault', [{ Message, Detail, code, element }]);

export const faults = {
  objectNotFound: (entity: string, id: string): QboFault =>
    validation(
      '610',
      'Object Not Found',
      `Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. (${entity} Id=${id})`,
    ),
  requiredParam: (field: string): QboFault =>
    validation('2020', 'Required param missing, need to supply the required value for the API', `Required parameter ${field} is missing in the request`, field),
  invalidReference: (field: string, id: string): QboFault =>
    validation('2500', 'Invalid Reference Id', `Invalid Reference Id : ${field} assigned is invalid: ${id}`, field),
  stringLength: (field: string, max: number, supplied: number): QboFault =>
    validation(
      '2050',
      'String length is either shorter or longer than supported by specification',
      `String length specified does not match the supported length. Min:0 Max:${max} supported. Supplied length:${supplied}`,
      field,
    ),
  unsupportedProperty: (entity: string, field: string): QboFault =>
    validation(
      '2010',
      'Request has invalid or unsupported property',
      `Property Name:Unrecognized field "${field}" (class com.intuit.schema.finance.v3.${entity}), not marked as ignorable specified is unsupported or invalid`,
      field,
    ),
  invalidValue: (field: string, detail: string): QboFault => validation('2170', 'Invalid Enumeration', detail, field),
  badNumber: (field: string, value: unknown): QboFault =>
    validation('2090', 'Invalid Number', `Invalid Number : ${field} has an invalid value ${JSON.stringify(value)}`, field),
  business: (detail: string, element = ''): QboFault =>
    validation('6000', 'A business validation error has occurred while processing your request', `Business Validation Error: ${detail}`, element),
  duplicateDocNumber: (docNumber: string, txnType: string, txnId: string): QboFault =>
    validation(
      '6140',
      'Duplicate Document Number Error',
      `Duplicate Document Number Error : You must specify a different number. This number has already been used. DocNumber=${docNumber} is assigned to TxnType=${txnType} with TxnId=${txnId}`,
      'DocNumber',
    ),
  duplicateName: (name: string, id: string): QboFault =>
    validation(
      '6240',
      'Duplicate Name Exists Error',
      `The name supplied already exists. : Another customer, vendor or employee is already using this name. Please use a different name. Id=${id} Name=${name}`,
      'DisplayName',
    ),
  staleObject: (entity: string, id: string, token: string): QboFault =>
    validation(
      '5010',
      'Stale Object Error',
      `Stale Object Error : You and ${entity} ${id} were working on this at the same time. ${entity} finished before you did, so your work was not saved. (SyncToken ${token})`,
    ),
  queryParse: (detail: string): QboFault => validation('4000', 'Error parsing query', `QueryParserError: ${detail}`),
  queryValidation: (detail: string): QboFault => validation('4001', 'Invalid query', `QueryValidationError: ${detail}`),
  // The request-level limits below are Intuit's published ones; the codes are not documented for
  // them, so 4002–4005 are the simulator's own (verify against a sandbox before relying on them).
  batchTooLarge: (n: number, max: number): QboFault =>
    validation('4002', 'Batch size exceeds the limit', `Batch request has ${n} BatchItemRequest; the maximum is ${max}`),
  requestIdTooLong: (max: number, len: number): QboFault =>
    validation('4003', 'Invalid RequestId', `requestid can have at most ${max} characters for this operation; got ${len}`, 'requestid'),
  unsupportedOperation: (operation: string, entity: string): QboFault =>
    validation('4004', 'Unsupported Operation', `Operation ${operation} is not supported for ${entity}`),
  minorVersion: (given: string, min: number, max: number): QboFault =>
    validation(
      '4005',
      'Invalid minor version',
      `minorversion ${JSON.stringify(given)} is not supported: use a whole number from ${min} to ${max} (minor versions below ${min} were retired on 2025-08-01)`,
      'minorversion',
    ),
  notQueryable: (entity: string, field: string): QboFault =>
    validation('4001', 'Invalid query', `QueryValidationError: property '${field}' is not queryable`, field),
  system: (detail: string): QboFault =>
    new QboFault(500, 'SystemFault', [
      { Message: 'An application error has occurred while processing your request', Detail: `System Failure Error: ${detail}`, code: '10000' },
    ]),
};

/** QBO formats times in the company's zone with an offset; the simulator uses a fixed US Pacific offset. */
export function qboDateTime(ms: number): string {
  const offsetMin = -7 * 60;
  const d = new Date(ms + offsetMin * 60_000);
  return `${d.toISOString().slice(0, 19)}-07:00`;
}

export function faultBody(f: QboFault, now = Date.now()): { Fault: ReturnType<QboFault['toFault']>; time: string } {
  return { Fault: f.toFault(), time: qboDateTime(now) };
}

/**
 * 401/403 from Intuit's gateway come in a different, lower-case envelope than service faults
 * (`fault.error[].message = "message=AuthenticationFailed; errorCode=003200; statusCode=401"`);
 * clients must read both spellings.
 */
export function gatewayAuthBody(status: 401 | 403, detail: string, now = Date.now()): Record<string, unknown> {
  const [name, code, type] = status === 401 ? ['AuthenticationFailed', '3200', 'AUTHENTICATION'] : ['ApplicationAuthorizationFailed', '3100', 'AUTHORIZATION'];
  return {
    warnings: null,
    intuitObject: null,
    fault: {
      error: [{ message: `message=${name}; errorCode=00${code}; statusCode=${status}`, detail, code, element: null }],
      type,
    },
    report: null,
    queryResponse: null,
    batchItemResponse: [],
    attachableResponse: [],
    syncErrorResponse: null,
    requestId: null,
    time: now,
    status: null,
    cdcresponse: [],
  };
}

/**
 * 429 as Intuit's throttling layer sends it: a SERVICE fault, code 3001, the gateway's message text
 * (`message=ThrottleExceeded; errorCode=003001; statusCode=429`) and "The request limit was reached."
 */
export function throttleBody(now = Date.now()): Record<string, unknown> {
  return {
    Fault: {
      Error: [
        {
          Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
          Detail: 'The request limit was reached.',
          code: '3001',
          element: '',
        },
      ],
      type: 'SERVICE',
    },
    time: qboDateTime(now),
  };
}

// ---- field lists (generated from the XSD) -----------------------------------------------------------

export type CheckedType = keyof typeof SCHEMA_FIELDS_RAW;
const FIELD_CACHE = new Map<CheckedType, Map<string, string>>();

/** Field name → XSD type name for one of the checked complexTypes. */
export function schemaFields(type: CheckedType): Map<string, string> {
  let m = FIELD_CACHE.get(type);
  if (!m) {
    m = new Map();
    for (const entry of SCHEMA_FIELDS_RAW[type].split(' ')) {
      const i = entry.indexOf(':');
      m.set(entry.slice(0, i), entry.slice(i + 1));
    }
    FIELD_CACHE.set(type, m);
  }
  return m;
}

/** ReferenceType is simpleContent (the id) with name/type attributes: JSON {value, name?, type?}. */
const REFERENCE_KEYS = new Set(['value', 'name', 'type']);
const NESTED: Partial<Record<string, CheckedType>> = {
  Line: 'Line',
  LinkedTxn: 'LinkedTxn',
  DepositLineDetail: 'DepositLineDetail',
  SalesItemLineDetail: 'SalesItemLineDetail',
  JournalEntryLineDetail: 'JournalEntryLineDetail',
  EntityTypeRef: 'EntityTypeRef',
  ModificationMetaData: 'ModificationMetaData',
  EmailAddress: 'EmailAddress',
  AccountBasedExpenseLineDetail: 'AccountBasedExpenseLineDetail',
};

/** Reject properties the XSD does not define, as QBO's deserialiser does (code 2010). */
export function checkFields(type: CheckedType, obj: unknown, entity: string = type): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw faults.unsupportedProperty(entity, type);
  const fields = schemaFields(type);
  for (const [key, value] of Object.entries(obj)) {
    const xsdType = fields.get(key);
    if (xsdType === undefined) throw faults.unsupportedProperty(entity, key);
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (xsdType === 'ReferenceType') {
        if (item === null || typeof item !== 'object') throw faults.invalidReference(key, String(item));
        for (const k of Object.keys(item)) if (!REFERENCE_KEYS.has(k)) throw faults.unsupportedProperty('ReferenceType', k);
        continue;
      }
      const nested = NESTED[xsdType];
      if (nested) checkFields(nested, item, entity);
    }
  }
}
