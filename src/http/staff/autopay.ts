// Staff → Autopay: the approvals queue (charges over a rule's cap, or a jump against the client's previous
// invoice), each with a decision page that states what approving does; and the calendar of upcoming charges
// with the pre-debit notices sent. Decisions go through decideAutopayApproval, the engine function behind
// POST /api/v1/autopay/approvals/:id/approve|reject (audited there, with who decided).
//   GET  /app/autopay                          queue + calendar + recent decisions (viewer)
//   GET  /app/autopay/approvals/:id            one decision, stated                 (viewer; buttons for finance)
//   POST /app/autopay/approvals/:id/approve    approve (note optional)              (finance)
//   POST /app/autopay/approvals/:id/reject     reject with a reason (required)      (finance)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { approvalDetail, pendingApprovals, recentDecisions, upcomingCharges } from '../../db/queries/autopay.ts';
import { noticeDueOn } from '../../domain/autopay.ts';
import { CONTRACT_KIND_LABELS, isCoveredKind } from '../../domain/contracts.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { UseCaseError } from '../../engine/context.ts';
import { decideAutopayApproval } from '../../engine/decide-autopay-approval.ts';
import { methodLabel } from '../../engine/refund-preview.ts';
import type { Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { notFound } from './payments.ts';
import { renderStaff } from './view.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
type Body = Record<string, string | undefined>;

const callerOf = (req: FastifyRequest): Caller => {
  if (!req.caller) throw new Error('staff route reached without a caller (authorize.ts runs first)');
  return req.caller;
};

/** Why a charge waits, in words (approval reasons from domain/autopay.ts approvalReasons). */
export function reasonText(reason: string, detail: Record<string, unknown>, currency: string): string {
  const m = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? format(money(BigInt(v), parseCurrency(currency))) : '?');
  if (reason === 'over_cap') return `over the rule's approval cap of ${m(detail.cap_minor)}`;
  if (reason === 'amount_jump' && Array.isArray(detail.contract_jumps)) return contractJumpText(detail, m);
  if (reason === 'amount_jump')
    return `more than ${String(detail.jump_percent ?? '?')} % above the client's previous invoice (${m(detail.previous_total_minor)})`;
  if (reason === 'contract_not_covered') return notCoveredText(detail);
  return reason.replace(/_/g, ' ');
}

