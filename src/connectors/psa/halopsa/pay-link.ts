// HaloPSA: the pay link lives in an invoice custom field the MSP creates (Configuration → Custom Objects →
// Custom Fields, table Invoices, type Text), named by the connection's `payLinkField` (name, e.g.
// CFSettlePayLink, or id); Halo's invoice templates and e-mails print it as $CFSettlePayLink. Written with
// Halo's convention for updates: `POST /Invoice` with an array of one item carrying the invoice id and only
// the custom field.
import { rowsOf, type HaloApi } from './api.ts';
import { PayLinkFieldMissing, type PayLinkTarget, type PayLinkWrite, type PayLinkWriteResult } from '../pay-link.ts';

interface HaloCustomField {
  readonly id: number;
  readonly name?: string | null;
  readonly label?: string | null;
  readonly value?: unknown;
}

const fixFor = (field: string): string =>
  `In HaloPSA open Configuration → Custom Objects → Custom Fields, add a Text field to Invoices named "${field}" ` +
  `(or put the name or id of an existing one as payLinkField in Settle's PSA connection), then add $${field} to ` +
  `your invoice template and invoice e-mail. Settle writes the links waiting for it when it next checks.`;

function customFieldsOf(body: unknown): HaloCustomField[] {
  const list = (body as { customfields?: unknown } | null)?.customfields;
  return Array.isArray(list) ? list.filter((c): c is HaloCustomField => typeof (c as HaloCustomField | null)?.id === 'number') : [];
}

function find(field: string, list: readonly HaloCustomField[]): HaloCustomField | undefined {
  if (/^\d+$/.test(field)) return list.find((c) => c.id === Number(field));
  const want = field.trim().toLowerCase();
  return list.find((c) => (c.name ?? '').trim().toLowerCase() === want);
}

const missing = (field: string): PayLinkFieldMissing => new PayLinkFieldMissing(`HaloPSA invoices have no custom field "${field}"`, fixFor(field));

export function haloPayLink(api: HaloApi): PayLinkTarget {
  return {
    async write(input: PayLinkWrite): Promise<PayLinkWriteResult> {
      if (!/^\d+$/.test(input.invoiceExternalId)) throw new Error(`"${input.invoiceExternalId}" is not a HaloPSA invoice id`);
      const id = Number(input.invoiceExternalId);
      const ours = find(input.field, customFieldsOf(await api.get(`/Invoice/${id}`)));
      if (!ours) throw missing(input.field);
      const now = typeof ours.value === 'string' && ours.value !== '' ? ours.value : null;
      if (now === input.url) return { outcome: 'already' };
      await api.post('/Invoice', [{ id, customfields: [{ id: ours.id, value: input.url ?? '' }] }]);
      return { outcome: 'written' };
    },
    async check(field: string): Promise<string> {
      const { rows } = rowsOf(await api.get('/Invoice', { pageinate: true, page_size: 1, page_no: 1 }), '/Invoice');
      const id = (rows[0] as { id?: unknown } | undefined)?.id;
      if (typeof id !== 'number') return `no invoice yet to look for the custom field "${field}" on; it is checked again with the first pay link`;
      const ours = find(field, customFieldsOf(await api.get(`/Invoice/${id}`)));
      if (!ours) throw missing(field);
      return `invoice custom field "${ours.name ?? field}" (id ${ours.id}) is there for pay links`;
    },
  };
}
