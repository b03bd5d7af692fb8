// Which payments and deposits Settle posted to QuickBooks Online are gone since: a bookkeeper voided one
// (QuickBooks keeps it with its amounts zero and PrivateNote "Voided…") or deleted it (it is no longer found).
// One `SELECT * FROM <Entity> WHERE Id IN (…)` per 100 ids (Id is filterable on every entity; several
// queries share a batch call), so checking a few thousand postings costs a handful of requests.
import type { BooksRecordRef, GoneRecord } from '../types.ts';
import { isVoided } from './mapping.ts';

type Json = Record<string, unknown>;
export type Lookup = (entity: string, field: string, values: readonly string[]) => Promise<Json[]>;

const ENTITY: Readonly<Record<BooksRecordRef['kind'], string>> = { payment: 'Payment', deposit: 'Deposit' };

export async function findGoneRecords(lookup: Lookup, refs: readonly BooksRecordRef[]): Promise<ReadonlyMap<string, GoneRecord>> {
  const gone = new Map<string, GoneRecord>();
  for (const kind of ['payment', 'deposit'] as const) {
    const ids = [...new Set(refs.filter((r) => r.kind === kind).map((r) => r.remoteId))];
    if (ids.length === 0) continue;
    const found = new Map((await lookup(ENTITY[kind], 'Id', ids)).map((r) => [String(r['Id']), r]));
    for (const id of ids) {
      const record = found.get(id);
      if (!record) gone.set(`${kind}:${id}`, 'deleted');
      else if (isVoided(record)) gone.set(`${kind}:${id}`, 'voided');
    }
  }
  return gone;
}
