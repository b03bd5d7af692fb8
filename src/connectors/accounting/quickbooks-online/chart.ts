// QuickBooks Online's chart of accounts and tracking lists as the ledger-neutral LedgerChart the GL mapping
// reads (types.ts). Which roles an account may take follows QuickBooks' AccountType — the same rules
// `settle doctor` applies (engine/vendor-checks.ts): the bank a Bank account, fees an expense, surcharges
// and plan fees income, clearing an Other Current Asset (or Bank) that is not Undeposited Funds itself.
import type { GlRole, LedgerAccount, LedgerChart } from '../types.ts';
import type { QboApi } from './api.ts';
import { readTrackingLists } from './tracking.ts';

/** QuickBooks AccountTypes each role may name (null: any active account). */
export const QBO_ROLE_TYPES: Readonly<Record<GlRole, readonly string[] | null>> = {
  bank: ['Bank'],
  undeposited_funds: ['Other Current Asset'],
  clearing: ['Other Current Asset', 'Bank'],
  processing_fees: ['Expense', 'Other Expense', 'Cost of Goods Sold'],
  surcharge_income: ['Income', 'Other Income'],
  plan_fee_income: ['Income', 'Other Income'],
  client_credit: null,
  ach_discounts: ['Expense', 'Other Expense', 'Income', 'Other Income'],
  adjustments: null,
};

export function qboFits(type: string, subType: string): GlRole[] {
  return (Object.keys(QBO_ROLE_TYPES) as GlRole[]).filter((role) => {
    const types = QBO_ROLE_TYPES[role];
    if (types && !types.includes(type)) return false;
    // Undeposited Funds is never a clearing account of its own.
    return !(role === 'clearing' && subType === 'UndepositedFunds');
  });
}

export async function readQboChart(api: QboApi): Promise<LedgerChart> {
  const rows = await api.queryAll('Account', 'Active = true');
  const accounts: LedgerAccount[] = rows
    .map((r) => {
      const type = String(r['AccountType'] ?? '');
      const subType = String(r['AccountSubType'] ?? '');
      return { id: String(r['Id']), name: String(r['FullyQualifiedName'] ?? r['Name']), type, subType, fits: qboFits(type, subType) };
    })
    .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  const lists = await readTrackingLists(api);
  return {
    accounts,
    dimensions: [
      { key: 'class', label: 'Class', on: lists.classesOn, options: lists.classes },
      { key: 'location', label: lists.departmentLabel, on: lists.departmentsOn, options: lists.departments },
    ],
  };
}
