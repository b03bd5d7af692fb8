// Credit notes applied in Xero (credit-note.ts) against the Xero simulator over real HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import { startXeroSimulator, type RunningXeroSimulator } from '../../../../simulators/xero/index.ts';
import type { ApplyCreditMemoInput } from '../types.ts';
import type { XeroConnector } from './connector.ts';
import { xeroConnectorFor } from '../../../../test/helpers/xero-connector.ts';

let x: RunningXeroSimulator;
let books: XeroConnector;
beforeEach(async () => {
  x = await startXeroSimulator();
  books = xeroConnectorFor(x);
});
afterEach(async () => {
  await x.close();
});

const apply = (memo: string, invoice: string, cents: number, key = `cm-${memo}-${invoice}`): ApplyCreditMemoInput => ({
  idempotencyKey: key,
  creditMemoNumber: memo,
  invoiceNumber: invoice,
  amount: money(cents, 'USD'),
  appliedOn: '2026-12-02',
  memo: 'Settle: credit memo applied in the PSA',
});

describe('Xero credit notes', () => {
  it('allocates the exported credit note to the same invoice, once; never creates one', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    x.sim.seedCreditNote({ number: 'CN-1', contactName: 'Acme', amount: '30.00' });
    const r = await books.applyCreditMemo(apply('CN-1', 'INV-1', 3000));
    expect(r).toMatchObject({ ok: true });
    const inv = x.sim.invoice('INV-1')!;
    expect(inv.totalCents - inv.paidCents - inv.creditedCents).toBe(7000);
    expect(x.sim.creditNote('CN-1')!.Status).toBe('PAID');
    const PUT = 'PUT /api.xro/2.0/CreditNotes/:id/Allocations';
    expect(x.sim.calls.counts.get(PUT)).toBe(1);
    // Sent again (the answer lost): found on the note's Allocations, not allocated twice.
    x.sim.calls.reset();
    expect(await books.applyCreditMemo(apply('CN-1', 'INV-1', 3000))).toEqual(r);
    expect(x.sim.calls.counts.get(PUT) ?? 0).toBe(0);
    expect(x.sim.creditNote('CN-1')!.allocations).toHaveLength(1);
    expect(x.sim.state()['creditNotes']).toHaveLength(1);
  });

  it('waits for a note or invoice the export has not brought (or approved) yet', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    x.sim.seedCreditNote({ number: 'CN-D', contactName: 'Acme', amount: '10.00', status: 'DRAFT' });
    x.sim.seedCreditNote({ number: 'CN-2', contactName: 'Acme', amount: '10.00' });
    expect(await books.applyCreditMemo(apply('CN-9', 'INV-1', 1000))).toMatchObject({ ok: false, retryable: true, waitingForCreditMemo: 'CN-9' });
    expect(await books.applyCreditMemo(apply('CN-D', 'INV-1', 1000))).toMatchObject({ ok: false, retryable: true, waitingForCreditMemo: 'CN-D' });
    expect(await books.applyCreditMemo(apply('CN-2', 'INV-9', 1000))).toMatchObject({ ok: false, retryable: true, waitingForInvoice: 'INV-9' });
    expect(x.sim.invoice('INV-1')!.creditedCents).toBe(0);
  });

  it('another contact’s invoice, or more than the note has left, is a final refusal saying what to fix', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    x.sim.seedInvoice({ number: 'INV-B', contactName: 'Birch', amount: '100.00' });
    x.sim.seedCreditNote({ number: 'CN-1', contactName: 'Acme', amount: '30.00' });
    const other = await books.applyCreditMemo(apply('CN-1', 'INV-B', 1000));
    expect(other).toMatchObject({ ok: false, retryable: false });
    expect((other as { error: string }).error).toMatch(/different contacts in Xero; correct the one exported wrongly/);
    const over = await books.applyCreditMemo(apply('CN-1', 'INV-1', 4000));
    expect(over).toMatchObject({ ok: false, retryable: false });
    expect((over as { error: string }).error).toMatch(/30 of credit left in Xero, less than the 40 applied in the PSA/);
    expect(x.sim.creditNote('CN-1')!.allocations).toHaveLength(0);
  });
});
