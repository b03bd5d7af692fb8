// Payments and failures written back to Autotask (notes.ts says what and why). Check before every write: the
// note carrying our reference is looked for first, on the first try and after any failure whose outcome is
// unknown (timeout, dropped answer, 5xx), so a payment is noted once however often the call is repeated.
import { retryDecision, sleep as defaultSleep } from '../../http.ts';
import { compare, format, parseDecimal, sum, type Currency, type Money } from '../../../domain/money.ts';
import type { RecordFailureInput, RecordPaymentInput, RecordPaymentResult, ReversePaymentInput, ReversePaymentResult } from '../types.ts';
import type { AutotaskApi } from './api.ts';
import { atInvoice, atNote, type AtInvoice } from './mapping.ts';
import { checkReference, noteActionType, notesOf, parsePaymentNote, paymentLine, paymentNoteBody, writable } from './notes.ts';

export interface WritebackOptions {
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

function numericId(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`"${value}" is not an Autotask ${what} id`);
  return Number(value);
}

async function retrying<T>(opts: WritebackOptions, attemptOnce: () => Promise<T>): Promise<T> {
  const sleep = opts.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptOnce();
    } catch (e) {
      const decision = retryDecision(e, attempt, opts.maxAttempts ?? 5);
      if (!decision.retry) throw e;
      await sleep(decision.delayMs);
    }
  }
}

async function invoiceOf(api: AutotaskApi, id: number): Promise<AtInvoice> {
  const raw = await api.get('Invoices', id, 'writeback');
  if (!raw) throw new Error(`Autotask invoice ${id} does not exist`);
  return atInvoice.parse(raw);
}

/** What Settle's own payment notes add up to on one invoice. */
async function settlePaidOn(api: AutotaskApi, inv: AtInvoice, currency: Currency): Promise<Money> {
  const notes = await notesOf(api, [inv.companyID], `settle:payment invoice=${inv.id} `, 'writeback');
  return sum(
    notes
      .map(parsePaymentNote)
      .filter((p) => p !== null && p.invoiceId === inv.id)
      .map((p) => p!.amount),
    currency,
  );
}

export async function recordPayment(api: AutotaskApi, input: RecordPaymentInput, opts: WritebackOptions): Promise<RecordPaymentResult> {
  if (!input.idempotencyKey) throw new Error('recordPayment needs an idempotencyKey');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.paidOn)) throw new Error(`paidOn "${input.paidOn}" is not YYYY-MM-DD`);
  checkReference(input.reference);
  const invoiceId = numericId(input.invoiceExternalId, 'invoice');
  const result = await retrying(opts, async () => {
    const inv = await invoiceOf(api, invoiceId);
    const mine = (await notesOf(api, [inv.companyID], `ref=${input.reference}`, 'writeback'))
      .map(parsePaymentNote)
      .find((p) => p?.reference === input.reference);
    if (mine) return { remoteId: String(mine.noteId), alreadyRecorded: true, inv };
    const body = paymentNoteBody(inv.invoiceNumber ?? String(inv.id), inv.id, input.amount, input.paidOn, input.reference);
    const noteId = await api.create('CompanyNotes', { companyID: inv.companyID, actionType: await noteActionType(api), ...body });
    return { remoteId: String(noteId), alreadyRecorded: false, inv };
  });
  await markPaidWhenCovered(api, result.inv, input.amount.currency, input.paidOn, opts);
  return { remoteId: result.remoteId, alreadyRecorded: result.alreadyRecorded };
}

/** PaidDate (and WebServiceDate, Settle's mark) once Settle's payments cover the total; never over a PaidDate already set. */
async function markPaidWhenCovered(api: AutotaskApi, first: AtInvoice, currency: Currency, paidOn: string, opts: WritebackOptions): Promise<void> {
  if (first.paidDate || first.isVoided) return;
  if (!(await writable(api, 'Invoices', 'PaidDate')) || !(await writable(api, 'Invoices', 'WebServiceDate'))) return;
  await retrying(opts, async () => {
    const inv = await invoiceOf(api, first.id);
    if (inv.paidDate || inv.isVoided) return;
    const paid = await settlePaidOn(api, inv, currency);
    if (compare(paid, parseDecimal(inv.invoiceTotal, currency)) < 0) return;
    const at = `${paidOn}T00:00:00.000Z`;
    await api.update('Invoices', { id: inv.id, paidDate: at, webServiceDate: at });
  });
}

