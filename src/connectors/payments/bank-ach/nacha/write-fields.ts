// Writes records through the same layouts the parser reads (records.ts): alphanumeric fields
// left-justified and blank-filled, numeric fields right-justified and zero-filled, constants as
// specified, reserved fields blank. Nothing overflows silently: a value that does not fit throws,
// except free-text names the caller allows to be cut.
import { AchGenerateError } from './generate-error.ts';
import { RECORD_LENGTH, type RecordLayout } from './records.ts';

const PRINTABLE = /^[\x20-\x7E]*$/;

export type FieldValue = string | number | bigint | undefined;

export function writeRecord(layout: RecordLayout, values: Readonly<Record<string, FieldValue>>, path: string, cut: ReadonlySet<string> = NO_CUT): string {
  let out = '';
  for (const spec of layout.fields) {
    const width = spec.end - spec.start + 1;
    const value = values[spec.name];
    const fieldPath = `${path}.${spec.name}`;
    switch (spec.type) {
      case 'constant':
        out += spec.value as string;
        break;
      case 'reserved':
        out += ' '.repeat(width);
        break;
      case 'numeric':
        out += value === undefined || value === '' ? blankNumeric(spec.required, width, fieldPath) : numeric(value, width, fieldPath);
        break;
      case 'alpha': {
        const text = value === undefined ? '' : String(value);
        if (spec.required && text.trim() === '') throw new AchGenerateError(fieldPath, 'is required');
        out += alpha(text, width, fieldPath, cut.has(spec.name));
        break;
      }
    }
  }
  if (out.length !== RECORD_LENGTH) throw new Error(`${layout.name} layout writes ${out.length} characters`);
  return out;
}

const NO_CUT: ReadonlySet<string> = new Set();

function blankNumeric(required: boolean, width: number, path: string): string {
  if (required) throw new AchGenerateError(path, 'is required');
  return ' '.repeat(width);
}

/** Left-justified, blank-filled. `cut` allows truncating free text (names) instead of throwing. */
export function alpha(value: string, length: number, path: string, cut = false): string {
  if (!PRINTABLE.test(value)) throw new AchGenerateError(path, 'must be printable ASCII (NACHA files are ASCII)');
  if (value.length > length) {
    if (!cut) throw new AchGenerateError(path, `"${value}" is longer than ${length} characters`);
    return value.slice(0, length);
  }
  return value.padEnd(length, ' ');
}

/** Right-justified, zero-filled. */
export function numeric(value: string | number | bigint, length: number, path: string): string {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new AchGenerateError(path, 'must be a whole number');
  const s = value.toString();
  if (!/^\d+$/.test(s)) throw new AchGenerateError(path, `"${s}" must be a non-negative whole number`);
  if (s.length > length) throw new AchGenerateError(path, `${s} does not fit ${length} digits`);
  return s.padStart(length, '0');
}

/** "2026-03-20" → "260320", rejecting impossible dates. */
export function isoToYymmdd(iso: string, path: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new AchGenerateError(path, `"${iso}" is not a YYYY-MM-DD date`);
  const [, y, mo, d] = m as unknown as [string, string, string, string];
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) {
    throw new AchGenerateError(path, `"${iso}" is not a calendar date`);
  }
  return y.slice(2) + mo + d;
}
