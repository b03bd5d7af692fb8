// "Change the mapping": the PSA invoice a payment is for exists in the books under another number (the
// bookkeeper typed "INV-1042" for ConnectWise's 1042, or exported it twice and voided one), so Settle's
// look-up by number finds nothing — the payment waits — or the wrong record. A person names the books'
// number from the Needs-attention item; it is kept in external_refs (our id ↔ an outside system's id, the
// one mapping table) under the system `books-number:<vendor>`, and every books posting for that invoice —
// payments, the look-up while waiting, reversals — uses it from then on (booksInvoiceNumber below). The
// posting is retried at once with the new number. Audited with the old and new number.
import { sql, type RawBuilder } from 'kysely';
import type { Tx } from '../db/tenant.ts';
import { attentionItem } from '../db/queries/attention.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError } from './context.ts';
import { retryPosting, type RetriedPosting } from './retry-posting.ts';

export const booksNumberSystem = (vendor: string): string => `books-number:${vendor}`;

/** QuickBooks' DocNumber holds at most 21 characters. */
const NUMBER_MAX = 21;

/**
 * The invoice's number in the books for a posting: the mapped one, else the PSA's. For a query over
 * `postings as <alias>` joined to `invoices as i`: `.select(booksInvoiceNumber('po').as('invoice_number'))`.
 */
export function booksInvoiceNumber(postingAlias: 'po' | 'r'): RawBuilder<string> {
  return sql<string>`coalesce((SELECT x.remote_id FROM external_refs x
                                WHERE x.entity = 'invoice' AND x.entity_id = i.id
                                  AND x.system = 'books-number:' || ${sql.ref(`${postingAlias}.vendor`)}), i.number)`;
}

export interface Remapped {
  readonly invoice_id: string;
  readonly books_invoice_number: string;
  readonly previous: string;
  readonly posting: RetriedPosting;
}

export async function remapBooksInvoice(tx: Tx, tenantId: string, exceptionId: string, number: string, actor: Actor, now: Date): Promise<Remapped> {
  const locked = await tx.selectFrom('exceptions').select('id').where('id', '=', exceptionId).forUpdate().executeTakeFirst();
  const item = locked ? await attentionItem(tx, exceptionId) : undefined;
  if (!item) throw new UseCaseError('not_found', `no exception ${exceptionId} in this workspace`);
  if (item.status !== 'open') throw new UseCaseError('conflict', `exception ${exceptionId} is already closed; nothing to change`);
  if (!item.posting_id || item.posting_target !== 'accounting' || item.posting_kind !== 'payment' || item.posting_status === 'posted') {
    throw new UseCaseError('conflict', `"${item.title}" is not a payment waiting for or refused by the books, so there is no books invoice to change`);
  }
  const wanted = number.trim();
  if (!wanted) throw new UseCaseError('invalid', 'The books invoice number is missing: type the number the invoice has in the books');
  if (wanted.length > NUMBER_MAX)
    throw new UseCaseError('invalid', `The books invoice number is at most ${NUMBER_MAX} characters (this one has ${wanted.length})`);
  const p = await tx
    .selectFrom('postings as po')
    .innerJoin('invoices as i', 'i.id', 'po.invoice_id')
    .select(['po.id', 'po.vendor', 'i.id as invoice_id', 'i.number'])
    .select(booksInvoiceNumber('po').as('books_number'))
    .where('po.id', '=', item.posting_id)
    .executeTakeFirstOrThrow();
  const system = booksNumberSystem(p.vendor);
  const previous = p.books_number;
  const taken = await tx
    .selectFrom('external_refs as x')
    .innerJoin('invoices as i', 'i.id', 'x.entity_id')
    .select('i.number')
    .where('x.system', '=', system)
    .where('x.entity', '=', 'invoice')
    .where('x.remote_id', '=', wanted)
    .where('x.entity_id', '<>', p.invoice_id)
    .executeTakeFirst();
  if (taken) throw new UseCaseError('conflict', `books invoice ${wanted} is already mapped to invoice #${taken.number}; one books invoice per PSA invoice`);
  await tx.deleteFrom('external_refs').where('entity', '=', 'invoice').where('entity_id', '=', p.invoice_id).where('system', '=', system).execute();
  // Mapping back to the PSA's own number needs no row.
  if (wanted !== p.number) {
    await tx.insertInto('external_refs').values({ tenant_id: tenantId, entity: 'invoice', entity_id: p.invoice_id, system, remote_id: wanted }).execute();
  }
  await audit(
    tx,
    tenantId,
    actor,
    'invoice.books_number_mapped',
    { type: 'invoice', id: p.invoice_id },
    { vendor: p.vendor, from: previous, to: wanted, exception_id: exceptionId },
  );
  const posting = await retryPosting(tx, tenantId, p.id, actor, now);
  return { invoice_id: p.invoice_id, books_invoice_number: wanted, previous, posting };
}
