// Client portal links made by staff: "create" (the API's POST /api/v1/clients/:id/portal-links and the
// client page's "Copy portal link") and "e-mail" (the client page's "E-mail portal link", queued through the
// outbox to the client's billing address). Both audited in the caller's transaction.
import type { Tx } from '../db/tenant.ts';
import { parseCurrency } from '../domain/money.ts';
import { portalLinkFor } from '../http/portal/links.ts';
import { portalLinkEmail } from '../notify/portal-link-email.ts';
import { templateOf } from '../notify/templates/compose.ts';
import { queueEmail } from '../notify/queue-email.ts';
import { audit, type Actor } from './audit.ts';
import { boxOf, UseCaseError, type EngineContext } from './context.ts';
import { openMinorOf } from '../db/queries/invoice-list.ts';
import { sql } from 'kysely';

export interface PortalLink {
  readonly url: string;
  readonly expiresAt: string;
}

export async function createPortalLink(ctx: EngineContext, tx: Tx, tenantId: string, clientId: string, ttlSec: number, actor: Actor): Promise<PortalLink> {
  const c = await tx.selectFrom('clients').select('id').where('id', '=', clientId).executeTakeFirst();
  if (!c) throw new UseCaseError('not_found', `no client ${clientId} in this workspace`);
  const l = await portalLinkFor(tx, ctx.publicUrl, tenantId, c.id, ttlSec, boxOf(ctx));
  await audit(tx, tenantId, actor, 'portal_link.created', { type: 'client', id: c.id }, { expires_at: l.expiresAt });
  return l;
}

/**
 * Queue an e-mail with a fresh portal link to the client's billing address. `requestKey` comes from the form
 * that asked (made when it was drawn), so a double submit queues one e-mail.
 */
export async function emailPortalLink(
  ctx: EngineContext,
  tx: Tx,
  tenantId: string,
  clientId: string,
  ttlSec: number,
  actor: Actor,
  requestKey: string,
): Promise<{ to: string; queued: boolean; expiresAt: string }> {
  const c = await tx.selectFrom('clients').select(['id', 'name', 'billing_email']).where('id', '=', clientId).executeTakeFirst();
  if (!c) throw new UseCaseError('not_found', `no client ${clientId} in this workspace`);
  const to = c.billing_email?.trim();
  if (!to)
    throw new UseCaseError(
      'invalid',
      `${c.name} has no billing e-mail address, so there is nowhere to send the link. Add one to the client in the PSA (it arrives with the next sync), or copy the link and send it yourself.`,
    );
  const tenant = await tx.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirstOrThrow();
  const link = await portalLinkFor(tx, ctx.publicUrl, tenantId, c.id, ttlSec, boxOf(ctx));
  const open = await sql<{ currency: string; minor: bigint }>`
    SELECT currency, sum(${openMinorOf(sql.ref('i.id'), sql.ref('i.psa_balance_minor'))})::bigint AS minor
      FROM invoices i WHERE i.client_id = ${c.id}::uuid AND i.status IN ('open', 'partially_paid') GROUP BY currency`.execute(tx);
  const email = portalLinkEmail(
    {
      mspName: tenant.name,
      clientName: c.name,
      link: link.url,
      linkExpiresAt: new Date(link.expiresAt),
      open: open.rows.map((o) => ({ currency: parseCurrency(o.currency), minor: BigInt(o.minor) })),
    },
    await templateOf(tx, 'portal_link'),
  );
  const id = await queueEmail(tx, tenantId, {
    kind: 'portal_link',
    clientId: c.id,
    to,
    ...email,
    idempotencyKey: `portal-link:${c.id}:${requestKey}`,
  });
  // Audited only when this request queued it (a repeated submit of the same form is not a second e-mail).
  if (id) await audit(tx, tenantId, actor, 'portal_link.emailed', { type: 'client', id: c.id }, { to, notification_id: id, expires_at: link.expiresAt });
  return { to, queued: id !== null, expiresAt: link.expiresAt };
}
