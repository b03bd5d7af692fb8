// The client's account pages beyond paying (issue #12), registered together so the server wires them once:
// invoice detail with receipts, saved methods and autopay, and a fresh link for an expired one.
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';
import { registerInvoiceDetailRoutes } from './invoice-detail.ts';
import { registerPortalMethodRoutes } from './methods.ts';
import { registerRenewLinkRoutes } from './renew-link.ts';

export function registerPortalAccountRoutes(app: FastifyInstance, deps: HttpDeps): void {
  registerInvoiceDetailRoutes(app, deps);
  registerPortalMethodRoutes(app, deps);
  registerRenewLinkRoutes(app, deps);
}
