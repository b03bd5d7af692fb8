// Sales credit notes and their allocation to invoices (specs/xero/xero_accounting.yaml › paths › /CreditNotes,
// /CreditNotes/{CreditNoteID}, /CreditNotes/{CreditNoteID}/Allocations › put; components › schemas ›
// CreditNote, Allocation: Amount, Invoice and Date required). The credit notes are the PSA's accounting
// export's (seeded through control.ts); what Settle does is allocate one to an invoice. Xero's rules, checked
// per allocation: the credit note AUTHORISED, the invoice an AUTHORISED ACCREC invoice of the SAME contact and
// currency, Amount > 0 and at most both the credit note's remaining credit and the invoice's amount due. An
// allocation lowers the invoice's AmountDue (PAID at zero) and the note's RemainingCredit (PAID at zero).
import { randomUUID } from 'node:crypto';
import { toCents, toDay, unknownFields } from './errors.ts';
import { cents, dayDate, msDate, type Rec, type XeroCreditNote, type XeroStore } from './store.ts';
import type { Created } from './writes.ts';

const ALLOCATION_FIELDS = ['Invoice', 'Amount', 'Date'];

export function remainingCents(n: XeroCreditNote): number {
  return n.totalCents - n.allocations.reduce((s, a) => s + a.amountCents, 0);
}

export function creditNoteJson(store: XeroStore, n: XeroCreditNote): Rec {
  const contact = store.contacts.find((c) => c.ContactID === n.ContactID);
  return {
    Type: 'ACCRECCREDIT',
    CreditNoteID: n.CreditNoteID,
    CreditNoteNumber: n.CreditNoteNumber,
    Contact: { ContactID: n.ContactID, Name: contact?.Name ?? '' },
    Date: dayDate(n.Date),
    Status: n.Status,
    LineAmountTypes: 'NoTax',
    SubTotal: cents(n.totalCents),
    TotalTax: 0,
    Total: cents(n.totalCents),
    RemainingCredit: cents(remainingCents(n)),
    CurrencyCode: n.CurrencyCode,
    Allocations: n.allocations.map((a) => allocationJson(store, n, a.AllocationID)),
    UpdatedDateUTC: msDate(n.updatedAt),
  };
}

function allocationJson(store: XeroStore, n: XeroCreditNote, allocationId: string): Rec {
  const a = n.allocations.find((x) => x.AllocationID === allocationId)!;
  const inv = store.invoices.find((i) => i.InvoiceID === a.InvoiceID)!;
  return {
    AllocationID: a.AllocationID,
    Amount: cents(a.amountCents),
    Date: dayDate(a.Date),
    Invoice: { InvoiceID: inv.InvoiceID, InvoiceNumber: inv.InvoiceNumber },
    CreditNote: { CreditNoteID: n.CreditNoteID, CreditNoteNumber: n.CreditNoteNumber },
  };
}

/** One element of PUT /CreditNotes/{id}/Allocations. */
export function createAllocation(store: XeroStore, note: XeroCreditNote, body: Rec): Created {
  const messages = unknownFields(body, ALLOCATION_FIELDS).map((f) => `The property '${f}' is not a valid property of Allocation.`);
  const ref = body['Invoice'] as Rec | undefined;
  if (ref && typeof ref === 'object') messages.push(...unknownFields(ref, ['InvoiceID']).map((f) => `The property '${f}' is not a valid property of Invoice.`));
  const inv = typeof ref?.['InvoiceID'] === 'string' ? store.invoices.find((i) => i.InvoiceID === ref['InvoiceID']) : undefined;
  if (!inv) messages.push('Invoice could not be found');
  if (note.Status !== 'AUTHORISED') messages.push(`Only an AUTHORISED credit note can be allocated; this one is ${note.Status}`);
  if (inv && inv.Status !== 'AUTHORISED') messages.push('Allocations can only be made against Authorised documents');
  if (inv && inv.ContactID !== note.ContactID) messages.push('The credit note and the invoice must belong to the same contact');
  if (inv && inv.CurrencyCode !== note.CurrencyCode) messages.push('The credit note and the invoice must be in the same currency');
  const amount = toCents(body['Amount']);
  if (amount === null || amount <= 0) messages.push('Amount must be greater than zero');
  else {
    if (amount > remainingCents(note)) messages.push('The amount allocated exceeds the remaining credit on this credit note');
    if (inv && amount > inv.totalCents - inv.paidCents - inv.creditedCents) messages.push('The amount allocated exceeds the amount outstanding on the invoice');
  }
  const date = toDay(body['Date']);
  if (!date) messages.push('A valid date must be specified');
  if (messages.length > 0) return { ok: false, messages };
  const now = store.now();
  const a = { AllocationID: randomUUID(), InvoiceID: inv!.InvoiceID, amountCents: amount!, Date: date! };
  note.allocations.push(a);
  if (remainingCents(note) === 0) note.Status = 'PAID';
  note.updatedAt = now;
  inv!.creditedCents += amount!;
  if (inv!.paidCents + inv!.creditedCents === inv!.totalCents) inv!.Status = 'PAID';
  inv!.updatedAt = now;
  return { ok: true, json: allocationJson(store, note, a.AllocationID) };
}

/** Undo an allocation made earlier in a call that is not kept (summarizeErrors: all or nothing). */
export function undoAllocation(store: XeroStore, allocationId: string): void {
  for (const n of store.creditNotes) {
    const at = n.allocations.findIndex((a) => a.AllocationID === allocationId);
    if (at < 0) continue;
    const [a] = n.allocations.splice(at, 1);
    if (n.Status === 'PAID') n.Status = 'AUTHORISED';
    const inv = store.invoices.find((i) => i.InvoiceID === a!.InvoiceID)!;
    inv.creditedCents -= a!.amountCents;
    if (inv.Status === 'PAID') inv.Status = 'AUTHORISED';
    return;
  }
}
