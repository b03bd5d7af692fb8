import { describe, expect, it } from 'vitest';
import { money } from '../money.ts';
import { addDays } from '../rules/calendar-date.ts';
import { HistoryIndex, weightedMedian, type PaidRecord } from './history.ts';
import { mainBasis, predictInvoice, settlementDay, slicesTotal, type OpenInvoice } from './predict.ts';

const TODAY = '2026-06-15';
const usd = (n: number) => money(BigInt(n), 'USD');
let seq = 0;
/** A paid invoice of `client` due `due`, paid `late` days after it, with reminders at the given offsets. */
function paid(client: string, due: string, late: number, reminderOffsets: number[] = []): PaidRecord {
  return {
    invoiceId: `p${++seq}`,
    clientId: client,
    dueOn: due,
    paidOn: addDays(due, late),
    reminders: reminderOffsets.map((o) => ({ sentOn: addDays(due, o), offsetDays: o })),
  };
}
const open = (over: Partial<OpenInvoice> = {}): OpenInvoice => ({
  invoiceId: 'open-1',
  clientId: 'acme',
  open: usd(100_00),
  dueOn: '2026-06-20',
  remindersActive: false,
  ...over,
});
/** Ten workspace invoices from other clients, each paid 10 days late. */
const workspaceTen = () => Array.from({ length: 10 }, (_, i) => paid(`other-${i}`, addDays('2026-03-01', i * 7), 10));

describe('weighted median', () => {
  it('is the value where the running weight reaches half', () => {
    expect(weightedMedian([])).toBeNull();
    expect(weightedMedian([{ value: 5, weight: 1 }])).toBe(5);
    expect(weightedMedian([3, 1, 100].map((value) => ({ value, weight: 1 })))).toBe(3);
    // the recent one (weight 3) outweighs two old ones
    expect(
      weightedMedian([
        { value: 30, weight: 1 },
        { value: 30, weight: 1 },
        { value: 2, weight: 3 },
      ]),
    ).toBe(2);
  });
});

