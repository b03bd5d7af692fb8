// The GL mapping on QuickBooks Online without a network: which roles each account type may take (the chart
// the staff app's pickers and `settle doctor` share), and the ACH discounts' line of a payout's deposit.
import { describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import { qboFits } from './chart.ts';
import { depositBody } from './mapping.ts';

const usd = (c: number) => money(c, 'USD');

describe('roles by QuickBooks account type', () => {
  it('lets a Bank account be the bank or clearing, an expense take fees or ACH discounts, and never Undeposited Funds be clearing', () => {
    expect(qboFits('Bank', 'Checking')).toEqual(['bank', 'clearing', 'client_credit', 'adjustments']);
    expect(qboFits('Expense', 'OtherMiscellaneousServiceCost')).toEqual(['processing_fees', 'client_credit', 'ach_discounts', 'adjustments']);
    expect(qboFits('Income', 'DiscountsRefundsGiven')).toContain('ach_discounts');
    expect(qboFits('Income', 'ServiceFeeIncome')).toContain('surcharge_income');
    expect(qboFits('Other Current Asset', 'UndepositedFunds')).toEqual(['undeposited_funds', 'client_credit', 'adjustments']);
    expect(qboFits('Other Current Asset', 'OtherCurrentAssets')).toContain('clearing');
    expect(qboFits('Accounts Receivable', 'AccountsReceivable')).toEqual(['client_credit', 'adjustments']);
  });
});

describe('ACH discounts in a payout’s deposit', () => {
  const input = {
    idempotencyKey: 'payout:7',
    payoutId: 'po_7',
    depositedOn: '2026-12-01',
    payments: [{ paymentRemoteId: '300', amount: usd(10000) }],
    fees: usd(80),
    // The payout holds 9,800 for a 10,000 invoice paid with a 2% ACH discount: adjustments −200, of which discounts 200.
    adjustments: usd(-200),
    achDiscounts: usd(200),
    memo: '',
  };
  const accounts = { bankAccountId: '35', feeExpenseAccountId: '60', adjustmentAccountId: '61' };

  it('books them on a negative line of their own when an account is mapped, and the deposit still equals the payout', () => {
    const { body, expectedTotal } = depositBody(input, { ...accounts, achDiscountAccountId: '70' });
    expect(expectedTotal).toEqual(usd(9720));
    const lines = body['Line'] as Record<string, any>[];
    const discount = lines.find((l) => String(l['Description']).startsWith('ACH discounts'));
    expect(discount).toMatchObject({ Amount: -2, DepositLineDetail: { AccountRef: { value: '70' } } });
    expect(lines.some((l) => String(l['Description']).startsWith('Adjustments'))).toBe(false);
    expect(lines.reduce((s, l) => s + Math.round(Number(l['Amount']) * 100), 0)).toBe(9720);
  });

  it('leaves them in the adjustments line without one', () => {
    const { body, expectedTotal } = depositBody(input, accounts);
    expect(expectedTotal).toEqual(usd(9720));
    const lines = body['Line'] as Record<string, any>[];
    expect(lines.find((l) => String(l['Description']).startsWith('Adjustments'))).toMatchObject({
      Amount: -2,
      DepositLineDetail: { AccountRef: { value: '61' } },
    });
    expect(lines.some((l) => String(l['Description']).startsWith('ACH discounts'))).toBe(false);
  });

  it('refuses a negative discount', () => {
    expect(() => depositBody({ ...input, achDiscounts: usd(-1) }, { ...accounts, achDiscountAccountId: '70' })).toThrow(/positive/);
  });
});
