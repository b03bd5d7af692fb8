// Helpers for tests that drive the Stripe simulator over real HTTP.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly raw: Buffer;
  readonly body: { id: string; type: string; data: { object: Record<string, unknown> } };
}

/** A local webhook receiver; `respond` decides each answer's status (default 200). */
export async function webhookReceiver(
  respond: (n: number, r: Received) => number = () => 200,
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const r: Received = { headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) as Received['body'] };
      received.push(r);
      res.statusCode = respond(received.length, r);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function form(params: Record<string, string | number | boolean>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${encodeURIComponent(String(v))}`)
    .join('&');
}

export function client(baseUrl: string, key: string) {
  return async (method: string, path: string, params?: Record<string, string | number | boolean>, headers: Record<string, string> = {}) => {
    const body = params ? form(params) : undefined;
    const isGet = method === 'GET' || method === 'DELETE';
    const url = `${baseUrl}${path}${isGet && body ? `?${body}` : ''}`;
    const res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(isGet ? {} : { 'content-type': 'application/x-www-form-urlencoded' }), ...headers },
      ...(!isGet && body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text, // Tests read Stripe's JSON freely; the contract test is where shapes are checked.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      json: JSON.parse(text) as any,
    };
  };
}

/** POST JSON to a /_sim control route; the answer as loosely typed JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function control(baseUrl: string, path: string, body: object): Promise<any> {
  const res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}

export const waitFor = async (cond: () => boolean, timeoutMs = 5_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};