describe('predictInvoice: one basis each', () => {
  it("the client's own days late (median, robust to one very late payment)", () => {
    const h = new HistoryIndex([paid('acme', '2026-03-01', 5), paid('acme', '2026-04-01', 7), paid('acme', '2026-02-01', 90), ...workspaceTen()]);
    const p = predictInvoice(open(), [], h, TODAY);
    expect(p.slices).toHaveLength(1);
    expect(p.slices[0]).toMatchObject({ on: '2026-06-27', basis: 'client_history' });
    expect(p.slices[0]!.amount).toEqual(usd(100_00));
  });

  it("the workspace's history when the client has fewer than 3 paid invoices", () => {
    const h = new HistoryIndex([paid('acme', '2026-03-01', 40), ...workspaceTen()]);
    expect(predictInvoice(open(), [], h, TODAY).slices[0]).toMatchObject({ on: '2026-06-30', basis: 'workspace_history' });
  });

  it("the invoice's terms with too little history anywhere, and says so", () => {
    const p = predictInvoice(open(), [], new HistoryIndex([paid('acme', '2026-03-01', 4)]), TODAY);
    expect(p.slices[0]).toMatchObject({ on: '2026-06-20', basis: 'terms' });
    expect(p.slices[0]!.detail).toContain('too little history');
  });

  it('an overdue invoice on terms alone has no day: overdue beyond history', () => {
    const p = predictInvoice(open({ dueOn: '2026-06-01' }), [], new HistoryIndex([]), TODAY);
    expect(p.slices[0]).toMatchObject({ on: null, basis: 'terms' });
  });

  it('a client who pays after the second reminder is predicted from that reminder', () => {
    // reminders at +3 and +10; pays 2 days after the second, every time
    const h = new HistoryIndex([
      paid('acme', '2026-03-01', 12, [3, 10]),
      paid('acme', '2026-04-01', 12, [3, 10]),
      paid('acme', '2026-05-01', 12, [3, 10, 20]),
      ...workspaceTen(),
    ]);
    const withReminders = predictInvoice(open({ remindersActive: true }), [], h, TODAY);
    expect(withReminders.slices[0]).toMatchObject({ on: '2026-07-02', basis: 'client_reminders' });
    expect(withReminders.slices[0]!.detail).toContain('after reminder 2');
    // Collections Assist off for the client: days late instead
    expect(predictInvoice(open(), [], h, TODAY).slices[0]).toMatchObject({ on: '2026-07-02', basis: 'client_history' });
  });

  it('an overdue invoice already later than the usual is predicted from the invoices at least as late', () => {
    const h = new HistoryIndex([paid('acme', '2026-01-01', 2), paid('acme', '2026-02-01', 3), paid('acme', '2026-03-01', 4), paid('acme', '2026-04-01', 30)]);
    // due 2026-06-01, 14 days late on TODAY: only the 30-days-late one is as late
    expect(predictInvoice(open({ dueOn: '2026-06-01' }), [], h, TODAY).slices[0]).toMatchObject({ on: '2026-07-01', basis: 'client_history' });
    // 40 days late: later than this client ever paid, and no workspace history -> no day
    expect(predictInvoice(open({ dueOn: '2026-05-06' }), [], h, TODAY).slices[0]).toMatchObject({ on: null, basis: 'client_history' });
  });

  it('autopay pays on the charge date, plus ACH settlement banking days for a bank method', () => {
    const h = new HistoryIndex(workspaceTen());
    const card = predictInvoice(open(), [{ kind: 'autopay', chargeOn: '2026-06-20', methodKind: 'card' }], h, TODAY);
    expect(card.slices).toEqual([expect.objectContaining({ on: '2026-06-20', basis: 'autopay' })]);
    // Saturday 2026-06-20 + 4 banking days: Mon 22, Tue 23, Wed 24, Thu 25
    const bank = predictInvoice(open(), [{ kind: 'autopay', chargeOn: '2026-06-20', methodKind: 'us_bank_account' }], h, TODAY);
    expect(bank.slices[0]!.on).toBe('2026-06-25');
    // a charge date already passed (waiting for a retry) is charged no earlier than today
    expect(predictInvoice(open(), [{ kind: 'autopay', chargeOn: '2026-06-01', methodKind: 'card' }], h, TODAY).slices[0]!.on).toBe(TODAY);
  });

  it('an installment plan pays on its part dates; what the parts do not cover follows history', () => {
    const h = new HistoryIndex(workspaceTen());
    const p = predictInvoice(
      open({ open: usd(100_00) }),
      [
        { kind: 'installment_part', dueOn: '2026-08-01', amount: usd(30_00) },
        { kind: 'installment_part', dueOn: '2026-07-01', amount: usd(30_00) },
      ],
      h,
      TODAY,
    );
    expect(p.slices.map((s) => [s.on, s.amount.amountMinor, s.basis])).toEqual([
      ['2026-07-01', 30_00n, 'installment_plan'],
      ['2026-08-01', 30_00n, 'installment_plan'],
      ['2026-06-30', 40_00n, 'workspace_history'],
    ]);
    expect(slicesTotal(p)).toEqual(usd(100_00));
    expect(mainBasis(p)).toBe('workspace_history');
  });

  it('an ACH debit in flight settles on its expected day, never more than is open', () => {
    const h = new HistoryIndex([]);
    const bank = predictInvoice(
      open({ open: usd(50_00) }),
      [{ kind: 'ach_in_flight', via: 'bank', startedOn: '2026-06-12', effectiveOn: '2026-06-16', amount: usd(80_00) }],
      h,
      TODAY,
    );
    expect(bank.slices).toEqual([expect.objectContaining({ on: '2026-06-16', basis: 'ach_in_flight', amount: usd(50_00) })]);
    // through the processor: submitted Friday 2026-06-12, four banking days: 15, 16, 17, 18
    const stripe = predictInvoice(
      open(),
      [{ kind: 'ach_in_flight', via: 'processor', startedOn: '2026-06-12', effectiveOn: null, amount: usd(100_00) }],
      h,
      TODAY,
    );
    expect(stripe.slices[0]!.on).toBe('2026-06-18');
  });

  it('settlement days skip weekends beyond the holiday table instead of failing', () => {
    expect(settlementDay('2099-01-02', 1)).toBe('2099-01-05'); // Friday -> Monday
  });
});

describe('no look-ahead', () => {
  it('history paid on or after the as-of day, and the invoice itself, are never read', () => {
    const before = [paid('acme', '2026-01-01', 1), paid('acme', '2026-02-01', 1), paid('acme', '2026-03-01', 1)];
    // three much later payments AFTER the as-of day would move the median if they were read
    const after = [paid('acme', '2026-06-01', 50), paid('acme', '2026-06-05', 50), paid('acme', '2026-06-10', 50)];
    const h = new HistoryIndex([...before, ...after]);
    const asOf = '2026-05-01';
    expect(h.client('acme', asOf).records.map((r) => r.invoiceId)).toEqual(before.map((r) => r.invoiceId));
    expect(h.client('acme', before[2]!.paidOn).records).toHaveLength(2); // paid that very day: not yet known
    expect(h.client('acme', '2026-12-31', after[0]!.invoiceId).records.map((r) => r.invoiceId)).not.toContain(after[0]!.invoiceId);
  });
});
