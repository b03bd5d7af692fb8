// The flags Settle's node runs with, wherever it is launched: `npm start`, `npm run settle`, the `settle`
// command (bin/settle.js) and the benchmarks that start it as deployed. node-flags.test.ts keeps them equal.
//
// --max-old-space-size=512: a ceiling for the JavaScript heap. Without one, node sizes it from the machine's
// memory (several GB here) and V8 then lets garbage pile up in old space long before a full collection: a
// CSV export of 1,000,000 invoices took Settle from ~220 MB to 317–335 MB resident, all of it collectable.
// With the ceiling stated, the same export peaked at 235 MB (256: 219 MB; 160: 222 MB). Settle's live heap is
// a small fraction of 512 MB (work on large sets streams in batches), so the ceiling leaves ample room.
export const SETTLE_NODE_FLAGS = ['--max-old-space-size=512'] as const;
