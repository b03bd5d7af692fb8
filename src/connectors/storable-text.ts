// Text PostgreSQL can store. A vendor's JSON may carry characters that a `text` or `jsonb` column refuses:
// NUL (U+0000, "invalid byte sequence for encoding UTF8: 0x00") and unpaired UTF-16 surrogates (they have no
// UTF-8 form; node-postgres would silently turn them into U+FFFD in text, and jsonb refuses their escapes).
// One such character in one company name once stopped a whole workspace's import, so connectors clean every
// text field of a mapped record at the mapping boundary and say which fields they changed.

/** What was done to one field, e.g. `name: removed 1 NUL`. Kept on the record so the engine can log it. */
export type TextRepair = string;

const NUL = /\u0000/g;
/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const UNPAIRED = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` without NULs and with every unpaired surrogate replaced by U+FFFD, and what was changed. */
export function storableText(text: string): { readonly text: string; readonly changes: readonly string[] } {
  const changes: string[] = [];
  let out = text;
  const nuls = out.match(NUL)?.length ?? 0;
  if (nuls > 0) {
    out = out.replace(NUL, '');
    changes.push(`removed ${nuls} NUL`);
  }
  const unpaired = out.match(UNPAIRED)?.length ?? 0;
  if (unpaired > 0) {
    out = out.replace(UNPAIRED, '\uFFFD');
    changes.push(`replaced ${unpaired} unpaired surrogate${unpaired === 1 ? '' : 's'} with U+FFFD`);
  }
  return { text: out, changes };
}

/**
 * A copy of `record` whose every string (at any depth, in plain objects and arrays) is storable, with one
 * repair note per changed field (`lines[2].description: removed 1 NUL`). Other values are kept as they are.
 */
export function storableRecord<T>(record: T): { readonly record: T; readonly repairs: readonly TextRepair[] } {
  const repairs: TextRepair[] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (typeof value === 'string') {
      const r = storableText(value);
      if (r.changes.length > 0) repairs.push(`${path || '(value)'}: ${r.changes.join(', ')}`);
      return r.text;
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`));
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = walk(v, path ? `${path}.${k}` : k);
      return out;
    }
    return value;
  };
  const cleaned = walk(record, '') as T;
  return { record: repairs.length > 0 ? cleaned : record, repairs };
}
