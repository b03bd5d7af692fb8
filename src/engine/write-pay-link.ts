// The job that puts an invoice's pay link into the PSA (pay-links.ts makes the links). Queued once when a
// link is made or revoked — never on a schedule, so it spends the PSA's API budget (Autotask's 10,000 an hour,
// at write-back priority) once per link. The PSA field is read before it is written (connectors/psa/pay-link.ts):
// a retry after a crash between the write and its record here finds the link there and writes nothing.
// A field the MSP has not made becomes one exception for the workspace, saying how to make it; the links
// wait, and are written (and the exception closed) when the field is found — at the next link's write or at
// `settle doctor` / "Test connection" (retryWaitingPayLinks).
import type { Tx } from '../db/tenant.ts';
import { withTenant } from '../db/tenant.ts';
import { PayLinkFieldMissing, payLinkFieldOf, payLinksOn, payLinkTargetOf } from '../connectors/psa/pay-link.ts';
import { audit } from './audit.ts';
import { boxOf, type EngineContext } from './context.ts';
import { crashPoint } from './crash-points.ts';
import { enqueueMany } from './enqueue.ts';
import { raiseException } from './exceptions.ts';
import { resolveException } from './lifecycle-exceptions.ts';
import { vendorName } from './posting-exceptions.ts';
import { liveLink, payLinkJob, payLinkUrl } from './pay-links.ts';

const ACTOR = 'system:write-pay-link';
export const fieldExceptionKey = (vendor: string): string => `pay-link-field:${vendor}`;

export async function writePayLink(ctx: EngineContext, tenantId: string, invoiceId: string, opts: { bulk?: boolean } = {}): Promise<string> {
  const psa = await ctx.connectors.psa(tenantId);
  const plan = await withTenant(ctx.db, tenantId, async (tx) => {
    const live = await liveLink(tx, invoiceId);
    const conn = await tx.selectFrom('connections').select(['vendor', 'config']).where('role', '=', 'psa').where('status', '<>', 'disabled').executeTakeFirst();
    const ref = conn
      ? await tx
          .selectFrom('external_refs')
          .select('remote_id')
          .where('entity', '=', 'invoice')
          .where('entity_id', '=', invoiceId)
          .where('system', '=', conn.vendor)
          .executeTakeFirst()
      : undefined;
    // A field written before (by a link since revoked) is cleared when no live link replaces it.
    const written = await tx
      .selectFrom('invoice_pay_links')
      .select('id')
      .where('invoice_id', '=', invoiceId)
      .where('psa_state', '=', 'written')
      .where('revoked_at', 'is not', null)
      .executeTakeFirst();
    return { live, conn, ref, hadWritten: !!written };
  });
  const { live, conn, ref } = plan;
  const target = psa ? payLinkTargetOf(psa) : null;
  if (!psa || !conn || !ref || !target || !payLinksOn(conn.config)) {
    if (live) await setState(ctx, tenantId, live.id, 'not_written', null, null);
    return 'pay links are not written into this PSA (none connected, or switched off)';
  }
  const field = payLinkFieldOf(conn.vendor, conn.config);
  // Written once: a link already in the PSA is never written again (no re-read, no budget spent).
  if (live?.psa_state === 'written' && live.psa_field === field) return 'already written';
  if (!live && !plan.hadWritten) return 'nothing to write';
  const url = live ? await payLinkUrl(ctx.db, boxOf(ctx), ctx.publicUrl, tenantId, live.id) : null;
  try {
    // A bulk write (all open invoices at once) asks the PSA at a lower priority where it has one (Autotask).
    const r = await target.write({ invoiceExternalId: ref.remote_id, field, url, ...(opts.bulk ? { background: true } : {}) });
    crashPoint('after-pay-link-written');
    await withTenant(ctx.db, tenantId, async (tx) => {
      if (live) {
        await tx
          .updateTable('invoice_pay_links')
          .set({ psa_state: 'written', psa_vendor: conn.vendor, psa_field: field, psa_written_at: new Date() })
          .where('id', '=', live.id)
          .execute();
      } else {
        await tx
          .updateTable('invoice_pay_links')
          .set({ psa_state: 'not_written' })
          .where('invoice_id', '=', invoiceId)
          .where('psa_state', '=', 'written')
          .execute();
      }
      await audit(
        tx,
        tenantId,
        ACTOR,
        live ? 'pay_link.written_to_psa' : 'pay_link.cleared_in_psa',
        { type: 'invoice', id: invoiceId },
        {
          vendor: conn.vendor,
          field,
          pay_link_id: live?.id ?? null,
          already_there: r.outcome === 'already',
        },
      );
      await fieldFound(tx, tenantId, conn.vendor);
    });
    return `${live ? 'written to' : 'cleared in'} ${conn.vendor} (${r.outcome})`;
  } catch (e) {
    if (!(e instanceof PayLinkFieldMissing)) throw e; // 5xx, timeouts, 429: the job is retried with back-off
    await withTenant(ctx.db, tenantId, async (tx) => {
      if (live) await tx.updateTable('invoice_pay_links').set({ psa_state: 'field_missing' }).where('id', '=', live.id).execute();
      const waiting = await waitingCount(tx);
      await raiseException(tx, tenantId, ACTOR, {
        kind: 'pay_link_field_missing',
        dedupeKey: fieldExceptionKey(conn.vendor),
        clientId: null,
        invoiceIds: [],
        paymentId: null,
        title: `Pay links cannot be written into ${vendorName(conn.vendor)}: ${e.message}`,
        detail: `${waiting} invoice${waiting === 1 ? ' is' : 's are'} waiting for the field. ${e.fix}`,
        data: { vendor: conn.vendor, field, waiting },
      });
    });
    return `field missing: ${e.message}`;
  }
}

