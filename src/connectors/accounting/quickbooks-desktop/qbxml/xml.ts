// The few XML pieces every qbXML request is made of: escaping, element nesting in the XSD's order,
// the QBXML envelope and how Settle marks what it writes. qbXML is order-sensitive (every type is an
// xsd:sequence), so builders list children in schema order and leave out absent ones — never sort.
import { createHash } from 'node:crypto';
import { toDecimalString, type Money } from '../../../../domain/money.ts';

/** qbXML 13.0: the version our requests declare and the one validated against qbxmlops130.xsd. */
export const QBXML_VERSION = '13.0';

export type OnError = 'stopOnError' | 'continueOnError' | 'rollbackOnError';

/** A child of an element: [name, text | children | undefined (left out)]. */
export type Node = readonly [string, string | readonly Node[] | undefined, Readonly<Record<string, string>>?];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function attrs(a: Readonly<Record<string, string>> | undefined): string {
  if (!a) return '';
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
}

export function render(node: Node): string {
  const [name, body, a] = node;
  if (body === undefined) return '';
  if (typeof body === 'string') return `<${name}${attrs(a)}>${escapeXml(body)}</${name}>`;
  return `<${name}${attrs(a)}>${body.map(render).join('')}</${name}>`;
}

/** A list reference (CustomerRef, AccountRef, …): ListID when we hold it, else the full name. */
export interface QbRef {
  readonly listId?: string;
  readonly fullName?: string;
}

export function ref(name: string, r: QbRef | undefined): Node {
  if (!r || (!r.listId && !r.fullName)) return [name, undefined];
  return [
    name,
    [
      ['ListID', r.listId],
      ['FullName', r.fullName],
    ],
  ];
}

/** AMTTYPE: optional sign, up to 13 digits, exactly two decimals. */
export function amount(m: Money): string {
  return toDecimalString(m);
}

/**
 * The whole request document. qbXML carries its version in a processing instruction; QuickBooks rejects a
 * document without it. `onError` is required by the schema.
 */
export function qbxmlDocument(requests: readonly string[], onError: OnError = 'stopOnError'): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><?qbxml version="${QBXML_VERSION}"?>` +
    `<QBXML><QBXMLMsgsRq onError="${onError}">${requests.join('')}</QBXMLMsgsRq></QBXML>`
  );
}

/**
 * ExternalGUID carrying our key: the key's SHA-256 shaped as a GUID in braces (GUIDTYPE). QuickBooks keeps it
 * on the transaction but cannot filter on it, so it identifies a record once found — finding it is the memo
 * marker's job.
 */
export function externalGuidFor(idempotencyKey: string): string {
  const h = createHash('sha256').update(idempotencyKey).digest('hex').toUpperCase();
  return `{${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}}`;
}

/** The marker Settle writes into Memo; a check-before-write looks for it in what a query returns. */
export function settleMarker(idempotencyKey: string): string {
  return `[settle:${idempotencyKey}]`;
}

/** Memo holds 4,095 characters in QuickBooks Desktop; the marker always survives, the text is cut. */
export const MEMO_MAX = 4095;

export function memoWithMarker(memo: string, idempotencyKey: string): string {
  const marker = settleMarker(idempotencyKey);
  const room = MEMO_MAX - marker.length - 1;
  return memo ? `${memo.slice(0, Math.max(0, room))} ${marker}` : marker;
}
