// What the bank-account page offers to pay by NACHA debit: the client's open US-dollar invoices (a NACHA
// file moves dollars only), each for what is still offerable — money already on its way is never offered
// again (thank-you.ts offerableMinor, as on the invoices page).
import type { Tx } from '../../db/tenant.ts';
import { listInvoiceRows } from '../../db/queries/invoice-list.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { offerableMinor } from './thank-you.ts';

export interface BankPayable {
  readonly id: string;
  readonly number: string;
  readonly dueOn: string;
  readonly amount: string;
  readonly amountMinor: string;
}

export async function payableByBank(tx: Tx, clientId: string): Promise<{ invoices: BankPayable[]; total: string | null }> {
  const rows = (await listInvoiceRows(tx, { client_id: clientId, limit: 200, offset: 0 })).filter(
    (i) => i.currency === 'USD' && BigInt(i.open_minor) > 0n && (i.status === 'open' || i.status === 'partially_paid'),
  );
  const invoices: BankPayable[] = [];
  let sum = 0n;
  for (const i of rows) {
    const offer = await offerableMinor(tx, i.id, BigInt(i.open_minor));
    if (offer <= 0n) continue;
    sum += offer;
    invoices.push({ id: i.id, number: i.number, dueOn: i.due_on ?? '', amount: format(money(offer, parseCurrency('USD'))), amountMinor: offer.toString() });
  }
  return { invoices, total: invoices.length ? format(money(sum, parseCurrency('USD'))) : null };
}
