// The Needs-attention queue over the API: the same query (db/queries/attention.ts) and the same plain-words
// explanation (domain/attention.ts) as the staff page /app/attention, so the two list the same items; and
// the same fixes through the same engine functions: retry now (one or many), mark resolved with a note,
// dismiss with a reason. Items also close themselves when their cause clears (invoice paid, posting posted).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { attentionItems, type AttentionRow } from '../../db/queries/attention.ts';
import { explain } from '../../domain/attention.ts';
import { dismissException, markExceptionResolved } from '../../engine/exceptions.ts';
import { BULK_RETRY_MAX, retryException, retryExceptions } from '../../engine/attention-fixes.ts';
import { remapBooksInvoice } from '../../engine/remap-books-invoice.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody, pageQuery } from './schemas.ts';

const exception = z.object({
  id: z.string().uuid(),
  kind: z.string(),
  status: z.enum(['open', 'resolved']),
  title: z.string(),
  detail: z.string(),
  client_id: z.string().uuid().nullable(),
  client_name: z.string().nullable(),
  invoice_ids: z.array(z.string().uuid()),
  invoices: z.array(z.object({ id: z.string().uuid(), number: z.string(), status: z.string() })),
  payment_id: z.string().uuid().nullable(),
  posting_id: z.string().uuid().nullable(),
  amount_minor: z.string().nullable(),
  currency: z.string().nullable(),
  where: z.enum(['psa', 'processor', 'books', 'bank', 'settle']),
  why: z.string(),
  next: z.string(),
  next_at: z.string().nullable(),
  fixes: z.array(z.enum(['retry', 'remap', 'resolve', 'dismiss'])),
  data: z.record(z.unknown()),
  opened_at: z.string(),
  updated_at: z.string(),
  resolved_at: z.string().nullable(),
  resolved_by: z.string().nullable(),
  resolution: z.string().nullable(),
  resolution_note: z.string().nullable(),
});

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function exceptionJson(e: AttentionRow, now: Date): z.infer<typeof exception> {
  const x = explain(e, now);
  return {
    id: e.id,
    kind: e.kind,
    status: e.status,
    title: e.title,
    detail: e.detail,
    client_id: e.client_id,
    client_name: e.client_name,
    invoice_ids: e.invoice_ids,
    invoices: e.invoices,
    payment_id: e.payment_id,
    posting_id: e.posting_id,
    amount_minor: e.amount_minor === null ? null : e.amount_minor.toString(),
    currency: e.currency,
    where: x.where,
    why: x.why,
    next: x.next,
    next_at: iso(x.nextAt),
    fixes: [...x.fixes],
    data: e.data,
    opened_at: iso(e.opened_at)!,
    updated_at: iso(e.updated_at)!,
    resolved_at: iso(e.resolved_at),
    resolved_by: e.resolved_by,
    resolution: e.resolution,
    resolution_note: e.resolution_note,
  };
}

const retried = z.object({
  id: z.string().uuid(),
  target: z.enum(['psa', 'accounting']),
  kind: z.string(),
  status: z.enum(['pending', 'posted']),
  waiting_for: z.string().nullable(),
  retried: z.enum(['posting', 'clearing_lines']),
});

