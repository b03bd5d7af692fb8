// Stripe's Search Query Language, the subset Settle uses (docs.stripe.com/search#search-query-language):
// clauses `field:value`, `field>value` (also <, >=, <=), `field~"substr"`, `metadata['key']:'value'`,
// `-field:value` for negation, joined by AND or by OR (Stripe forbids mixing the two in one query).
import { paramError } from './errors.ts';

type Op = ':' | '>' | '<' | '>=' | '<=' | '~';

export interface Clause {
  readonly field: string; // "status" or "metadata.key"
  readonly op: Op;
  readonly value: string | number | null;
  readonly negate: boolean;
}

export interface ParsedQuery {
  readonly join: 'AND' | 'OR';
  readonly clauses: readonly Clause[];
}

const CLAUSE =
  /^\s*(-)?\s*(?:metadata\[(?:'([^']*)'|"([^"]*)")\]|([a-z_][a-z0-9_.]*))\s*(>=|<=|:|>|<|~)\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+)|(null))\s*/i;

export function parseQuery(query: string, searchable: readonly string[]): ParsedQuery {
  let rest = query.trim();
  if (!rest) throw paramError('Search query is empty.', 'query');
  const clauses: Clause[] = [];
  let join: 'AND' | 'OR' | null = null;
  for (;;) {
    const m = CLAUSE.exec(rest);
    if (!m)
      throw paramError(
        `We were unable to parse your search query. Try using the format \`metadata["key"]:"value"\` to query for metadata or \`key:"value"\` to query for other fields. Query: ${query}`,
        'query',
      );
    const metaKey = m[2] ?? m[3];
    const field = metaKey !== undefined ? `metadata.${metaKey}` : (m[4] ?? '');
    if (metaKey === undefined && !searchable.includes(field)) {
      throw paramError(
        `Field \`${field}\` is an unsupported search field for resource. See http://stripe.com/docs/search#query-fields for a list of supported fields.`,
        'query',
      );
    }
    const raw = m[6] ?? m[7];
    const value = raw !== undefined ? raw.replace(/\\(.)/g, '$1') : m[8] !== undefined ? Number(m[8]) : null;
    clauses.push({ field, op: m[5] as Op, value, negate: m[1] === '-' });
    rest = rest.slice(m[0].length);
    if (!rest) break;
    const j = /^(AND|OR)\s+/i.exec(rest);
    if (!j) throw paramError(`We were unable to parse your search query near: ${rest}`, 'query');
    const word = (j[1] ?? '').toUpperCase() as 'AND' | 'OR';
    if (join && join !== word) throw paramError('Combining AND and OR in one search query is not supported.', 'query');
    join = word;
    rest = rest.slice(j[0].length);
  }
  return { join: join ?? 'AND', clauses };
}

function fieldValue(obj: Record<string, unknown>, field: string): unknown {
  if (field.startsWith('metadata.')) {
    const md = obj['metadata'];
    return md && typeof md === 'object' ? (md as Record<string, unknown>)[field.slice('metadata.'.length)] : undefined;
  }
  let v: unknown = obj;
  for (const part of field.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

function test(obj: Record<string, unknown>, c: Clause): boolean {
  const v = fieldValue(obj, c.field);
  let hit: boolean;
  switch (c.op) {
    case ':':
      hit = c.value === null ? v === null || v === undefined : v !== undefined && v !== null && String(v).toLowerCase() === String(c.value).toLowerCase();
      break;
    case '~':
      hit = typeof v === 'string' && c.value !== null && v.toLowerCase().includes(String(c.value).toLowerCase());
      break;
    default: {
      const a = typeof v === 'number' ? v : Number(v);
      const b = Number(c.value);
      hit = Number.isFinite(a) && Number.isFinite(b) && (c.op === '>' ? a > b : c.op === '<' ? a < b : c.op === '>=' ? a >= b : a <= b);
    }
  }
  return c.negate ? !hit : hit;
}

export function matches(obj: object, q: ParsedQuery): boolean {
  const rec = obj as Record<string, unknown>;
  return q.join === 'AND' ? q.clauses.every((c) => test(rec, c)) : q.clauses.some((c) => test(rec, c));
}

export const SEARCHABLE = {
  payment_intents: ['amount', 'created', 'currency', 'customer', 'status'],
  charges: ['amount', 'created', 'currency', 'customer', 'disputed', 'payment_method_details.card.last4', 'refunded', 'status', 'payment_intent'],
  customers: ['created', 'email', 'name', 'phone'],
} as const;
