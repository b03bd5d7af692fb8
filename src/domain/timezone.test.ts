import { describe, expect, it } from 'vitest';
import { formatDate, formatDateTime, workspaceTimezone } from './timezone.ts';

describe('the workspace timezone', () => {
  it('is the IANA name in the settings, UTC when unset or unknown', () => {
    expect(workspaceTimezone({ timezone: 'America/Chicago' })).toBe('America/Chicago');
    expect(workspaceTimezone({})).toBe('UTC');
    expect(workspaceTimezone(null)).toBe('UTC');
    expect(workspaceTimezone({ timezone: 'Mars/Olympus_Mons' })).toBe('UTC');
    expect(workspaceTimezone({ timezone: 42 })).toBe('UTC');
  });

  it('shows instants in it, and plain dates as they are', () => {
    const late = new Date('2026-03-14T03:30:00Z'); // still the 13th in Chicago (UTC-5 in March after DST)
    expect(formatDateTime(late, 'UTC')).toBe('2026-03-14 03:30');
    expect(formatDateTime(late, 'America/Chicago')).toBe('2026-03-13 22:30');
    expect(formatDate(late, 'America/Chicago')).toBe('2026-03-13');
    expect(formatDate(late, 'Pacific/Auckland')).toBe('2026-03-14');
    // A due date has no time: no timezone may shift it.
    expect(formatDate('2026-03-14', 'America/Chicago')).toBe('2026-03-14');
    expect(formatDate(null, 'UTC')).toBe('');
    expect(formatDateTime('2026-01-01T00:00:00Z', 'Europe/London')).toBe('2026-01-01 00:00');
    // Midnight is 00, never 24.
    expect(formatDateTime(new Date('2026-06-01T05:00:00Z'), 'America/Chicago')).toBe('2026-06-01 00:00');
  });
});
