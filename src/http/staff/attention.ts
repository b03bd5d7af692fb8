// Needs attention (/app/attention): the sync-failure queue in the browser. The list is THE queue query
// (db/queries/attention.ts, also GET /api/v1/exceptions) explained in plain words (domain/attention.ts);
// the fixes post plain forms with the CSRF token and go through the engine functions the API uses:
//   POST /app/attention/:id/retry     retry the item's posting now (retryException → retryPosting)
//   POST /app/attention/retry         bulk: the ticked items (ids), each on its own
//   POST /app/attention/:id/resolve   mark resolved, with a note (required)
//   POST /app/attention/:id/dismiss   dismiss, with a reason (required)
//   POST /app/attention/:id/remap     post a payment to another books invoice number (remapBooksInvoice)
// Without JavaScript a fix answers 303 back to the list with what happened (or the list again with the
// error summary); with htmx it answers the item alone (swapped in place) and the badge out of band.
// Viewers see the list without the forms; their POST is refused (403) by the permission table before this.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { attentionItem, attentionItems, openAttentionCount, type AttentionRow } from '../../db/queries/attention.ts';
import { explain } from '../../domain/attention.ts';
import { remapBooksInvoice } from '../../engine/remap-books-invoice.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { formatDateTime, workspaceTimezone } from '../../domain/timezone.ts';
import { BULK_RETRY_MAX, retryException, retryExceptions } from '../../engine/attention-fixes.ts';
import { UseCaseError } from '../../engine/context.ts';
import { dismissException, markExceptionResolved } from '../../engine/exceptions.ts';
import type { Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { renderStaff } from './view.ts';

const PAGE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface FormError {
  readonly field: string;
  readonly message: string;
}

/** What the item partial shows (all text, formatted for the workspace). */
interface ItemView {
  readonly id: string;
  readonly kind: string;
  readonly status: 'open' | 'resolved';
  readonly title: string;
  readonly client: string | null;
  readonly invoices: string | null;
  readonly amount: string | null;
  readonly whereLabel: string;
  readonly why: string;
  readonly next: string;
  readonly nextAt: string | null;
  readonly opened: string;
  readonly retryable: boolean;
  readonly remappable: boolean;
  readonly invoiceNumber: string | null;
  readonly closedHow: string;
  readonly closedBy: string;
  readonly closedAt: string;
  readonly note: string | null;
  notice?: string;
  noticeKind?: 'ok' | 'error';
  errors?: FormError[];
  errorField?: string;
  openForm?: 'resolve' | 'dismiss' | 'remap';
}

function closedHow(resolution: string | null): string {
  if (resolution === 'dismissed') return 'Dismissed';
  if (resolution === 'resolved') return 'Marked resolved';
  if (resolution === 'posted') return 'Closed by itself: posted';
  if (resolution?.startsWith('invoice_')) return `Closed by itself: invoice ${resolution.slice('invoice_'.length)}`;
  return resolution ? `Closed by itself (${resolution.replace(/_/g, ' ')})` : 'Closed';
}

function viewOf(e: AttentionRow, now: Date, tz: string, people: ReadonlyMap<string, string>): ItemView {
  const x = explain(e, now);
  const who = e.resolved_by ?? '';
  return {
    id: e.id,
    kind: e.kind,
    status: e.status,
    title: e.title,
    client: e.client_name,
    invoices: e.invoices.length ? e.invoices.map((i) => `#${i.number}`).join(', ') : null,
    amount: e.amount_minor !== null && e.currency ? format(money(e.amount_minor, parseCurrency(e.currency))) : null,
    whereLabel: x.whereLabel,
    why: x.why,
    next: x.next,
    nextAt: x.nextAt ? formatDateTime(x.nextAt, tz) : null,
    opened: formatDateTime(e.opened_at, tz),
    retryable: x.fixes.includes('retry'),
    remappable: x.fixes.includes('remap'),
    invoiceNumber: e.invoices[0]?.number ?? null,
    closedHow: closedHow(e.resolution),
    closedBy: people.get(who) ?? (who.startsWith('system:') ? 'Settle' : who.startsWith('api_key:') ? 'an API key' : who),
    closedAt: e.resolved_at ? formatDateTime(e.resolved_at, tz) : '',
    note: e.resolution_note,
  };
}

/** The e-mails of the people who closed these items ('user:<id>' → e-mail). */
async function peopleOf(tx: Parameters<typeof attentionItems>[0], rows: readonly AttentionRow[]): Promise<Map<string, string>> {
  const ids = [...new Set(rows.map((r) => r.resolved_by ?? '').filter((a) => a.startsWith('user:')))].map((a) => a.slice(5)).filter((id) => UUID.test(id));
  if (ids.length === 0) return new Map();
  const users = await tx.selectFrom('users').select(['id', 'email']).where('id', 'in', ids).execute();
  return new Map(users.map((u) => [`user:${u.id}`, u.email]));
}

async function timezoneOf(tx: Parameters<typeof attentionItems>[0], tenantId: string): Promise<string> {
  const t = await tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirstOrThrow();
  return workspaceTimezone(t.settings);
}

const callerOf = (req: FastifyRequest): Caller => {
  if (!req.caller) throw new Error('staff route without a caller: the permission check identifies every caller first');
  return req.caller;
};

const isHtmx = (req: FastifyRequest): boolean => req.headers['hx-request'] === 'true';

const NOTICES: Readonly<Record<string, string>> = {
  remapped: 'Mapping changed: Settle is posting the payment to that books invoice now. The item closes by itself once it is posted.',
  retried: 'Retry queued: Settle is sending it again now. The item closes by itself once it is posted.',
  resolved: 'Marked resolved; your note is kept with it.',
  dismissed: 'Dismissed; your reason is kept with it.',
};

export function registerAttentionRoutes(app: FastifyInstance, deps: HttpDeps): void {
  /**
   * The list page; `problem` re-renders it after a refused form (status 400, the error summary, the form of
   * that item open). A bulk problem names no item: its link goes to the first tick box.
   */
  async function list(
    req: FastifyRequest,
    reply: FastifyReply,
    problem?: { id?: string; form?: 'resolve' | 'dismiss' | 'remap'; error: FormError },
  ): Promise<FastifyReply> {
    const caller = callerOf(req);
    const query = req.query as { show?: string; offset?: string; done?: string; n?: string; failed?: string };
    const show = query.show === 'resolved' && !problem ? 'resolved' : 'open';
    const offset = Math.min(Math.max(Number.parseInt(query.offset ?? '0', 10) || 0, 0), 1_000_000);
    const now = deps.ctx.now();
    const data = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
      const rows = await attentionItems(tx, { status: show, limit: PAGE + 1, offset });
      return { rows, openCount: await openAttentionCount(tx), tz: await timezoneOf(tx, caller.tenantId), people: await peopleOf(tx, rows) };
    });
    const items = data.rows.slice(0, PAGE).map((e) => viewOf(e, now, data.tz, data.people));
    const errors: FormError[] = [];
    if (problem?.id) {
      const it = items.find((i) => i.id === problem.id);
      if (it) Object.assign(it, { errors: [problem.error], errorField: problem.error.field, ...(problem.form ? { openForm: problem.form } : {}) });
      errors.push(problem.error);
    } else if (problem) {
      const first = items.find((i) => i.retryable);
      errors.push({ field: first ? `pick-${first.id}` : '', message: problem.error.message });
    }
    let notice: string | undefined = query.done ? NOTICES[query.done] : undefined;
    if (query.done === 'bulk') {
      const n = Number.parseInt(query.n ?? '0', 10) || 0;
      const failed = Number.parseInt(query.failed ?? '0', 10) || 0;
      notice = `Retry queued for ${n} item${n === 1 ? '' : 's'}${failed ? `; ${failed} could not be retried (already posted or not about a posting)` : ''}.`;
    }
    return renderStaff(
      req,
      reply,
      'attention',
      {
        show,
        items,
        openCount: data.openCount,
        retryableCount: items.filter((i) => i.retryable).length,
        canFix: roleAtLeast(caller.role, 'finance'),
        notice,
        errors,
        pageSize: PAGE,
        nextOffset: data.rows.length > PAGE ? offset + PAGE : null,
      },
      { status: problem ? 400 : 200 },
    );
  }

  /** The item alone (for htmx), with the badge out of band. */
  async function itemAlone(req: FastifyRequest, reply: FastifyReply, id: string, extra: Partial<ItemView>): Promise<FastifyReply> {
    const caller = callerOf(req);
    const now = deps.ctx.now();
    const found = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
      const row = await attentionItem(tx, id);
      if (!row) return null;
      return { row, count: await openAttentionCount(tx), tz: await timezoneOf(tx, caller.tenantId), people: await peopleOf(tx, [row]) };
    });
    if (!found) return reply.code(404).type('text/plain').send('No such item in this workspace.');
    const item = Object.assign(viewOf(found.row, now, found.tz, found.people), extra);
    return renderStaff(req, reply, 'partials/attention-item', { item, canFix: roleAtLeast(caller.role, 'finance'), oobCount: found.count });
  }

  async function fix(
    req: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    done: 'retried' | 'resolved' | 'dismissed' | 'remapped',
    form: 'resolve' | 'dismiss' | 'remap' | null,
    act: (caller: Caller, id: string) => Promise<unknown>,
  ): Promise<FastifyReply> {
    const caller = callerOf(req);
    const id = req.params.id;
    if (!UUID.test(id)) return reply.code(404).type('text/plain').send('No such item in this workspace.');
    try {
      await act(caller, id);
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      if (e.code === 'not_found') return reply.code(404).type('text/plain').send('No such item in this workspace.');
      const field = form === 'resolve' ? `note-${id}` : form === 'dismiss' ? `reason-${id}` : form === 'remap' ? `books-number-${id}` : `retry-${id}`;
      const error = { field, message: e.message };
      if (isHtmx(req)) {
        // htmx swaps 2xx answers only: the item with its error is the answer.
        return itemAlone(req, reply, id, { errors: [error], errorField: field, notice: e.message, noticeKind: 'error', ...(form ? { openForm: form } : {}) });
      }
      return list(req, reply, { id, ...(form ? { form } : {}), error });
    }
    if (isHtmx(req)) return itemAlone(req, reply, id, { notice: NOTICES[done]!, noticeKind: 'ok' });
    return reply.redirect(`/app/attention?done=${done}`, 303);
  }

  app.get('/app/attention', { schema: { hide: true } }, (req, reply) => list(req, reply));

  app.post<{ Params: { id: string } }>('/app/attention/:id/retry', { schema: { hide: true } }, (req, reply) =>
    fix(req, reply, 'retried', null, (caller, id) =>
      withTenant(deps.ctx.db, caller.tenantId, (tx) => retryException(tx, caller.tenantId, id, caller.actor, deps.ctx.now())),
    ),
  );

  app.post<{ Params: { id: string }; Body: { note?: string } }>('/app/attention/:id/resolve', { schema: { hide: true } }, (req, reply) =>
    fix(req, reply, 'resolved', 'resolve', (caller, id) =>
      withTenant(deps.ctx.db, caller.tenantId, (tx) => markExceptionResolved(tx, caller.tenantId, id, caller.actor, String(req.body?.note ?? ''))),
    ),
  );

  app.post<{ Params: { id: string }; Body: { reason?: string } }>('/app/attention/:id/dismiss', { schema: { hide: true } }, (req, reply) =>
    fix(req, reply, 'dismissed', 'dismiss', (caller, id) =>
      withTenant(deps.ctx.db, caller.tenantId, (tx) => dismissException(tx, caller.tenantId, id, caller.actor, String(req.body?.reason ?? ''))),
    ),
  );

  app.post<{ Params: { id: string }; Body: { books_number?: string } }>('/app/attention/:id/remap', { schema: { hide: true } }, (req, reply) =>
    fix(req, reply, 'remapped', 'remap', (caller, id) =>
      withTenant(deps.ctx.db, caller.tenantId, (tx) =>
        remapBooksInvoice(tx, caller.tenantId, id, String(req.body?.books_number ?? ''), caller.actor, deps.ctx.now()),
      ),
    ),
  );

  app.post<{ Body: { ids?: string | string[] } }>('/app/attention/retry', { schema: { hide: true } }, async (req, reply) => {
    const caller = callerOf(req);
    const raw = req.body?.ids;
    const ids = (Array.isArray(raw) ? raw : raw ? [raw] : []).filter((id) => typeof id === 'string' && UUID.test(id));
    if (ids.length === 0 || ids.length > BULK_RETRY_MAX) {
      const message = ids.length === 0 ? 'Tick at least one item to retry.' : `Tick at most ${BULK_RETRY_MAX} items at once.`;
      return list(req, reply, { error: { field: '', message } });
    }
    const out = await retryExceptions(deps.ctx.db, caller.tenantId, ids, caller.actor, () => deps.ctx.now());
    const ok = out.filter((o) => o.ok).length;
    return reply.redirect(`/app/attention?done=bulk&n=${ok}&failed=${out.length - ok}`, 303);
  });
}
