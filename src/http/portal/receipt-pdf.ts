// A payment's receipt as a PDF the client can keep (issue #12), drawn with pdf-lib (the project's one PDF
// library, shared with the statement of account): the MSP's name, the client, the date, what was paid with,
// the same lines as the e-mailed receipt (notify/payment-receipt.ts receiptLines) and the total charged.
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';
import type { ReceiptLine } from '../../notify/payment-receipt.ts';

export interface ReceiptPdfInput {
  readonly mspName: string;
  readonly clientName: string;
  readonly paidOn: string;
  readonly method: string;
  readonly reference: string;
  readonly lines: readonly ReceiptLine[];
  readonly total: string;
}

// The standard fonts speak WinAnsi only: anything else (a name in another script) is shown as "?", never an error.
const WIN_ANSI = /[^\x20-\x7e\xa0-\xff€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]/g;
const plain = (s: string): string => s.replace(WIN_ANSI, '?');

export async function receiptPdf(r: ReceiptPdfInput): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(plain(`Receipt from ${r.mspName}`));
  doc.setAuthor(plain(r.mspName));
  const page = doc.addPage([612, 792]); // US Letter
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const ink = rgb(0.1, 0.1, 0.12);
  let y = 720;
  const text = (s: string, x: number, size = 11, f = font) => page.drawText(plain(s), { x, y, size, font: f, color: ink });
  const right = (s: string, size = 11, f = font) => page.drawText(plain(s), { x: 540 - f.widthOfTextAtSize(plain(s), size), y, size, font: f, color: ink });

  text(r.mspName, 72, 18, bold);
  y -= 28;
  text('Payment receipt', 72, 14, bold);
  y -= 24;
  for (const [k, v] of [
    ['Received from', r.clientName],
    ['Date', r.paidOn],
    ['Paid with', r.method],
    ['Reference', r.reference],
  ] as const) {
    text(k, 72, 10, bold);
    text(v, 180, 10);
    y -= 16;
  }
  y -= 12;
  page.drawLine({ start: { x: 72, y: y + 8 }, end: { x: 540, y: y + 8 }, thickness: 0.5, color: ink });
  for (const l of r.lines) {
    y -= 18;
    text(l.label, 72);
    right(l.amount);
  }
  y -= 10;
  page.drawLine({ start: { x: 72, y }, end: { x: 540, y }, thickness: 0.5, color: ink });
  y -= 20;
  text('Total charged', 72, 12, bold);
  right(r.total, 12, bold);
  y -= 40;
  text(`Thank you for your payment. Questions? Reply to any e-mail from ${r.mspName}.`, 72, 9);
  return doc.save();
}
