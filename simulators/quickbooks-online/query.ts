// The QuickBooks Online query language (a SQL subset), parsed for real rather than pattern-matched
// (docs: developer.intuit.com … /explore-the-quickbooks-online-api/data-queries):
//   SELECT * | COUNT(*) | f1, f2 FROM Entity [WHERE c AND c …] [ORDERBY f [ASC|DESC], …]
//   [STARTPOSITION n] [MAXRESULTS m]
// with conditions `f = | < | > | <= | >= v`, `f IN (v, …)`, `f LIKE '%x%'`. There is no OR, no
// joins and no NOT (Intuit documents these as unsupported). Strings are single-quoted with `\'`
// escapes; keywords are case-insensitive; STARTPOSITION is 1-based; MAXRESULTS is at most 1000.
import { faults } from './faults.ts';

export type Scalar = string | number | boolean;
export type Condition =
  | { readonly field: string; readonly op: '=' | '<' | '>' | '<=' | '>='; readonly value: Scalar }
  | { readonly field: string; readonly op: 'IN'; readonly values: readonly Scalar[] }
  | { readonly field: string; readonly op: 'LIKE'; readonly value: string };

export interface ParsedQuery {
  readonly select: { readonly kind: 'all' } | { readonly kind: 'count' } | { readonly kind: 'fields'; readonly fields: readonly string[] };
  readonly entity: string;
  readonly where: readonly Condition[];
  readonly orderBy: readonly { readonly field: string; readonly desc: boolean }[];
  readonly startPosition: number;
  readonly maxResults: number;
}

export const MAX_RESULTS_LIMIT = 1000;
export const DEFAULT_MAX_RESULTS = 100;

