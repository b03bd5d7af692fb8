// The portal's Collections Assist doors, registered from server.ts with one line: the promise/dispute page
// and the statement of account.
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';
import { registerDisputeInvoiceRoutes } from './dispute-invoice.ts';
import { registerPromiseToPayRoutes } from './promise-to-pay.ts';
import { registerStatementRoutes } from './statement.ts';

export function registerCollectionsPortalRoutes(app: FastifyInstance, deps: HttpDeps): void {
  registerPromiseToPayRoutes(app, deps);
  registerDisputeInvoiceRoutes(app, deps);
  registerStatementRoutes(app, deps);
}
