// A ConnectWise callback deleted at the PSA while Settle runs (an admin tidying the integrations list) is put
// back by the running `settle start` within its check interval (SETTLE_CALLBACK_CHECK_MINUTES; an hour by
// default, seconds here), not only at the next start or `settle doctor`; new invoices then arrive by callback again.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startSettleProcess, stopSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import { freePort } from '../helpers/ports.ts';

let stack: Stack;
let settle: SettleProcess;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stack = await startStack({ settle: false, settlePort: port, companies: 1, invoices: 2 });
  settle = await startSettleProcess(stack, port, { PUBLIC_URL: base, SETTLE_CALLBACK_CHECK_MINUTES: '0.05' });
}, 180_000);

afterAll(async () => {
  await stopSettleProcess(settle);
  await stack?.close();
});

const ours = () => stack.sims.connectwise.state.callbacks.all().filter((cb) => cb.url === `${base}/webhooks/${stack.slug}/connectwise`);

it('re-creates a callback deleted at ConnectWise while Settle runs', async () => {
  await eventually(async () => ours().length === 1, 60_000, 'the callback registered at start');
  const first = ours()[0]!;
  stack.sims.connectwise.state.callbacks.remove(first.id);
  expect(ours()).toHaveLength(0);
  const again = await eventually(async () => (ours().length === 1 ? ours()[0]! : null), 90_000, 'the callback re-created by the running Settle');
  expect(again.id).not.toBe(first.id);
  expect(again.inactiveFlag).toBeFalsy();
});
