// Statement of account: every open invoice of a client with what it still owes and how long it has been due,
// summed into aging buckets (current, 1–30, 31–60, 61–90, over 90 days) per currency, as a PDF drawn with
// pdf-lib (a maintained, pure-JavaScript PDF library: no native build, no headless browser). Reminders link
// to it through the portal (GET /portal/:token/statement.pdf); staff open it from the client's collections page.
import { sql } from 'kysely';
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { Tx } from '../../db/tenant.ts';
import { openMinorOf } from '../../db/queries/invoice-list.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { daysBetween, type IsoDate } from '../../domain/rules/calendar-date.ts';

export const AGING_BUCKETS = ['Current', '1–30 days', '31–60 days', '61–90 days', 'Over 90 days'] as const;

export function bucketOf(dueOn: IsoDate | null, today: IsoDate): number {
  const late = dueOn ? daysBetween(dueOn, today) : 0;
  if (late <= 0) return 0;
  if (late <= 30) return 1;
  if (late <= 60) return 2;
  if (late <= 90) return 3;
  return 4;
}

export interface StatementLine {
  readonly number: string;
  readonly issuedOn: string;
  readonly dueOn: string | null;
  readonly currency: string;
  readonly totalMinor: bigint;
  readonly openMinor: bigint;
  readonly daysLate: number;
  readonly bucket: number;
}

export interface Statement {
  readonly mspName: string;
  readonly clientName: string;
  readonly asOf: IsoDate;
  readonly lines: readonly StatementLine[];
  /** Per currency: the five buckets and the total, in minor units. */
  readonly aging: readonly { readonly currency: string; readonly buckets: readonly bigint[]; readonly total: bigint }[];
}

export async function statementOf(tx: Tx, clientId: string, today: IsoDate): Promise<Statement | null> {
  const client = await tx.selectFrom('clients').select(['name', 'tenant_id']).where('id', '=', clientId).executeTakeFirst();
  if (!client) return null;
  const tenant = await tx.selectFrom('tenants').select('name').where('id', '=', client.tenant_id).executeTakeFirstOrThrow();
  const brand = await tx.selectFrom('workspace_branding').select('sender_name').executeTakeFirst();
  const rows = await sql<{ number: string; issued_on: string; due_on: string | null; currency: string; total_minor: bigint; open_minor: string }>`
    SELECT i.number, i.issued_on::text, i.due_on::text, i.currency, i.total_minor,
           (${openMinorOf(sql.ref('i.id'), sql.ref('i.psa_balance_minor'))})::text AS open_minor
      FROM invoices i
     WHERE i.client_id = ${clientId}::uuid AND i.status IN ('open', 'partially_paid')
     ORDER BY i.due_on NULLS LAST, i.number`.execute(tx);
  const lines = rows.rows
    .map((r) => ({
      number: r.number,
      issuedOn: r.issued_on,
      dueOn: r.due_on,
      currency: r.currency,
      totalMinor: BigInt(r.total_minor),
      openMinor: BigInt(r.open_minor),
      daysLate: r.due_on ? Math.max(0, daysBetween(r.due_on, today)) : 0,
      bucket: bucketOf(r.due_on, today),
    }))
    .filter((l) => l.openMinor > 0n);
  const by = new Map<string, bigint[]>();
  for (const l of lines) {
    const b = by.get(l.currency) ?? [0n, 0n, 0n, 0n, 0n];
    b[l.bucket]! += l.openMinor;
    by.set(l.currency, b);
  }
  return {
    mspName: brand?.sender_name ?? tenant.name,
    clientName: client.name,
    asOf: today,
    lines,
    aging: [...by].map(([currency, buckets]) => ({ currency, buckets, total: buckets.reduce((a, b) => a + b, 0n) })),
  };
}

const amount = (minor: bigint, currency: string): string => format(money(minor, parseCurrency(currency)));
// The standard PDF fonts encode WinAnsi only: anything else in a name (a PSA's emoji, CJK) is shown as "?".
const winAnsi = (s: string): string => s.replace(/[–—]/g, '-').replace(/[^\x20-\x7e\xa0-\xff€]/g, '?');

/** The statement as PDF bytes: A4-ish US Letter pages, a heading, the aging table, then every open invoice. */
export async function statementPdf(s: Statement): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(winAnsi(`Statement of account - ${s.clientName}`));
  doc.setAuthor(winAnsi(s.mspName));
  doc.setCreator('Settle');
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  let page: PDFPage = doc.addPage([612, 792]);
  let y = 740;
  const text = (t: string, x: number, f: PDFFont = font, size = 10): void => {
    page.drawText(winAnsi(t), { x, y, size, font: f, color: rgb(0.1, 0.1, 0.1) });
  };
  const right = (t: string, xRight: number, f: PDFFont = font, size = 10): void => text(t, xRight - f.widthOfTextAtSize(winAnsi(t), size), f, size);
  const next = (dy = 16): void => {
    y -= dy;
    if (y < 60) {
      page = doc.addPage([612, 792]);
      y = 740;
    }
  };
  text(s.mspName, 50, bold, 16);
  next(24);
  text(`Statement of account for ${s.clientName}`, 50, bold, 12);
  next();
  text(`As of ${s.asOf}. Every invoice still open, with what it owes and how long it has been due.`, 50);
  next(28);
  text('Aging', 50, bold, 12);
  next();
  const cols = [170, 250, 330, 410, 490, 562];
  text('Currency', 50, bold);
  AGING_BUCKETS.forEach((b, i) => right(b, cols[i]!, bold));
  right('Total', cols[5]!, bold);
  next();
  for (const a of s.aging) {
    text(a.currency, 50);
    a.buckets.forEach((n, i) => right(amount(n, a.currency), cols[i]!));
    right(amount(a.total, a.currency), cols[5]!, bold);
    next();
  }
  if (!s.aging.length) {
    text('Nothing is open: thank you.', 50);
    next();
  }
  next(12);
  text('Open invoices', 50, bold, 12);
  next();
  const head = (): void => {
    text('Invoice', 50, bold);
    text('Issued', 150, bold);
    text('Due', 230, bold);
    right('Days late', 360, bold);
    right('Total', 460, bold);
    right('Open', 562, bold);
    next();
  };
  head();
  for (const l of s.lines) {
    text(l.number, 50);
    text(l.issuedOn, 150);
    text(l.dueOn ?? '-', 230);
    right(String(l.daysLate), 360);
    right(amount(l.totalMinor, l.currency), 460);
    right(amount(l.openMinor, l.currency), 562);
    next();
    if (y === 740) head();
  }
  return doc.save();
}
