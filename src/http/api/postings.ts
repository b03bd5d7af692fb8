// Postings to the PSA and the books over the API: look at one (what it waits for, its last error), and
// retry it now — the door a person uses after exporting the invoice or fixing the books (the staff app
// will use the same route). A retry is queued (202); what it comes to shows on the posting and its exception.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { retryPosting } from '../../engine/retry-posting.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody } from './schemas.ts';

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

const posting = z.object({
  id: z.string().uuid(),
  target: z.enum(['psa', 'accounting']),
  vendor: z.string(),
  kind: z.string(),
  status: z.enum(['pending', 'posted', 'failed']),
  waiting_for: z.string().nullable(),
  waiting_since: z.string().nullable(),
  payment_id: z.string().uuid().nullable(),
  payout_id: z.string().uuid().nullable(),
  invoice_id: z.string().uuid().nullable(),
  amount_minor: z.string(),
  currency: z.string(),
  remote_id: z.string().nullable(),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  next_attempt_at: z.string(),
  posted_at: z.string().nullable(),
  clearing_lines: z.array(z.object({ payment_posting_id: z.string().uuid(), amount_minor: z.string(), status: z.enum(['linked', 'clearing']) })),
});

export function registerPostingRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const params = z.object({ id: z.string().uuid() });

  r.get(
    '/postings/:id',
    {
      schema: {
        tags: ['postings'],
        summary: 'One posting to the PSA or the books: its state, what it waits for, its last error (a deposit lists its payment lines)',
        params,
        response: { 200: posting, 404: errorBody },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const found = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const p = await tx.selectFrom('postings').selectAll().where('id', '=', req.params.id).executeTakeFirst();
        if (!p) return null;
        const lines = await tx
          .selectFrom('deposit_lines')
          .select(['payment_posting_id', 'amount_minor', 'status'])
          .where('deposit_posting_id', '=', p.id)
          .orderBy('created_at')
          .execute();
        return { p, lines };
      });
      if (!found) return reply.code(404).send({ error: { code: 'not_found', message: `no posting ${req.params.id} in this workspace` } });
      const { p, lines } = found;
      return {
        id: p.id,
        target: p.target,
        vendor: p.vendor,
        kind: p.kind,
        status: p.status,
        waiting_for: p.waiting_for,
        waiting_since: iso(p.waiting_since),
        payment_id: p.payment_id,
        payout_id: p.payout_id,
        invoice_id: p.invoice_id,
        amount_minor: p.amount_minor.toString(),
        currency: p.currency,
        remote_id: p.remote_id,
        attempts: p.attempts,
        last_error: p.last_error,
        next_attempt_at: iso(p.next_attempt_at)!,
        posted_at: iso(p.posted_at),
        clearing_lines: lines.map((l) => ({ payment_posting_id: l.payment_posting_id, amount_minor: l.amount_minor.toString(), status: l.status })),
      };
    },
  );

  r.post(
    '/postings/:id/retry',
    {
      schema: {
        tags: ['postings'],
        summary:
          'Retry a posting now: a waiting or failed posting is attempted at once (a failed one with a fresh back-off); a posted deposit retries its clearing lines. Audited.',
        params,
        response: {
          202: z.object({
            id: z.string().uuid(),
            target: z.enum(['psa', 'accounting']),
            kind: z.string(),
            status: z.enum(['pending', 'posted']),
            waiting_for: z.string().nullable(),
            retried: z.enum(['posting', 'clearing_lines']),
          }),
          404: errorBody,
          409: errorBody,
        },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const out = await withTenant(deps.ctx.db, caller.tenantId, (tx) => retryPosting(tx, caller.tenantId, req.params.id, caller.actor, deps.ctx.now()));
      return reply.code(202).send(out);
    },
  );
}
