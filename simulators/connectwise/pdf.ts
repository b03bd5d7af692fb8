// `GET /finance/invoices/{id}/pdf`: ConnectWise answers the invoice rendered with its template as
// `application/pdf`. The simulator renders a one-page PDF (../text-pdf.ts) naming the invoice, its client,
// total and balance.
import { textPdf } from '../text-pdf.ts';
import type { CwInvoice } from './model.ts';

export function invoicePdf(invoice: CwInvoice): Buffer {
  return textPdf([
    `Invoice ${invoice.invoiceNumber}`,
    `Bill to: ${invoice.billToCompany.name}`,
    `Date: ${invoice.date.slice(0, 10)}   Due: ${invoice.dueDate.slice(0, 10)}`,
    `Total: ${invoice.total.toFixed(2)} ${invoice.currency.currencyCode}`,
    `Balance: ${invoice.balance.toFixed(2)} ${invoice.currency.currencyCode}`,
  ]);
}
