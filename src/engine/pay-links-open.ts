// "Write pay links for all open invoices" (issue #10): an MSP that has just connected its PSA has a back
// catalogue of owed invoices that got no link (links start with invoices first seen after the first complete
// import: pay-links.ts offerPayLinks). This makes a link for each open invoice of the PSA that has no live one
// and queues its durable write-pay-link job, in one transaction, audited once with the count. Running it again
// finds every open invoice with a live link and queues nothing (0036's one-live-link index also stops two runs
// at once from making two). Staff's button on the connections page and `settle pay-links write-open` call it.
// The jobs are marked bulk: on Autotask each of their calls goes at the budget broker's lowest priority
// ('sweep', connectors/psa/autotask/budget.ts), after payment write-backs, new invoices' links and polls, so a
// large catalogue is written with what is left rather than starving them.
import { sql } from 'kysely';
import type { Tx } from '../db/tenant.ts';
import { payLinksOn } from '../connectors/psa/pay-link.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError } from './context.ts';
import { enqueueMany } from './enqueue.ts';
import { payLinkJob } from './pay-links.ts';
import { vendorName } from './posting-exceptions.ts';

export interface OpenPayLinksQueued {
  readonly vendor: string;
  readonly queued: number;
}

export async function queueOpenInvoicePayLinks(tx: Tx, tenantId: string, actor: Actor): Promise<OpenPayLinksQueued> {
  const conn = await tx.selectFrom('connections').select(['vendor', 'config']).where('role', '=', 'psa').where('status', '<>', 'disabled').executeTakeFirst();
  if (!conn) throw new UseCaseError('invalid', 'No PSA is connected: connect your PSA first (Connections), then write its pay links.');
  if (!payLinksOn(conn.config))
    throw new UseCaseError(
      'invalid',
      `Pay links are off for ${vendorName(conn.vendor)} (payLinks: "off"): switch them on in the PSA connection's settings first.`,
    );
  // Serialises two runs in the same workspace: the second sees the first's links and makes none.
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`open-pay-links:${tenantId}`}))`.execute(tx);
  const made = await sql<{ invoice_id: string }>`
    INSERT INTO invoice_pay_links (tenant_id, invoice_id, created_by)
    SELECT ${tenantId}::uuid, i.id, ${actor}
      FROM invoices i
      JOIN external_refs r ON r.entity = 'invoice' AND r.entity_id = i.id AND r.system = ${conn.vendor}
     WHERE i.status IN ('open', 'partially_paid')
       AND NOT EXISTS (SELECT 1 FROM invoice_pay_links l WHERE l.invoice_id = i.id AND l.revoked_at IS NULL)
    ON CONFLICT DO NOTHING
    RETURNING invoice_id`.execute(tx);
  await enqueueMany(
    tx,
    made.rows.map((r) => {
      const job = payLinkJob(tenantId, r.invoice_id);
      return { ...job, payload: { ...job.payload, bulk: true } }; // Autotask: after polls (autotask/pay-link.ts)
    }),
  );
  await audit(tx, tenantId, actor, 'pay_link.open_invoices_queued', { type: 'tenant', id: tenantId }, { vendor: conn.vendor, queued: made.rows.length });
  return { vendor: conn.vendor, queued: made.rows.length };
}

/** The sentence staff and the CLI show. */
export const openPayLinksSentence = (r: OpenPayLinksQueued): string =>
  r.queued === 0
    ? `Every open invoice already has a pay link: nothing new to write into ${vendorName(r.vendor)}.`
    : `${r.queued} pay link${r.queued === 1 ? '' : 's'} queued for writing into ${vendorName(r.vendor)}, one invoice at a time.`;
