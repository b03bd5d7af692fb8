// The ConnectWise `conditions` query language, as far as integrations use it: comparisons
// (= != < <= > >=), like / not like (with % wildcards), in / not in (...), contains, and / or / not,
// parentheses, "strings" (\" escapes a quote), numbers, true/false/null and [dates]. Field paths
// descend into references with `/` (company/id, invoice/id, _info/lastUpdated).
// ConnectWise runs on SQL Server with a case-insensitive collation, so keywords and string
// comparisons are case-insensitive here too.

export type Literal =
  | { readonly t: 'string'; readonly v: string }
  | { readonly t: 'number'; readonly v: number }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'null' }
  | { readonly t: 'date'; readonly v: number; readonly text: string };

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Condition =
  | { readonly k: 'and' | 'or'; readonly items: readonly Condition[] }
  | { readonly k: 'not'; readonly item: Condition }
  | { readonly k: 'cmp'; readonly field: readonly string[]; readonly op: CompareOp; readonly value: Literal }
  | { readonly k: 'like'; readonly field: readonly string[]; readonly negate: boolean; readonly pattern: RegExp }
  | { readonly k: 'in'; readonly field: readonly string[]; readonly negate: boolean; readonly values: readonly Literal[] };

export class ConditionSyntaxError extends Error {
  override readonly name = 'ConditionSyntaxError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
  }
}

type Token =
  | { readonly t: 'ident'; readonly v: string; readonly pos: number }
  | { readonly t: 'op'; readonly v: string; readonly pos: number }
  | { readonly t: 'lit'; readonly v: Literal; readonly pos: number }
  | { readonly t: 'punct'; readonly v: '(' | ')' | ','; readonly pos: number }
  | { readonly t: 'end'; readonly pos: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '(' || c === ')' || c === ',') {
      out.push({ t: 'punct', v: c, pos: i });
      i++;
    } else if (c === '"' || c === "'") {
      i++;
      let s = '';
      for (;;) {
        if (i >= src.length) throw new ConditionSyntaxError('unterminated string', start);
        const ch = src[i]!;
        if (ch === '\\' && i + 1 < src.length) {
          s += src[i + 1];
          i += 2;
        } else if (ch === c) {
          i++;
          break;
        } else {
          s += ch;
          i++;
        }
      }
      out.push({ t: 'lit', v: { t: 'string', v: s }, pos: start });
    } else if (c === '[') {
      const close = src.indexOf(']', i);
      if (close < 0) throw new ConditionSyntaxError('unterminated [date]', start);
      const text = src.slice(i + 1, close).trim();
      const ms = Date.parse(text);
      if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) throw new ConditionSyntaxError(`invalid date [${text}]`, start);
      out.push({ t: 'lit', v: { t: 'date', v: ms, text }, pos: start });
      i = close + 1;
    } else if (/[-\d]/.test(c) && /^-?\d/.test(src.slice(i, i + 2))) {
      const m = /^-?\d+(\.\d+)?/.exec(src.slice(i))!;
      out.push({ t: 'lit', v: { t: 'number', v: Number(m[0]) }, pos: start });
      i += m[0].length;
    } else if (c === '=' || c === '!' || c === '<' || c === '>') {
      const two = src.slice(i, i + 2);
      if (two === '!=' || two === '<=' || two === '>=' || two === '<>') {
        out.push({ t: 'op', v: two === '<>' ? '!=' : two, pos: i });
        i += 2;
      } else if (c === '!') {
        throw new ConditionSyntaxError('unexpected "!"', i);
      } else {
        out.push({ t: 'op', v: c, pos: i });
        i++;
      }
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*/.exec(src.slice(i))!;
      out.push({ t: 'ident', v: m[0], pos: start });
      i += m[0].length;
    } else {
      throw new ConditionSyntaxError(`unexpected character "${c}"`, i);
    }
  }
  out.push({ t: 'end', pos: src.length });
  return out;
}

