// Retry-policy backtest (issue #12): replay a workspace's past failed payments under a proposed retry
// schedule before the owner saves it. See docs/retry-backtest.md.
export * from './history.ts';
export * from './rates.ts';
export * from './replay.ts';
export * from './backtest.ts';
