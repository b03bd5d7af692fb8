// An in-memory table kept in id order with a primary index and optional reference indexes
// (e.g. lines by `invoice/id`), so that list endpoints stay fast at tens of thousands of records.

export class Table<T extends { id: number }> {
  private rows: T[] = [];
  private readonly byId = new Map<number, T>();
  private readonly refs = new Map<string, Map<number, T[]>>();
  private lastId: number;
  /** Bumped by every insert and remove: a sorted view of other membership is rebuilt. */
  private version = 0;
  private readonly views = new Map<string, { version: number; rows: T[]; stamps: unknown[] | null }>();

  constructor(
    firstId: number,
    private readonly refPaths: Record<string, (row: T) => number | null> = {},
  ) {
    this.lastId = firstId - 1;
    for (const path of Object.keys(refPaths)) this.refs.set(path, new Map());
  }

  nextId(): number {
    return ++this.lastId;
  }

  insert(row: T): T {
    if (row.id <= (this.rows[this.rows.length - 1]?.id ?? 0)) throw new Error(`ids must increase (${row.id})`);
    this.lastId = Math.max(this.lastId, row.id);
    this.rows.push(row);
    this.version++;
    this.byId.set(row.id, row);
    for (const [path, key] of Object.entries(this.refPaths)) {
      const k = key(row);
      if (k === null) continue;
      const index = this.refs.get(path)!;
      const list = index.get(k);
      if (list) list.push(row);
      else index.set(k, [row]);
    }
    return row;
  }

  get(id: number): T | undefined {
    return this.byId.get(id);
  }

  remove(id: number): T | undefined {
    const row = this.byId.get(id);
    if (!row) return undefined;
    this.byId.delete(id);
    this.version++;
    this.rows.splice(this.indexOf(id), 1);
    for (const [path, key] of Object.entries(this.refPaths)) {
      const k = key(row);
      if (k === null) continue;
      const list = this.refs.get(path)!.get(k);
      if (list) list.splice(list.indexOf(row), 1);
    }
    return row;
  }

  /** All rows, ascending id. */
  all(): readonly T[] {
    return this.rows;
  }

  get size(): number {
    return this.rows.length;
  }

  /** Rows whose reference `path` (one of the indexed ones) is `id`, ascending id. */
  referencing(path: string, id: number): readonly T[] {
    const index = this.refs.get(path);
    if (!index) throw new Error(`no index on ${path}`);
    return index.get(id) ?? [];
  }

  /**
   * All rows in the order `compare` gives (an orderBy), kept between requests so a page does not sort the
   * whole table. Rows change in place (a new lastUpdated), so the kept order is checked on each use — one
   * pass of comparisons — and re-sorted when it no longer holds (nearly sorted: cheap for the sort too).
   */
  sorted(key: string, compare: (a: T, b: T) => number, stampOf?: (row: T) => unknown): readonly T[] {
    const kept = this.views.get(key);
    if (kept && kept.version === this.version) {
      // With `stampOf` (the object a change replaces, e.g. a record's `_info`), an unchanged row is one whose
      // stamp is the same object as when sorted: a pointer comparison per row instead of a value comparison.
      const changed = kept.stamps
        ? kept.rows.some((r, i) => stampOf!(r) !== kept.stamps![i])
        : kept.rows.some((r, i) => i > 0 && compare(kept.rows[i - 1]!, r) > 0);
      if (changed) {
        kept.rows.sort(compare);
        if (kept.stamps) kept.stamps = kept.rows.map(stampOf!);
      }
      return kept.rows;
    }
    const rows = [...this.rows].sort(compare);
    this.views.set(key, { version: this.version, rows, stamps: stampOf ? rows.map(stampOf) : null });
    return rows;
  }

  hasIndex(path: string): boolean {
    return this.refs.has(path);
  }

  private indexOf(id: number): number {
    let lo = 0;
    let hi = this.rows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.rows[mid]!.id;
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
