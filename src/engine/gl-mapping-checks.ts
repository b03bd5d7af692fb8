// `settle doctor` (and the staff app's "Test connection") on the GL mapping, for any ledger whose connector
// reads its chart (AccountingConnector.readChart): each mapped account still exists, is active and may take
// its role; each rule by PSA field names a class / location the ledger still has, active, with its tracking
// on. QuickBooks Online's accounts are also checked one by one by vendor-checks.ts (checkQuickBooksAccounts,
// which names the fitting accounts by a typed query); the rules are checked here for every ledger.
import type { AccountingConnector, LedgerChart } from '../connectors/accounting/types.ts';
import { BOOKS_ACCOUNT_SETTINGS, choicesFor } from './books-accounts.ts';
import { checkTrackingRules, type TrackingRule } from './gl-mapping.ts';
import { DoctorProblem } from './vendor-checks.ts';

const listed = (names: readonly string[]): string => `${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`;

/** The mapped accounts against the live chart, one sentence per problem with the accounts that would fit. */
export function ledgerAccountProblems(config: Readonly<Record<string, unknown>>, chart: LedgerChart): { problems: string[]; fine: string[] } {
  const problems: string[] = [];
  const fine: string[] = [];
  const accounts = [...chart.accounts];
  for (const s of BOOKS_ACCOUNT_SETTINGS) {
    const id = config[s.key];
    if (typeof id !== 'string' || id === '') continue;
    const fitting = choicesFor(s, accounts);
    const fix = fitting.length
      ? ` — choose one of: ${listed(fitting.map((a) => `“${a.name}” (${a.id})`))} in Settings → Accounts`
      : ` — the books have no active account that can take this; create one, then choose it in Settings → Accounts`;
    const account = accounts.find((a) => a.id === id);
    if (!account) problems.push(`${s.label} (${s.key}) names account ${id}, which is not an active account in the books${fix}`);
    else if (!fitting.some((a) => a.id === id))
      problems.push(`${s.label} (${s.key}) names “${account.name}” (${id}), ${account.type}, which cannot take this role${fix}`);
    else fine.push(`${s.key} “${account.name}”`);
  }
  return { problems, fine };
}

/** Accounts (skipped for QuickBooks Online, checked by checkQuickBooksAccounts) and rules, for the doctor row. */
export async function checkGlMapping(
  books: AccountingConnector,
  config: Readonly<Record<string, unknown>>,
  rules: readonly TrackingRule[],
  options: { readonly accounts: boolean },
): Promise<string> {
  if (!books.readChart) return `${books.vendor}: this ledger's chart cannot be read, so the GL mapping is not checked`;
  const chart = await books.readChart();
  const { problems, fine } = options.accounts ? ledgerAccountProblems(config, chart) : { problems: [], fine: [] };
  problems.push(...checkTrackingRules(rules, chart));
  if (problems.length > 0) throw new DoctorProblem(`${problems.join('; ')}.`);
  const ruleWords = rules.length
    ? `${rules.length} class / location rule${rules.length === 1 ? '' : 's'} by contract kind in place`
    : 'no rules by contract kind';
  return [fine.length ? `accounts fit their roles: ${fine.join(', ')}` : '', ruleWords].filter(Boolean).join('; ');
}
