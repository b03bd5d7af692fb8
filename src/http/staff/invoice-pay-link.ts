// The invoice page's pay link (engine/pay-links.ts): the link the PSA's invoice carries, whether it is in
// the PSA yet, "Create pay link" for an owed invoice that has none (invoices from before pay links started)
// and "Revoke and replace" — the old link stops at once, the new one is written into the PSA once. Both go
// through the engine functions the rest of Settle uses, audited there. A viewer sees no button; a viewer's
// POST is refused by http/permissions.ts.
//   POST /app/invoices/:id/pay-link          make the invoice's link   (finance)
//   POST /app/invoices/:id/pay-link/revoke   revoke and replace it     (finance)
import type { FastifyInstance } from 'fastify';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { boxOf, UseCaseError } from '../../engine/context.ts';
import { createPayLink, liveLink, payLinkUrl, revokePayLink } from '../../engine/pay-links.ts';
import { payLinkFieldOf } from '../../connectors/psa/pay-link.ts';
import { vendorName } from '../../engine/posting-exceptions.ts';
import type { Caller } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './invoices.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const NOTICES: Readonly<Record<string, { text: string; kind: 'ok' | 'error' }>> = {
  created: { text: 'Pay link made. Settle writes it into the PSA once.', kind: 'ok' },
  revoked: { text: 'The old pay link no longer works. The new link below replaces it in the PSA.', kind: 'ok' },
  revoked_closed: { text: 'The pay link no longer works. The invoice is not owed, so no new link was made.', kind: 'ok' },
  unchanged: { text: 'Nothing changed: the invoice has no pay link to revoke, or is no longer owed.', kind: 'error' },
};

function psaStateText(state: string, vendor: string, field: string | null): string {
  const where = `${vendorName(vendor)}${field ? ` (${field})` : ''}`;
  switch (state) {
    case 'written':
      return `In ${where}: the invoice it sends carries this link.`;
    case 'pending':
      return `Being written into ${where}.`;
    case 'field_missing':
      return `Waiting: ${where} has no field for it yet — see Needs attention for how to add it.`;
    default:
      return 'Not written into a PSA (none connected, or pay links are off for the connection).';
  }
}

/** What the invoice page shows about the invoice's pay link. */
export async function payLinkPanel(tx: Tx, deps: HttpDeps, caller: Caller, inv: { id: string; status: string }, notice: string | undefined) {
  const live = await liveLink(tx, inv.id);
  const conn = await tx.selectFrom('connections').select(['vendor', 'config']).where('role', '=', 'psa').executeTakeFirst();
  const owed = inv.status === 'open' || inv.status === 'partially_paid';
  const finance = roleAtLeast(caller.role, 'finance');
  return {
    url: live ? await payLinkUrl(tx, boxOf(deps.ctx), deps.ctx.publicUrl, caller.tenantId, live.id) : null,
    createdAt: live?.created_at ?? null,
    psaState: live?.psa_state ?? null,
    psaText: live
      ? psaStateText(live.psa_state, live.psa_vendor ?? conn?.vendor ?? 'PSA', live.psa_field ?? (conn ? payLinkFieldOf(conn.vendor, conn.config) : null))
      : null,
    canCreate: finance && owed && !live,
    canRevoke: finance && !!live,
    owed,
    notice: notice ? (NOTICES[notice] ?? null) : null,
  };
}

export function registerInvoicePayLinkRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const act = (path: string, run: (tx: Tx, tenantId: string, invoiceId: string, actor: Caller['actor']) => Promise<string>) =>
    app.post<{ Params: { id: string } }>(path, { schema: { hide: true } }, async (req, reply) => {
      const caller = callerOf(req);
      if (!UUID.test(req.params.id)) return reply.code(404).type('text/plain').send('no such invoice');
      let outcome: string;
      try {
        outcome = await withTenant(deps.ctx.db, caller.tenantId, (tx) => run(tx, caller.tenantId, req.params.id, caller.actor));
      } catch (e) {
        if (!(e instanceof UseCaseError)) throw e;
        if (e.code === 'not_found') return reply.code(404).type('text/plain').send('no such invoice');
        outcome = 'unchanged';
      }
      return reply.redirect(`/app/invoices/${req.params.id}?pay_link=${outcome}#pay-link`, 303);
    });
  act('/app/invoices/:id/pay-link', async (tx, tenantId, id, actor) => ((await createPayLink(tx, tenantId, id, actor)).created ? 'created' : 'unchanged'));
  act('/app/invoices/:id/pay-link/revoke', async (tx, tenantId, id, actor) =>
    (await revokePayLink(tx, tenantId, id, actor)).newId ? 'revoked' : 'revoked_closed',
  );
}
