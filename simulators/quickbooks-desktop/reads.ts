// The company file's reads beyond look-ups by number: the chart of accounts (AccountQuery), credit memos by
// number (CreditMemoQuery), and invoices / received payments / deposits by ModifiedDateRangeFilter, paged with
// qbXML iterators as QuickBooks pages them:
//   iterator="Start" runs the query and keeps what MaxReturned left over under a new iteratorID (a GUID);
//   iterator="Continue" with that iteratorID returns the next MaxReturned and, on every page, retCount,
//   iteratorRemainingCount and the iteratorID. An iterator lives only in the QuickBooks session that made it
//   (one Web Connector run) and expires after ITERATOR_IDLE_MS unused; an unknown, expired or other session's
//   iteratorID is refused with statusCode 3120 (object not found — our assumption of the code). Continue must
//   repeat the Start's filter (the SDK guide says so); a different one is refused 3000-style as invalid (3120 too).
import { randomUUID } from 'node:crypto';
import type { CompanyFile } from './store.ts';

type El = Record<string, unknown>;
export const ITERATOR_IDLE_MS = 10 * 60_000;

export class ReadRefusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Iterator {
  readonly type: string;
  readonly filter: string;
  readonly session: number;
  left: readonly unknown[];
  lastUsed: number;
}

/** Iterators and the QuickBooks session they belong to (WebConnector opens one per run). */
export class Iterators {
  private readonly open = new Map<string, Iterator>();
  private session = 0;
  /** Faults: the next N Continue requests find their iterator expired (QuickBooks' idle timeout). */
  expireNext = 0;

  constructor(private readonly now: () => number = Date.now) {}

  newSession(): void {
    this.session += 1;
    this.open.clear();
  }

  /** One page of `all` (Start) or of what the iterator kept (Continue); attributes for the *Rs. */
  page<T>(type: string, rq: El, filter: string, all: () => T[]): { page: T[]; attrs: Record<string, string> } {
    const max = Number(str(rq, 'MaxReturned') ?? '0') || Number.MAX_SAFE_INTEGER;
    const mode = str(rq, '@iterator');
    if (!mode) return { page: all().slice(0, max), attrs: {} };
    if (mode === 'Stop') {
      this.open.delete(str(rq, '@iteratorID') ?? '');
      return { page: [], attrs: {} };
    }
    let id: string;
    let rows: readonly unknown[];
    if (mode === 'Start') {
      id = `{${randomUUID()}}`;
      rows = all();
    } else if (mode === 'Continue') {
      id = str(rq, '@iteratorID') ?? '';
      const it = this.open.get(id);
      const expired = !it || it.session !== this.session || this.now() - it.lastUsed > ITERATOR_IDLE_MS || it.type !== type;
      if (expired || this.expireNext > 0) {
        if (!expired) this.expireNext -= 1;
        this.open.delete(id);
        throw new ReadRefusal(3120, `Object "${id}" specified in the request cannot be found: the iterator has expired or belongs to another session.`);
      }
      if (it.filter !== filter)
        throw new ReadRefusal(3120, `The iterator "${id}" was started with another query: a Continue request must repeat the Start's filter.`);
      rows = it.left;
    } else {
      throw new ReadRefusal(3000, `The iterator attribute "${mode}" is not one of Start, Continue, Stop.`);
    }
    const page = rows.slice(0, max) as T[];
    const left = rows.slice(max);
    if (left.length > 0) this.open.set(id, { type, filter, session: this.session, left, lastUsed: this.now() });
    else this.open.delete(id);
    return { page, attrs: { iteratorRemainingCount: String(left.length), iteratorID: id } };
  }
}

export const str = (e: El | undefined, k: string): string | undefined => (e && e[k] !== undefined && typeof e[k] !== 'object' ? String(e[k]) : undefined);

/** ModifiedDateRangeFilter (inclusive bounds, any UTC offset) as a predicate over TimeModified. */
export function modifiedFilter(rq: El): { key: string; test: (timeModified: string) => boolean } {
  const f = rq['ModifiedDateRangeFilter'] as El | undefined;
  const from = str(f, 'FromModifiedDate');
  const to = str(f, 'ToModifiedDate');
  for (const d of [from, to]) if (d !== undefined && Number.isNaN(Date.parse(d))) throw new ReadRefusal(3020, `"${d}" is not a valid date and time.`);
  const lo = from ? Date.parse(from) : -Infinity;
  const hi = to ? Date.parse(to) : Infinity;
  return { key: `${from ?? ''}..${to ?? ''}`, test: (t) => Date.parse(t) >= lo && Date.parse(t) <= hi };
}

/** AccountQuery: ActiveOnly (the default), InactiveOnly or All. */
export function accountsFor(c: CompanyFile, rq: El): CompanyFile['accounts'] {
  const status = str(rq, 'ActiveStatus') ?? 'ActiveOnly';
  if (!['ActiveOnly', 'InactiveOnly', 'All'].includes(status)) throw new ReadRefusal(3020, `ActiveStatus "${status}" is not ActiveOnly, InactiveOnly or All.`);
  return c.accounts.filter((a) => status === 'All' || (status === 'ActiveOnly') === (a.active ?? true));
}
