// Turns the bytes of a NACHA file into 94-character records. Tolerant of the physical quirks real
// banks and libraries produce (fixtures README, format/): LF or CRLF, no final newline, trailing
// blanks trimmed (padded back to 94), trailing blanks beyond 94 (cut), and files without any line
// breaks (split every 94). Everything else about a line's length is an error, because guessing where
// a record starts would shift every field after it.
import { RECORD_LENGTH } from './records.ts';
import type { IssueSink } from './issues.ts';

export interface PhysicalRecord {
  /** 1-based record number: the physical line, except in files without line breaks. */
  readonly line: number;
  readonly text: string; // exactly 94 characters
}

// Printable ASCII plus line terminators; NACHA data is ASCII (Nacha Operating Rules, Appendix One).
const BAD_CHARACTER = /[^\x20-\x7E\r\n]/;

/**
 * `strictLength`: reject any record that is not exactly 94 characters (the strict reading that
 * rejects fixtures format/); by default such records are repaired and reported as warnings.
 */
export function splitRecords(input: string, issues: IssueSink, strictLength = false): PhysicalRecord[] | null {
  if (input.trim() === '') {
    issues.error('empty_file', null, null, null, 'the file is empty');
    return null;
  }
  const bad = BAD_CHARACTER.exec(input);
  if (bad) {
    const line = countLines(input, bad.index);
    const code = input.charCodeAt(bad.index).toString(16).padStart(2, '0');
    issues.error('invalid_character', line, null, null, `line ${line} contains a non-printable or non-ASCII character (0x${code})`);
    return null;
  }
  const lines = input.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else issues.warn('no_final_newline', lines.length, null, null, 'the last record has no line break after it');
  // Blank lines after the last record are harmless; drop them.
  while (lines.length > 0 && (lines[lines.length - 1] as string).trim() === '') lines.pop();

  let crlf = false;
  let padded = 0;
  let firstPadded = 0;
  let trimmed = 0;
  let firstTrimmed = 0;
  let unbroken = false;
  const out: PhysicalRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    let text = lines[i] as string;
    if (text.endsWith('\r')) {
      text = text.slice(0, -1);
      crlf = true;
    }
    const line = out.length + 1;
    if (text.includes('\r')) {
      issues.error('invalid_character', i + 1, null, null, `line ${i + 1} contains a carriage return inside the record`);
      return null;
    }
    const len = text.length;
    if (len === RECORD_LENGTH) {
      out.push({ line, text });
    } else if (strictLength && len > 0) {
      issues.error('record_length', line, recordTypeOf(text), null, `line ${i + 1} has ${len} characters; a record must be exactly 94`);
      return null;
    } else if (len === 0) {
      issues.error('record_length', i + 1, null, null, `line ${i + 1} is empty; records must be 94 characters`);
      return null;
    } else if (len < RECORD_LENGTH) {
      if (padded++ === 0) firstPadded = line;
      out.push({ line, text: text.padEnd(RECORD_LENGTH, ' ') });
    } else if (text.slice(RECORD_LENGTH).trim() === '') {
      if (trimmed++ === 0) firstTrimmed = line;
      out.push({ line, text: text.slice(0, RECORD_LENGTH) });
    } else if (len % RECORD_LENGTH === 0) {
      unbroken = true;
      for (let at = 0; at < len; at += RECORD_LENGTH) out.push({ line: out.length + 1, text: text.slice(at, at + RECORD_LENGTH) });
    } else {
      issues.error(
        'record_length',
        line,
        recordTypeOf(text),
        null,
        `line ${i + 1} has ${len} characters: a record must be 94 characters (or, without line breaks, a multiple of 94); ${len % RECORD_LENGTH} left over`,
      );
      return null;
    }
  }
  if (crlf) issues.warn('crlf', null, null, null, 'records end with CRLF');
  if (padded > 0) {
    issues.warn('line_padded', firstPadded, null, null, `${padded} record(s) shorter than 94 characters were padded with blanks (first: line ${firstPadded})`);
  }
  if (trimmed > 0) {
    issues.warn(
      'line_trimmed',
      firstTrimmed,
      null,
      null,
      `${trimmed} record(s) longer than 94 characters had trailing blanks cut (first: line ${firstTrimmed})`,
    );
  }
  if (unbroken) issues.warn('records_unbroken', null, null, null, 'records without line breaks were split every 94 characters');
  return out;
}

function countLines(input: string, index: number): number {
  let n = 1;
  for (let i = input.indexOf('\n'); i !== -1 && i < index; i = input.indexOf('\n', i + 1)) n++;
  return n;
}

function recordTypeOf(text: string): '1' | '5' | '6' | '7' | '8' | '9' | null {
  const c = text[0];
  return c === '1' || c === '5' || c === '6' || c === '7' || c === '8' || c === '9' ? c : null;
}
