import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planReversal, ReversalError, type ReversalInput } from './reversal.ts';

const base: ReversalInput = {
  currency: 'USD',
  amountMinor: 0n,
  grossMinor: 10_300n, // $100 invoice + $3 surcharge
  surchargeMinor: 300n,
  allocations: [{ invoiceId: 'a', amountMinor: 10_000n, reversedMinor: 0n }],
  reversedBeforeMinor: 0n,
  creditReversedBeforeMinor: 0n,
  order: 'credit_first',
};

describe('planReversal', () => {
  it('a full refund gives back the whole surcharge and reopens the invoice for what it was paid', () => {
    const p = planReversal({ ...base, amountMinor: 10_300n });
    expect(p).toEqual({
      amountMinor: 10_300n,
      surchargeMinor: 300n,
      planFeeMinor: 0n,
      fromCreditMinor: 0n,
      invoices: [{ invoiceId: 'a', amountMinor: 10_000n }],
    });
  });

  it('a partial refund returns the proportional surcharge, floored (§1.7)', () => {
    const p = planReversal({ ...base, amountMinor: 5_150n });
    expect(p.surchargeMinor).toBe(150n);
    expect(p.invoices).toEqual([{ invoiceId: 'a', amountMinor: 5_000n }]);
    const odd = planReversal({ ...base, amountMinor: 1_001n });
    expect(odd.surchargeMinor).toBe(29n); // floor(1001 * 300 / 10300) = 29
  });

  it('refunds take the unapplied credit first; returns take the invoices first', () => {
    const withCredit = { ...base, grossMinor: 12_300n, allocations: [{ invoiceId: 'a', amountMinor: 10_000n, reversedMinor: 0n }] }; // $20 unapplied
    expect(planReversal({ ...withCredit, amountMinor: 1_500n })).toEqual({
      amountMinor: 1_500n,
      surchargeMinor: 0n,
      planFeeMinor: 0n,
      fromCreditMinor: 1_500n,
      invoices: [],
    });
    const ret = planReversal({ ...withCredit, amountMinor: 12_300n, order: 'invoices_first' });
    expect(ret.fromCreditMinor).toBe(2_000n);
    expect(ret.surchargeMinor).toBe(300n);
    expect(ret.invoices).toEqual([{ invoiceId: 'a', amountMinor: 10_000n }]);
  });

  it('an installment-plan fee goes back in proportion like a surcharge, cumulative floors summing to the whole fee', () => {
    // A $100 part charged with a $2.50 plan fee (collect-installments.ts): no surcharge on an off-session part.
    const fee = { ...base, grossMinor: 10_250n, surchargeMinor: 0n, planFeeMinor: 250n };
    const first = planReversal({ ...fee, amountMinor: 4_001n });
    expect(first.planFeeMinor).toBe(97n); // floor(4001 * 250 / 10250) = 97
    expect(first.surchargeMinor).toBe(0n);
    expect(first.invoices).toEqual([{ invoiceId: 'a', amountMinor: 3_904n }]);
    const rest = planReversal({
      ...fee,
      amountMinor: 6_249n,
      reversedBeforeMinor: 4_001n,
      allocations: [{ invoiceId: 'a', amountMinor: 10_000n, reversedMinor: 3_904n }],
    });
    expect(first.planFeeMinor + rest.planFeeMinor).toBe(250n);
    expect(rest.invoices).toEqual([{ invoiceId: 'a', amountMinor: 6_096n }]);
  });

  it('reopens the invoice paid last first, across several invoices', () => {
    const two = {
      ...base,
      grossMinor: 3_000n,
      surchargeMinor: 0n,
      allocations: [
        { invoiceId: 'a', amountMinor: 1_000n, reversedMinor: 0n },
        { invoiceId: 'b', amountMinor: 2_000n, reversedMinor: 0n },
      ],
    };
    expect(planReversal({ ...two, amountMinor: 2_500n }).invoices).toEqual([
      { invoiceId: 'b', amountMinor: 2_000n },
      { invoiceId: 'a', amountMinor: 500n },
    ]);
  });

  it('refuses more than is left after earlier reversals', () => {
    expect(() => planReversal({ ...base, amountMinor: 10_301n })).toThrow(ReversalError);
    const after = { ...base, reversedBeforeMinor: 10_000n, allocations: [{ invoiceId: 'a', amountMinor: 10_000n, reversedMinor: 9_709n }] };
    expect(() => planReversal({ ...after, amountMinor: 301n })).toThrow(/only 300/);
    expect(() => planReversal({ ...base, amountMinor: 0n })).toThrow(ReversalError);
  });

  it('partial refunds adding up to the whole payment give back exactly the surcharge and every allocated cent', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 900 }), (parts, surcharge) => {
        const gross = 10_000n + BigInt(surcharge);
        const input = { ...base, grossMinor: gross, surchargeMinor: BigInt(surcharge) };
        let before = 0n;
        let surchargeBack = 0n;
        let reversed = 0n;
        const amounts = parts.map(BigInt);
        for (const [i, raw] of amounts.entries()) {
          const left = gross - before;
          const amount = i === amounts.length - 1 ? left : raw < left ? raw : left;
          if (amount <= 0n) break;
          const p = planReversal({
            ...input,
            amountMinor: amount,
            reversedBeforeMinor: before,
            allocations: [{ invoiceId: 'a', amountMinor: 10_000n, reversedMinor: reversed }],
          });
          before += amount;
          surchargeBack += p.surchargeMinor;
          reversed += p.invoices.reduce((s, x) => s + x.amountMinor, 0n);
        }
        expect(surchargeBack).toBe(BigInt(surcharge));
        expect(reversed).toBe(10_000n);
      }),
    );
  });
});
