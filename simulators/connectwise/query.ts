// List-endpoint semantics shared by every ConnectWise collection: `conditions`, `childConditions`,
// `orderBy`, `fields`, navigable paging (`page`/`pageSize`, default 25; a `pageSize` above 1000 is
// clamped to 1000 as the vendor documents its hard limit; `Link` header with first/prev/next/last)
// and forward-only paging (`pageId`, or the `pagination-type: forward-only` request header), which
// returns records with id > pageId in id order and a `Link: <…pageId=N>; rel="next"` header.
import { ConditionSyntaxError, evaluate, parseConditions, pinnedIds, valueAt, type Condition, type Literal } from './conditions.ts';
import { childRoots, resolveCondition, resolveField, type EntityFields } from './fields.ts';
import type { Table } from './table.ts';

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 1000;

export class BadRequest extends Error {
  constructor(
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

/** A filter on what matches, from `conditions` and `childConditions` (both resolved against the entity's fields). */
interface Filter {
  readonly where: Condition | null;
  readonly child: { readonly condition: Condition; readonly roots: readonly string[] } | null;
}

export type Query = Readonly<Record<string, string | undefined>>;

/** ConnectWise treats query parameter names case-insensitively (pagesize = pageSize). */
export function normalizeQuery(raw: Record<string, unknown>): Query {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    const value = Array.isArray(v) ? v[v.length - 1] : v;
    if (typeof value === 'string') out[k.toLowerCase()] = value;
  }
  return out;
}

function parseText(text: string | undefined, param: string): Condition | null {
  if (!text?.trim()) return null;
  try {
    return parseConditions(text.trim());
  } catch (e) {
    if (e instanceof ConditionSyntaxError) throw new BadRequest(`${param}: ${e.message}`, param);
    throw e;
  }
}

/** Unknown names throw fields.ts's UnknownField (answered as ConnectWise's ApiFindCondition 400). */
function parseFilter(q: Query, entity: EntityFields): Filter {
  const raw = parseText(q.conditions, 'conditions');
  const where = raw ? resolveCondition(raw, entity, 'conditions') : null;
  const rawChild = parseText(q.childconditions, 'childConditions');
  const condition = rawChild ? resolveCondition(rawChild, entity, 'childConditions') : null;
  return { where, child: condition ? { condition, roots: childRoots(condition) } : null };
}

/**
 * A record matches `childConditions` when some child (one element of each array the condition
 * names) satisfies the whole condition: `communicationItems/value like "ap@%" and
 * communicationItems/communicationType = "Email"` needs one item that is both.
 */
function childMatch(row: unknown, child: NonNullable<Filter['child']>): boolean {
  const arrays = child.roots.map((root) => {
    const v = (row as Record<string, unknown>)[root];
    return Array.isArray(v) ? (v as unknown[]) : [];
  });
  const bind = (i: number, bound: Record<string, unknown>): boolean => {
    if (i === child.roots.length) return evaluate(child.condition, bound);
    return arrays[i]!.some((element) => bind(i + 1, { ...bound, [child.roots[i]!]: element }));
  };
  return bind(0, row as Record<string, unknown>);
}

function positiveInt(q: Query, name: string, fallback: number): number {
  const v = q[name.toLowerCase()];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v)) throw new BadRequest(`${name} must be a whole number`, name);
  return Number(v);
}

/** Rows matching the conditions, ascending id; uses a reference index when the condition pins one. */
function matching<T extends { id: number }>(table: Table<T>, filter: Filter, indexPaths: readonly string[]): readonly T[] {
  const { where, child } = filter;
  if (!where) return child ? table.all().filter((row) => childMatch(row, child)) : table.all();
  let candidates: readonly T[] | null = null;
  const ids = pinnedIds(where, 'id');
  if (ids) {
    candidates = [...new Set(ids)].sort((a, b) => a - b).flatMap((id) => table.get(id) ?? []);
  } else {
    for (const path of indexPaths) {
      const refIds = pinnedIds(where, path);
      if (!refIds) continue;
      candidates = [...new Set(refIds)].flatMap((id) => table.referencing(path, id)).sort((a, b) => a.id - b.id);
      break;
    }
  }
  return (candidates ?? table.all()).filter((row) => evaluate(where, row) && (!child || childMatch(row, child)));
}

type Order = { path: string[]; desc: boolean }[];

