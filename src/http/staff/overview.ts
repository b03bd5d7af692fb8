// The overview that was the whole staff dashboard before the staff app: every recent invoice with its
// state in the PSA, at the processor and in the books; payouts with their deposits; what needs a person.
// GET /app/overview keeps it reachable; GET /app shows it too until the dashboard area registers GET /app.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { exceptions, invoicesAcrossSystems, recentPayouts } from '../../db/queries/dashboard.ts';
import { identify } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { DEFAULT_TIMEOUTS } from '../../engine/staff-sessions.ts';
import { renderStaff } from './view.ts';

async function overview(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps): Promise<FastifyReply> {
  // The route's permission check (authorize.ts) identified the caller already.
  const caller = req.caller ?? (await identify(req, deps.ctx.db, deps.sessionSecret, deps.staff?.timeouts ?? DEFAULT_TIMEOUTS));
  if (!caller) return reply.redirect('/login');
  const view = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
    const conns = await tx.selectFrom('connections').select(['role', 'vendor', 'status']).execute();
    return { conns, invoices: await invoicesAcrossSystems(tx), payouts: await recentPayouts(tx), exceptions: await exceptions(tx) };
  });
  const vendor = (role: string): string => view.conns.find((c) => c.role === role)?.vendor ?? 'not connected';
  return renderStaff(req, reply, 'overview', {
    psa: vendor('psa'),
    payments: vendor('payments'),
    books: vendor('accounting'),
    invoices: view.invoices,
    payouts: view.payouts,
    exceptions: view.exceptions,
  });
}

export function registerOverviewRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/app/overview', { schema: { hide: true } }, (req, reply) => overview(req, reply, deps));
}

/** GET /app, unless an area registered it already (registerStaffApp calls this last). */
export function registerHomeFallback(app: FastifyInstance, deps: HttpDeps): void {
  if (app.hasRoute({ method: 'GET', url: '/app' })) return;
  app.get('/app', { schema: { hide: true } }, (req, reply) => overview(req, reply, deps));
}
