import { describe, expect, it } from 'vitest';
import { addDays } from './calendar-date.ts';
import { DEFAULT_DUNNING_CADENCE, dueReminders } from './dunning.ts';

const dueOn = '2026-06-30';
const at = (offset: number) => addDays(dueOn, offset);

describe('dueReminders', () => {
  it('walks the §4.1 cadence: T−7, T−3, T0, +3, +7, +14, +30, +60', () => {
    expect(DEFAULT_DUNNING_CADENCE.map((s) => s.offsetDays)).toEqual([-7, -3, 0, 3, 7, 14, 30, 60]);
    const sent: { key: string; sentOn: string }[] = [];
    for (let day = -10; day <= 70; day++) {
      const d = dueReminders({ dueOn, sent, now: at(day) });
      if (d.kind === 'send') sent.push({ key: d.step.key, sentOn: at(day) });
    }
    expect(sent.map((s) => [s.key, s.sentOn])).toEqual([
      ['pre_due_7', at(-7)],
      ['pre_due_3', at(-3)],
      ['due', at(0)],
      ['overdue_3', at(3)],
      ['overdue_7', at(7)],
      ['escalated_14', at(14)],
      ['final_30', at(30)],
      ['review_60', at(60)],
    ]);
    expect(dueReminders({ dueOn, sent, now: at(90) })).toEqual({ kind: 'done' });
  });

  it('says when the next step is due', () => {
    const d = dueReminders({ dueOn, sent: [{ key: 'overdue_3', sentOn: at(3) }], now: at(4) });
    expect(d).toMatchObject({ kind: 'wait', on: at(7) });
    if (d.kind === 'wait') expect(d.step.key).toBe('overdue_7');
  });

  it('sends only the latest overdue step after a gap, never a burst, and drops stale pre-due steps', () => {
    const d = dueReminders({ dueOn, sent: [], now: at(9) });
    expect(d).toMatchObject({ kind: 'send', step: { key: 'overdue_7' } });
    if (d.kind === 'send') expect(d.skipped).toEqual(['pre_due_7', 'pre_due_3', 'due', 'overdue_3']);
  });

  it('skips pre-due steps before the invoice was issued, and sends at most one reminder a day', () => {
    expect(dueReminders({ dueOn, issuedOn: at(-5), sent: [], now: at(-5) })).toMatchObject({ kind: 'wait', on: at(-3), step: { key: 'pre_due_3' } });
    expect(dueReminders({ dueOn, sent: [{ key: 'due', sentOn: at(3) }], now: at(3) })).toMatchObject({ kind: 'wait', on: at(4), step: { key: 'overdue_3' } });
  });

  it('sends a missed pre-due step late while still before the due date', () => {
    expect(dueReminders({ dueOn, sent: [], now: at(-5) })).toMatchObject({ kind: 'send', step: { key: 'pre_due_7' }, skipped: [] });
  });
});
