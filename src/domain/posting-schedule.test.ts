import { describe, expect, it } from 'vitest';
import { DAY, postingSchedule } from './posting-schedule.ts';

const MIN = 60_000;

describe('postingSchedule', () => {
  it('a posting waiting for its invoice backs off from a minute to daily and never fails', () => {
    const delays = Array.from({ length: 14 }, (_, i) => postingSchedule('waiting', i + 1).delayMs);
    expect(delays.slice(0, 5)).toEqual([1 * MIN, 2 * MIN, 4 * MIN, 8 * MIN, 16 * MIN]);
    expect(delays[10]).toBe(1024 * MIN);
    expect(delays[11]).toBe(DAY);
    expect(delays[13]).toBe(DAY);
    // Weeks later it is still waiting, checked daily, with a person told.
    const weeks = postingSchedule('waiting', 60);
    expect(weeks).toEqual({ retry: true, delayMs: DAY, tellPerson: true });
    let elapsed = 0;
    for (let n = 1; n <= 40; n++) elapsed += postingSchedule('waiting', n).delayMs;
    expect(elapsed).toBeGreaterThan(28 * DAY); // 40 attempts cover four weeks
  });

  it('transient failures back off to hourly, keep going, and tell a person after about an hour', () => {
    expect(postingSchedule('transient', 1)).toEqual({ retry: true, delayMs: 2000, tellPerson: false });
    expect(postingSchedule('transient', 11)).toMatchObject({ retry: true, tellPerson: false });
    let elapsed = 0;
    for (let n = 1; n <= 11; n++) elapsed += postingSchedule('transient', n).delayMs;
    expect(elapsed).toBe(4094_000); // ≈ 68 minutes before anyone needs to look
    expect(postingSchedule('transient', 12)).toEqual({ retry: true, delayMs: 3_600_000, tellPerson: true });
    expect(postingSchedule('transient', 500)).toEqual({ retry: true, delayMs: 3_600_000, tellPerson: true });
  });

  it('a final refusal stops and tells a person at once', () => {
    expect(postingSchedule('final', 1)).toEqual({ retry: false, delayMs: 0, tellPerson: true });
  });

  it('treats a nonsense attempt count as the first attempt', () => {
    expect(postingSchedule('waiting', 0).delayMs).toBe(MIN);
    expect(postingSchedule('transient', -3).delayMs).toBe(2000);
  });
});
