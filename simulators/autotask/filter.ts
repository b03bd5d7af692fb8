// Autotask's query filter (`Filter[]` of QueryModel): validation as strict as the vendor's, then evaluation
// against stored records. Top-level items are ANDed; `and`/`or` items nest. Field names match without regard
// to case; an unknown field, an unknown operator, a non-queryable field or a value of the wrong type is
// refused with the vendor's error body `{"errors":[…]}` (QueryError → 500, see routes.ts and README.md).
import { fieldNamed, singular, type EntityDef, type FieldDef } from './fields.ts';

export class QueryError extends Error {
  override readonly name = 'QueryError';
}

export const COMPARISON_OPS = ['eq', 'noteq', 'gt', 'gte', 'lt', 'lte', 'beginsWith', 'endsWith', 'contains', 'exist', 'notExist', 'in', 'notIn'] as const;
export const GROUP_OPS = ['and', 'or'] as const;
/** Values in one `in`/`notIn` list (not published; the strictest plausible figure, README.md). */
export const MAX_IN_VALUES = 500;
const MAX_DEPTH = 8;

export type Scalar = string | number | boolean | null;
export type Compiled =
  | { readonly kind: 'group'; readonly op: 'and' | 'or'; readonly items: readonly Compiled[] }
  | {
      readonly kind: 'cmp';
      readonly op: (typeof COMPARISON_OPS)[number];
      readonly field: FieldDef;
      readonly values: readonly Scalar[];
      /** `in`/`notIn`: the values as a set (a 500-value list tested against 60,000 billing items per page otherwise). */
      readonly set?: ReadonlySet<unknown>;
    };

function opNamed(op: unknown): string | null {
  if (typeof op !== 'string') return null;
  const all: readonly string[] = [...COMPARISON_OPS, ...GROUP_OPS];
  return all.find((o) => o.toLowerCase() === op.toLowerCase()) ?? null;
}

function coerce(field: FieldDef, raw: unknown): Scalar {
  if (raw === null) return null;
  const bad = (): never => {
    throw new QueryError(`Value ${JSON.stringify(raw)} is not valid for field ${field.name} of type ${field.dataType}.`);
  };
  switch (field.dataType) {
    case 'integer':
    case 'long':
    case 'double': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n) || (field.dataType !== 'double' && !Number.isInteger(n))) bad();
      return n;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 1) return true;
      if (raw === 'false' || raw === '0' || raw === 0) return false;
      return bad();
    case 'datetime': {
      if (typeof raw !== 'string' || Number.isNaN(Date.parse(raw))) bad();
      return new Date(raw as string).toISOString();
    }
    case 'string':
      if (typeof raw === 'string' || typeof raw === 'number') return String(raw);
      return bad();
  }
}

/** Validate and compile a `Filter[]`; throws QueryError with the vendor's wording for anything it refuses. */
export function compileFilter(entity: EntityDef, filter: unknown): Compiled {
  if (!Array.isArray(filter) || filter.length === 0) throw new QueryError('A query requires at least one filter item (e.g. {"op":"exist","field":"id"}).');
  return { kind: 'group', op: 'and', items: filter.map((item) => compileItem(entity, item, 1)) };
}

