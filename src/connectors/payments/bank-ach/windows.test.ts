import { describe, expect, it } from 'vitest';
import { DEFAULT_CUTOFFS, entryDescriptionFor, fedWindowFor, achFileName } from './catalogue.ts';
import { checkCutoffs, currentWindow, CutoffConfigError, isDue, localClock } from './windows.ts';

const NY = 'America/New_York';

describe('bank cut-off windows (payments-rules.md §2.3)', () => {
  it('reads bank-local time across daylight saving', () => {
    expect(localClock(new Date('2026-01-15T14:20:00Z'), NY)).toEqual({ date: '2026-01-15', time: '09:20' }); // EST
    expect(localClock(new Date('2026-07-15T13:20:00Z'), NY)).toEqual({ date: '2026-07-15', time: '09:20' }); // EDT
    expect(localClock(new Date('2026-03-24T03:30:00Z'), NY)).toEqual({ date: '2026-03-23', time: '23:30' });
  });

  it('picks the next cut-off today, with the Same Day window it feeds and the next banking day for standard entries', () => {
    const w = currentWindow(new Date('2026-03-23T13:15:00Z'), DEFAULT_CUTOFFS, NY); // Monday 09:15 EDT
    expect(w).toMatchObject({
      cutoffId: 'same-day-1',
      windowDate: '2026-03-23',
      sameDay: true,
      settlesAt: '1300',
      nextDayEffective: '2026-03-24',
      minutesToCutoff: 15,
    });
    expect(isDue(w, 20)).toBe(true);
    expect(isDue(w, 10)).toBe(false);
    const evening = currentWindow(new Date('2026-03-23T20:30:00Z'), DEFAULT_CUTOFFS, NY); // 16:30: next-day cut-off at 17:00
    expect(evening).toMatchObject({ cutoffId: 'next-day', sameDay: false, settlesAt: null, nextDayEffective: '2026-03-24' });
  });

  it('after the last cut-off, on weekends and holidays, the window is the first cut-off of the next banking day (not Same Day: it is not today)', () => {
    const friday = currentWindow(new Date('2026-03-27T22:00:00Z'), DEFAULT_CUTOFFS, NY); // Friday 18:00
    expect(friday).toMatchObject({ cutoffId: 'same-day-1', windowDate: '2026-03-30', sameDay: false, minutesToCutoff: null, nextDayEffective: '2026-03-31' });
    const thanksgiving = currentWindow(new Date('2026-11-26T15:00:00Z'), DEFAULT_CUTOFFS, NY);
    expect(thanksgiving.windowDate).toBe('2026-11-27');
    expect(isDue(thanksgiving, 20)).toBe(false);
  });

  it('checks configured cut-offs', () => {
    expect(() => checkCutoffs([{ id: 'late', at: '17:30', sameDay: true }], '2026-03-23')).toThrow(CutoffConfigError);
    expect(() => checkCutoffs([{ id: 'a', at: '9:30', sameDay: false }], '2026-03-23')).toThrow(/HH:MM/);
    expect(() =>
      checkCutoffs(
        [
          { id: 'a', at: '09:30', sameDay: false },
          { id: 'a', at: '10:30', sameDay: false },
        ],
        '2026-03-23',
      ),
    ).toThrow(/twice/);
    expect(() => checkCutoffs(DEFAULT_CUTOFFS, '2026-03-23')).not.toThrow();
    expect(fedWindowFor('14:45', '2026-03-23')?.settlesAt).toBe('1700');
    expect(fedWindowFor('16:46', '2026-03-23')).toBeNull();
  });

  it('Company Entry Descriptions are effective-dated: WEB debits say PURCHASE from 2026-03-20 (§2.7)', () => {
    expect(entryDescriptionFor('WEB', '2026-03-19')).toBe('INVOICES');
    expect(entryDescriptionFor('WEB', '2026-03-20')).toBe('PURCHASE');
    expect(entryDescriptionFor('CCD', '2026-03-20')).toBe('INVOICES');
    expect(achFileName('SETTLE', '2026-03-23', 'B')).toBe('SETTLE_20260323_B.ach');
  });
});
