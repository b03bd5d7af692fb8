// A TCP port for a server a test starts in another process. Ports handed out for `listen(0)` come from the
// kernel's ephemeral range (32768–60999 on Linux), so a port found free there can be given to another
// listen(0) — a simulator in this very test — before the child binds it. Choosing below that range, and
// checking it is free, avoids the race.
import net from 'node:net';

const LOW = 20_000;
const HIGH = 32_000;

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port between ${LOW} and ${HIGH}`);
}
