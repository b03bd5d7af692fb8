// Shows a failed payment in the PSA, where the account manager works (ConnectWise: a flagged company note).
// The PSA has no idempotency key, so the connector looks for our reference before writing; the note's id
// is kept on the failure, and a crash between the two is healed by running this again.
import { format, money, parseCurrency } from '../domain/money.ts';
import { withTenant } from '../db/tenant.ts';
import { retryDecision, VendorError } from '../connectors/http.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { RetryLater } from './posting-failure.ts';

export async function recordPsaFailure(ctx: EngineContext, tenantId: string, failureId: string, attempt = 1): Promise<string> {
  const psa = await ctx.connectors.psa(tenantId);
  if (!psa) return 'no PSA connected';
  const job = await withTenant(ctx.db, tenantId, async (tx) => {
    const f = await tx.selectFrom('payment_failures').selectAll().where('id', '=', failureId).executeTakeFirst();
    if (!f || f.psa_note_id) return null;
    const p = await tx.selectFrom('payments').select(['amount_minor', 'currency', 'created_at']).where('id', '=', f.payment_id).executeTakeFirstOrThrow();
    const ref = await tx
      .selectFrom('external_refs')
      .select('remote_id')
      .where('entity', '=', 'client')
      .where('entity_id', '=', f.client_id)
      .where('system', '=', psa.vendor)
      .executeTakeFirst();
    const invoices = f.invoice_ids.length ? await tx.selectFrom('invoices').select('number').where('id', 'in', f.invoice_ids).orderBy('number').execute() : [];
    return { f, p, clientRemoteId: ref?.remote_id ?? null, numbers: invoices.map((i) => i.number) };
  });
  if (!job) return 'nothing to do';
  if (!job.clientRemoteId) return `client is not linked to ${psa.vendor}`;
  const { f, p } = job;
  const amount = format(money(p.amount_minor, parseCurrency(p.currency)));
  const next =
    f.decision === 'retry' && f.retry_at
      ? `Settle will retry on ${new Date(f.retry_at).toISOString().slice(0, 10)}.`
      : 'Settle will not retry this method; the client was asked to update their payment method.';
  const text = [
    `Payment failed: ${amount} for ${job.numbers.join(', ') || "the client's invoices"} on ${new Date(p.created_at).toISOString().slice(0, 10)}.`,
    `Method: ${f.method_label ?? 'unknown'}. Reason: ${f.failure_code ?? 'no code'}${f.return_code ? ` (${f.return_code})` : ''} — ${f.detail}.`,
    next,
  ].join('\n');
  try {
    const r = await psa.recordFailure({
      clientExternalId: job.clientRemoteId,
      text,
      reference: `settle-failure:${f.id}`,
      idempotencyKey: `failure:${f.id}:${psa.vendor}:note`,
    });
    await withTenant(ctx.db, tenantId, async (tx) => {
      await tx.updateTable('payment_failures').set({ psa_note_id: r.remoteId, updated_at: new Date() }).where('id', '=', f.id).execute();
      await audit(
        tx,
        tenantId,
        'system:record-psa-failure',
        'psa.failure_recorded',
        { type: 'payment', id: f.payment_id },
        { failure_id: f.id, vendor: psa.vendor, remote_id: r.remoteId, already_recorded: r.alreadyRecorded },
      );
    });
    return `${r.alreadyRecorded ? 'found' : 'written'} in ${psa.vendor} (${r.remoteId})`;
  } catch (e) {
    const decision = retryDecision(e, attempt, 12);
    if (decision.retry) throw new RetryLater(`${psa.vendor}: ${decision.reason}; retrying`);
    await withTenant(ctx.db, tenantId, (tx) =>
      audit(
        tx,
        tenantId,
        'system:record-psa-failure',
        'psa.failure_not_recorded',
        { type: 'payment', id: f.payment_id },
        { failure_id: f.id, vendor: psa.vendor, reason: decision.reason, error: (e as Error).message },
      ),
    );
    if (!(e instanceof VendorError)) throw e;
    return `failed: ${decision.reason}`;
  }
}