/** Which contract jumped, from what to what (per-contract check, domain/autopay-contracts.ts). */
function contractJumpText(detail: Record<string, unknown>, m: (v: unknown) => string): string {
  const jumps = detail.contract_jumps as {
    name?: string;
    previous_minor?: string;
    total_minor?: string;
    increase_minor?: string;
    percent?: number;
    previous_number?: string | null;
  }[];
  const each = jumps.map(
    (j) =>
      `“${j.name ?? '?'}” rose from ${m(j.previous_minor)}${j.previous_number ? ` (invoice #${j.previous_number})` : ''} to ${m(j.total_minor)}, up ${m(j.increase_minor)} (${String(j.percent ?? '?')} %)`,
  );
  return `${each.join('; ')} — more than the ${String(detail.jump_percent ?? '?')} % a contract may rise between its invoices`;
}

/** The contract kinds on the invoice that the rule does not charge automatically. */
function notCoveredText(detail: Record<string, unknown>): string {
  const kinds = Array.isArray(detail.uncovered_kinds) ? (detail.uncovered_kinds as string[]) : [];
  const names = Array.isArray(detail.uncovered_contracts) ? (detail.uncovered_contracts as string[]) : [];
  const words = kinds.map((k) => (isCoveredKind(k) ? CONTRACT_KIND_LABELS[k] : k)).join(', ');
  return `has lines billed as ${words || 'a contract kind'}${names.length > 0 ? ` (${names.map((n) => `“${n}”`).join(', ')})` : ''}, which this rule does not charge automatically`;
}

const STATE_WORDS: Record<string, string> = {
  pending_notice: 'notice not sent yet',
  noticed: 'client told',
  awaiting_approval: 'waiting for approval',
  blocked: 'blocked',
  charging: 'charging',
};

export function registerAutopayRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const db = deps.ctx.db;

  app.get<{ Querystring: Body }>('/app/autopay', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const data = await withTenant(db, caller.tenantId, async (tx) => ({
      pending: await pendingApprovals(tx),
      decisions: await recentDecisions(tx),
      upcoming: await upcomingCharges(tx),
    }));
    const decided = req.query.decided && UUID.test(req.query.decided) ? data.decisions.find((d) => d.id === req.query.decided) : undefined;
    return renderStaff(req, reply, 'autopay', {
      title: 'Autopay',
      notice: decided
        ? {
            text: `${decided.status === 'approved' ? 'Approved' : 'Rejected'}: ${format(money(decided.amount_minor, parseCurrency(decided.currency)))} for invoice #${decided.number} (${decided.client_name}).`,
            kind: 'ok',
          }
        : null,
      pending: data.pending.map((a) => ({
        ...a,
        why: a.reasons.map((r) => reasonText(r, (a.detail ?? {}) as Record<string, unknown>, a.currency)).join('; '),
      })),
      decisions: data.decisions,
      upcoming: data.upcoming.map((s) => ({
        ...s,
        stateText: STATE_WORDS[s.state] ?? s.state,
        amount: s.noticed_amount_minor ?? s.total_minor - s.paid_minor,
        noticeDue: s.noticed_at ? null : noticeDueOn(s.charge_on, s.notice_days),
        methodText: s.method_kind ? methodLabel(s) : 'the client’s default method',
      })),
    });
  });

  async function showApproval(
    req: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    errors: { field?: string; message: string }[] = [],
    values: { note?: string; reason?: string } = {},
    status = 200,
  ) {
    const caller = callerOf(req);
    if (!UUID.test(req.params.id)) return notFound(req, reply);
    const a = await withTenant(db, caller.tenantId, (tx) => approvalDetail(tx, req.params.id));
    if (!a) return notFound(req, reply);
    const m = (n: bigint): string => format(money(n, parseCurrency(a.currency)));
    const method = a.method ? methodLabel({ method_kind: a.method.kind, method_brand: a.method.brand, method_last4: a.method.last4 }) : null;
    const effect = [
      `Settle e-mails ${a.client_name}${a.billing_email ? ` (${a.billing_email})` : ''} a pre-debit notice for ${m(a.amount_minor)} at least ${a.notice_days} day${a.notice_days === 1 ? '' : 's'} before the charge.`,
      `Then it charges ${m(a.amount_minor)} to ${method ?? 'the client’s saved method'} for invoice #${a.number}, on ${a.charge_on} or once the notice period has passed.`,
      'If the PSA changes the invoice before the charge, Settle asks again.',
    ];
    return renderStaff(
      req,
      reply,
      'autopay-approval',
      {
        title: `Autopay charge for invoice #${a.number}`,
        narrow: true,
        a,
        amount: m(a.amount_minor),
        why: a.reasons.map((r) => reasonText(r, (a.detail ?? {}) as Record<string, unknown>, a.currency)),
        effect,
        canDecide: roleAtLeast(caller.role, 'finance') && a.status === 'pending',
        errors,
        values,
      },
      { status },
    );
  }

  app.get<{ Params: { id: string } }>('/app/autopay/approvals/:id', { schema: { hide: true } }, (req, reply) => showApproval(req, reply));

  for (const decision of ['approve', 'reject'] as const) {
    app.post<{ Params: { id: string }; Body: Body }>(`/app/autopay/approvals/:id/${decision}`, { schema: { hide: true } }, async (req, reply) => {
      const caller = callerOf(req);
      if (!UUID.test(req.params.id)) return notFound(req, reply);
      const note = (decision === 'approve' ? req.body?.note : req.body?.reason)?.trim() ?? '';
      if (decision === 'reject' && !note)
        return showApproval(req, reply, [{ field: 'reason', message: 'Enter why you are rejecting this charge (kept in the audit log)' }], {}, 422);
      if (note.length > 1000)
        return showApproval(
          req,
          reply,
          [{ field: decision === 'approve' ? 'note' : 'reason', message: 'Keep it to 1,000 characters or fewer' }],
          decision === 'approve' ? { note } : { reason: note },
          422,
        );
      try {
        await decideAutopayApproval(deps.ctx, caller.tenantId, { approvalId: req.params.id, decision, note: note || null, actor: caller.actor });
      } catch (e) {
        if (!(e instanceof UseCaseError)) throw e;
        if (e.code === 'not_found') return notFound(req, reply);
        // The same decision already made (a double submit): show it as done. Decided otherwise meanwhile
        // (a colleague) or no longer waiting: say so, change nothing.
        const now = await withTenant(db, caller.tenantId, (tx) =>
          tx.selectFrom('autopay_approvals').select('status').where('id', '=', req.params.id).executeTakeFirst(),
        );
        if (now?.status === (decision === 'approve' ? 'approved' : 'rejected')) return reply.redirect(`/app/autopay?decided=${req.params.id}`, 303);
        return showApproval(req, reply, [{ message: e.message }], {}, 409);
      }
      return reply.redirect(`/app/autopay?decided=${req.params.id}`, 303);
    });
  }
}
