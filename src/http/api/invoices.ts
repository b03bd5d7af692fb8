import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { listInvoiceRows } from '../../db/queries/invoice-list.ts';
import { UseCaseError } from '../../engine/context.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody, invoiceSummary, pageQuery } from './schemas.ts';

export function registerInvoiceRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/invoices',
    {
      schema: {
        tags: ['invoices'],
        summary: 'Invoices synced from the PSA, newest first, with what is still open',
        querystring: pageQuery.extend({
          status: z.enum(['open', 'partially_paid', 'paid', 'void', 'credit']).optional(),
          client_id: z.string().uuid().optional(),
        }),
        response: { 200: z.object({ data: z.array(invoiceSummary) }), 401: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(deps.ctx.db, caller.tenantId, (tx) => listInvoiceRows(tx, { ...req.query }));
      return { data: rows };
    },
  );
  r.get(
    '/invoices/:id',
    {
      schema: {
        tags: ['invoices'],
        summary: 'One invoice with its lines (current PSA version)',
        params: z.object({ id: z.string().uuid() }),
        response: {
          200: invoiceSummary.extend({
            lines: z.array(z.object({ description: z.string(), quantity: z.string(), amount_minor: z.string(), kind: z.string() })),
          }),
          404: errorBody,
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      return withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const [inv] = await listInvoiceRows(tx, { id: req.params.id, limit: 1, offset: 0 });
        if (!inv) throw new UseCaseError('not_found', `no invoice ${req.params.id} in this workspace`);
        const lines = await tx
          .selectFrom('invoice_lines')
          .select(['description', 'quantity', 'amount_minor', 'kind'])
          .where('invoice_id', '=', inv.id)
          .where('version', '=', inv.version)
          .orderBy('line_no')
          .execute();
        return { ...inv, lines: lines.map((l) => ({ ...l, amount_minor: l.amount_minor.toString() })) };
      });
    },
  );
}