const KEYWORD_LITERALS: Record<string, Literal> = {
  true: { t: 'bool', v: true },
  false: { t: 'bool', v: false },
  null: { t: 'null' },
};

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.i]!;
  }
  private next(): Token {
    return this.toks[this.i++]!;
  }
  private isWord(tok: Token, word: string): boolean {
    return tok.t === 'ident' && tok.v.toLowerCase() === word;
  }

  parse(): Condition {
    const c = this.orExpr();
    const t = this.peek();
    if (t.t !== 'end') throw new ConditionSyntaxError(`unexpected ${describe(t)}`, t.pos);
    return c;
  }

  private orExpr(): Condition {
    const items = [this.andExpr()];
    while (this.isWord(this.peek(), 'or')) {
      this.next();
      items.push(this.andExpr());
    }
    return items.length === 1 ? items[0]! : { k: 'or', items };
  }

  private andExpr(): Condition {
    const items = [this.unary()];
    while (this.isWord(this.peek(), 'and')) {
      this.next();
      items.push(this.unary());
    }
    return items.length === 1 ? items[0]! : { k: 'and', items };
  }

  private unary(): Condition {
    const t = this.peek();
    if (this.isWord(t, 'not')) {
      this.next();
      return { k: 'not', item: this.unary() };
    }
    if (t.t === 'punct' && t.v === '(') {
      this.next();
      const inner = this.orExpr();
      const close = this.next();
      if (close.t !== 'punct' || close.v !== ')') throw new ConditionSyntaxError(`expected ")" but found ${describe(close)}`, close.pos);
      return inner;
    }
    return this.comparison();
  }

  private comparison(): Condition {
    const f = this.next();
    if (f.t !== 'ident' || Object.hasOwn(KEYWORD_LITERALS, f.v.toLowerCase())) {
      throw new ConditionSyntaxError(`expected a field name but found ${describe(f)}`, f.pos);
    }
    const field = f.v.split('/');
    let negate = false;
    let op = this.next();
    if (this.isWord(op, 'not')) {
      negate = true;
      op = this.next();
      if (!this.isWord(op, 'like') && !this.isWord(op, 'in')) {
        throw new ConditionSyntaxError(`expected "like" or "in" after "not" but found ${describe(op)}`, op.pos);
      }
    }
    if (op.t === 'op') return { k: 'cmp', field, op: op.v as CompareOp, value: this.literal() };
    if (this.isWord(op, 'like') || this.isWord(op, 'contains')) {
      const lit = this.literal();
      if (lit.t !== 'string') throw new ConditionSyntaxError(`"${op.t === 'ident' ? op.v : ''}" needs a quoted string`, op.pos);
      const source = this.isWord(op, 'contains') ? `%${lit.v}%` : lit.v;
      return { k: 'like', field, negate, pattern: likeToRegExp(source) };
    }
    if (this.isWord(op, 'in')) {
      const open = this.next();
      if (open.t !== 'punct' || open.v !== '(') throw new ConditionSyntaxError(`expected "(" after "in" but found ${describe(open)}`, open.pos);
      const values = [this.literal()];
      for (;;) {
        const sep = this.next();
        if (sep.t === 'punct' && sep.v === ')') break;
        if (sep.t !== 'punct' || sep.v !== ',') throw new ConditionSyntaxError(`expected "," or ")" but found ${describe(sep)}`, sep.pos);
        values.push(this.literal());
      }
      return { k: 'in', field, negate, values };
    }
    throw new ConditionSyntaxError(`expected an operator after "${f.v}" but found ${describe(op)}`, op.pos);
  }

  private literal(): Literal {
    const t = this.next();
    if (t.t === 'lit') return t.v;
    if (t.t === 'ident' && Object.hasOwn(KEYWORD_LITERALS, t.v.toLowerCase())) return KEYWORD_LITERALS[t.v.toLowerCase()]!;
    throw new ConditionSyntaxError(`expected a value but found ${describe(t)}`, t.pos);
  }
}

