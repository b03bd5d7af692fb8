// Query-string handling for Halo list operations: every parameter is checked against the vendor's list
// for the operation (fields.ts), typed (int, bool, date-time), and paging/ordering applied as Halo does:
// `pageinate=true` with `page_size`/`page_no` (1-based), else the first `count` records; the answer is an
// envelope `{ page_no, page_size, record_count, <list>: [...] }` (`record_count` = all matching records).
import { DEFAULT_COUNT, MAX_PAGE_SIZE } from './fields.ts';

/** A 400 in the vendor's error shape (ASP.NET Core problem details; see README). */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export function problem(status: number, title: string, errors?: Record<string, string[]>): Record<string, unknown> {
  const type =
    status === 400 ? 'https://tools.ietf.org/html/rfc7231#section-6.5.1' : status === 404 ? 'https://tools.ietf.org/html/rfc7231#section-6.5.4' : undefined;
  return { ...(type ? { type } : {}), title, status, ...(errors ? { errors } : {}) };
}

export type Query = Record<string, string>;

/** The query as single strings; a repeated parameter or an unknown/unmodelled one → BadRequest. */
export function readQuery(raw: Record<string, unknown>, known: readonly string[], modelled: readonly string[], route: string): Query {
  const out: Query = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!known.includes(k)) throw new BadRequest(`'${k}' is not a parameter of ${route}.`, k);
    if (!modelled.includes(k)) throw new BadRequest(`'${k}' is a parameter of ${route} the simulator does not model (NotModelled).`, k);
    if (Array.isArray(v)) throw new BadRequest(`'${k}' was given more than once.`, k);
    out[k] = String(v);
  }
  return out;
}

export function intParam(q: Query, k: string): number | undefined {
  const v = q[k];
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || Math.abs(Number(v)) > 2_147_483_647) throw new BadRequest(`The value '${v}' is not valid for ${k}.`, k);
  return Number(v);
}

export function boolParam(q: Query, k: string): boolean | undefined {
  const v = q[k];
  if (v === undefined) return undefined;
  if (!/^(true|false)$/i.test(v)) throw new BadRequest(`The value '${v}' is not valid for ${k}.`, k);
  return v.toLowerCase() === 'true';
}

/** A date-time parameter (`lastupdatefromdate`); Halo reads it as UTC when no offset is given. */
export function dateParam(q: Query, k: string): number | undefined {
  const v = q[k];
  if (v === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?(Z|[+-]\d{2}:\d{2})?$/.test(v))
    throw new BadRequest(`The value '${v}' is not valid for ${k}.`, k);
  const withZone = /(Z|[+-]\d{2}:\d{2})$/.test(v) ? v : `${v.replace(' ', 'T')}${v.length === 10 ? 'T00:00:00' : ''}Z`;
  const ms = Date.parse(withZone);
  if (Number.isNaN(ms)) throw new BadRequest(`The value '${v}' is not valid for ${k}.`, k);
  return ms;
}

export interface Sortable {
  readonly id: number;
}

/** Order by `order` (one of `fields`) then id; `orderdesc=true` reverses both. */
export function ordered<T extends Sortable>(rows: T[], q: Query, fields: readonly string[], key: (row: T, field: string) => string | number): T[] {
  const field = q.order ?? 'id';
  if (!fields.includes(field.toLowerCase())) throw new BadRequest(`'${field}' is not a column this list can be ordered by.`, 'order');
  const desc = boolParam(q, 'orderdesc') ?? false;
  const f = field.toLowerCase();
  const cmp = (a: T, b: T): number => {
    const x = key(a, f);
    const y = key(b, f);
    if (x !== y) return x < y ? -1 : 1;
    return a.id - b.id;
  };
  return rows.sort((a, b) => (desc ? -cmp(a, b) : cmp(a, b)));
}

/** Apply Halo's paging and wrap the page in its envelope under `listKey`. */
export function page<T>(rows: readonly T[], q: Query, listKey: string, toJson: (row: T) => unknown): Record<string, unknown> {
  const paginate = boolParam(q, 'pageinate') ?? false;
  const count = intParam(q, 'count');
  if (count !== undefined && count < 1) throw new BadRequest('count must be at least 1.', 'count');
  if (!paginate) {
    if (q.page_size !== undefined || q.page_no !== undefined)
      throw new BadRequest('page_size and page_no need pageinate=true.', q.page_size !== undefined ? 'page_size' : 'page_no');
    return { record_count: rows.length, [listKey]: rows.slice(0, count ?? DEFAULT_COUNT).map(toJson) };
  }
  const size = intParam(q, 'page_size') ?? 50;
  const no = intParam(q, 'page_no') ?? 1;
  if (size < 1 || size > MAX_PAGE_SIZE) throw new BadRequest(`page_size must be between 1 and ${MAX_PAGE_SIZE}.`, 'page_size');
  if (no < 1) throw new BadRequest('page_no starts at 1.', 'page_no');
  const from = (no - 1) * size;
  return { page_no: no, page_size: size, record_count: rows.length, [listKey]: rows.slice(from, from + size).map(toJson) };
}
