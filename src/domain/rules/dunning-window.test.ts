// When Collections Assist may send (sendingNow): the workspace's local day and hour, business days, and the
// sending hours — each refusal says why.
import { describe, expect, it } from 'vitest';
import { localDayAndHour, sendingNow, DEFAULT_SENDING_WINDOW } from './dunning.ts';
import { isBankingDay } from './us-banking-calendar.ts';

describe('sendingNow', () => {
  it('reads the local day and hour in the workspace timezone', () => {
    // 03:00 UTC on Tuesday is 22:00 on Monday in New York (EST, UTC−5).
    expect(localDayAndHour(new Date('2027-01-19T03:00:00Z'), 'America/New_York')).toEqual({ day: '2027-01-18', hour: 22 });
    expect(localDayAndHour(new Date('2027-01-19T03:00:00Z'), 'UTC')).toEqual({ day: '2027-01-19', hour: 3 });
  });

  it('opens on business days inside the sending hours only', () => {
    const at = (iso: string) => sendingNow(new Date(iso), 'America/New_York', DEFAULT_SENDING_WINDOW, isBankingDay);
    expect(at('2027-01-19T15:00:00Z')).toEqual({ open: true, day: '2027-01-19' }); // Tuesday 10:00
    expect(at('2027-01-18T15:00:00Z')).toEqual({ open: false, day: '2027-01-18', why: '2027-01-18 is not a business day' }); // MLK day
    expect(at('2027-01-16T15:00:00Z')).toMatchObject({ open: false, why: '2027-01-16 is not a business day' }); // Saturday
    expect(at('2027-01-19T12:00:00Z')).toMatchObject({ open: false, why: '7:00 is outside the sending hours 8:00–18:00' });
    expect(at('2027-01-19T23:00:00Z')).toMatchObject({ open: false, why: '18:00 is outside the sending hours 8:00–18:00' });
    // Every day when the workspace sends on weekends too.
    expect(sendingNow(new Date('2027-01-16T15:00:00Z'), 'America/New_York', { ...DEFAULT_SENDING_WINDOW, businessDaysOnly: false }, isBankingDay).open).toBe(
      true,
    );
  });
});
