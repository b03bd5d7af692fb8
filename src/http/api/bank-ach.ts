// Staff API for bank ACH by file: debit an authorized account, send the pending entries now, the archive of
// files sent (with the bank's acknowledgement), and the authorized accounts (last four digits only).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../../db/tenant.ts';
import { UseCaseError } from '../../engine/context.ts';
import { audit } from '../../engine/audit.ts';
import { originateAchDebit } from '../../engine/ach-originate-debit.ts';
import { requestAchRun } from '../../engine/ach-schedule.ts';
import { enrollAchBankAccount } from '../../engine/ach-enroll-bank-account.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody, minor } from './schemas.ts';

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function registerBankAchRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/ach/debits',
    {
      schema: {
        tags: ['bank-ach'],
        summary: "Debit an authorized bank account for invoices (NACHA file to the MSP's bank)",
        description:
          "The payment is `processing` at once and goes out in the next cut-off's file; it succeeds when the return window for funds and account problems has passed.",
        body: z.object({
          bank_account_id: z.string().uuid(),
          invoices: z
            .array(z.object({ invoice_id: z.string().uuid(), amount_minor: minor.optional() }))
            .min(1)
            .max(100),
          same_day: z.boolean().optional(),
        }),
        response: {
          201: z.object({ payment_id: z.string().uuid(), state: z.literal('processing'), amount_minor: minor }),
          404: errorBody,
          409: errorBody,
          422: errorBody,
        },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const choices = req.body.invoices.map((i) => {
        const amountMinor = i.amount_minor === undefined ? undefined : BigInt(i.amount_minor);
        if (amountMinor !== undefined && amountMinor <= 0n)
          throw new UseCaseError('invalid', `amount_minor for invoice ${i.invoice_id} must be more than zero`);
        return amountMinor === undefined ? { invoiceId: i.invoice_id } : { invoiceId: i.invoice_id, amountMinor };
      });
      const d = await originateAchDebit(deps.ctx, caller.tenantId, {
        bankAccountId: req.body.bank_account_id,
        choices,
        actor: caller.actor,
        source: 'manual',
        ...(req.body.same_day ? { sameDay: true } : {}),
      });
      return reply.code(201).send({ payment_id: d.paymentId, state: d.state, amount_minor: d.amountMinor.toString() });
    },
  );

  r.post(
    '/ach/bank-accounts',
    {
      schema: {
        tags: ['bank-ach'],
        summary: 'Record a debit authorization the client signed on paper (PPD for a personal account, CCD for a business one)',
        description:
          'The stored mandate is the authorization text (GET /portal/:token/bank-account shows it; its hash is mandate_sha256) filled with these details, with who entered it, when and from where. Clients who authorize online use the portal (WEB).',
        body: z.object({
          client_id: z.string().uuid(),
          holder_name: z.string().min(1).max(100),
          holder_kind: z.enum(['business', 'personal']),
          routing_number: z.string().min(1).max(20),
          account_number: z.string().min(1).max(30),
          account_type: z.enum(['checking', 'savings']),
          mandate_sha256: z.string().regex(/^[0-9a-f]{64}$/),
        }),
        response: {
          201: z.object({ bank_account_id: z.string().uuid(), sec_code: z.string(), validation: z.string(), last4: z.string(), mandate_text: z.string() }),
          404: errorBody,
          409: errorBody,
          422: errorBody,
        },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const b = req.body;
      const r = await enrollAchBankAccount(deps.ctx, caller.tenantId, {
        clientId: b.client_id,
        holderName: b.holder_name,
        holderKind: b.holder_kind,
        routingNumber: b.routing_number,
        accountNumber: b.account_number,
        accountType: b.account_type,
        mandate: { channel: 'staff', acceptedBy: caller.actor, ip: req.ip, userAgent: req.headers['user-agent'] ?? null, templateSha256: b.mandate_sha256 },
      });
      return reply
        .code(201)
        .send({ bank_account_id: r.bankAccountId, sec_code: r.secCode, validation: r.validation, last4: r.last4, mandate_text: r.mandateText });
    },
  );

  r.post(
    '/ach/run',
    {
      schema: {
        tags: ['bank-ach'],
        summary: "Build and send a file of the entries ready now, and read the bank's outbox",
        response: { 202: z.object({ queued: z.boolean() }), 409: errorBody },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const conn = await deps.ctx.connectors.bankAch(caller.tenantId);
      if (!conn) throw new UseCaseError('not_configured', 'this workspace has no bank ACH connection; connect the bank first');
      await withTenant(deps.ctx.db, caller.tenantId, (tx) => audit(tx, caller.tenantId, caller.actor, 'ach.run_requested', { type: 'bank_ach', id: null }));
      await requestAchRun(deps.ctx, caller.tenantId);
      return reply.code(202).send({ queued: true });
    },
  );

  r.get(
    '/ach/files',
    {
      schema: {
        tags: ['bank-ach'],
        summary: 'The archive of NACHA files built for the bank, newest first',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: {
          200: z.object({
            data: z.array(
              z.object({
                id: z.string(),
                file_name: z.string(),
                file_date: z.string(),
                file_id_modifier: z.string(),
                status: z.string(),
                sha256: z.string(),
                entries: z.number(),
                batches: z.number(),
                total_debit_minor: minor,
                sent_at: z.string().nullable(),
                delivery: z.string().nullable(),
                ack_at: z.string().nullable(),
                last_error: z.string().nullable(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(deps.ctx.db, caller.tenantId, (tx) =>
        tx.selectFrom('ach_files').selectAll().orderBy('created_at', 'desc').limit(req.query.limit).execute(),
      );
      return {
        data: rows.map((f) => ({
          id: f.id,
          file_name: f.file_name,
          file_date: String(f.file_date).slice(0, 10),
          file_id_modifier: f.file_id_modifier,
          status: f.status,
          sha256: f.sha256,
          entries: f.entry_count,
          batches: f.batch_count,
          total_debit_minor: f.total_debit_minor.toString(),
          sent_at: iso(f.sent_at),
          delivery: f.delivery,
          ack_at: iso(f.ack_at),
          last_error: f.last_error,
        })),
      };
    },
  );

  r.get(
    '/ach/settlements',
    {
      schema: {
        tags: ['bank-ach'],
        summary: "What the bank credited (a file's debits per effective date) and debited (returns), with the bank's statement line and the books posting",
        description:
          'One row per bank line Settle booked: a settlement (positive, one books deposit) or a return (negative, booked against clearing). `statement` is the BAI2 line it was matched to, null while the bank has not reported it.',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: {
          200: z.object({
            data: z.array(
              z.object({
                id: z.string(),
                kind: z.enum(['settlement', 'return']),
                reference: z.string(),
                amount_minor: minor,
                date: z.string(),
                status: z.string(),
                books: z.object({ kind: z.string(), status: z.string(), remote_id: z.string().nullable(), last_error: z.string().nullable() }).nullable(),
                statement: z
                  .object({
                    file: z.string(),
                    line: z.number(),
                    as_of_date: z.string(),
                    type_code: z.string(),
                    amount_minor: minor,
                    bank_reference: z.string().nullable(),
                  })
                  .nullable(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(deps.ctx.db, caller.tenantId, (tx) =>
        tx
          .selectFrom('payouts as p')
          .leftJoin('postings as po', (j) => j.onRef('po.payout_id', '=', 'p.id').on('po.target', '=', 'accounting'))
          .leftJoin('bank_statement_lines as l', 'l.payout_id', 'p.id')
          .leftJoin('ach_inbound_files as f', 'f.id', 'l.inbound_file_id')
          .select([
            'p.id',
            'p.processor_payout_id',
            'p.amount_minor',
            'p.arrival_date',
            'p.status',
            'po.kind as po_kind',
            'po.status as po_status',
            'po.remote_id',
            'po.last_error',
          ])
          .select(['l.line', 'l.as_of_date', 'l.type_code', 'l.amount_minor as line_amount', 'l.bank_reference', 'f.remote_name'])
          .where('p.processor', '=', 'bank-ach')
          .orderBy('p.created_at', 'desc')
          .limit(req.query.limit)
          .execute(),
      );
      return {
        data: rows.map((p) => ({
          id: p.id,
          kind: p.amount_minor < 0n ? ('return' as const) : ('settlement' as const),
          reference: p.processor_payout_id,
          amount_minor: p.amount_minor.toString(),
          date: String(p.arrival_date).slice(0, 10),
          status: p.status,
          books: p.po_kind ? { kind: p.po_kind, status: p.po_status!, remote_id: p.remote_id, last_error: p.last_error } : null,
          statement:
            p.line !== null && p.remote_name !== null
              ? {
                  file: p.remote_name,
                  line: p.line,
                  as_of_date: String(p.as_of_date).slice(0, 10),
                  type_code: p.type_code!,
                  amount_minor: String(p.line_amount),
                  bank_reference: p.bank_reference,
                }
              : null,
        })),
      };
    },
  );

  r.get(
    '/ach/bank-accounts',
    {
      schema: {
        tags: ['bank-ach'],
        summary: 'Bank accounts clients authorized for debits (last four digits only)',
        querystring: z.object({ client_id: z.string().uuid().optional() }),
        response: {
          200: z.object({
            data: z.array(
              z.object({
                id: z.string(),
                client_id: z.string(),
                holder_name: z.string(),
                sec_code: z.string(),
                routing_number: z.string(),
                last4: z.string(),
                account_type: z.string(),
                status: z.string(),
                status_reason: z.string().nullable(),
                validation: z.string(),
                mandate_accepted_at: z.string().nullable(),
                mandate_ip: z.string().nullable(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const rows = await withTenant(deps.ctx.db, caller.tenantId, (tx) => {
        let q = tx
          .selectFrom('ach_bank_accounts as a')
          .leftJoin('ach_mandates as m', 'm.bank_account_id', 'a.id')
          .select([
            'a.id',
            'a.client_id',
            'a.holder_name',
            'a.sec_code',
            'a.routing_number',
            'a.account_last4',
            'a.account_type',
            'a.status',
            'a.status_reason',
            'a.validation',
            'm.accepted_at',
            'm.accepted_ip',
          ])
          .orderBy('a.created_at', 'desc');
        if (req.query.client_id) q = q.where('a.client_id', '=', req.query.client_id);
        return q.execute();
      });
      return {
        data: rows.map((a) => ({
          id: a.id,
          client_id: a.client_id,
          holder_name: a.holder_name,
          sec_code: a.sec_code,
          routing_number: a.routing_number,
          last4: a.account_last4,
          account_type: a.account_type,
          status: a.status,
          status_reason: a.status_reason,
          validation: a.validation,
          mandate_accepted_at: iso(a.accepted_at),
          mandate_ip: a.accepted_ip,
        })),
      };
    },
  );
}
