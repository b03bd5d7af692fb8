// Reading Stripe request parameters with Stripe's own validation messages, list paging
// (limit / starting_after / ending_before / created) and `expand[]`.
import { missingParam, noSuch, paramError, unknownParam } from './errors.ts';
import type { FormObject, FormValue } from './form.ts';
import type { StripeStore } from './store.ts';

export function rejectUnknown(params: FormObject, allowed: readonly string[]): void {
  for (const k of Object.keys(params)) if (!allowed.includes(k)) throw unknownParam(k);
}

export function optString(params: FormObject, name: string): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw paramError(`Invalid string: ${name}`, name);
  return v;
}

export function reqString(params: FormObject, name: string): string {
  const v = optString(params, name);
  if (v === undefined || v === '') throw missingParam(name);
  return v;
}

/** Stripe reads "" as unset for optional strings (e.g. `description=` clears it). */
export function optNullableString(params: FormObject, name: string): string | null | undefined {
  const v = optString(params, name);
  return v === '' ? null : v;
}

export function optInteger(params: FormObject, name: string): number | undefined {
  const v = optString(params, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw paramError(`Invalid integer: ${v}`, name, 'parameter_invalid_integer');
  return Number(v);
}

export function optBoolean(params: FormObject, name: string): boolean | undefined {
  const v = optString(params, name);
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw paramError(`Invalid boolean: ${v}`, name);
}

export function optHash(params: FormObject, name: string): FormObject | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw paramError(`Invalid hash`, name, 'parameter_invalid_empty');
  return v;
}

export function optStringArray(params: FormObject, name: string): string[] | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  const arr = Array.isArray(v) ? v : [v];
  if (!arr.every((x): x is string => typeof x === 'string')) throw paramError(`Invalid array`, name);
  return arr;
}

/** metadata[key]=value; an empty value deletes the key (Stripe's rule). Max 50 keys, keys ≤ 40 chars, values ≤ 500. */
export function applyMetadata(current: Record<string, string>, params: FormObject): Record<string, string> {
  const v = params['metadata'];
  if (v === undefined) return current;
  if (v === '') return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw paramError('Invalid hash', 'metadata', 'parameter_invalid_empty');
  const out = { ...current };
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw paramError(`Invalid value for metadata[${k}]`, `metadata[${k}]`);
    if (k.length > 40) throw paramError('Metadata keys can have up to 40 characters.', `metadata[${k}]`);
    if (val.length > 500) throw paramError('Metadata values can have up to 500 characters.', `metadata[${k}]`);
    if (val === '') delete out[k];
    else out[k] = val;
  }
  if (Object.keys(out).length > 50) throw paramError('You can have up to 50 metadata keys.', 'metadata');
  return out;
}

export interface ListEnvelope<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

/** Items must be given newest first (Stripe's list order). */
export function paginate<T extends { id: string; created: number }>(items: readonly T[], params: FormObject, url: string): ListEnvelope<T> {
  const limit = optInteger(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw paramError('Invalid limit: must be between 1 and 100', 'limit', 'parameter_invalid_integer');
  const filtered = filterCreated(items, params);
  const after = optString(params, 'starting_after');
  const before = optString(params, 'ending_before');
  if (after !== undefined && before !== undefined) {
    throw paramError('You may only specify one of these parameters: ending_before, starting_after.', 'ending_before');
  }
  if (after !== undefined) {
    const i = filtered.findIndex((x) => x.id === after);
    if (i < 0) throw noSuch('object', after, 'starting_after');
    const rest = filtered.slice(i + 1);
    return { object: 'list', data: rest.slice(0, limit), has_more: rest.length > limit, url };
  }
  if (before !== undefined) {
    const i = filtered.findIndex((x) => x.id === before);
    if (i < 0) throw noSuch('object', before, 'ending_before');
    const head = filtered.slice(0, i);
    const start = Math.max(0, head.length - limit);
    return { object: 'list', data: head.slice(start), has_more: start > 0, url };
  }
  return { object: 'list', data: filtered.slice(0, limit), has_more: filtered.length > limit, url };
}

function filterCreated<T extends { created: number }>(items: readonly T[], params: FormObject): T[] {
  const c = params['created'];
  if (c === undefined) return [...items];
  if (typeof c === 'string') {
    const at = optInteger(params, 'created');
    return items.filter((x) => x.created === at);
  }
  if (Array.isArray(c)) throw paramError('Invalid created', 'created');
  const bound = (k: string): number | undefined => optInteger(c, k);
  const gt = bound('gt');
  const gte = bound('gte');
  const lt = bound('lt');
  const lte = bound('lte');
  return items.filter(
    (x) =>
      (gt === undefined || x.created > gt) &&
      (gte === undefined || x.created >= gte) &&
      (lt === undefined || x.created < lt) &&
      (lte === undefined || x.created <= lte),
  );
}

/** Newest first; ties (same second) keep reverse insertion order, as ids were issued. */
export function newestFirst<T>(map: ReadonlyMap<string, T>): T[] {
  return [...map.values()].reverse();
}

/**
 * `expand[]=latest_charge`, `expand[]=data.source` …: replace an id with the object it names.
 * Stripe allows up to four levels; an unexpandable path is a 400.
 */
export function expand(value: object, params: FormObject, store: StripeStore): object {
  const paths = optStringArray(params, 'expand') ?? [];
  if (paths.length === 0) return value;
  const out = structuredClone(value) as Record<string, unknown>;
  for (const path of paths) {
    const segs = path.split('.');
    if (segs.length > 4) throw paramError(`You cannot expand more than 4 levels of a property. Property: ${path}`, 'expand');
    expandAt(out, segs, path, store);
  }
  return out;
}

function expandAt(node: unknown, segs: string[], path: string, store: StripeStore): void {
  if (node === null || typeof node !== 'object') return;
  const [head, ...rest] = segs;
  if (head === undefined) return;
  const rec = node as Record<string, unknown>;
  if (!(head in rec)) throw paramError(`This property cannot be expanded (${path}).`, 'expand');
  const v = rec[head];
  if (head === 'data' && Array.isArray(v)) {
    for (const item of v) expandAt(item, rest, path, store);
    return;
  }
  if (typeof v === 'string') {
    const found = store.lookup(v);
    if (!found) throw paramError(`This property cannot be expanded (${path}).`, 'expand');
    rec[head] = structuredClone(found);
  } else if (v !== null && typeof v !== 'object') {
    throw paramError(`This property cannot be expanded (${path}).`, 'expand');
  }
  if (rest.length > 0) expandAt(rec[head], rest, path, store);
}

/** `expand[]=data.x` on a list → `expand[]=x` per item. */
export function nestedExpand(params: FormObject): FormObject {
  const paths = optStringArray(params, 'expand') ?? [];
  return { expand: paths.filter((p) => p.startsWith('data.')).map((p) => p.slice(5)) };
}

export function listOf<T extends { id: string; created: number }>(items: T[], params: FormObject, url: string, store: StripeStore): object {
  const page = paginate(items, params, url);
  return { ...page, data: page.data.map((x) => expand(x, nestedExpand(params), store)) };
}

export type { FormObject, FormValue };
