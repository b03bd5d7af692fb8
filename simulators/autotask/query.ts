// Query execution: `POST /V1.0/{Entity}/query` (and `GET …/query?search=`), its `query/count`, and the page
// envelope `{items, pageDetails:{count, requestCount, prevPageUrl, nextPageUrl}}`. Records come back in Id
// order, at most MaxRecords (1–500) a page; the next page is a GET of `nextPageUrl`, whose `paging` token
// carries the query and the last Id served (keyset paging: records added meanwhile are not skipped).
import { entityNamed, fieldNamed, jsonName, singular, type EntityDef } from './fields.ts';
import { compileFilter, matches, QueryError, type Compiled } from './filter.ts';
import type { AutotaskState, Row } from './store.ts';

export const MAX_RECORDS = 500;

export interface QueryModel {
  readonly filter: unknown;
  readonly includeFields: readonly string[] | null;
  readonly maxRecords: number;
}

export function entityOrThrow(name: string): EntityDef {
  const e = entityNamed(name);
  if (!e) throw new QueryError(`The entity '${name}' does not exist or cannot be queried.`);
  return e;
}

/** Read a QueryModel (keys match without regard to case, as the vendor's JSON binding does). */
export function parseQueryModel(entity: EntityDef, body: unknown): QueryModel {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new QueryError('The request body must be a QueryModel object.');
  const get = (k: string): unknown => Object.entries(body).find(([key]) => key.toLowerCase() === k.toLowerCase())?.[1];
  const max = get('MaxRecords');
  let maxRecords = MAX_RECORDS;
  if (max !== undefined && max !== null) {
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_RECORDS) {
      throw new QueryError(`MaxRecords must be a whole number from 1 to ${MAX_RECORDS}; ${JSON.stringify(max)} was given.`);
    }
    maxRecords = max;
  }
  const inc = get('IncludeFields');
  let includeFields: string[] | null = null;
  if (inc !== undefined && inc !== null) {
    if (!Array.isArray(inc) || inc.some((x) => typeof x !== 'string')) throw new QueryError('IncludeFields must be an array of field names.');
    includeFields = (inc as string[]).map((name) => {
      const f = fieldNamed(entity, name);
      if (!f) throw new QueryError(`Unable to find ${name} in the ${singular(entity)} entity.`);
      return f.name;
    });
  }
  if (get('Xml')) throw new QueryError('Xml queries are not supported by this API version; use Filter.');
  const filter = get('Filter');
  compileFilter(entity, filter); // validate now: the vendor refuses the whole request
  return { filter, includeFields, maxRecords };
}

/** A record as the vendor's JSON shows it: first letter lowered, absent fields null, `userDefinedFields`. */
export function present(entity: EntityDef, row: Row, include: readonly string[] | null = null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of entity.fields) {
    if (include && f.name !== 'Id' && !include.includes(f.name)) continue;
    // Secrets are write-only (a webhook's SecretKey is never read back).
    out[jsonName(f.name)] = f.name === 'SecretKey' ? null : (row[f.name] ?? null);
  }
  out['userDefinedFields'] = [];
  return out;
}

function matching(state: AutotaskState, entity: EntityDef, filter: unknown): Row[] {
  const compiled = compileFilter(entity, filter);
  return [...state.table(entity.name).values()].filter((r) => matches(compiled, r)).sort((a, b) => a.Id - b.Id);
}

/**
 * The next page in Id order after `afterId`, walking the table from its start and stopping one record past
 * the page: no sort and no full match per page, so a page costs about the same on 20,000 invoices as on 200.
 * Tables are kept in Id order (ids only grow; see AutotaskState.insert); should one not be, it is sorted.
 */
function pageAfter(state: AutotaskState, entity: EntityDef, compiled: Compiled, afterId: number, max: number): { page: Row[]; more: boolean } {
  const page: Row[] = [];
  let prev = -Infinity;
  for (const r of state.table(entity.name).values()) {
    if (r.Id < prev) {
      const rows = [...state.table(entity.name).values()].filter((x) => x.Id > afterId && matches(compiled, x)).sort((a, b) => a.Id - b.Id);
      return { page: rows.slice(0, max), more: rows.length > max };
    }
    prev = r.Id;
    if (r.Id <= afterId || !matches(compiled, r)) continue;
    if (page.length === max) return { page, more: true };
    page.push(r);
  }
  return { page, more: false };
}

export function countQuery(state: AutotaskState, entity: EntityDef, filter: unknown): { queryCount: number } {
  return { queryCount: matching(state, entity, filter).length };
}

interface PagingToken {
  readonly e: string;
  readonly q: QueryModel;
  readonly a: number; // last Id served
}

export function encodePaging(t: PagingToken): string {
  return Buffer.from(JSON.stringify(t), 'utf8').toString('base64url');
}

export function decodePaging(token: unknown): PagingToken {
  if (typeof token !== 'string' || token === '') throw new QueryError('The paging parameter is missing.');
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PagingToken;
    if (typeof t.e !== 'string' || typeof t.a !== 'number' || !t.q) throw new Error('shape');
    return t;
  } catch {
    throw new QueryError('The paging parameter is not valid.');
  }
}

export function runQuery(
  state: AutotaskState,
  entity: EntityDef,
  q: QueryModel,
  afterId: number,
  nextUrl: (token: string) => string,
): { items: Record<string, unknown>[]; pageDetails: { count: number; requestCount: number; prevPageUrl: string | null; nextPageUrl: string | null } } {
  const { page, more } = pageAfter(state, entity, compileFilter(entity, q.filter), afterId, q.maxRecords);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => present(entity, r, q.includeFields)),
    pageDetails: {
      count: page.length,
      requestCount: q.maxRecords,
      prevPageUrl: null,
      nextPageUrl: more && last ? nextUrl(encodePaging({ e: entity.name, q, a: last.Id })) : null,
    },
  };
}
