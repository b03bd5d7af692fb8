// Autopay API under /api/v1: rules and settings (autopay-rules.ts), clients, methods, schedules, approvals and
// runs (autopay-ops.ts).
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';
import { registerAutopayOpsRoutes } from './autopay-ops.ts';
import { registerAutopayRuleRoutes } from './autopay-rules.ts';

export function registerAutopayRoutes(app: FastifyInstance, deps: HttpDeps): void {
  registerAutopayRuleRoutes(app, deps);
  registerAutopayOpsRoutes(app, deps);
}