export function registerExceptionRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const params = z.object({ id: z.string().uuid() });

  r.get(
    '/exceptions',
    {
      schema: {
        tags: ['exceptions'],
        summary:
          'Needs attention: what a person must look at, newest first (open ones by default) — the same list as the staff page /app/attention, with where it failed, why, what Settle does next and the fixes that apply',
        querystring: pageQuery.extend({ status: z.enum(['open', 'resolved', 'all']).default('open'), kind: z.string().max(64).optional() }),
        response: { 200: z.object({ data: z.array(exception) }) },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const { status, kind, limit, offset } = req.query;
      const rows = await withTenant(deps.ctx.db, caller.tenantId, (tx) => attentionItems(tx, { status, ...(kind ? { kind } : {}), limit, offset }));
      const now = deps.ctx.now();
      return { data: rows.map((e) => exceptionJson(e, now)) };
    },
  );

  r.post(
    '/exceptions/:id/dismiss',
    {
      schema: {
        tags: ['exceptions'],
        summary: 'Dismiss an open exception, saying why (kept with it and in the audit log with who and when)',
        params,
        // `note` is the older name of `reason`.
        body: z
          .object({ reason: z.string().max(500).optional(), note: z.string().max(500).optional() })
          .strict()
          .optional(),
        response: {
          200: z.object({ id: z.string().uuid(), status: z.literal('resolved'), resolution: z.literal('dismissed') }),
          404: errorBody,
          409: errorBody,
          422: errorBody,
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const reason = req.body?.reason ?? req.body?.note ?? null;
      await withTenant(deps.ctx.db, caller.tenantId, (tx) => dismissException(tx, caller.tenantId, req.params.id, caller.actor, reason));
      return { id: req.params.id, status: 'resolved' as const, resolution: 'dismissed' as const };
    },
  );

  r.post(
    '/exceptions/:id/resolve',
    {
      schema: {
        tags: ['exceptions'],
        summary: 'Mark an open exception resolved, with a note on what was done (kept with it and in the audit log)',
        params,
        body: z.object({ note: z.string().max(500) }).strict(),
        response: {
          200: z.object({ id: z.string().uuid(), status: z.literal('resolved'), resolution: z.literal('resolved') }),
          404: errorBody,
          409: errorBody,
          422: errorBody,
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      await withTenant(deps.ctx.db, caller.tenantId, (tx) => markExceptionResolved(tx, caller.tenantId, req.params.id, caller.actor, req.body.note));
      return { id: req.params.id, status: 'resolved' as const, resolution: 'resolved' as const };
    },
  );

  r.post(
    '/exceptions/:id/retry',
    {
      schema: {
        tags: ['exceptions'],
        summary: 'Retry now: an exception about a posting sends that posting again (as POST /postings/:id/retry); it closes by itself once it is posted',
        params,
        response: { 202: retried, 404: errorBody, 409: errorBody },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const out = await withTenant(deps.ctx.db, caller.tenantId, (tx) => retryException(tx, caller.tenantId, req.params.id, caller.actor, deps.ctx.now()));
      return reply.code(202).send(out);
    },
  );

  r.post(
    '/exceptions/:id/remap',
    {
      schema: {
        tags: ['exceptions'],
        summary:
          "Change the books invoice a payment is posted to (the invoice's number in the books, when it differs from the PSA's); the posting is retried at once with it. Audited.",
        params,
        body: z.object({ books_invoice_number: z.string().max(100) }).strict(),
        response: {
          202: z.object({ invoice_id: z.string().uuid(), books_invoice_number: z.string(), previous: z.string(), posting: retried }),
          404: errorBody,
          409: errorBody,
          422: errorBody,
        },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const out = await withTenant(deps.ctx.db, caller.tenantId, (tx) =>
        remapBooksInvoice(tx, caller.tenantId, req.params.id, req.body.books_invoice_number, caller.actor, deps.ctx.now()),
      );
      return reply.code(202).send(out);
    },
  );

  r.post(
    '/exceptions/retry',
    {
      schema: {
        tags: ['exceptions'],
        summary: `Retry several exceptions now (at most ${BULK_RETRY_MAX}); each is retried on its own and reported, one that cannot be retried does not stop the others`,
        body: z.object({ ids: z.array(z.string().uuid()).min(1).max(BULK_RETRY_MAX) }).strict(),
        response: {
          202: z.object({
            data: z.array(z.object({ id: z.string().uuid(), ok: z.boolean(), posting: retried.optional(), error: z.string().optional() })),
          }),
          422: errorBody,
        },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const out = await retryExceptions(deps.ctx.db, caller.tenantId, req.body.ids, caller.actor, () => deps.ctx.now());
      return reply.code(202).send({ data: out.map((o) => (o.ok ? { id: o.id, ok: true, posting: o.posting } : { id: o.id, ok: false, error: o.error })) });
    },
  );
}
