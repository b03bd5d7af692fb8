// A real HTTP receiver for Settle's outbound webhooks: keeps every request (raw body and headers, when it
// came and when it was answered) and answers as the test says — 200, an error status, or after a delay.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly eventId: string;
  readonly type: string;
  readonly at: number;
  answeredAt: number | null;
  readonly status: number;
}

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** The status to answer with from now on (200 by default); 'hang' never answers (the request stays in flight). */
  answer(status: number | 'hang', body?: string, headers?: Record<string, string>): void;
  /** Wait this long before answering (deliveries stay in flight meanwhile). */
  delay(ms: number): void;
  close(): Promise<void>;
}

export async function startReceiver(path = '/hooks'): Promise<Receiver> {
  const received: Received[] = [];
  let status: number | 'hang' = 200;
  let answerBody = 'ok';
  let answerHeaders: Record<string, string> = {};
  let delayMs = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const now = status;
      const r: Received = {
        body,
        headers: req.headers,
        eventId: String(req.headers['settle-event-id'] ?? ''),
        type: String(req.headers['settle-event-type'] ?? ''),
        at: Date.now(),
        answeredAt: null,
        status: now === 'hang' ? 0 : now,
      };
      received.push(r);
      if (now === 'hang') return;
      const send = (): void => {
        res.writeHead(now, { 'content-type': 'text/plain', ...answerHeaders });
        res.end(answerBody, () => (r.answeredAt = Date.now()));
      };
      if (delayMs > 0) setTimeout(send, delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    answer: (s, body = 'ok', headers = {}) => {
      status = s;
      answerBody = body;
      answerHeaders = headers;
    },
    delay: (ms) => (delayMs = ms),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
