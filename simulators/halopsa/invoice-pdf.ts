// `POST /api/Invoice/PDF/{id}` (swagger.json: tag InvoiceHeader, integer path id, no query parameters, no
// request body, "200 Success"). The description gives no content for the answer; the simulator answers the
// invoice drawn as a PDF (application/pdf) — its number, client, dates and lines — which is what Settle's
// connector accepts (anything else it takes as "no PDF"). Bearer token and rate limit as every /api route;
// a parameter the route does not have, or an id that is not an integer, is a 400 problem; an unknown invoice 404.
import type { FastifyInstance } from 'fastify';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { BadRequest, problem, readQuery } from './query.ts';
import type { HaloState } from './store.ts';

const winAnsi = (s: string): string => s.replace(/[^\x20-\x7e]/g, '?');

export function registerInvoicePdf(api: FastifyInstance, state: HaloState): void {
  api.post('/Invoice/PDF/:id', async (req, reply) => {
    readQuery(req.query as Record<string, unknown>, [], [], 'POST /Invoice/PDF/{id}');
    const raw = (req.params as { id?: string }).id ?? '';
    if (!/^\d+$/.test(raw) || Number(raw) > 2_147_483_647) throw new BadRequest(`The value '${raw}' is not valid.`, 'id');
    const inv = state.invoices.get(Number(raw));
    if (!inv) return reply.code(404).send(problem(404, `Invoice ${raw} not found.`));
    const client = state.clients.get(inv.client_id);
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    const page = doc.addPage([612, 792]);
    let y = 740;
    const line = (t: string, size = 11): void => {
      page.drawText(winAnsi(t), { x: 50, y, size, font });
      y -= size + 8;
    };
    line(`Invoice ${inv.invoicenumber}`, 18);
    line(`Client: ${client?.name ?? inv.client_id}`);
    line(`Invoice date: ${inv.invoiceDate}   Due: ${inv.dueDate ?? '-'}   Currency: ${inv.currency}`);
    for (const l of inv.lines) line(`${l.item_shortdescription} x ${l.qty_order}`);
    return reply.type('application/pdf').send(Buffer.from(await doc.save()));
  });
}
