// Autotask: where an invoice can carry the pay link. The Invoice entity reports no user-defined fields
// (`Invoices/entityInformation` hasUserDefinedFields false; Autotask's UDF categories do not include
// invoices), and Additional Invoice Field values are read-only in the API. Of the invoice's own fields only
// Comments, InvoiceEditorTemplateID, PaidDate and WebServiceDate are writable (`entityInformation/fields`);
// Comments is the one invoice templates print, so the link goes there, on a line of its own
// ("Pay online: <link>") below whatever the MSP wrote, which is kept. Should a database ever offer invoice
// UDFs, `payLinkField` may name one instead. Every call goes at the budget broker's 'link' priority (budget.ts):
// after payment write-backs, before polls — except a back catalogue's (`background`, "all open invoices"),
// which goes at 'sweep', after polls too, so it never holds up new invoices' links or payments.
import type { AutotaskApi, Priority } from './api.ts';
import { writable } from './notes.ts';
import { PayLinkFieldMissing, type PayLinkTarget, type PayLinkWrite, type PayLinkWriteResult } from '../pay-link.ts';

const LINE = 'Pay online: ';
const COMMENTS = 'comments';
/** Our line is recognised by its prefix and Settle's pay path, so a line the MSP wrote is never taken for it. */
const ours = (line: string): boolean => line.startsWith(LINE) && line.includes('/pay/');

/** The comments with our line replaced by `url` (or removed when null), the MSP's own lines kept as they were. */
export function commentsWithLink(comments: string | null, url: string | null): string {
  const kept = (comments ?? '').split('\n').filter((l) => !ours(l));
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  if (url) kept.push(`${LINE}${url}`);
  return kept.join('\n');
}

const udfFix = (field: string): string =>
  `Autotask invoices in this database have no user-defined field "${field}" (Autotask offers none on invoices). ` +
  `Set payLinkField to Comments (the default) in Settle's PSA connection and add the invoice Comments to your invoice template.`;

async function invoiceOf(api: AutotaskApi, id: number, priority: Priority): Promise<Record<string, unknown>> {
  const inv = (await api.get('Invoices', id, priority)) as Record<string, unknown> | null;
  if (!inv) throw new Error(`Autotask invoice ${id} does not exist`);
  return inv;
}

async function checkComments(api: AutotaskApi, priority: Priority = 'link'): Promise<void> {
  if (!(await writable(api, 'Invoices', 'Comments', priority)))
    throw new PayLinkFieldMissing(
      'Autotask does not let this API user change invoice Comments',
      "Give the API user's security level permission to edit invoices, or set payLinks to off in Settle's PSA connection.",
    );
}

async function checkUdf(api: AutotaskApi, field: string, priority: Priority = 'link'): Promise<void> {
  const udfs = await api.userDefinedFields('Invoices', priority);
  if (!udfs.some((u) => u.name.toLowerCase() === field.toLowerCase()))
    throw new PayLinkFieldMissing(`Autotask invoices have no user-defined field "${field}"`, udfFix(field));
}

export function autotaskPayLink(api: AutotaskApi): PayLinkTarget {
  return {
    async write(input: PayLinkWrite): Promise<PayLinkWriteResult> {
      if (!/^\d+$/.test(input.invoiceExternalId)) throw new Error(`"${input.invoiceExternalId}" is not an Autotask invoice id`);
      const id = Number(input.invoiceExternalId);
      const priority: Priority = input.background ? 'sweep' : 'link';
      if (input.field.toLowerCase() === COMMENTS) {
        await checkComments(api, priority);
        const inv = await invoiceOf(api, id, priority);
        const now = typeof inv['comments'] === 'string' ? inv['comments'] : '';
        const wanted = commentsWithLink(now, input.url);
        if (wanted === now) return { outcome: 'already' };
        await api.update('Invoices', { id, Comments: wanted }, priority);
        return { outcome: 'written' };
      }
      await checkUdf(api, input.field, priority);
      const inv = await invoiceOf(api, id, priority);
      const list = Array.isArray(inv['userDefinedFields']) ? (inv['userDefinedFields'] as { name?: unknown; value?: unknown }[]) : [];
      const now = list.find((u) => String(u.name).toLowerCase() === input.field.toLowerCase())?.value ?? null;
      if ((now === '' ? null : now) === input.url) return { outcome: 'already' };
      await api.update('Invoices', { id, UserDefinedFields: [{ Name: input.field, Value: input.url ?? '' }] }, priority);
      return { outcome: 'written' };
    },
    async check(field: string): Promise<string> {
      if (field.toLowerCase() === COMMENTS) {
        await checkComments(api);
        return 'invoice Comments are writable: each pay link goes on a line of its own there';
      }
      await checkUdf(api, field);
      return `invoice user-defined field "${field}" is there for pay links`;
    },
  };
}
