// What Settle writes into Autotask, which has no payment entity and no idempotency key (specs §2):
// - each payment Settle collects becomes a company note naming the invoice, the amount and our reference
//   (the MSP sees it on the company's Notes tab and in its activity), with a last line Settle reads back;
// - when Settle's payments cover the invoice total, the invoice's PaidDate is set (with WebServiceDate to the
//   same instant, so a later reversal can tell Settle's PaidDate from one staff typed) — if, and only if,
//   `entityInformation/fields` says those fields are writable.
// Every write is preceded by a read that finds it if it already happened (a retry after a lost answer).
import { z } from 'zod';
import { format, parseDecimal, toDecimalString, type Currency, type Money } from '../../../domain/money.ts';
import type { AutotaskApi, FieldInfo, Priority } from './api.ts';
import { atNote, type AtNote } from './mapping.ts';

const PAYMENT_LINE = /^settle:payment invoice=(\d+) amount=(-?\d+(?:\.\d+)?) currency=([A-Z]{3}) ref=(\S+)$/m;
/** Autotask's note title (Name) holds 250 characters; the body is long text. */
const MAX_NAME = 250;

export interface PaymentNote {
  readonly noteId: number;
  readonly invoiceId: number;
  readonly amount: Money;
  readonly reference: string;
  readonly stamp: string | null;
}

export function paymentLine(invoiceId: number, amount: Money, reference: string): string {
  return `settle:payment invoice=${invoiceId} amount=${toDecimalString(amount)} currency=${amount.currency} ref=${reference}`;
}

export function parsePaymentNote(n: AtNote): PaymentNote | null {
  const m = PAYMENT_LINE.exec(n.note ?? '');
  if (!m) return null;
  return { noteId: n.id, invoiceId: Number(m[1]), amount: parseDecimal(m[2]!, m[3]! as Currency), reference: m[4]!, stamp: n.lastModifiedDate ?? null };
}

export function paymentNoteBody(invoiceNumber: string, invoiceId: number, amount: Money, paidOn: string, reference: string): { name: string; note: string } {
  return {
    name: `Payment of ${format(amount)} received through Settle for invoice ${invoiceNumber}`.slice(0, MAX_NAME),
    note: [
      `Settle recorded a payment of ${format(amount)} on ${paidOn} against invoice ${invoiceNumber}.`,
      `The payment itself is in the books (QuickBooks/Xero); this note is how Autotask shows it. Do not edit the last line: Settle reads it.`,
      paymentLine(invoiceId, amount, reference),
    ].join('\n'),
  };
}

export function checkReference(reference: string): void {
  if (!/^[A-Za-z0-9:_-]+$/.test(reference)) throw new Error(`reference "${reference}" must be letters, digits, ':', '_' or '-'`);
}

/** A note action type to file Settle's notes under: "General" where the picklist has it, else the first active one. */
export async function noteActionType(api: AutotaskApi): Promise<number> {
  const fields = await api.fields('CompanyNotes', 'writeback'); // only ever asked to write a note
  const f = fields.find((x) => x.name.toLowerCase() === 'actiontype');
  const active = (f?.picklistValues ?? []).filter((p) => p.isActive);
  const pick = active.find((p) => /general/i.test(p.label)) ?? active[0];
  if (!pick) throw new Error('Autotask CompanyNotes has no active action type to file a note under');
  return Number(pick.value);
}

export async function writable(api: AutotaskApi, entity: string, field: string, priority: Priority = 'writeback'): Promise<boolean> {
  const fields: FieldInfo[] = await api.fields(entity, priority); // asked before a write
  const f = fields.find((x) => x.name.toLowerCase() === field.toLowerCase());
  return Boolean(f && !f.isReadOnly);
}

/** Settle's notes on these companies whose text contains `marker`, with retries (a read). */
export async function notesOf(api: AutotaskApi, companyIds: readonly number[], marker: string, priority: Priority): Promise<AtNote[]> {
  const out: AtNote[] = [];
  for (let i = 0; i < companyIds.length; i += 500) {
    const ids = companyIds.slice(i, i + 500);
    const filter = [
      { op: 'in', field: 'CompanyID', value: ids },
      { op: 'contains', field: 'Note', value: marker },
    ];
    for await (const page of api.query('CompanyNotes', filter, priority)) out.push(...z.array(atNote).parse(page));
  }
  return out;
}
