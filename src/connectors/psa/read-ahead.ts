// Reading a vendor's pages ahead of the one being stored. With a vendor that answers in 100–300 ms, a
// sequential walk spends most of an import waiting; here up to `depth` pages are being fetched and mapped
// (their lines, notes…) while the caller stores the current one. Pages still come out in the vendor's
// order, so cursors saved page by page stay true; memory holds at most `depth` pages beyond the caller's.

/**
 * `source` is pulled one page at a time (a vendor's next-page chain cannot be parallel); `map` of up to
 * `depth` pages runs at once. An error is thrown when its page's turn comes, after the pages before it.
 */
export async function* readAhead<T, R>(source: AsyncIterable<T>, map: (page: T) => Promise<R>, depth: number): AsyncGenerator<R> {
  const it = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<Promise<R>>>[] = [];
  let pulling: Promise<unknown> = Promise.resolve();
  let ended = false;
  // Pull the next page after the previous pull has settled (the chain is sequential), then start its map.
  const pull = (): void => {
    const p = pulling.then(async (): Promise<IteratorResult<Promise<R>>> => {
      if (ended) return { done: true, value: undefined };
      const r = await it.next();
      if (r.done) {
        ended = true;
        return { done: true, value: undefined };
      }
      const mapped = map(r.value);
      mapped.catch(() => {}); // surfaced when its turn comes
      return { done: false, value: mapped };
    });
    p.catch(() => {});
    pulling = p.catch(() => {
      ended = true;
    });
    queue.push(p);
  };
  try {
    for (let i = 0; i < Math.max(1, depth); i++) pull();
    for (;;) {
      const head = await queue.shift()!;
      if (head.done) return;
      const page = await head.value;
      pull();
      yield page;
    }
  } finally {
    ended = true;
    // Stop the vendor walk if the caller stopped early (or a page failed); pending fetches are left to settle.
    await it.return?.(undefined);
  }
}
