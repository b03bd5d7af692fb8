// qbXML response parsing: every `*Rs` in a QBXMLMsgsRs carries its own statusCode / statusSeverity /
// statusMessage (qbxmlops130.xsd), so one document can hold a success beside a refusal. Values stay strings
// (parseTagValue off): an invoice number "0042" or an amount "10.10" must reach us exactly as written.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parseDecimal, type Currency, type Money } from '../../../../domain/money.ts';

export type Severity = 'Info' | 'Warn' | 'Error';
export type Ret = Record<string, unknown>;

export interface QbResponse {
  /** The element name, e.g. 'InvoiceQueryRs'. */
  readonly type: string;
  readonly requestID: string | undefined;
  readonly statusCode: number;
  readonly statusSeverity: Severity;
  readonly statusMessage: string;
  readonly retCount?: number;
  readonly iteratorRemainingCount?: number;
  readonly iteratorID?: string;
  /** The `*Ret` records (InvoiceRet, ReceivePaymentRet, …), always an array. */
  readonly rets: readonly Ret[];
}

/** Elements that repeat; everything else stays a single object. */
const REPEATING = /(Ret|LineRet|LinkedTxn|AppliedToTxnRet|DepositLineRet|JournalDebitLine|JournalCreditLine|ContactsRet)$/;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => REPEATING.test(name) || name.endsWith('Rs'),
});

export class QbxmlParseError extends Error {}

/** All responses of a qbXML response document, each with its status. */
export function parseQbxmlResponse(xml: string): QbResponse[] {
  // A response cut short on the way (the parser alone would read what arrived and drop the rest silently) is
  // refused whole: the run fails, and its items go back to the queue to be checked before any re-send.
  const wellFormed = XMLValidator.validate(xml);
  if (wellFormed !== true) throw new QbxmlParseError(`not a well-formed qbXML response: ${wellFormed.err.msg} (line ${wellFormed.err.line})`);
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml) as Record<string, unknown>;
  } catch (e) {
    throw new QbxmlParseError(`not a qbXML document: ${e instanceof Error ? e.message : String(e)}`);
  }
  const root = doc['QBXML'] as Record<string, unknown> | undefined;
  const msgs = root?.['QBXMLMsgsRs'];
  const set = (Array.isArray(msgs) ? msgs[0] : msgs) as Record<string, unknown> | undefined;
  if (!set || typeof set !== 'object') throw new QbxmlParseError('not a qbXML response: QBXML › QBXMLMsgsRs is missing');
  const out: QbResponse[] = [];
  for (const [type, value] of Object.entries(set)) {
    if (!type.endsWith('Rs')) continue;
    for (const rs of value as Ret[]) out.push(readRs(type, rs));
  }
  return out;
}

function readRs(type: string, rs: Ret): QbResponse {
  const num = (k: string): number | undefined => (rs[`@${k}`] === undefined ? undefined : Number(rs[`@${k}`]));
  const opt = (k: string): Record<string, number> => {
    const n = num(k);
    return n === undefined ? {} : { [k]: n };
  };
  const retKey = Object.keys(rs).find((k) => !k.startsWith('@') && k.endsWith('Ret'));
  const rets = retKey ? (rs[retKey] as Ret[]) : [];
  const severity = String(rs['@statusSeverity'] ?? 'Error');
  return {
    type,
    requestID: rs['@requestID'] === undefined ? undefined : String(rs['@requestID']),
    statusCode: num('statusCode') ?? -1,
    statusSeverity: severity === 'Info' || severity === 'Warn' ? severity : 'Error',
    statusMessage: String(rs['@statusMessage'] ?? ''),
    ...opt('retCount'),
    ...opt('iteratorRemainingCount'),
    ...(rs['@iteratorID'] === undefined ? {} : { iteratorID: String(rs['@iteratorID']) }),
    rets,
  };
}

/**
 * What a status means for Settle. 0 = done; 1 = a query found nothing (Info — an empty answer, not an
 * error); 500-series = warnings (the request was carried out); 3175/3176 = the record or list is in use by a
 * person in QuickBooks, try again later (3180, "error when saving", is final: QuickBooks uses it for what is
 * wrong with the data — not in balance, more than the open balance); 3231 = not processed because an earlier request in the same
 * document failed (stopOnError), so nothing was written; any other Error is a refusal a person must see.
 */
export type StatusKind = 'ok' | 'empty' | 'retry' | 'refused';

export const RETRYABLE_STATUS = new Set([3175, 3176, 3231]);

export function statusKind(r: Pick<QbResponse, 'statusCode' | 'statusSeverity'>): StatusKind {
  if (r.statusCode === 0) return 'ok';
  if (r.statusCode === 1) return 'empty';
  if (r.statusSeverity !== 'Error') return 'ok';
  return RETRYABLE_STATUS.has(r.statusCode) ? 'retry' : 'refused';
}

export function describeStatus(r: QbResponse): string {
  return `QuickBooks ${r.type} status ${r.statusCode} (${r.statusSeverity}): ${r.statusMessage || 'no message'}`;
}

// ---- reading records ---------------------------------------------------------------------------

export function text(ret: Ret, key: string): string | undefined {
  const v = ret[key];
  return v === undefined || v === null || typeof v === 'object' ? undefined : String(v);
}

export function refOf(ret: Ret, key: string): { listId?: string; fullName?: string } | undefined {
  const v = ret[key] as Ret | undefined;
  if (!v || typeof v !== 'object') return undefined;
  const listId = text(v, 'ListID');
  const fullName = text(v, 'FullName');
  return { ...(listId ? { listId } : {}), ...(fullName ? { fullName } : {}) };
}
export function moneyOf(ret: Ret, key: string, currency: Currency): Money | undefined {
  const v = text(ret, key);
  return v === undefined || v === '' ? undefined : parseDecimal(v, currency);
}

export function listOf(ret: Ret, key: string): Ret[] {
  const v = ret[key];
  if (v === undefined) return [];
  return Array.isArray(v) ? (v as Ret[]) : [v as Ret];
}
