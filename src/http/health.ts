// Liveness, readiness and Prometheus metrics. Readiness checks the database and that the worker started;
// metrics carry no tenant data, and can be restricted to a bearer token (METRICS_TOKEN) or an address of
// their own (METRICS_LISTEN).
import crypto from 'node:crypto';
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import client from 'prom-client';
import type { HttpDeps } from './deps.ts';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry, prefix: 'settle_' });

export const httpDuration = new client.Histogram({
  name: 'settle_http_request_duration_seconds',
  help: 'HTTP request duration by route and status',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export function registerHealthRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.addHook('onResponse', async (req, reply) => {
    httpDuration.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await sql`SELECT 1`.execute(deps.ctx.db);
    } catch (e) {
      return reply.code(503).send({ status: 'unavailable', reason: `database: ${(e as Error).message}` });
    }
    if (!deps.isReady()) return reply.code(503).send({ status: 'starting', reason: 'migrations or worker not started yet' });
    return { status: 'ready' };
  });
  const token = deps.security?.metricsToken;
  if (deps.security?.metricsListen) return serveMetricsApart(app, deps.security.metricsListen, token);
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (!metricsAllowed(req.headers.authorization, token))
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: { code: 'unauthorized', message: 'send the METRICS_TOKEN as "Authorization: Bearer <token>"' } });
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

/** Without METRICS_TOKEN anyone who reaches the port may read; with it, only a matching bearer (constant time). */
function metricsAllowed(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const given = crypto
    .createHash('sha256')
    .update(/^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '')
    .digest();
  return crypto.timingSafeEqual(given, crypto.createHash('sha256').update(token).digest());
}

/** METRICS_LISTEN: /metrics only on its own address (e.g. loopback or a monitoring network), not beside the API. */
function serveMetricsApart(app: FastifyInstance, listen: string, token: string | undefined): void {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(at + 1));
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') return void res.writeHead(404).end();
    if (!metricsAllowed(req.headers.authorization, token)) return void res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  app.addHook('onReady', () => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve())));
  app.addHook('onClose', () => new Promise<void>((resolve) => server.close(() => resolve())));
}
