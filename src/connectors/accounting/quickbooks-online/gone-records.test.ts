import { describe, expect, it } from 'vitest';
import { findGoneRecords } from './gone-records.ts';

describe('findGoneRecords', () => {
  it('a record not found is deleted, one with amounts zero and "Voided" is voided, the rest are left out', async () => {
    const asked: string[] = [];
    const books: Record<string, Record<string, unknown>[]> = {
      Payment: [
        { Id: '10', TotalAmt: 50, PrivateNote: '[settle:a]' },
        { Id: '11', TotalAmt: 0, PrivateNote: 'Voided: [settle:b]' },
        { Id: '13', TotalAmt: 0, PrivateNote: '[settle:zero]' }, // zero but not voided
      ],
      Deposit: [],
    };
    const gone = await findGoneRecords(
      async (entity, field, values) => {
        asked.push(`${entity}.${field} IN ${values.join(',')}`);
        return books[entity]!.filter((r) => values.includes(String(r['Id'])));
      },
      [
        { kind: 'payment', remoteId: '10' },
        { kind: 'payment', remoteId: '11' },
        { kind: 'payment', remoteId: '12' },
        { kind: 'payment', remoteId: '13' },
        { kind: 'deposit', remoteId: '20' },
      ],
    );
    expect(Object.fromEntries(gone)).toEqual({ 'payment:11': 'voided', 'payment:12': 'deleted', 'deposit:20': 'deleted' });
    expect(asked).toEqual(['Payment.Id IN 10,11,12,13', 'Deposit.Id IN 20']);
  });
});