function parseOrderBy(text: string | undefined, entity: EntityFields): Order | null {
  if (!text?.trim()) return null;
  return text.split(',').map((part) => {
    const m = /^\s*([A-Za-z_][\w]*(?:\/[A-Za-z_][\w]*)*)(?:\s+(asc|desc))?\s*$/i.exec(part);
    if (!m) throw new BadRequest(`orderBy: cannot read "${part.trim()}" (expected "field asc" or "field desc")`, 'orderBy');
    return { path: resolveField(entity, m[1]!.split('/'), 'orderBy'), desc: (m[2] ?? 'asc').toLowerCase() === 'desc' };
  });
}

function compareValues(a: unknown, b: unknown): number {
  if (a == null || b == null) return a == null ? (b == null ? 0 : -1) : 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a).toLowerCase();
  const y = String(b).toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareRows(order: Order): (a: { id: number }, b: { id: number }) => number {
  return (a, b) => {
    for (const { path, desc } of order) {
      const d = compareValues(valueAt(a, path), valueAt(b, path));
      if (d !== 0) return desc ? -d : d;
    }
    return a.id - b.id; // SQL leaves ties unordered; the simulator settles them by id to stay deterministic
  };
}

/**
 * The smallest value of `path` a row can have and still match `c` (null: no bound): `lastUpdated >= [A] and
 * (lastUpdated > [B] or …)` is bounded below by the larger of A and B. A page ordered by that field then
 * starts where the bound is (binary search), not at the table's first row.
 */
function lowerBound(c: Condition, path: string): Literal | null {
  if (c.k === 'cmp' && (c.op === '>=' || c.op === '>' || c.op === '=') && (c.value.t === 'date' || c.value.t === 'number')) {
    return c.field.join('/').toLowerCase() === path ? c.value : null;
  }
  const bounds = c.k === 'and' || c.k === 'or' ? c.items.map((x) => lowerBound(x, path)) : [];
  if (c.k === 'and') return bounds.reduce<Literal | null>((m, b) => (b && (!m || litValue(b) > litValue(m)) ? b : m), null);
  if (c.k === 'or' && bounds.length > 0 && bounds.every((b) => b !== null)) return bounds.reduce((m, b) => (litValue(b!) < litValue(m!) ? b : m));
  return null;
}

const litValue = (l: Literal): number => (l.t === 'date' || l.t === 'number' ? l.v : NaN);

