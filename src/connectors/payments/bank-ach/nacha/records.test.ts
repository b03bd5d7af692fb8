import { describe, expect, it } from 'vitest';
import { ALL_LAYOUTS, RECORD_LENGTH } from './records.ts';

describe('record layouts', () => {
  it.each(ALL_LAYOUTS.map((l) => [l.name, l] as const))('%s covers positions 1-94 exactly once', (_name, layout) => {
    let next = 1;
    for (const f of layout.fields) {
      expect(f.start, `${layout.name}.${f.name}`).toBe(next);
      expect(f.end).toBeGreaterThanOrEqual(f.start);
      if (f.type === 'constant') expect(f.value?.length).toBe(f.end - f.start + 1);
      next = f.end + 1;
    }
    expect(next - 1).toBe(RECORD_LENGTH);
    expect(new Set(layout.fields.map((f) => f.name)).size).toBe(layout.fields.length);
    expect(layout.fields[0]).toMatchObject({ name: 'recordType', type: 'constant', value: layout.recordType });
  });
});
