// The QuickBooks Desktop connection's settings (registry.ts): accounts by the names the MSP sees in
// QuickBooks' chart of accounts (a ListID works too), and the Web Connector's password, sealed with the
// other secrets. Nothing here reaches QuickBooks directly — the Web Connector calls Settle (web-connector.ts).
import { z } from 'zod';
import type { Db } from '../../../db/pool.ts';
import { parseCurrency } from '../../../domain/money.ts';
import { QuickBooksDesktopConnector } from './connector.ts';
import type { QbRef } from './qbxml/xml.ts';
import type { QbdAccounts } from './work-intent.ts';

const account = (what: string) => z.string().trim().min(1).max(159).describe(what);

export const qbdConfigSchema = z.object({
  bankAccount: account('the bank account payouts land in, as named in QuickBooks (e.g. "Checking")'),
  feeAccount: account('the expense account for processing fees (e.g. "Merchant Fees")'),
  accountsReceivableAccount: account('Accounts Receivable').default('Accounts Receivable'),
  undepositedFundsAccount: account("where payments wait for their deposit; default: QuickBooks' Undeposited Funds").optional(),
  adjustmentAccount: account('refunds and other payout movements; default: the fee account').optional(),
  surchargeIncomeAccount: account('card surcharges collected').optional(),
  planFeeIncomeAccount: account('installment-plan fees collected').optional(),
  clientCreditAccount: account("clients' credit (overpayments), an Other Current Liability or Asset").optional(),
  clearingAccount: account('payout money whose payment is not in the books yet, and reversals; default: the adjustment account').optional(),
  paymentMethod: z.string().trim().min(1).max(31).optional().describe('payment method on payments, e.g. "Credit Card"'),
  companyFile: z.string().optional().describe('full path of the company file; empty: the one open in QuickBooks'),
  homeCurrency: z.string().default('USD'),
  /** The Web Connector's schedule, written into the .qwc file; the bound on how late a posting reaches QuickBooks. */
  runEveryMinutes: z.number().int().min(1).max(1440).default(5),
});

export const qbdSecretsSchema = z.object({
  webConnectorPassword: z.string().min(16, 'the Web Connector password needs at least 16 characters (settle connect makes one)'),
});

/** A QuickBooks Desktop ListID looks like "80000001-1234567890"; anything else is a full name. */
export function qbRef(value: string): QbRef {
  return /^[0-9A-F]{1,16}-\d{9,10}$/i.test(value) ? { listId: value } : { fullName: value };
}

export function qbdAccounts(c: z.infer<typeof qbdConfigSchema>): QbdAccounts {
  const opt = (k: keyof QbdAccounts, v: string | undefined) => (v ? { [k]: qbRef(v) } : {});
  return {
    bank: qbRef(c.bankAccount),
    fees: qbRef(c.feeAccount),
    accountsReceivable: qbRef(c.accountsReceivableAccount),
    ...opt('undepositedFunds', c.undepositedFundsAccount),
    ...opt('adjustments', c.adjustmentAccount),
    ...opt('surchargeIncome', c.surchargeIncomeAccount),
    ...opt('planFeeIncome', c.planFeeIncomeAccount),
    ...opt('clientCredit', c.clientCreditAccount),
    ...opt('clearing', c.clearingAccount),
    ...opt('paymentMethod', c.paymentMethod),
  };
}

export function buildQbdConnector(
  c: z.infer<typeof qbdConfigSchema>,
  s: z.infer<typeof qbdSecretsSchema>,
  hooks: { readonly db?: Db; readonly tenantId?: string },
): QuickBooksDesktopConnector {
  // Built without the database only to validate settings (connect-with-keys tries keys this way): nothing to try
  // at QuickBooks Desktop, which cannot be called; using such a connector fails clearly (connector.ts).
  return new QuickBooksDesktopConnector(
    {
      accounts: qbdAccounts(c),
      home: parseCurrency(c.homeCurrency),
      runEveryMinutes: c.runEveryMinutes,
      ...(c.companyFile ? { companyFile: c.companyFile } : {}),
    },
    hooks.db ?? null,
    hooks.tenantId ?? '',
    s.webConnectorPassword,
  );
}