function describe(t: Token): string {
  switch (t.t) {
    case 'end':
      return 'end of conditions';
    case 'lit':
      return 'a value';
    default:
      return `"${t.v}"`;
  }
}

function likeToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('%')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/_/g, '.'))
    .join('.*');
  return new RegExp(`^${body}$`, 'is');
}

export function parseConditions(src: string): Condition {
  return new Parser(tokenize(src)).parse();
}

/** Value at a `/` path inside a record (`company/id`); field names match case-insensitively. */
export function valueAt(record: unknown, path: readonly string[]): unknown {
  let cur: unknown = record;
  for (const step of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const obj = cur as Record<string, unknown>;
    if (Object.hasOwn(obj, step)) cur = obj[step];
    else {
      const lower = step.toLowerCase();
      const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
      cur = key === undefined ? undefined : obj[key];
    }
  }
  return cur;
}

function compareTo(actual: unknown, lit: Literal): number | null {
  switch (lit.t) {
    case 'null':
      return null;
    case 'number':
      return typeof actual === 'number' ? actual - lit.v : null;
    case 'bool':
      return typeof actual === 'boolean' ? Number(actual) - Number(lit.v) : null;
    case 'date': {
      if (typeof actual !== 'string') return null;
      const ms = Date.parse(actual);
      return Number.isNaN(ms) ? null : ms - lit.v;
    }
    case 'string': {
      if (typeof actual === 'number') return actual - Number(lit.v);
      if (typeof actual !== 'string') return null;
      const a = actual.toLowerCase();
      const b = lit.v.toLowerCase();
      return a < b ? -1 : a > b ? 1 : 0;
    }
  }
}

export function evaluate(c: Condition, record: unknown): boolean {
  switch (c.k) {
    case 'and':
      return c.items.every((x) => evaluate(x, record));
    case 'or':
      return c.items.some((x) => evaluate(x, record));
    case 'not':
      return !evaluate(c.item, record);
    case 'like': {
      const v = valueAt(record, c.field);
      const hit = typeof v === 'string' && c.pattern.test(v);
      return c.negate ? !hit && v != null : hit;
    }
    case 'in': {
      const v = valueAt(record, c.field);
      const hit = c.values.some((lit) => compareTo(v, lit) === 0);
      return c.negate ? !hit && v != null : hit;
    }
    case 'cmp': {
      const v = valueAt(record, c.field);
      if (c.value.t === 'null') {
        if (c.op === '=') return v == null;
        if (c.op === '!=') return v != null;
        return false;
      }
      const d = compareTo(v, c.value);
      if (d === null) return false;
      switch (c.op) {
        case '=':
          return d === 0;
        case '!=':
          return d !== 0;
        case '<':
          return d < 0;
        case '<=':
          return d <= 0;
        case '>':
          return d > 0;
        case '>=':
          return d >= 0;
      }
    }
  }
}

/**
 * Ids that the condition restricts `path` to, when it does so at the top level (a lone
 * `path = n` / `path in (...)`, or one inside an `and`). Lets the store use an index instead of a scan.
 */
export function pinnedIds(c: Condition, path: string): number[] | null {
  const matches = (field: readonly string[]): boolean => field.join('/').toLowerCase() === path.toLowerCase();
  if (c.k === 'cmp' && c.op === '=' && c.value.t === 'number' && matches(c.field)) return [c.value.v];
  if (c.k === 'in' && !c.negate && matches(c.field)) {
    return c.values.filter((v): v is { t: 'number'; v: number } => v.t === 'number').map((v) => v.v);
  }
  if (c.k === 'and') {
    for (const item of c.items) {
      const ids = pinnedIds(item, path);
      if (ids) return ids;
    }
  }
  return null;
}
