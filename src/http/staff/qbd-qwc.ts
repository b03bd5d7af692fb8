// The .qwc file download for QuickBooks Desktop (Connections → Books): the MSP opens it in the QuickBooks Web
// Connector on the PC with QuickBooks, which then calls Settle on its schedule. Same file as `settle qwc`.
import type { FastifyInstance } from 'fastify';
import { workspaceQwc } from '../../engine/qbd-qwc.ts';
import { UseCaseError } from '../../engine/context.ts';
import type { HttpDeps } from '../deps.ts';
import { sessionOf } from './connections.ts';

export const QWC_PATH = '/app/connections/accounting/quickbooks-desktop/qwc';

export function registerQbdQwcRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get(QWC_PATH, async (req, reply) => {
    const session = await sessionOf(req, reply, deps);
    if (!session) return reply;
    try {
      const f = await workspaceQwc(deps.ctx.db, session.tenantId, deps.ctx.publicUrl);
      return reply.type('application/xml; charset=utf-8').header('content-disposition', `attachment; filename="${f.fileName}"`).send(f.body);
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return reply.code(409).type('text/plain; charset=utf-8').send(e.message);
    }
  });
}
