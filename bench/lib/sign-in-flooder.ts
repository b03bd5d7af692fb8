// The attacker side of the sign-in flood (bench/sign-in-flood.ts), in a process of its own so that its CPU
// is not Settle's: FLOOD_CONNECTIONS keep-alive connections spread over FLOOD_ADDRESSES loopback source
// addresses (127.0.0.x), each opening the sign-in page once (pre-session cookie and CSRF token, as a browser
// does) and then posting wrong passwords as fast as Settle answers for FLOOD_SECONDS. Half the posts name the
// workspace's real owner, half an unknown e-mail. Prints one JSON line: answers by status, and posts per second.
import http from 'node:http';

const base = process.env.FLOOD_URL!;
const workspace = process.env.FLOOD_WORKSPACE!;
const owner = process.env.FLOOD_EMAIL!;
const connections = Number(process.env.FLOOD_CONNECTIONS ?? 50);
const addresses = (process.env.FLOOD_ADDRESSES ?? '127.0.0.2').split(',');
const seconds = Number(process.env.FLOOD_SECONDS ?? 10);

interface Answer {
  status: number;
  setCookie: string[];
  body: string;
}

function send(agent: http.Agent, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [], body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

const statuses: Record<string, number> = {};
let errors = 0;

interface Client {
  readonly i: number;
  readonly agent: http.Agent;
  readonly cookie: string;
  readonly token: string;
}

/** A simulated browser: its own socket (maxSockets 1, kept alive), its pre-session cookie and form token. */
async function open(i: number): Promise<Client> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: addresses[i % addresses.length]! });
  const page = await send(agent, 'GET', '/login', {});
  const cookie = page.setCookie.find((c) => c.startsWith('settle_presession='))?.split(';')[0] ?? '';
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  return { i, agent, cookie, token };
}

async function connection({ i, agent, cookie, token }: Client, until: number): Promise<void> {
  try {
    let n = 0;
    while (Date.now() < until) {
      const email = n++ % 2 === 0 ? owner : `nobody${i}-${n}@example.test`;
      const body = new URLSearchParams({ workspace, email, password: `wrong-${i}-${n}`, _csrf: token }).toString();
      try {
        const a = await send(
          agent,
          'POST',
          '/login',
          { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: base, 'sec-fetch-site': 'same-origin' },
          body,
        );
        statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      } catch {
        errors++;
      }
    }
  } finally {
    agent.destroy();
  }
}

const clients = await Promise.all(Array.from({ length: connections }, (_, i) => open(i)));
// The flood starts now: the benchmark measures from this line on.
process.stdout.write('START\n');
const started = Date.now();
const until = started + seconds * 1000;
await Promise.all(clients.map((c) => connection(c, until)));
const elapsed = (Date.now() - started) / 1000;
const posts = Object.values(statuses).reduce((s, x) => s + x, 0);
process.stdout.write(`${JSON.stringify({ statuses, errors, posts, postsPerSecond: Math.round(posts / elapsed), seconds: elapsed })}\n`);
