// Portal: "something is wrong with this invoice" — the client disputes it from the promise page
// (views/promise-to-pay.eta). Collections Assist stops reminding them of it until staff resolve the dispute
// on the client's Collections page; the dispute and its note are audited with the client as actor.
//   POST /portal/:token/dispute   JSON {invoice_id, note} → {location} or {errors}
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';
import { recordFromPortal } from './promise-to-pay.ts';

export function registerDisputeInvoiceRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.post<{ Params: { token: string } }>('/portal/:token/dispute', { schema: { hide: true } }, async (req, reply) =>
    recordFromPortal(deps, req.params.token, req.body, 'dispute', reply),
  );
}
