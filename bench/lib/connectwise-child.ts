// The ConnectWise simulator in a process of its own (seeded there), so that a benchmark's memory and CPU
// figures are Settle's alone — the real ConnectWise holds its 20,000 invoices on its own servers.
import { startConnectWiseSimulator } from '../../simulators/connectwise/index.ts';

type Command = { id: number; cmd: 'resetCalls' } | { id: number; cmd: 'stats' } | { id: number; cmd: 'close' };

const seed = JSON.parse(process.env.CW_SEED ?? '{}') as { companies: number; invoices: number; seed: number; paidShare: number; linesPerInvoice?: number };
const running = await startConnectWiseSimulator({ seed });
process.send!({ type: 'ready', baseUrl: running.baseUrl, origin: running.origin, credentials: running.credentials });
process.on('message', (m: Command) => {
  const reply = (body: unknown): void => void process.send!({ type: 'reply', id: m.id, body });
  switch (m.cmd) {
    case 'resetCalls':
      running.sim.calls.reset();
      return reply(null);
    case 'stats':
      return reply({
        counts: Object.fromEntries(running.sim.calls.counts),
        lines: running.state.products.size + running.state.timeEntries.size + running.state.expenses.size,
        rssMb: Math.round(process.memoryUsage().rss / 1048576),
      });
    case 'close':
      void running.close().then(() => {
        reply(null);
        process.exit(0);
      });
  }
});
