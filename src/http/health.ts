// Liveness, readiness and Prometheus metrics. Readiness checks the database and that the worker started;
// metrics carry no tenant data.
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
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
