// The GL mapping: which account of the books each kind of money Settle posts goes to (bank, Undeposited
// Funds, clearing, processing fees, surcharge income, installment plan fee income, client credit, adjustments). The accounts are picked
// from the books' LIVE chart of accounts (set-up wizard and Settings → Accounts), checked against it when
// saved, written into the accounting connection's settings (audited, before → after), and the cached
// connector is dropped so the next posting uses them.
import { withTenant } from '../db/tenant.ts';
import type { Db } from '../db/pool.ts';
import type { SecretBox } from '../db/crypto.ts';
import { vendorEntry } from '../connectors/registry.ts';
import type { QboApi } from '../connectors/accounting/quickbooks-online/api.ts';
import { qboFits, QBO_ROLE_TYPES } from '../connectors/accounting/quickbooks-online/chart.ts';
import type { GlRole } from '../connectors/accounting/types.ts';
import type { TenantConnectors } from './context.ts';
import { UseCaseError } from './context.ts';
import { audit, type Actor } from './audit.ts';
import { XERO_ACCOUNT_KEYS } from '../connectors/accounting/xero/settings.ts';
import { checkTracking, TRACKING_KEYS, trackingLists, trackingName, type TrackingKey } from './books-tracking.ts';

export interface BooksAccount {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly subType: string;
  /** The roles the ledger lets it take (LedgerAccount.fits); absent ⇒ judged by QuickBooks' types. */
  readonly fits?: readonly GlRole[];
}

export interface AccountSetting {
  /** The key in the accounting connection's settings (connectors/registry.ts); the same for every ledger. */
  readonly key: string;
  /** What Settle books there (connectors/accounting/types.ts GlRole). */
  readonly role: GlRole;
  readonly label: string;
  readonly hint: string;
  readonly required: boolean;
  /** QuickBooks AccountTypes it may name (null: any); other ledgers say so through LedgerAccount.fits. */
  readonly types: readonly string[] | null;
}

/** Every account setting, in the order a bookkeeper thinks of them; `settle doctor` checks the same types. */
export const BOOKS_ACCOUNT_SETTINGS: readonly AccountSetting[] = [
  {
    key: 'bankAccountId',
    role: 'bank',
    label: 'Bank account',
    hint: 'Where the processor pays out: each payout becomes one deposit here.',
    required: true,
    types: QBO_ROLE_TYPES.bank,
  },
  {
    key: 'undepositedFundsAccountId',
    role: 'undeposited_funds',
    label: 'Undeposited funds',
    hint: 'Payments wait here until their payout is deposited (QuickBooks’ own Undeposited Funds unless you choose another).',
    required: false,
    types: ['Other Current Asset'],
  },
  {
    key: 'clearingAccountId',
    role: 'clearing',
    label: 'Clearing account',
    hint: 'Payout money whose invoice is not in the books yet. An Other Current Asset account of its own, e.g. “Settle clearing”.',
    required: false,
    types: ['Other Current Asset', 'Bank'],
  },
  {
    key: 'feeExpenseAccountId',
    role: 'processing_fees',
    label: 'Processing fees',
    hint: 'The processor’s fees, booked as a negative line of each payout’s deposit.',
    required: true,
    types: ['Expense', 'Other Expense', 'Cost of Goods Sold'],
  },
  {
    key: 'surchargeIncomeAccountId',
    role: 'surcharge_income',
    label: 'Surcharge income',
    hint: 'Card surcharges collected; without one they go to adjustments.',
    required: false,
    types: ['Income', 'Other Income'],
  },
  {
    key: 'planFeeIncomeAccountId',
    role: 'plan_fee_income',
    label: 'Installment plan fee income',
    hint: 'Fees of installment plans clients choose in the portal (charged with part 1); without one they go to adjustments.',
    required: false,
    types: ['Income', 'Other Income'],
  },
  {
    key: 'clientCreditAccountId',
    role: 'client_credit',
    label: 'Client credit',
    hint: 'Overpayments held for clients until applied to an invoice.',
    required: false,
    types: QBO_ROLE_TYPES.client_credit,
  },
  {
    key: 'achDiscountAccountId',
    role: 'ach_discounts',
    label: 'ACH discounts',
    hint: 'Discounts given to clients who pay by bank account instead of card, a negative line of each payout’s deposit; without one they go to adjustments.',
    required: false,
    types: QBO_ROLE_TYPES.ach_discounts,
  },
  {
    key: 'adjustmentAccountId',
    role: 'adjustments',
    label: 'Adjustments',
    hint: 'Refunds and other payout movements; without one, the processing-fee account.',
    required: false,
    types: null,
  },
];

