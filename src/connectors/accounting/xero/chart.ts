// Xero's chart of accounts for the GL mapping (AccountingConnector.readChart) and `settle doctor`. Xero takes
// payments only into BANK accounts or accounts with "Enable payments to this account" ticked, so those are
// what may be the clearing account; fee, income and credit lines may name any non-bank account. Ids are the
// account Codes, as the Xero connection's settings name them.
import type { GlRole, LedgerAccount, LedgerChart } from '../types.ts';
import type { XeroApi, Json } from './api.ts';

function fits(a: Json): GlRole[] {
  const type = String(a['Type']);
  if (type === 'BANK') return ['bank', 'clearing'];
  const roles: GlRole[] = ['processing_fees', 'surcharge_income', 'plan_fee_income', 'ach_discounts', 'adjustments'];
  if (a['EnablePaymentsToAccount'] === true) roles.push('clearing', 'client_credit');
  else if (type === 'CURRLIAB' || type === 'LIABILITY') roles.push('client_credit');
  return roles;
}

export async function readXeroChart(api: XeroApi): Promise<LedgerChart> {
  const res = await api.call({ method: 'GET', path: '/Accounts', params: { where: 'Status=="ACTIVE"' } });
  const accounts: LedgerAccount[] = ((res['Accounts'] as Json[] | undefined) ?? [])
    .filter((a) => typeof a['Code'] === 'string' && a['Code'] !== '')
    .map((a) => ({ id: String(a['Code']), name: `${String(a['Code'])} ${String(a['Name'])}`, type: String(a['Type']), subType: '', fits: fits(a) }));
  // No dimensions for the rules by contract kind: of what Settle writes to Xero, only the payout's fee and
  // income lines take Tracking, and those are per payout, not per invoice — so Xero's tracking is chosen
  // workspace-wide in Settings → Accounts (tracking.ts), not by the invoice's contract kind.
  return { accounts, dimensions: [] };
}

/** One sentence per mapped account that Xero does not have or cannot use for its role; empty when all fit. */
export function xeroAccountProblems(config: Readonly<Record<string, unknown>>, chart: LedgerChart): string[] {
  const problems: string[] = [];
  const roles: [string, GlRole, string][] = [
    ['bankAccountCode', 'bank', 'a BANK account'],
    ['clearingAccountCode', 'clearing', 'a BANK account (or one with payments enabled)'],
    ['feeAccountCode', 'processing_fees', 'a non-bank account'],
    ['surchargeAccountCode', 'surcharge_income', 'a non-bank account'],
    ['planFeeAccountCode', 'plan_fee_income', 'a non-bank account'],
    ['clientCreditAccountCode', 'client_credit', 'an account with payments enabled'],
  ];
  for (const [key, role, what] of roles) {
    const code = config[key];
    if (typeof code !== 'string' || code === '') continue;
    const a = chart.accounts.find((x) => x.id === code);
    const fitting = chart.accounts.filter((x) => x.fits.includes(role)).map((x) => `“${x.name}”`);
    const fix = ` — use ${what}${fitting.length ? `: ${fitting.slice(0, 6).join(', ')}` : ''}`;
    if (!a) problems.push(`${key} ${code} is not an active account in Xero${fix}`);
    else if (!a.fits.includes(role)) problems.push(`${key} “${a.name}” (${a.type}) cannot take this role${fix}`);
  }
  if (config['bankAccountCode'] && config['bankAccountCode'] === config['clearingAccountCode']) {
    problems.push('bankAccountCode and clearingAccountCode are the same account; payouts are transfers from clearing to the bank');
  }
  return problems;
}