async function setState(ctx: EngineContext, tenantId: string, linkId: string, state: 'not_written', vendor: string | null, field: string | null) {
  await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .updateTable('invoice_pay_links')
      .set({ psa_state: state, psa_vendor: vendor, psa_field: field })
      .where('id', '=', linkId)
      .where('psa_state', '<>', 'written')
      .execute(),
  );
}

async function waitingCount(tx: Tx): Promise<number> {
  const r = await tx
    .selectFrom('invoice_pay_links')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('psa_state', '=', 'field_missing')
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The field is there now: close the exception and queue the links that waited for it. */
async function fieldFound(tx: Tx, tenantId: string, vendor: string): Promise<number> {
  await resolveException(tx, tenantId, fieldExceptionKey(vendor), 'the pay link field was found in the PSA');
  const waiting = await tx
    .updateTable('invoice_pay_links')
    .set({ psa_state: 'pending' })
    .where('psa_state', '=', 'field_missing')
    .where('revoked_at', 'is', null)
    .returning('invoice_id')
    .execute();
  await enqueueMany(
    tx,
    waiting.map((w) => payLinkJob(tenantId, w.invoice_id)),
  );
  return waiting.length;
}

/**
 * `settle doctor` / "Test connection": is the field there? When it is, the waiting links are queued and the
 * exception closes; when not, a warning carries the fix. Returns the finding's sentence (or warning).
 */
export async function checkPayLinkField(ctx: Pick<EngineContext, 'db' | 'connectors'>, tenantId: string): Promise<string | { warning: string } | null> {
  const psa = await ctx.connectors.psa(tenantId);
  const conn = await withTenant(ctx.db, tenantId, (tx) =>
    tx.selectFrom('connections').select(['vendor', 'config']).where('role', '=', 'psa').executeTakeFirst(),
  );
  if (!psa || !conn) return null;
  if (!payLinksOn(conn.config)) return `pay links are off for ${vendorName(conn.vendor)} (payLinks: "off")`;
  const target = payLinkTargetOf(psa);
  if (!target) return `${vendorName(conn.vendor)}: Settle writes no pay links into this PSA`;
  let said: string;
  try {
    said = await target.check(payLinkFieldOf(conn.vendor, conn.config));
  } catch (e) {
    // A warning, not a failure: the PSA works; only the "Pay now" links wait (their exception says the same).
    if (e instanceof PayLinkFieldMissing) return { warning: `${e.message}: pay links wait for it. ${e.fix}` };
    throw e;
  }
  const queued = await withTenant(ctx.db, tenantId, (tx) => fieldFound(tx, tenantId, conn.vendor));
  return queued > 0 ? `${said}; ${queued} waiting link(s) queued for writing` : said;
}