/**
 * A refund, return or lost dispute: the payment note's amount is lowered to `remaining` (its last line
 * rewritten, a line added saying what happened), and a PaidDate Settle set is cleared when Settle's payments
 * no longer cover the total. Notes are not deleted (Autotask keeps the history); 'removed' means reduced to zero.
 */
export async function reversePayment(api: AutotaskApi, input: ReversePaymentInput, opts: WritebackOptions): Promise<ReversePaymentResult> {
  if (!input.idempotencyKey) throw new Error('reversePayment needs an idempotencyKey');
  const invoiceId = numericId(input.invoiceExternalId, 'invoice');
  const noteId = numericId(input.paymentRemoteId, 'note');
  const currency = input.remaining.currency;
  const outcome = await retrying(opts, async (): Promise<ReversePaymentResult['outcome']> => {
    const raw = await api.get('CompanyNotes', noteId, 'writeback');
    if (!raw) return 'already';
    const note = atNote.parse(raw);
    const p = parsePaymentNote(note);
    if (!p || p.invoiceId !== invoiceId) throw new Error(`Autotask note ${noteId} is not Settle's payment note for invoice ${invoiceId}`);
    if (compare(p.amount, input.remaining) <= 0) return 'already';
    const text = (note.note ?? '').replace(paymentLine(p.invoiceId, p.amount, p.reference), '').trimEnd();
    const said =
      input.remaining.amountMinor === 0n ? `reversed in full (was ${format(p.amount)})` : `reduced to ${format(input.remaining)} (was ${format(p.amount)})`;
    await api.update('CompanyNotes', {
      id: noteId,
      note: `${text}\nSettle: this payment was ${said} — a refund, return or dispute.\n${paymentLine(p.invoiceId, input.remaining, p.reference)}`,
    });
    return input.remaining.amountMinor === 0n ? 'removed' : 'reduced';
  });
  if (outcome !== 'already') await clearPaidDateIfUncovered(api, invoiceId, currency, opts);
  return { outcome };
}

async function clearPaidDateIfUncovered(api: AutotaskApi, invoiceId: number, currency: Currency, opts: WritebackOptions): Promise<void> {
  await retrying(opts, async () => {
    const inv = await invoiceOf(api, invoiceId);
    // Only a PaidDate Settle set (WebServiceDate at the same instant); one staff typed is theirs to change.
    if (!inv.paidDate || inv.paidDate !== inv.webServiceDate) return;
    const paid = await settlePaidOn(api, inv, currency);
    if (compare(paid, parseDecimal(inv.invoiceTotal, currency)) >= 0) return;
    await api.update('Invoices', { id: inv.id, paidDate: null, webServiceDate: null });
  });
}

/** A failed payment as a company note (the account manager sees it on the company), check-before-write. */
export async function recordFailure(api: AutotaskApi, input: RecordFailureInput, opts: WritebackOptions): Promise<RecordPaymentResult> {
  if (!input.idempotencyKey) throw new Error('recordFailure needs an idempotencyKey');
  checkReference(input.reference);
  const companyId = numericId(input.clientExternalId, 'company');
  const marker = `settle:failure ref=${input.reference}`;
  return retrying(opts, async () => {
    const existing = (await notesOf(api, [companyId], marker, 'writeback')).find((n) => (n.note ?? '').split('\n').includes(marker));
    if (existing) return { remoteId: String(existing.id), alreadyRecorded: true };
    const noteId = await api.create('CompanyNotes', {
      companyID: companyId,
      actionType: await noteActionType(api),
      name: 'Payment failed (Settle)',
      note: `${input.text.slice(0, 8000)}\n${marker}`,
    });
    return { remoteId: String(noteId), alreadyRecorded: false };
  });
}
