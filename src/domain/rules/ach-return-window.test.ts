import { describe, expect, it } from 'vitest';
import { finalAfter, isFinal, returnWindow } from './ach-return-window.ts';

describe('ACH return window', () => {
  it('CCD: 2 banking days for the RDFI plus one for delivery', () => {
    expect(returnWindow('CCD', '2026-05-04')).toMatchObject({
      rdfiDeadline: '2026-05-06',
      finalAfter: '2026-05-07',
      rulesApplied: ['ach-window:corporate-2bd'],
    });
    // Settled Friday before Memorial Day: Tue 26th, Wed 27th.
    expect(returnWindow('CTX', '2026-05-22')).toMatchObject({ rdfiDeadline: '2026-05-27', finalAfter: '2026-05-28' });
    expect(finalAfter('CCD', '2026-05-04', { deliveryBankingDays: 0 })).toBe('2026-05-06');
  });

  it('PPD/WEB: 60 calendar days for unauthorized returns, to the banking day after the 60th day', () => {
    // 2026-05-04 + 60 days = 2026-07-03 (a Friday); the next banking day is Monday 07-06.
    expect(returnWindow('PPD', '2026-05-04')).toMatchObject({ rdfiDeadline: '2026-07-06', finalAfter: '2026-07-07' });
    expect(finalAfter('WEB', '2026-05-04')).toBe('2026-07-07');
  });

  it('is final only after the window', () => {
    expect(isFinal('CCD', '2026-05-04', '2026-05-07')).toBe(false);
    expect(isFinal('CCD', '2026-05-04', '2026-05-08')).toBe(true);
    expect(isFinal('WEB', '2026-05-04', '2026-05-08')).toBe(false);
  });
});
