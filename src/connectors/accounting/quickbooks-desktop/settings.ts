// The QuickBooks Desktop connection's settings (registry.ts): accounts by the names the MSP sees in
// QuickBooks' chart of accounts (a ListID works too), and the Web Connector's password, sealed with the
// other secrets. Nothing here reaches QuickBooks directly — the Web Connector calls Settle (web-connector.ts).
import { z } from 'zod';
import type { Db } from '../../../db/pool.ts';
import { parseCurrency } from '../../../domain/money.ts';
import { QuickBooksDesktopConnector } from './connector.ts';
import type { QbRef } from './qbxml/xml.ts';
import type { QbdAccounts } from './work-intent.ts';

/** The GL mapping's keys (Settings → Accounts) and the QuickBooks Desktop account each one sets. */
export const ID_KEYS = {
  bankAccountId: 'bank',
  undepositedFundsAccountId: 'undepositedFunds',
  clearingAccountId: 'clearing',
  feeExpenseAccountId: 'fees',
  surchargeIncomeAccountId: 'surchargeIncome',
  planFeeIncomeAccountId: 'planFeeIncome',
  clientCreditAccountId: 'clientCredit',
  adjustmentAccountId: 'adjustments',
  achDiscountAccountId: 'achDiscounts',
} as const satisfies Record<string, keyof QbdAccounts>;

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
  achDiscountAccount: account('ACH discounts given to clients who pay by bank; default: in the adjustments line').optional(),
  clearingAccount: account('payout money whose payment is not in the books yet, and reversals; default: the adjustment account').optional(),
  paymentMethod: z.string().trim().min(1).max(31).optional().describe('payment method on payments, e.g. "Credit Card"'),
  companyFile: z.string().optional().describe('full path of the company file; empty: the one open in QuickBooks'),
  homeCurrency: z.string().default('USD'),
  /** The Web Connector's schedule, written into the .qwc file; the bound on how late a posting reaches QuickBooks. */
  runEveryMinutes: z.number().int().min(1).max(1440).default(5),
  // Chosen in Settings → Accounts from the chart the Web Connector brought (chart.ts): ListIDs, by the GL
  // mapping's own keys (engine/books-accounts.ts). Each, when set, takes the place of the named account above.
  ...Object.fromEntries(Object.keys(ID_KEYS).map((k) => [k, z.string().trim().min(1).max(159).optional().describe('a ListID, chosen in Settings → Accounts')])),
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
    ...opt('achDiscounts', c.achDiscountAccount),
    ...opt('paymentMethod', c.paymentMethod),
    ...Object.fromEntries(
      Object.entries(ID_KEYS)
        .filter(([k]) => typeof (c as Record<string, unknown>)[k] === 'string')
        .map(([k, role]) => [role, { listId: String((c as Record<string, unknown>)[k]) }]),
    ),
  };
}

/**
 * The mapping as Settings → Accounts and `settle doctor` see it (by the GL mapping's keys): a ListID chosen
 * there, else the account named in the keys form, found in the chart by its full name (left as the name when
 * the chart has no such account, so the check says so).
 */
export function mappedAccountIds(config: Readonly<Record<string, unknown>>, chart: readonly { id: string; name: string }[]): Record<string, string> {
  const named: Record<keyof typeof ID_KEYS, string> = {
    bankAccountId: 'bankAccount',
    undepositedFundsAccountId: 'undepositedFundsAccount',
    clearingAccountId: 'clearingAccount',
    feeExpenseAccountId: 'feeAccount',
    surchargeIncomeAccountId: 'surchargeIncomeAccount',
    planFeeIncomeAccountId: 'planFeeIncomeAccount',
    clientCreditAccountId: 'clientCreditAccount',
    adjustmentAccountId: 'adjustmentAccount',
    achDiscountAccountId: 'achDiscountAccount',
  };
  const out: Record<string, string> = {};
  for (const [key, nameKey] of Object.entries(named)) {
    const id = config[key];
    const name = config[nameKey];
    if (typeof id === 'string' && id) out[key] = id;
    else if (typeof name === 'string' && name) out[key] = chart.find((a) => a.id === name || a.name.toLowerCase() === name.toLowerCase())?.id ?? name;
  }
  return out;
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
