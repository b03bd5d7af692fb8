// The webhook burst's load generator, in a process of its own so that it does not take the CPU of the
// Settle it measures: signed Stripe events (`customer.updated`, which Settle stores and acknowledges as
// ignored) POSTed at a fixed rate, with a share sent twice. Prints one JSON line with what it sent and what
// Settle answered (accepted rate, latency percentiles by nearest rank).
// Usage: node --import tsx soak/burst-process.ts '<json: url, secret, rate, seconds, duplicateShare, idPrefix>'
import fs from 'node:fs';
import http from 'node:http';
import { stripeSignatureHeader } from '../simulators/stripe/webhooks.ts';

const o = JSON.parse(process.argv[2] ?? '{}') as {
  url: string;
  secret: string;
  rate: number;
  seconds: number;
  duplicateShare: number;
  idPrefix: string;
  /** Where to write the ids Settle acknowledged (2xx), one a line: those must all be stored. */
  acceptedFile: string;
};
const acceptedIds = new Set<string>();
const target = new URL(o.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const latencies: number[] = [];
const statuses: Record<string, number> = {};
let accepted = 0;
let inFlight = 0;
let sent = 0;
let duplicatesSent = 0;
let distinct = 0;
let lastAnswerAt = 0;

function post(id: string): void {
  const body = JSON.stringify({
    id,
    object: 'event',
    api_version: '2023-08-16',
    created: Math.floor(Date.now() / 1000),
    type: 'customer.updated',
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: { id: `cus_${id.slice(-10)}`, object: 'customer' } },
  });
  const t0 = performance.now();
  inFlight++;
  sent++;
  const req = http.request(
    {
      agent,
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignatureHeader(o.secret, body), 'content-length': Buffer.byteLength(body) },
      timeout: 30_000,
    },
    (res) => {
      res.resume();
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        statuses[code] = (statuses[code] ?? 0) + 1;
        if (code >= 200 && code < 300) {
          accepted++;
          acceptedIds.add(id);
        }
        latencies.push(performance.now() - t0);
        lastAnswerAt = performance.now();
        inFlight--;
      });
    },
  );
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => {
    statuses[e.message] = (statuses[e.message] ?? 0) + 1;
    latencies.push(performance.now() - t0);
    lastAnswerAt = performance.now();
    inFlight--;
  });
  req.end(body);
}

const started = performance.now();
const total = Math.round(o.rate * o.seconds);
const recent: string[] = [];
// Every 10 ms, send what the schedule says is due by now (so a slow tick catches up rather than drifting).
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * o.rate));
    while (sent < due) {
      if (recent.length > 0 && Math.random() < o.duplicateShare) {
        duplicatesSent++;
        post(recent[Math.floor(Math.random() * recent.length)]!);
      } else {
        const id = `${o.idPrefix}${String(distinct++).padStart(7, '0')}`;
        recent.push(id);
        if (recent.length > 200) recent.shift();
        post(id);
      }
    }
    if (sent >= total) {
      clearInterval(timer);
      resolve();
    }
  }, 10);
});
const sendingMs = performance.now() - started;
const deadline = Date.now() + 60_000;
while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
const spanMs = Math.max(sendingMs, lastAnswerAt - started);
fs.writeFileSync(o.acceptedFile, [...acceptedIds].join('\n'));
latencies.sort((a, b) => a - b);
const rank = (p: number): number => Math.round(latencies[Math.max(0, Math.ceil((p / 100) * latencies.length) - 1)] ?? 0);
process.stdout.write(
  `${JSON.stringify({
    sent,
    distinct,
    duplicatesSent,
    accepted,
    acceptedDistinct: acceptedIds.size,
    unanswered: inFlight,
    statuses,
    sendingMs: Math.round(sendingMs),
    spanMs: Math.round(spanMs),
    offeredPerSecond: Math.round((sent / sendingMs) * 1000),
    acceptedPerSecond: Math.round((accepted / spanMs) * 1000),
    p50Ms: rank(50),
    p99Ms: rank(99),
    maxMs: Math.round(latencies.at(-1) ?? 0),
  })}\n`,
);
process.exit(0);