function compileItem(entity: EntityDef, item: unknown, depth: number): Compiled {
  if (depth > MAX_DEPTH) throw new QueryError(`Filter nesting deeper than ${MAX_DEPTH} levels is not supported.`);
  if (!item || typeof item !== 'object' || Array.isArray(item)) throw new QueryError('Each filter item must be an object with op, field and value.');
  const it = item as { op?: unknown; field?: unknown; value?: unknown; items?: unknown; udf?: unknown };
  const op = opNamed(it.op);
  if (!op) throw new QueryError(`Invalid filter operator: '${String(it.op)}'.`);
  if (op === 'and' || op === 'or') {
    if (!Array.isArray(it.items) || it.items.length === 0) throw new QueryError(`The '${op}' operator requires a non-empty items array.`);
    return { kind: 'group', op, items: it.items.map((x) => compileItem(entity, x, depth + 1)) };
  }
  if (it.udf === true) throw new QueryError(`User-defined field '${String(it.field)}' does not exist for the ${singular(entity)} entity.`);
  if (typeof it.field !== 'string' || it.field === '') throw new QueryError(`The '${op}' operator requires a field.`);
  const field = fieldNamed(entity, it.field);
  if (!field) throw new QueryError(`Unable to find ${it.field} in the ${singular(entity)} entity.`);
  if (!field.isQueryable) throw new QueryError(`Field ${field.name} of the ${singular(entity)} entity is not queryable.`);
  const cmp = op as (typeof COMPARISON_OPS)[number];
  if (cmp === 'exist' || cmp === 'notExist') return { kind: 'cmp', op: cmp, field, values: [] };
  if (cmp === 'in' || cmp === 'notIn') {
    if (!Array.isArray(it.value) || it.value.length === 0) throw new QueryError(`The '${op}' operator requires a non-empty array value.`);
    if (it.value.length > MAX_IN_VALUES) throw new QueryError(`The '${op}' operator accepts at most ${MAX_IN_VALUES} values.`);
    const values = it.value.map((v) => coerce(field, v));
    return { kind: 'cmp', op: cmp, field, values, set: new Set(values.map(norm)) };
  }
  if (it.value === undefined || Array.isArray(it.value)) throw new QueryError(`The '${op}' operator requires a single value for field ${field.name}.`);
  if ((cmp === 'beginsWith' || cmp === 'endsWith' || cmp === 'contains') && field.dataType !== 'string') {
    throw new QueryError(`The '${op}' operator is only valid on string fields; ${field.name} is ${field.dataType}.`);
  }
  return { kind: 'cmp', op: cmp, field, values: [coerce(field, it.value)] };
}

const norm = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);

function compare(a: unknown, b: Scalar): number {
  if (typeof a === 'string' && typeof b === 'string') {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = a as number;
  const y = b as number;
  return x < y ? -1 : x > y ? 1 : 0;
}

function present(v: unknown): boolean {
  return v !== null && v !== undefined && v !== '';
}

export function matches(c: Compiled, record: Readonly<Record<string, unknown>>): boolean {
  if (c.kind === 'group') return c.op === 'and' ? c.items.every((i) => matches(i, record)) : c.items.some((i) => matches(i, record));
  let v = record[c.field.name];
  if (c.field.dataType === 'datetime' && typeof v === 'string') v = new Date(v).toISOString();
  const val = c.values[0] ?? null;
  switch (c.op) {
    case 'exist':
      return present(v);
    case 'notExist':
      return !present(v);
    case 'in':
      return present(v) && (c.set ? c.set.has(norm(v)) : c.values.some((x) => norm(x) === norm(v)));
    case 'notIn':
      return !(c.set ? c.set.has(norm(v)) : c.values.some((x) => norm(x) === norm(v)));
    case 'eq':
      return val === null ? !present(v) : present(v) && norm(v) === norm(val);
    case 'noteq':
      return val === null ? present(v) : !present(v) || norm(v) !== norm(val);
    case 'gt':
      return present(v) && compare(v, val) > 0;
    case 'gte':
      return present(v) && compare(v, val) >= 0;
    case 'lt':
      return present(v) && compare(v, val) < 0;
    case 'lte':
      return present(v) && compare(v, val) <= 0;
    case 'beginsWith':
      return typeof v === 'string' && v.toLowerCase().startsWith(String(val).toLowerCase());
    case 'endsWith':
      return typeof v === 'string' && v.toLowerCase().endsWith(String(val).toLowerCase());
    case 'contains':
      return typeof v === 'string' && v.toLowerCase().includes(String(val).toLowerCase());
  }
}
