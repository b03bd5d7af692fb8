// ConnectWise: the pay link lives in an invoice custom field the MSP creates (System → Setup Tables → Custom
// Fields, screen Invoice, type Text). Every invoice carries the fields defined for its screen in
// `customFields` ([{id, caption, type, entryMethod, numberOfDecimals, value}]); the connection's
// `payLinkField` names ours by caption or id. The write is a JSON Patch of the whole `customFields` list
// with only our value changed (the other fields are sent back as they were).
import type { ConnectWiseApi } from './api.ts';
import { PayLinkFieldMissing, type PayLinkTarget, type PayLinkWrite, type PayLinkWriteResult } from '../pay-link.ts';

interface CwCustomField {
  readonly id: number;
  readonly caption?: string;
  readonly value?: unknown;
}

const fixFor = (field: string): string =>
  `In ConnectWise PSA open System → Setup Tables → Custom Fields, add a field on the Invoice screen of type Text ` +
  `captioned "${field}" (or put the caption or id of an existing one as payLinkField in Settle's PSA connection), ` +
  `then add it to your invoice template and invoice e-mail. Settle writes the links waiting for it when it next checks.`;

function customFieldsOf(body: unknown): CwCustomField[] {
  const list = (body as { customFields?: unknown } | null)?.customFields;
  return Array.isArray(list) ? list.filter((c): c is CwCustomField => typeof (c as CwCustomField | null)?.id === 'number') : [];
}

function find(field: string, list: readonly CwCustomField[]): CwCustomField | undefined {
  if (/^\d+$/.test(field)) return list.find((c) => c.id === Number(field));
  const want = field.trim().toLowerCase();
  return list.find((c) => (c.caption ?? '').trim().toLowerCase() === want);
}

const missing = (field: string): PayLinkFieldMissing => new PayLinkFieldMissing(`ConnectWise invoices have no custom field "${field}"`, fixFor(field));

export function connectWisePayLink(api: ConnectWiseApi): PayLinkTarget {
  return {
    async write(input: PayLinkWrite): Promise<PayLinkWriteResult> {
      if (!/^\d+$/.test(input.invoiceExternalId)) throw new Error(`"${input.invoiceExternalId}" is not a ConnectWise invoice id`);
      const path = `/finance/invoices/${input.invoiceExternalId}`;
      const list = customFieldsOf((await api.get(path)).body);
      const ours = find(input.field, list);
      if (!ours) throw missing(input.field);
      const now = typeof ours.value === 'string' && ours.value !== '' ? ours.value : null;
      if (now === input.url) return { outcome: 'already' };
      const value = list.map((c) => (c.id === ours.id ? { ...c, value: input.url } : c));
      await api.patch(path, [{ op: 'replace', path: 'customFields', value }]);
      return { outcome: 'written' };
    },
    async check(field: string): Promise<string> {
      const { rows } = await api.getList('/finance/invoices', { orderBy: 'id desc', page: 1, pageSize: 1 });
      if (rows.length === 0) return `no invoice yet to look for the custom field "${field}" on; it is checked again with the first pay link`;
      const ours = find(field, customFieldsOf(rows[0]));
      if (!ours) throw missing(field);
      return `invoice custom field "${ours.caption ?? field}" (id ${ours.id}) is there for pay links`;
    },
  };
}
