// A reminder step marked "note in the PSA" writes a note on the client's company in the PSA, where the account
// manager works (job `collections-psa-note`, one per send). It goes through the connector's company-note
// write that failed payments use (PsaConnector.recordFailure: ConnectWise a company note, others what they
// allow), with our reference in it so a retry finds the note instead of writing a second one; its id is kept
// on the send.
import { withTenant } from '../../db/tenant.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { audit } from '../audit.ts';
import type { EngineContext } from '../context.ts';

export async function writeCollectionsPsaNote(ctx: EngineContext, tenantId: string, sendId: string): Promise<string> {
  const psa = await ctx.connectors.psa(tenantId);
  if (!psa) return 'no PSA connected';
  const job = await withTenant(ctx.db, tenantId, async (tx) => {
    const s = await tx
      .selectFrom('collection_sends as s')
      .innerJoin('invoices as i', 'i.id', 's.invoice_id')
      .innerJoin('collection_sequences as q', 'q.id', 's.sequence_id')
      .select([
        's.id',
        's.client_id',
        's.psa_note_id',
        's.step_key',
        's.offset_days',
        's.open_minor',
        's.currency',
        's.sent_on',
        'i.number',
        'i.due_on',
        'q.name',
      ])
      .where('s.id', '=', sendId)
      .executeTakeFirst();
    if (!s || s.psa_note_id) return null;
    const ref = await tx
      .selectFrom('external_refs')
      .select('remote_id')
      .where('entity', '=', 'client')
      .where('entity_id', '=', s.client_id)
      .where('system', '=', psa.vendor)
      .executeTakeFirst();
    return { s, clientRemoteId: ref?.remote_id ?? null };
  });
  if (!job) return 'nothing to do';
  if (!job.clientRemoteId) return `client is not linked to ${psa.vendor}`;
  const { s } = job;
  const text = [
    `Collections: reminder "${s.step_key}" (${s.name}) sent on ${s.sent_on} for invoice ${s.number}, due ${String(s.due_on)}.`,
    `Open: ${format(money(s.open_minor, parseCurrency(s.currency)))}. ${s.offset_days >= 14 ? 'Consider pausing new work until the balance is cleared.' : ''}`.trim(),
  ].join('\n');
  const r = await psa.recordFailure({
    clientExternalId: job.clientRemoteId,
    text,
    reference: `settle-collections:${s.id}`,
    idempotencyKey: `collections:${s.id}:${psa.vendor}:note`,
  });
  await withTenant(ctx.db, tenantId, async (tx) => {
    await tx.updateTable('collection_sends').set({ psa_note_id: r.remoteId }).where('id', '=', s.id).execute();
    await audit(
      tx,
      tenantId,
      'system:collections',
      'collections.psa_note_written',
      { type: 'client', id: s.client_id },
      {
        send_id: s.id,
        vendor: psa.vendor,
        remote_id: r.remoteId,
        already_recorded: r.alreadyRecorded,
      },
    );
  });
  return `${r.alreadyRecorded ? 'found' : 'written'} in ${psa.vendor} (${r.remoteId})`;
}
