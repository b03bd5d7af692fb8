// QuickBooks bodies for collections: card surcharges and clients' credit on deposit lines of their own
// (where the MSP named accounts for them), and a payment made from credit drawn from the credit clearing
// account instead of Undeposited Funds.
import { describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import { depositBody, paymentBody, toBooksInvoice } from './mapping.ts';

const usd = (n: number) => money(BigInt(n), 'USD');
const invoice = toBooksInvoice(
  { Id: '130', DocNumber: '1001', CustomerRef: { value: '7' }, TotalAmt: 100, Balance: 100, CurrencyRef: { value: 'USD' } },
  'USD',
);
const payout = {
  idempotencyKey: 'deposit:1',
  payoutId: 'po_1',
  depositedOn: '2025-02-01',
  payments: [{ paymentRemoteId: '50', amount: usd(10_000) }],
  fees: usd(320),
  adjustments: usd(-500),
  surcharges: usd(200),
  clientCredit: usd(1_500),
  memo: 'payout',
};

describe('deposit with surcharges and client credit', () => {
  it('books surcharges as income and overpayments to the credit clearing account, each on its own line', () => {
    const { body, expectedTotal } = depositBody(payout, {
      bankAccountId: '35',
      feeExpenseAccountId: '60',
      adjustmentAccountId: '61',
      surchargeIncomeAccountId: '80',
      clientCreditAccountId: '90',
    });
    const lines = body['Line'] as { Amount: number; Description?: string; DepositLineDetail?: { AccountRef: { value: string } } }[];
    expect(lines.map((l) => [l.Amount, l.DepositLineDetail?.AccountRef.value ?? 'payment'])).toEqual([
      [100, 'payment'],
      [-3.2, '60'],
      [2, '80'],
      [15, '90'],
      [-5, '61'],
    ]);
    expect(expectedTotal).toEqual(usd(10_000 - 320 - 500 + 200 + 1_500));
  });

  it('without those accounts, surcharges and credit stay in the adjustments line and the total is the same', () => {
    const { body, expectedTotal } = depositBody(payout, { bankAccountId: '35', feeExpenseAccountId: '60', adjustmentAccountId: '61' });
    const lines = body['Line'] as { Amount: number; DepositLineDetail?: { AccountRef: { value: string } } }[];
    expect(lines.map((l) => [l.Amount, l.DepositLineDetail?.AccountRef.value ?? 'payment'])).toEqual([
      [100, 'payment'],
      [-3.2, '60'],
      [12, '61'],
    ]);
    expect(expectedTotal).toEqual(usd(10_880));
  });
});

describe('deposit with installment-plan fees', () => {
  const withFees = { ...payout, surcharges: usd(0), clientCredit: usd(0), adjustments: usd(0), planFees: usd(3_001) };
  it('books plan fees as income of their own on the mapped account, apart from surcharges', () => {
    const { body, expectedTotal } = depositBody(withFees, {
      bankAccountId: '35',
      feeExpenseAccountId: '60',
      adjustmentAccountId: '61',
      surchargeIncomeAccountId: '80',
      planFeeIncomeAccountId: '81',
    });
    const lines = body['Line'] as { Amount: number; Description?: string; DepositLineDetail?: { AccountRef: { value: string } } }[];
    expect(lines.map((l) => [l.Amount, l.DepositLineDetail?.AccountRef.value ?? 'payment'])).toEqual([
      [100, 'payment'],
      [-3.2, '60'],
      [30.01, '81'],
    ]);
    expect(lines[2]!.Description).toMatch(/^Installment plan fees, payout po_1/);
    expect(expectedTotal).toEqual(usd(10_000 - 320 + 3_001));
  });

  it('without the account, plan fees stay in the adjustments line and the total is the same', () => {
    const { body, expectedTotal } = depositBody(withFees, {
      bankAccountId: '35',
      feeExpenseAccountId: '60',
      adjustmentAccountId: '61',
      surchargeIncomeAccountId: '80',
    });
    const lines = body['Line'] as { Amount: number; DepositLineDetail?: { AccountRef: { value: string } } }[];
    expect(lines.map((l) => [l.Amount, l.DepositLineDetail?.AccountRef.value ?? 'payment'])).toEqual([
      [100, 'payment'],
      [-3.2, '60'],
      [30.01, '61'],
    ]);
    expect(expectedTotal).toEqual(usd(10_000 - 320 + 3_001));
  });
});

describe('payment made from client credit', () => {
  const input = {
    idempotencyKey: 'payment:c1',
    invoiceNumber: '1001',
    amount: usd(1_500),
    paidOn: '2025-02-03',
    reference: 'c1',
    memo: 'credit',
    fromClientCredit: true,
  };
  it('is drawn from the credit clearing account', () => {
    expect(paymentBody(input, invoice, { undepositedFundsAccountId: '4', clientCreditAccountId: '90' })['DepositToAccountRef']).toEqual({ value: '90' });
  });
  it('falls back to Undeposited Funds when no clearing account is set; ordinary payments never use it', () => {
    expect(paymentBody(input, invoice, { undepositedFundsAccountId: '4' })['DepositToAccountRef']).toEqual({ value: '4' });
    expect(
      paymentBody({ ...input, fromClientCredit: false }, invoice, { undepositedFundsAccountId: '4', clientCreditAccountId: '90' })['DepositToAccountRef'],
    ).toEqual({ value: '4' });
  });
});
