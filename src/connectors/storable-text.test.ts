import { describe, expect, it } from 'vitest';
import { storableRecord, storableText } from './storable-text.ts';

describe('storable text', () => {
  it('removes NUL and replaces unpaired surrogates, keeping paired ones', () => {
    expect(storableText('Contoso\u0000 Ltd')).toEqual({ text: 'Contoso Ltd', changes: ['removed 1 NUL'] });
    expect(storableText('a\uD83Db\uDE00c').text).toBe('a\uFFFDb\uFFFDc');
    expect(storableText('ok \uD83D\uDE00').changes).toEqual([]);
  });

  it('names every changed field of a record, at any depth, and leaves other values alone', () => {
    const amount = { amountMinor: 100n, currency: 'USD' };
    const { record, repairs } = storableRecord({ name: 'A\u0000', lines: [{ description: 'ok' }, { description: '\uDC00x' }], amount, n: 1 });
    expect(record).toEqual({ name: 'A', lines: [{ description: 'ok' }, { description: '\uFFFDx' }], amount, n: 1 });
    expect(repairs).toEqual(['name: removed 1 NUL', 'lines[1].description: replaced 1 unpaired surrogate with U+FFFD']);
    const clean = { name: 'fine' };
    expect(storableRecord(clean).record).toBe(clean);
  });
});
