// Portal: the client's statement of account as a PDF (engine/collections-assist/statement.ts) — every open
// invoice with its aging — linked from reminders and from the promise page.
//   GET /portal/:token/statement.pdf
import type { FastifyInstance } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { localDayAndHour } from '../../domain/rules/dunning.ts';
import { workspaceTimezone } from '../../domain/timezone.ts';
import { statementOf, statementPdf } from '../../engine/collections-assist/statement.ts';
import type { HttpDeps } from '../deps.ts';
import { openPortal } from './pages.ts';
import { refusePortal } from './view.ts';

export function registerStatementRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get<{ Params: { token: string } }>('/portal/:token/statement.pdf', { schema: { hide: true } }, async (req, reply) => {
    const portal = await openPortal(deps, req.params.token);
    if (!portal.ok) return refusePortal(reply, 'Statement of account', portal.message);
    const { t: tenantId, c: clientId } = portal.claims;
    const statement = await withTenant(deps.ctx.db, tenantId, async (tx) => {
      const tenant = await tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirstOrThrow();
      return statementOf(tx, clientId, localDayAndHour(deps.ctx.now(), workspaceTimezone(tenant.settings as Record<string, unknown>)).day);
    });
    if (!statement) return refusePortal(reply, 'Statement of account', 'This link is not valid. Please use the link from your most recent email.');
    const pdf = await statementPdf(statement);
    return reply
      .header('content-type', 'application/pdf')
      .header('content-disposition', `inline; filename="statement-${statement.asOf}.pdf"`)
      .header('cache-control', 'private, no-store')
      .send(Buffer.from(pdf));
  });
}
