// Per-invoice pay links (issue #10, "Pay from inside the PSA"). A link belongs to one invoice and is the
// address the PSA's own invoice shows as "Pay now" (written there once: write-pay-link.ts). Its token is
// `<workspace id>.<link id>.<HMAC of both under the workspace's portal secret>` — nothing secret is stored, as
// with the client portal's links (http/portal/links.ts), and the portal secret survives key rotation, so a
// link already printed on an invoice keeps working. It does not expire: it lives as long as the invoice is
// open; once the invoice is paid or void it only shows that, and a revoked link asks the client to get a new
// one from the MSP. One live link per invoice (0036's unique index); revoking makes the replacement at once.
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { Db } from '../db/pool.ts';
import type { SecretBox } from '../db/crypto.ts';
import { portalSecretOf } from '../db/portal-secret.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError } from './context.ts';
import { enqueue, enqueueMany } from './enqueue.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OPEN = ['open', 'partially_paid'] as const;

/** The write of an invoice's link into the PSA: one job per invoice, one at a time per workspace. */
export const payLinkJob = (tenantId: string, invoiceId: string) =>
  ({
    task: 'write-pay-link',
    payload: { tenantId, invoiceId },
    options: { jobKey: `write-pay-link:${invoiceId}`, queueName: `psa-pay-links:${tenantId}`, maxAttempts: 10 },
  }) as const;

function mac(secret: string, tenantId: string, linkId: string): string {
  return crypto.createHmac('sha256', secret).update(`pay-link:${tenantId}:${linkId}`).digest('base64url');
}

export async function payLinkUrl(db: Db | Tx, box: SecretBox, publicUrl: string, tenantId: string, linkId: string): Promise<string> {
  const secret = await portalSecretOf(db, box, tenantId);
  if (!secret) throw new Error(`no workspace ${tenantId}`);
  return `${publicUrl}/pay/${tenantId}.${linkId}.${mac(secret, tenantId, linkId)}`;
}

/** The workspace and link a token names, when its HMAC is right; null for anything else. */
export async function verifyPayToken(db: Db, box: SecretBox, token: string): Promise<{ tenantId: string; linkId: string } | null> {
  const [tenantId = '', linkId = '', given = '', ...rest] = token.split('.');
  if (rest.length > 0 || !UUID.test(tenantId) || !UUID.test(linkId) || !/^[A-Za-z0-9_-]{43}$/.test(given)) return null;
  const secret = await portalSecretOf(db, box, tenantId);
  if (!secret) return null;
  const want = Buffer.from(mac(secret, tenantId, linkId));
  return crypto.timingSafeEqual(Buffer.from(given), want) ? { tenantId, linkId } : null;
}

/**
 * The invoice's live link, made now if it has none (staff's "Create pay link", the API). The invoice must be
 * open. Queues the PSA write with it, in the caller's transaction.
 */
export async function createPayLink(tx: Tx, tenantId: string, invoiceId: string, actor: Actor): Promise<{ id: string; created: boolean }> {
  const inv = await tx.selectFrom('invoices').select(['id', 'number', 'status']).where('id', '=', invoiceId).forNoKeyUpdate().executeTakeFirst();
  if (!inv) throw new UseCaseError('not_found', `no invoice ${invoiceId} in this workspace`);
  const live = await liveLink(tx, invoiceId);
  if (live) return { id: live.id, created: false };
  if (!(OPEN as readonly string[]).includes(inv.status))
    throw new UseCaseError('invalid', `Invoice ${inv.number} is ${inv.status.replace('_', ' ')}: a pay link is only made for an invoice that is still owed.`);
  const row = await tx
    .insertInto('invoice_pay_links')
    .values({ tenant_id: tenantId, invoice_id: invoiceId, created_by: actor })
    .returning('id')
    .executeTakeFirstOrThrow();
  await audit(tx, tenantId, actor, 'pay_link.created', { type: 'invoice', id: invoiceId }, { pay_link_id: row.id });
  const job = payLinkJob(tenantId, invoiceId);
  await enqueue(tx, job.task, job.payload, job.options);
  return { id: row.id, created: true };
}

/**
 * Revoke the invoice's live link: it stops working at once (the client is asked to get a new one). While the
 * invoice is still owed a new link replaces it, and the PSA's field gets the new one (written once); a closed
 * invoice's field is cleared instead.
 */
