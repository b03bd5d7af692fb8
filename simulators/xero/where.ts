// The `where` query parameter as far as Settle's flows need it (docs: developer.xero.com/documentation/api/
// accounting/requests-and-responses#retrieving-a-filtered-set-of-records): clauses joined by AND / && or
// OR / ||, each `Field=="text"`, `Field!="text"`, `Field==Guid("…")`, `Field.Contains("text")`,
// `Field.StartsWith("text")`. Anything else is a QueryParseException, as Xero answers an expression it
// cannot parse (never silently "no filter": a typo must not return every record).
export type Predicate = (row: Readonly<Record<string, unknown>>) => boolean;

const CLAUSE =
  /^\s*([A-Za-z][A-Za-z.]*?)\s*(?:(==|!=)\s*(?:Guid\(\s*"([^"]*)"\s*\)|"((?:[^"\\]|\\.)*)")|\.(Contains|StartsWith)\(\s*"((?:[^"\\]|\\.)*)"\s*\))\s*$/;

function field(row: Readonly<Record<string, unknown>>, path: string): string {
  let v: unknown = row;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v === undefined || v === null ? '' : String(v);
}

function clause(text: string, fields: ReadonlySet<string>): Predicate {
  const m = CLAUSE.exec(text);
  if (!m) throw new Error(`cannot parse "${text.trim()}"`);
  const [, name, op, guid, lit, fn, arg] = m;
  if (!fields.has(name!)) throw new Error(`No property or field '${name}' exists`);
  const unq = (s: string): string => s.replace(/\\(.)/g, '$1');
  if (fn === 'Contains') return (r) => field(r, name!).includes(unq(arg!));
  if (fn === 'StartsWith') return (r) => field(r, name!).startsWith(unq(arg!));
  const want = guid ?? unq(lit!);
  return op === '==' ? (r) => field(r, name!) === want : (r) => field(r, name!) !== want;
}

/** Parse a where expression over the named fields (dotted paths allowed); throws with Xero's message. */
export function parseWhere(expr: string, fields: ReadonlySet<string>): Predicate {
  const ors = expr.split(/\s+OR\s+|\|\|/);
  const groups = ors.map((o) => o.split(/\s+AND\s+|&&/).map((c) => clause(c, fields)));
  return (r) => groups.some((g) => g.every((p) => p(r)));
}