/** First position in `rows` (ascending on `path`) whose value is at or past `bound`. */
function seek<T>(rows: readonly T[], path: readonly string[], bound: Literal): number {
  const below = (row: T): boolean => {
    const v = valueAt(row, path);
    if (v == null) return true; // nulls sort first and never satisfy a bound
    const x = bound.t === 'date' ? (typeof v === 'string' ? Date.parse(v) : NaN) : typeof v === 'number' ? v : NaN;
    return !(x >= litValue(bound));
  };
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (below(rows[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * An ordered page without sorting the matches: the table's kept order for this orderBy, entered at the
 * conditions' lower bound on the first (ascending) field, each row past it tested. The total (for the
 * `last` link) still tests every row past the bound; a keyset walk's bound moves with it.
 */
function orderedPage<T extends { id: number }>(table: Table<T>, filter: Filter, order: Order, from: number, size: number): { page: T[]; total: number } {
  // Ordered by audit stamps only (lastUpdated, id): every change replaces a record's `_info` object, so that
  // object tells whether a row may have moved. Any other order is checked by comparing values.
  const byInfo = order.every((o) => o.path[0] === '_info' || o.path.join('/') === 'id');
  const rows = table.sorted(
    order.map((o) => `${o.path.join('/')} ${o.desc ? 'desc' : 'asc'}`).join(','),
    compareRows(order),
    byInfo ? (row) => (row as { _info?: unknown })._info : undefined,
  );
  const first = order[0]!;
  const bound = filter.where && !first.desc ? lowerBound(filter.where, first.path.join('/').toLowerCase()) : null;
  const start = bound ? seek(rows, first.path, bound) : 0;
  const page: T[] = [];
  let total = 0;
  for (let i = start; i < rows.length; i++) {
    const row = rows[i]!;
    if (filter.where && !evaluate(filter.where, row)) continue;
    if (filter.child && !childMatch(row, filter.child)) continue;
    if (total >= from && page.length < size) page.push(row);
    total++;
  }
  return { page, total };
}

function project(row: unknown, fields: string | undefined): unknown {
  if (!fields?.trim()) return row;
  const out: Record<string, unknown> = {};
  for (const f of fields
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const path = f.split('/');
    const v = valueAt(row, path);
    if (v === undefined) continue;
    let cur = out;
    for (const step of path.slice(0, -1)) cur = (cur[step] ??= {}) as Record<string, unknown>;
    cur[path[path.length - 1]!] = v;
  }
  return out;
}

function firstAfter<T extends { id: number }>(rows: readonly T[], id: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.id <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function slicePage<T extends { id: number }>(rows: readonly T[], order: Order | null, pageNo: number, pageSize: number): { page: T[]; total: number } {
  const sorted = order ? [...rows].sort(compareRows(order)) : rows;
  return { page: sorted.slice((pageNo - 1) * pageSize, pageNo * pageSize), total: sorted.length };
}

/** The rows a condition pins by id or an indexed reference (few, matched directly); null when it pins none. */
function pinnedRows<T extends { id: number }>(table: Table<T>, filter: Filter, indexPaths: readonly string[]): readonly T[] | null {
  if (!filter.where) return null;
  if (pinnedIds(filter.where, 'id')) return matching(table, filter, indexPaths);
  for (const path of indexPaths) if (pinnedIds(filter.where, path)) return matching(table, filter, indexPaths);
  return null;
}

export interface ListResult {
  readonly body: unknown[];
  readonly link: string | null;
}

export function listRecords<T extends { id: number }>(
  table: Table<T>,
  q: Query,
  opts: { readonly url: URL; readonly forwardOnly: boolean; readonly entity: EntityFields; readonly indexPaths?: readonly string[] },
): ListResult {
  // The vendor documents 1000 as a hard limit: a larger pageSize gets 1000 rows, not an error
  // (a client that stops at the first short page would then stop early — Settle never asks for more).
  const pageSize = Math.min(positiveInt(q, 'pageSize', DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
  if (pageSize < 1) throw new BadRequest('pageSize must be 1 or more', 'pageSize');
  const filter = parseFilter(q, opts.entity);
  const order = parseOrderBy(q.orderby, opts.entity);
  // Rows pinned by id or an indexed reference are few: matched directly. Otherwise an ordered page walks the
  // table's kept order (orderedPage) and a forward-only page matches in id order.
  const pinned = pinnedRows(table, filter, opts.indexPaths ?? []);
  const rows = pinned ?? (order && !(opts.forwardOnly || q.pageid !== undefined) ? null : matching(table, filter, opts.indexPaths ?? []));
  const linkTo = (params: Record<string, string>): string => {
    const u = new URL(opts.url.toString());
    for (const k of [...u.searchParams.keys()]) if (['page', 'pageid'].includes(k.toLowerCase())) u.searchParams.delete(k);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return `<${u.toString()}>`;
  };

  if (opts.forwardOnly || q.pageid !== undefined) {
    if (order && !(order.length === 1 && order[0]!.path.join('/') === 'id' && !order[0]!.desc)) {
      throw new BadRequest('Forward-only pagination only supports ordering by id ascending', 'orderBy');
    }
    const pageId = positiveInt(q, 'pageId', 0);
    if (!rows) throw new Error('unreachable: forward-only pages are matched');
    const start = firstAfter(rows, pageId);
    const page = rows.slice(start, start + pageSize);
    const more = start + pageSize < rows.length;
    const last = page[page.length - 1];
    return {
      body: page.map((r) => project(r, q.fields)),
      link: more && last ? `${linkTo({ pageId: String(last.id) })}; rel="next"` : null,
    };
  }

  const pageNo = positiveInt(q, 'page', 1);
  if (pageNo < 1) throw new BadRequest('page must be 1 or more', 'page');
  const { page, total } =
    order && rows === null
      ? orderedPage(table, filter, order, (pageNo - 1) * pageSize, pageSize)
      : slicePage(rows ?? matching(table, filter, []), order, pageNo, pageSize);
  const lastPage = Math.max(1, Math.ceil(total / pageSize));
  const links: string[] = [];
  if (pageNo > 1) {
    links.push(`${linkTo({ page: '1' })}; rel="first"`);
    links.push(`${linkTo({ page: String(Math.min(pageNo - 1, lastPage)) })}; rel="prev"`);
  }
  if (pageNo < lastPage) {
    links.push(`${linkTo({ page: String(pageNo + 1) })}; rel="next"`);
    links.push(`${linkTo({ page: String(lastPage) })}; rel="last"`);
  }
  return { body: page.map((r) => project(r, q.fields)), link: links.length > 0 ? links.join(', ') : null };
}

export function countRecords<T extends { id: number }>(table: Table<T>, q: Query, entity: EntityFields, indexPaths: readonly string[] = []): number {
  return matching(table, parseFilter(q, entity), indexPaths).length;
}