/**
 * The account settings a ledger takes, each with the key it is stored under in the connection: Xero keeps its
 * own names and needs its clearing account (connectors/accounting/xero/settings.ts); the others use the keys.
 */
export function accountSettingsFor(vendor: string | undefined): readonly (AccountSetting & { readonly stored: string })[] {
  if (vendor === 'xero')
    return BOOKS_ACCOUNT_SETTINGS.filter((s) => s.key in XERO_ACCOUNT_KEYS).map((s) => ({
      ...s,
      stored: XERO_ACCOUNT_KEYS[s.key]!,
      required: s.required || s.key === 'clearingAccountId',
    }));
  return BOOKS_ACCOUNT_SETTINGS.map((s) => ({ ...s, stored: s.key }));
}

/** The books' active accounts, read live (any ledger whose connector reads its chart). Null: no such ledger. */
export async function chartOfAccounts(connectors: TenantConnectors, tenantId: string): Promise<BooksAccount[] | null> {
  const books = await connectors.accounting(tenantId);
  if (!books?.readChart) return null;
  return [...(await books.readChart()).accounts];
}

export async function readChart(api: QboApi): Promise<BooksAccount[]> {
  const rows = await api.queryAll('Account', 'Active = true');
  return rows
    .map((r) => ({
      id: String(r['Id']),
      name: String(r['FullyQualifiedName'] ?? r['Name']),
      type: String(r['AccountType'] ?? ''),
      subType: String(r['AccountSubType'] ?? ''),
      fits: qboFits(String(r['AccountType'] ?? ''), String(r['AccountSubType'] ?? '')),
    }))
    .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
}

/** The accounts a setting may name, from the chart. */
export function choicesFor(setting: AccountSetting, chart: readonly BooksAccount[]): BooksAccount[] {
  const fits = chart.filter((a) => (a.fits ? a.fits.includes(setting.role) : !setting.types || setting.types.includes(a.type)));
  // Undeposited Funds is never a clearing account of its own.
  return setting.key === 'clearingAccountId' ? fits.filter((a) => a.subType !== 'UndepositedFunds') : fits;
}

/**
 * First choices for a company just connected: its Undeposited Funds, its first bank account, and an expense
 * account whose name says fees. Shown pre-selected for the person to confirm; null where nothing fits.
 */
export function suggestAccounts(chart: readonly BooksAccount[]): Record<string, string> {
  const out: Record<string, string> = {};
  const bank = chart.find((a) => a.type === 'Bank');
  if (bank) out['bankAccountId'] = bank.id;
  const undeposited = chart.find((a) => a.subType === 'UndepositedFunds');
  if (undeposited) out['undepositedFundsAccountId'] = undeposited.id;
  const expenses = chart.filter((a) => ['Expense', 'Other Expense', 'Cost of Goods Sold'].includes(a.type));
  const fee = expenses.find((a) => /fee|merchant|processing/i.test(a.name)) ?? expenses[0];
  if (fee) out['feeExpenseAccountId'] = fee.id;
  return out;
}

const article = (word: string): string => (/^[AEIOU]/i.test(word) ? 'an' : 'a');

export interface AccountErrors {
  /** Per setting key: what is wrong, in words a person can act on. */
  readonly [key: string]: string;
}

