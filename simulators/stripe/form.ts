// Stripe requests are application/x-www-form-urlencoded with bracketed nested keys, the encoding
// the official libraries produce: `metadata[invoice]=42`, `payment_method_types[0]=card` (stripe-node
// indexes arrays), `expand[]=latest_charge` (curl examples in Stripe's docs), and nested hashes
// such as `mandate_data[customer_acceptance][online][ip_address]=…`. GET list filters use the same
// scheme in the query string (`types[]=…`, `created[gte]=…`).

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

/** Keys under these names are free-form hashes: numeric keys stay keys, never array indexes. */
const HASH_KEYS = new Set(['metadata']);

export function parseForm(text: string): FormObject {
  const root: FormObject = {};
  if (!text) return root;
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const key = decode(rawKey);
    const value = decode(rawValue);
    const path = splitKey(key);
    if (path.length === 0) continue;
    assign(root, path, value);
  }
  return normaliseArrays(root, null) as FormObject;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** `a[b][]` → ['a', 'b', '']; a key without brackets is one segment. */
export function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open < 0) return [key];
  const out = [key.slice(0, open)];
  const re = /\[([^\]]*)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(key.slice(open))) !== null) out.push(m[1] ?? '');
  return out;
}

const APPEND = '\u0000append';

function assign(root: FormObject, path: string[], value: string): void {
  let node: FormObject = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] ?? '';
    const last = i === path.length - 1;
    if (seg === '') {
      // `x[]` appends: keep an ordered counter so repeated keys become consecutive indexes
      const n = Object.keys(node).filter((k) => k.startsWith(APPEND)).length;
      const slot = `${APPEND}${String(n).padStart(6, '0')}`;
      if (last) node[slot] = value;
      else {
        const child: FormObject = {};
        node[slot] = child;
        node = child;
      }
      continue;
    }
    if (last) {
      node[seg] = value;
      return;
    }
    const existing = node[seg];
    if (existing && typeof existing === 'object' && !Array.isArray(existing)) node = existing;
    else {
      const child: FormObject = {};
      node[seg] = child;
      node = child;
    }
  }
}

/** Objects whose keys are all indexes (or appends) become arrays, ordered by index. */
function normaliseArrays(v: FormValue, parentKey: string | null): FormValue {
  if (typeof v === 'string' || Array.isArray(v)) return v;
  const keys = Object.keys(v);
  const out: FormObject = {};
  for (const k of keys) out[k] = normaliseArrays(v[k] as FormValue, k);
  const isList = keys.length > 0 && !(parentKey !== null && HASH_KEYS.has(parentKey)) && keys.every((k) => k.startsWith(APPEND) || /^\d+$/.test(k));
  if (!isList) return out;
  const ordered = keys.map((k) => ({ k, n: k.startsWith(APPEND) ? Number(k.slice(APPEND.length)) : Number(k) })).sort((a, b) => a.n - b.n);
  return ordered.map(({ k }) => out[k] as FormValue);
}

/** Canonical text of parameters, used to compare an idempotent retry with the first request. */
export function canonical(v: FormValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
    .join(',')}}`;
}
