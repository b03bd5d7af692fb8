// Collects parse errors and warnings. Errors stop being collected after a cap so that a garbage file
// of a million lines cannot produce a million-entry error list.
import type { AchIssue, AchIssueCode, RecordType } from './types.ts';

const MAX_ERRORS = 100;

export class IssueSink {
  readonly errors: AchIssue[] = [];
  readonly warnings: AchIssue[] = [];

  error(code: AchIssueCode, line: number | null, recordType: RecordType | null, field: string | null, message: string): void {
    if (this.errors.length < MAX_ERRORS) this.errors.push({ severity: 'error', code, line, recordType, field, message });
  }

  warn(code: AchIssueCode, line: number | null, recordType: RecordType | null, field: string | null, message: string): void {
    if (this.warnings.length < MAX_ERRORS) this.warnings.push({ severity: 'warning', code, line, recordType, field, message });
  }

  get full(): boolean {
    return this.errors.length >= MAX_ERRORS;
  }
}
