// One HTTP POST of a webhook, to the address the guard checked. What came back is reported as data, never
// thrown: a timeout, a refused connection, a redirect (not followed: the receiver must give its final URL)
// or a 4xx/5xx are all "not delivered", kept in the delivery log with the status and the first 2 KB of body.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedUrl } from './address-guard.ts';

export const SEND_TIMEOUT_MS = 10_000;
export const KEPT_BODY_BYTES = 2048;

export interface SendResult {
  readonly delivered: boolean;
  readonly status: number | null;
  readonly error: string | null;
  readonly body: string | null;
  readonly ms: number;
}

/** Keep-alive connection pools for one delivery run (http and https), closed when the run ends. */
export class KeptAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
  constructor(maxSockets: number) {
    this.http = new http.Agent({ keepAlive: true, maxSockets });
    this.https = new https.Agent({ keepAlive: true, maxSockets });
  }
  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

export function postWebhook(
  target: CheckedUrl,
  headers: Record<string, string>,
  body: string,
  agents: KeptAgents | null = null,
  timeoutMs = SEND_TIMEOUT_MS,
): Promise<SendResult> {
  const started = performance.now();
  const pinned: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all)
      (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
    else cb(null, target.address, target.family);
  };
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    let done = false;
    const finish = (r: Omit<SendResult, 'ms'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, ms: Math.round(performance.now() - started) });
    };
    const req = client.request(
      target.url,
      {
        method: 'POST',
        lookup: pinned,
        agent: agents ? (target.url.protocol === 'https:' ? agents.https : agents.http) : false,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          if (kept < KEPT_BODY_BYTES) {
            chunks.push(c);
            kept += c.length;
          }
        });
        res.on('error', (e) => finish({ delivered: false, status: res.statusCode ?? null, error: `the response broke off: ${e.message}`, body: null }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).subarray(0, KEPT_BODY_BYTES).toString('utf8');
          const error =
            status >= 200 && status < 300
              ? null
              : status >= 300 && status < 400
                ? `redirect to ${res.headers.location ?? '(no location)'} not followed: give the receiver's final URL`
                : `the receiver answered ${status}`;
          finish({ delivered: error === null, status, error, body: text || null });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) =>
      finish({ delivered: false, status: null, error: e.code ? `${e.code}: ${e.message}` : e.message, body: null }),
    );
    req.end(body);
  });
}
