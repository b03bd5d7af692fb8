// Collections → Results (/app/collections/results): recovered amount and days to pay per sequence and step
// (engine/collections-assist/results.ts), promises kept and missed. Collections → Promises, disputes and pauses
// (/app/collections/holds): every active hold, and staff record one (a promise the client made on the phone,
// a dispute, a pause of a client or an invoice) or release one; audited (holds.ts). A client's statement of
// account as PDF: /app/collections/statement/:clientId. Everyone reads; finance and owner change.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { UseCaseError } from '../../engine/context.ts';
import { placeHold, releaseHold, workspaceToday, type HoldKind } from '../../engine/collections-assist/holds.ts';
import { collectionResults } from '../../engine/collections-assist/results.ts';
import { statementOf, statementPdf } from '../../engine/collections-assist/statement.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf, one } from './settings-surcharge.ts';
import { renderStaff } from './view.ts';

const HOLDS = '/app/collections/holds';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
type Errors = { field: string | null; message: string }[];
const FIELD_IDS: Record<string, string> = { until_on: 'hold-until', note: 'hold-note', invoice_id: 'hold-target', target: 'hold-target' };

const todayOf = (deps: HttpDeps, tenantId: string) => workspaceToday(deps.ctx.db, tenantId, deps.ctx.now());

async function holdsPage(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps, errors: Errors = [], posted: Record<string, string> = {}) {
  const caller = callerOf(req);
  const data = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => ({
    holds: await tx
      .selectFrom('collection_holds as h')
      .innerJoin('clients as c', 'c.id', 'h.client_id')
      .leftJoin('invoices as i', 'i.id', 'h.invoice_id')
      .select(['h.id', 'h.kind', 'h.until_on', 'h.note', 'h.source', 'h.created_by', 'h.created_at', 'c.name as client', 'c.id as client_id', 'i.number'])
      .where('h.released_at', 'is', null)
      .orderBy('h.created_at', 'desc')
      .limit(500)
      .execute(),
    invoices: await tx
      .selectFrom('invoices as i')
      .innerJoin('clients as c', 'c.id', 'i.client_id')
      .select(['i.id', 'i.number', 'c.name', 'c.id as client_id'])
      .where('i.status', 'in', ['open', 'partially_paid'])
      .orderBy('c.name')
      .orderBy('i.number')
      .limit(2000)
      .execute(),
    clients: await tx.selectFrom('clients').select(['id', 'name']).orderBy('name').limit(2000).execute(),
  }));
  const q = req.query as Record<string, string | undefined>;
  return renderStaff(
    req,
    reply,
    'collections-holds',
    { title: 'Promises, disputes and pauses', ...data, posted, canEdit: roleAtLeast(caller.role, 'finance'), errors, saved: q['saved'] ?? null },
    { status: errors.length ? 422 : 200 },
  );
}

export function registerCollectionsResultsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/app/collections/results', async (req, reply) => {
    const caller = callerOf(req);
    const r = await withTenant(deps.ctx.db, caller.tenantId, (tx) => collectionResults(tx, caller.tenantId));
    return renderStaff(req, reply, 'collections-results', {
      title: 'Collections results',
      promises: r.promises,
      disputesOpen: r.disputesOpen,
      steps: r.steps.map((s) => ({ ...s, recovered: format(money(s.recoveredMinor, parseCurrency(s.currency))) })),
    });
  });

  app.get(HOLDS, async (req, reply) => holdsPage(req, reply, deps));

  app.post(HOLDS, async (req, reply) => {
    const caller = callerOf(req);
    const f = (req.body ?? {}) as Record<string, string | undefined>;
    const posted = { kind: one(f['kind']), target: one(f['target']), until_on: one(f['until_on']), note: one(f['note']) };
    const kind = posted.kind as HoldKind;
    // target: "client:<id>" (every invoice of the client: a pause) or "invoice:<id>"
    const [what, id] = posted.target.split(':');
    if (!['promise', 'dispute', 'pause'].includes(kind))
      return holdsPage(req, reply, deps, [{ field: 'hold-kind', message: 'Choose promise, dispute or pause' }], posted);
    if (!id || !UUID.test(id) || (what !== 'client' && what !== 'invoice'))
      return holdsPage(req, reply, deps, [{ field: 'hold-target', message: 'Choose a client or one of its open invoices' }], posted);
    try {
      const today = await todayOf(deps, caller.tenantId);
      await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const clientId =
          what === 'client' ? id : ((await tx.selectFrom('invoices').select('client_id').where('id', '=', id).executeTakeFirst())?.client_id ?? null);
        if (!clientId)
          throw new UseCaseError('not_found', 'There is no such invoice in this workspace', { fields: { target: 'Choose one of the open invoices' } });
        await placeHold(
          tx,
          caller.tenantId,
          {
            clientId,
            invoiceId: what === 'invoice' ? id : null,
            kind,
            note: posted.note,
            source: 'staff',
            ...(kind === 'promise' ? { untilOn: posted.until_on } : {}),
          },
          today,
          caller.actor,
        );
      });
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      const fields = (e.detail?.['fields'] ?? {}) as Record<string, string>;
      const errors = Object.keys(fields).length
        ? Object.entries(fields).map(([k, message]) => ({ field: FIELD_IDS[k] ?? null, message }))
        : [{ field: null, message: e.message }];
      return holdsPage(req, reply, deps, errors, posted);
    }
    return reply.redirect(`${HOLDS}?saved=recorded`, 303);
  });

  app.post<{ Params: { id: string } }>(`${HOLDS}/:id/release`, async (req, reply) => {
    const caller = callerOf(req);
    const reason = one((req.body as Record<string, string | undefined> | undefined)?.['reason']) === 'resolved' ? 'resolved' : 'resumed';
    try {
      if (!UUID.test(req.params.id)) throw new UseCaseError('not_found', 'That hold is not active');
      await withTenant(deps.ctx.db, caller.tenantId, (tx) => releaseHold(tx, caller.tenantId, req.params.id, reason, caller.actor));
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      return holdsPage(req, reply, deps, [{ field: null, message: e.message }]);
    }
    return reply.redirect(`${HOLDS}?saved=released`, 303);
  });

  app.get<{ Params: { clientId: string } }>('/app/collections/statement/:clientId', async (req, reply) => {
    const caller = callerOf(req);
    const today = await todayOf(deps, caller.tenantId);
    const s = UUID.test(req.params.clientId) ? await withTenant(deps.ctx.db, caller.tenantId, (tx) => statementOf(tx, req.params.clientId, today)) : null;
    if (!s) return reply.code(404).send({ error: { code: 'not_found', message: 'There is no such client in this workspace' } });
    return reply
      .header('content-type', 'application/pdf')
      .header('content-disposition', `inline; filename="statement-${s.asOf}.pdf"`)
      .send(Buffer.from(await statementPdf(s)));
  });
}