type Token =
  | { readonly t: 'word'; readonly v: string }
  | { readonly t: 'string'; readonly v: string }
  | { readonly t: 'number'; readonly v: string }
  | { readonly t: 'sym'; readonly v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw faults.queryParse(`unterminated string starting at column ${src.lastIndexOf("'", i - 1) + 1}`);
        const d = src[i]!;
        if (d === '\\' && i + 1 < src.length) {
          s += src[i + 1];
          i += 2;
        } else if (d === "'") {
          i++;
          break;
        } else {
          s += d;
          i++;
        }
      }
      out.push({ t: 'string', v: s });
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^-?\d+(\.\d+)?/.exec(src.slice(i))!;
      out.push({ t: 'number', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i))!;
      out.push({ t: 'word', v: m[0] });
      i += m[0].length;
    } else if (c === '<' || c === '>') {
      if (src[i + 1] === '=') {
        out.push({ t: 'sym', v: c + '=' });
        i += 2;
      } else {
        out.push({ t: 'sym', v: c });
        i++;
      }
    } else if ('=(),*'.includes(c)) {
      out.push({ t: 'sym', v: c });
      i++;
    } else {
      throw faults.queryParse(`Encountered "${c}" at column ${i + 1}`);
    }
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}
  private peek(): Token | undefined {
    return this.toks[this.i];
  }
  private next(what: string): Token {
    const t = this.toks[this.i++];
    if (!t) throw faults.queryParse(`expected ${what} but the query ended`);
    return t;
  }
  private isKeyword(kw: string, t = this.peek()): boolean {
    return t?.t === 'word' && t.v.toUpperCase() === kw;
  }
  private keyword(kw: string): void {
    const t = this.next(kw);
    if (!this.isKeyword(kw, t)) throw faults.queryParse(`expected ${kw} but found "${t.v}"`);
  }
  private sym(s: string): void {
    const t = this.next(`"${s}"`);
    if (t.t !== 'sym' || t.v !== s) throw faults.queryParse(`expected "${s}" but found "${t.v}"`);
  }
  private ident(what: string): string {
    const t = this.next(what);
    if (t.t !== 'word') throw faults.queryParse(`expected ${what} but found "${t.v}"`);
    return t.v;
  }
  private value(): Scalar {
    const t = this.next('a value');
    if (t.t === 'string') return t.v;
    if (t.t === 'number') return t.v; // kept as text: compared as an exact decimal
    if (t.t === 'word' && /^(true|false)$/i.test(t.v)) return t.v.toLowerCase() === 'true';
    throw faults.queryParse(`expected a value but found "${t.v}"`);
  }
  private int(what: string): number {
    const t = this.next(what);
    if (t.t !== 'number' || !/^\d+$/.test(t.v)) throw faults.queryParse(`${what} must be a whole number, found "${t.v}"`);
    return Number(t.v);
  }

  parse(): ParsedQuery {
    this.keyword('SELECT');
    let select: ParsedQuery['select'];
    const first = this.peek();
    if (first?.t === 'sym' && first.v === '*') {
      this.i++;
      select = { kind: 'all' };
    } else if (this.isKeyword('COUNT')) {
      this.i++;
      this.sym('(');
      this.sym('*');
      this.sym(')');
      select = { kind: 'count' };
    } else {
      const fields = [this.ident('a field name')];
      while (this.peek()?.t === 'sym' && this.peek()?.v === ',') {
        this.i++;
        fields.push(this.ident('a field name'));
      }
      select = { kind: 'fields', fields };
    }
    this.keyword('FROM');
    const entity = this.ident('an entity name');
    const where: Condition[] = [];
    const orderBy: { field: string; desc: boolean }[] = [];
    let startPosition = 1;
    let maxResults = DEFAULT_MAX_RESULTS;
    if (this.isKeyword('WHERE')) {
      this.i++;
      where.push(this.condition());
      while (this.isKeyword('AND') || this.isKeyword('OR')) {
        if (this.isKeyword('OR')) throw faults.queryParse('OR operation is not supported');
        this.i++;
        where.push(this.condition());
      }
    }
    if (this.isKeyword('ORDERBY') || this.isKeyword('ORDER')) {
      if (this.isKeyword('ORDER')) {
        this.i++;
        this.keyword('BY');
      } else this.i++;
      do {
        if (orderBy.length > 0) this.i++; // the comma
        const field = this.ident('a field to order by');
        let desc = false;
        if (this.isKeyword('DESC') || this.isKeyword('ASC')) desc = this.next('ASC/DESC').v.toUpperCase() === 'DESC';
        orderBy.push({ field, desc });
      } while (this.peek()?.t === 'sym' && this.peek()?.v === ',');
    }
    for (let k = 0; k < 2; k++) {
      if (this.isKeyword('STARTPOSITION')) {
        this.i++;
        startPosition = this.int('STARTPOSITION');
        if (startPosition < 1) throw faults.queryValidation('STARTPOSITION must be 1 or more');
      } else if (this.isKeyword('MAXRESULTS')) {
        this.i++;
        maxResults = this.int('MAXRESULTS');
        if (maxResults > MAX_RESULTS_LIMIT) throw faults.queryValidation(`MAXRESULTS ${maxResults} is over the maximum of ${MAX_RESULTS_LIMIT}`);
      }
    }
    const rest = this.peek();
    if (rest) throw faults.queryParse(`Encountered "${rest.v}" where the query should have ended`);
    return { select, entity, where, orderBy, startPosition, maxResults };
  }

  private condition(): Condition {
    const field = this.ident('a field name');
    const t = this.next('an operator');
    if (t.t === 'sym' && ['=', '<', '>', '<=', '>='].includes(t.v)) {
      return { field, op: t.v as '=' | '<' | '>' | '<=' | '>=', value: this.value() };
    }
    if (this.isKeyword('IN', t)) {
      this.sym('(');
      const values = [this.value()];
      while (this.peek()?.t === 'sym' && this.peek()?.v === ',') {
        this.i++;
        values.push(this.value());
      }
      this.sym(')');
      return { field, op: 'IN', values };
    }
    if (this.isKeyword('LIKE', t)) {
      const v = this.value();
      if (typeof v !== 'string') throw faults.queryParse('LIKE needs a quoted pattern');
      return { field, op: 'LIKE', value: v };
    }
    throw faults.queryParse(`Encountered "${t.v}" where an operator (=, <, >, <=, >=, IN, LIKE) was expected`);
  }
}