export async function revokePayLink(tx: Tx, tenantId: string, invoiceId: string, actor: Actor): Promise<{ revokedId: string; newId: string | null }> {
  const inv = await tx.selectFrom('invoices').select(['id', 'status']).where('id', '=', invoiceId).forNoKeyUpdate().executeTakeFirst();
  if (!inv) throw new UseCaseError('not_found', `no invoice ${invoiceId} in this workspace`);
  const live = await liveLink(tx, invoiceId);
  if (!live) throw new UseCaseError('invalid', 'This invoice has no pay link to revoke.');
  await tx.updateTable('invoice_pay_links').set({ revoked_at: new Date(), revoked_by: actor }).where('id', '=', live.id).execute();
  let newId: string | null = null;
  if ((OPEN as readonly string[]).includes(inv.status)) {
    const row = await tx
      .insertInto('invoice_pay_links')
      .values({ tenant_id: tenantId, invoice_id: invoiceId, created_by: actor })
      .returning('id')
      .executeTakeFirstOrThrow();
    newId = row.id;
  }
  await audit(tx, tenantId, actor, 'pay_link.revoked', { type: 'invoice', id: invoiceId }, { pay_link_id: live.id, replaced_by: newId });
  const job = payLinkJob(tenantId, invoiceId);
  await enqueue(tx, job.task, job.payload, job.options);
  return { revokedId: live.id, newId };
}

export async function liveLink(tx: Tx, invoiceId: string) {
  return tx.selectFrom('invoice_pay_links').selectAll().where('invoice_id', '=', invoiceId).where('revoked_at', 'is', null).executeTakeFirst();
}

/**
 * Links for the invoices of a PSA page that Settle sees for the first time since pay links started for the
 * connection (0036: after the first import, so a back catalogue is never written in one go), that are owed
 * and never had one. One statement; their PSA writes queued in the same transaction.
 */
export async function offerPayLinks(tx: Tx, tenantId: string, vendor: string, externalIds: readonly string[]): Promise<number> {
  if (externalIds.length === 0) return 0;
  // Asked first, on its own: during the first import pay links have not started, and the statement below —
  // planned on tables whose statistics the bulk load has just made stale — cost 1–2 s a page there
  // (82 s of a 20,000-invoice HaloPSA import, 102 s of a 100,000-invoice ConnectWise one).
  const started = await tx
    .selectFrom('connections')
    .select('id')
    .where('role', '=', 'psa')
    .where('vendor', '=', vendor)
    .where('status', '<>', 'disabled')
    .where('pay_links_from', 'is not', null)
    .where(sql<boolean>`coalesce(config->>'payLinks', 'on') <> 'off'`)
    .executeTakeFirst();
  if (!started) return 0;
  const made = await sql<{ invoice_id: string }>`
    INSERT INTO invoice_pay_links (tenant_id, invoice_id, created_by)
    SELECT ${tenantId}::uuid, i.id, 'system:pay-links'
      FROM external_refs r
      JOIN invoices i ON i.id = r.entity_id
      JOIN connections c ON c.role = 'psa' AND c.vendor = ${vendor} AND c.status <> 'disabled'
     WHERE r.tenant_id = ${tenantId}::uuid AND r.system = ${vendor} AND r.entity = 'invoice'
       AND r.remote_id = ANY(${[...externalIds]}::text[])
       AND i.status IN ('open', 'partially_paid')
       AND c.pay_links_from IS NOT NULL AND i.first_seen_at >= c.pay_links_from
       AND coalesce(c.config->>'payLinks', 'on') <> 'off'
       AND NOT EXISTS (SELECT 1 FROM invoice_pay_links l WHERE l.invoice_id = i.id)
    ON CONFLICT DO NOTHING
    RETURNING invoice_id`.execute(tx);
  await enqueueMany(
    tx,
    made.rows.map((r) => payLinkJob(tenantId, r.invoice_id)),
  );
  return made.rows.length;
}

/** Pay links start once the first import is complete (sync-psa.ts calls this after each full run). */
export async function startPayLinks(db: Db, tenantId: string, since: Date): Promise<void> {
  await withTenant(db, tenantId, (tx) =>
    tx.updateTable('connections').set({ pay_links_from: since }).where('role', '=', 'psa').where('pay_links_from', 'is', null).execute(),
  );
}
