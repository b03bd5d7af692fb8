import { describe, expect, it } from 'vitest';
import { nightlyDueDate } from './reconciliation-nightly.ts';

describe('nightlyDueDate: 02:30 in the workspace’s own timezone, once a local day', () => {
  it('is due at 02:30 local, not at 02:30 UTC', () => {
    // 02:30 UTC is 20:30 the evening before in Chicago (UTC−6 in December): not due there.
    expect(nightlyDueDate(new Date('2026-12-07T02:30:00Z'), 'America/Chicago', '2026-12-06')).toBeNull();
    expect(nightlyDueDate(new Date('2026-12-07T02:30:00Z'), 'UTC', '2026-12-06')).toBe('2026-12-07');
    // 08:30 UTC is 02:30 in Chicago.
    expect(nightlyDueDate(new Date('2026-12-07T08:15:00Z'), 'America/Chicago', '2026-12-06')).toBeNull();
    expect(nightlyDueDate(new Date('2026-12-07T08:30:00Z'), 'America/Chicago', '2026-12-06')).toBe('2026-12-07');
    // Kathmandu is UTC+5:45: 02:30 local is 20:45 UTC the day before.
    expect(nightlyDueDate(new Date('2026-12-06T20:45:00Z'), 'Asia/Kathmandu', null)).toBe('2026-12-07');
    expect(nightlyDueDate(new Date('2026-12-06T20:30:00Z'), 'Asia/Kathmandu', null)).toBeNull();
  });
  it('runs once per local date, and a missed run later the same day', () => {
    expect(nightlyDueDate(new Date('2026-12-07T03:00:00Z'), 'UTC', '2026-12-07')).toBeNull();
    expect(nightlyDueDate(new Date('2026-12-07T14:00:00Z'), 'UTC', '2026-12-06')).toBe('2026-12-07');
  });
  it('follows daylight saving: 02:30 in Sydney is 15:30 UTC in December (UTC+11)', () => {
    expect(nightlyDueDate(new Date('2026-12-06T15:15:00Z'), 'Australia/Sydney', '2026-12-06')).toBeNull();
    expect(nightlyDueDate(new Date('2026-12-06T15:30:00Z'), 'Australia/Sydney', '2026-12-06')).toBe('2026-12-07');
  });
});