export function parseQuery(src: string): ParsedQuery {
  return new Parser(tokenize(src)).parse();
}

// ---- evaluation ------------------------------------------------------------------------------------

type Row = Record<string, unknown>;

/** Reads `a.b` paths; a ReferenceType ({value, name}) compares by its value, as QBO filters refs by id. */
export function fieldValue(row: Row, path: string): Scalar | undefined {
  let cur: unknown = row;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Row)[part];
  }
  if (cur !== null && typeof cur === 'object' && 'value' in cur) cur = (cur as Row)['value'];
  return typeof cur === 'string' || typeof cur === 'number' || typeof cur === 'boolean' ? cur : undefined;
}

const DEC = /^(-)?(\d+)(?:\.(\d+))?$/;

/** Exact comparison of decimal texts (amounts never go through float arithmetic). */
export function compareDecimal(a: string, b: string): number | null {
  const ma = DEC.exec(a);
  const mb = DEC.exec(b);
  if (!ma || !mb) return null;
  const scale = Math.max((ma[3] ?? '').length, (mb[3] ?? '').length);
  const toBig = (m: RegExpExecArray): bigint => {
    const v = BigInt((m[2] ?? '0') + (m[3] ?? '').padEnd(scale, '0'));
    return m[1] ? -v : v;
  };
  const x = toBig(ma);
  const y = toBig(mb);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Compare a stored field with a query literal by the field's kind: number, date-time, boolean or text. */
export function compareValues(field: string, stored: Scalar, literal: Scalar): number {
  if (typeof stored === 'number') {
    const c = compareDecimal(String(stored), String(literal));
    if (c !== null) return c;
  }
  if (typeof stored === 'boolean') return String(stored) === String(literal).toLowerCase() ? 0 : stored ? 1 : -1;
  const s = String(stored);
  const l = String(literal);
  if (/Time$/.test(field)) {
    const ts = Date.parse(s);
    const tl = Date.parse(l);
    if (!Number.isNaN(ts) && !Number.isNaN(tl)) return ts < tl ? -1 : ts > tl ? 1 : 0;
  }
  if (field === 'Id' || field.endsWith('Ref')) {
    const c = compareDecimal(s, l);
    if (c !== null) return c;
  }
  return s < l ? -1 : s > l ? 1 : 0;
}

function matches(row: Row, c: Condition): boolean {
  const v = fieldValue(row, c.field);
  if (v === undefined) return false;
  switch (c.op) {
    case 'IN':
      return c.values.some((x) => compareValues(c.field, v, x) === 0);
    case 'LIKE': {
      const re = new RegExp(
        `^${c.value
          .split('%')
          .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
        'i',
      );
      return re.test(String(v));
    }
    case '=':
      return compareValues(c.field, v, c.value) === 0;
    case '<':
      return compareValues(c.field, v, c.value) < 0;
    case '>':
      return compareValues(c.field, v, c.value) > 0;
    case '<=':
      return compareValues(c.field, v, c.value) <= 0;
    case '>=':
      return compareValues(c.field, v, c.value) >= 0;
  }
}

export interface QueryResult {
  readonly rows: Row[];
  readonly totalCount: number;
}

/** Filter, order and page `rows` (the entity's records, any order). Default order is by Id. */
export function executeQuery(q: ParsedQuery, rows: readonly Row[]): QueryResult {
  const hits = rows.filter((r) => q.where.every((c) => matches(r, c)));
  const order = q.orderBy.length > 0 ? q.orderBy : [{ field: 'Id', desc: false }];
  hits.sort((a, b) => {
    for (const o of order) {
      const va = fieldValue(a, o.field);
      const vb = fieldValue(b, o.field);
      if (va === undefined || vb === undefined) {
        if (va !== vb) return (va === undefined ? -1 : 1) * (o.desc ? -1 : 1);
        continue;
      }
      const c = compareValues(o.field, va, vb);
      if (c !== 0) return o.desc ? -c : c;
    }
    return 0;
  });
  const page = hits.slice(q.startPosition - 1, q.startPosition - 1 + q.maxResults);
  return { rows: page, totalCount: hits.length };
}