/** Check chosen accounts against the live chart: each exists, is active and of a fitting type. */
export function checkAccounts(
  chosen: Readonly<Record<string, string>>,
  chart: readonly BooksAccount[],
  settings: readonly AccountSetting[] = BOOKS_ACCOUNT_SETTINGS,
): AccountErrors {
  const errors: Record<string, string> = {};
  for (const s of settings) {
    const id = chosen[s.key] ?? '';
    if (id === '') {
      if (s.required) errors[s.key] = `Choose the ${s.label.toLowerCase()} account`;
      continue;
    }
    const account = chart.find((a) => a.id === id);
    if (!account) errors[s.key] = `${s.label}: account ${id} is not an active account in the books; choose one from the list`;
    else if (!choicesFor(s, chart).some((a) => a.id === id)) {
      // The fitting types in the ledger's own words: those of the chart's accounts that fit (any ledger).
      const fitting = [...new Set(choicesFor(s, chart).map((a) => a.type))];
      const types = fitting.length ? fitting : (s.types ?? []);
      errors[s.key] =
        `${s.label}: “${account.name}” is ${article(account.type)} ${account.type} account; choose ${article(types[0] ?? '')} ${types.join(' or ')} account`;
    }
  }
  return errors;
}

/**
 * Save the chosen accounts into the accounting connection (owner or finance, from the staff app). Throws
 * UseCaseError('invalid', …, { fields }) with per-field errors when the choice does not fit the live chart;
 * nothing is changed then. The class and location (books-tracking.ts) are saved too when `chosen` names
 * them ('' = none), checked against the live lists.
 */
export async function saveBooksAccounts(
  deps: { readonly db: Db; readonly box: SecretBox; readonly connectors: TenantConnectors },
  tenantId: string,
  chosen: Readonly<Record<string, string>>,
  actor: Actor,
): Promise<{ changed: string[] }> {
  const chart = await chartOfAccounts(deps.connectors, tenantId);
  if (!chart) throw new UseCaseError('not_configured', 'Connect the books first: the accounts are picked from their chart of accounts.');
  const settings = accountSettingsFor((await deps.connectors.accounting(tenantId))?.vendor);
  const tracked = TRACKING_KEYS.filter((k) => k in chosen);
  const lists = tracked.length ? await trackingLists(deps.connectors, tenantId) : null;
  const errors = { ...checkAccounts(chosen, chart, settings), ...checkTracking(chosen, lists) };
  if (Object.keys(errors).length > 0) throw new UseCaseError('invalid', Object.values(errors).join('; '), { fields: errors });
  const changed = await withTenant(deps.db, tenantId, async (tx) => {
    const row = await tx.selectFrom('connections').select(['vendor', 'config']).where('role', '=', 'accounting').forUpdate().executeTakeFirst();
    if (!row) throw new UseCaseError('not_configured', 'Connect the books first.');
    const entry = vendorEntry('accounting', row.vendor)!;
    const before = row.config;
    const next: Record<string, unknown> = { ...before };
    const storedAs = new Map<string, string>([...settings.map((s): [string, string] => [s.stored, s.key]), ...tracked.map((k): [string, string] => [k, k])]);
    const settingKeys = [...storedAs.keys()];
    for (const key of settingKeys) {
      const id = chosen[storedAs.get(key)!] ?? '';
      if (id === '') delete next[key];
      else next[key] = id;
    }
    const parsed = entry.config.parse(next) as Record<string, unknown>;
    const keys = settingKeys.filter((k) => (before[k] ?? null) !== (parsed[k] ?? null));
    if (keys.length === 0) return keys;
    await tx
      .updateTable('connections')
      .set({ config: JSON.stringify(parsed) as never, updated_at: new Date() })
      .where('role', '=', 'accounting')
      .execute();
    const name = (id: unknown, key: string): string | null =>
      (TRACKING_KEYS as readonly string[]).includes(key)
        ? trackingName(key as TrackingKey, id, lists)
        : typeof id === 'string'
          ? (chart.find((a) => a.id === id)?.name ?? id)
          : null;
    await audit(
      tx,
      tenantId,
      actor,
      'connection.accounts_changed',
      { type: 'connection', id: 'accounting' },
      Object.fromEntries(keys.map((k) => [k, { from: before[k] ?? null, to: parsed[k] ?? null, from_name: name(before[k], k), to_name: name(parsed[k], k) }])),
    );
    return keys;
  });
  deps.connectors.forget(tenantId);
  return { changed };
}
