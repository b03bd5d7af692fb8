// Reads a 94-character record through its layout (records.ts): one slice per field, checked by type.
// Field errors go to the sink and the raw text is still returned, so the caller can keep checking the
// rest of the record; numbers are converted with helpers that tolerate an already-reported bad value.
import type { IssueSink } from './issues.ts';
import type { RecordLayout } from './records.ts';
import type { RecordType } from './types.ts';

export type Fields = Readonly<Record<string, string>>;

export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== 32) return false;
  return true;
}

/** Returns every field's raw text (untrimmed) keyed by field name; reports invalid fields. */
export function readFields(text: string, layout: RecordLayout, line: number, issues: IssueSink): Fields {
  const out: Record<string, string> = {};
  const recordType = layout.recordType as RecordType;
  for (const spec of layout.fields) {
    const raw = text.slice(spec.start - 1, spec.end);
    out[spec.name] = raw;
    switch (spec.type) {
      case 'reserved':
        break;
      case 'constant':
        if (raw !== spec.value) {
          issues.error(
            'constant',
            line,
            recordType,
            spec.name,
            `${layout.name} ${spec.name} (positions ${spec.start}-${spec.end}) must be "${spec.value}", found "${raw}"`,
          );
        }
        break;
      case 'numeric':
        if (!isDigits(raw) && (spec.required || !isBlank(raw))) {
          issues.error(
            'not_numeric',
            line,
            recordType,
            spec.name,
            `${layout.name} ${spec.name} (positions ${spec.start}-${spec.end}) must be numeric, found "${raw}"`,
          );
        }
        break;
      case 'alpha':
        if (spec.required && isBlank(raw)) {
          issues.error('required', line, recordType, spec.name, `${layout.name} ${spec.name} (positions ${spec.start}-${spec.end}) is required`);
        }
        break;
    }
  }
  return out;
}

export function get(fields: Fields, name: string): string {
  return fields[name] ?? '';
}

/** Integer value of a numeric field; 0 when the field was invalid (the error is already reported). */
export function num(fields: Fields, name: string): number {
  const raw = get(fields, name);
  return isDigits(raw) ? Number(raw) : 0;
}

export function big(fields: Fields, name: string): bigint {
  const raw = get(fields, name);
  return isDigits(raw) ? BigInt(raw) : 0n;
}

export function trimmed(fields: Fields, name: string): string {
  return get(fields, name).trim();
}
