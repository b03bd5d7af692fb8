// A Settle worker process (`settle worker`: the job runner and the webhook delivery runner, no HTTP) whose
// clock is the test's: it starts at SETTLE_TEST_CLOCK_MS and moves only when the parent sends { now }. Used by
// tests that need simulated time across a SIGKILL (clocked-settle.ts starts and kills it).
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { startSettle } from '../../src/cli/runtime.ts';

let clock = Number(process.env.SETTLE_TEST_CLOCK_MS);
if (!Number.isFinite(clock)) throw new Error('SETTLE_TEST_CLOCK_MS must be the simulated time to start at (ms since 1970)');
const config = loadConfig(process.env);
const running = await startSettle(config, createLogger(config.LOG_LEVEL), { http: false, worker: true });
Object.assign(running.ctx, { now: () => new Date(clock) });
process.on('message', (m: { now: number }) => {
  clock = m.now;
  process.send?.({ now: clock });
});
process.send?.({ ready: true });
