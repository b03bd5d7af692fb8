// Credit memos applied to an invoice in ConnectWise (PsaConnector.creditApplications). ConnectWise records an
// applied credit as a row of the invoice's payments (GET /finance/invoices/{id}/payments) whose `credit`
// names the credit memo (an invoice of type CreditMemo); ConnectWise sets it, no API client can. The memo's
// number comes with the reference (`credit.identifier`), or from the memo itself when a site leaves it out.
import { z } from 'zod';
import { parseDecimal, type Currency } from '../../../domain/money.ts';
import type { PsaCreditApplication } from '../types.ts';
import type { ConnectWiseApi } from './api.ts';
import { cwPayment } from './schema.ts';

export async function listCreditApplications(api: ConnectWiseApi, invoiceId: number, currency: Currency, pageSize: number): Promise<PsaCreditApplication[]> {
  const out: PsaCreditApplication[] = [];
  for (let page = 1; ; page++) {
    const { rows } = await api.getList(`/finance/invoices/${invoiceId}/payments`, { page, pageSize });
    for (const p of z.array(cwPayment).parse(rows)) {
      if (!p.credit) continue;
      const number =
        p.credit.identifier ?? String(((await api.get(`/finance/invoices/${p.credit.id}`)).body as { invoiceNumber?: unknown }).invoiceNumber ?? '');
      out.push({
        remoteId: String(p.id),
        creditMemoExternalId: String(p.credit.id),
        creditMemoNumber: number,
        amount: parseDecimal(p.amount, currency),
        appliedOn: (p.paymentDate ?? '').slice(0, 10),
      });
    }
    if (rows.length < pageSize) return out;
  }
}
