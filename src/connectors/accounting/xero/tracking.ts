// Xero tracking categories on what Settle writes, and the live lists the settings page picks them from.
// Where Xero takes `Tracking` (specs/xero/xero_accounting.yaml › components › schemas): only on a LineItem
// (Invoice, CreditNote, BankTransaction, …) and a ManualJournalLine. Of the records Settle writes, that is the
// payout's fee SPEND and its income RECEIVE bank transactions (deposit.ts) — every line of both. A Payment, a
// BankTransfer and a credit note's Allocation have no Tracking property at all, so an invoice payment, the
// payout's transfer, a reversal (a deleted payment and its remainder) and an applied credit note carry none;
// in Xero's reports by tracking category those already follow the invoice's own lines.
//
// Because the fee and income lines are one per payout — not per invoice — the choice is workspace-wide: one
// option per category (Xero allows two active categories), chosen in Settings → Accounts and saved in the
// connection's config as `tracking1` / `tracking2` = "<TrackingCategoryID>:<TrackingOptionID>" (the category
// in the value, so an archived or reordered category is still named). Without a choice nothing is sent.
import type { Json, XeroApi } from './api.ts';

export interface XeroTrackingOption {
  readonly id: string;
  readonly name: string;
  readonly active: boolean;
}

export interface XeroTrackingCategory {
  readonly id: string;
  readonly name: string;
  readonly active: boolean;
  readonly options: readonly XeroTrackingOption[];
}

/** The connection's config keys, one per active category in Xero's order (at most two). */
export const XERO_TRACKING_KEYS = ['tracking1', 'tracking2'] as const;
export type XeroTrackingKey = (typeof XERO_TRACKING_KEYS)[number];

/** All categories and options, archived ones included (marked), so a mapped one that was archived is named. */
export async function readXeroTracking(api: XeroApi): Promise<XeroTrackingCategory[]> {
  const res = await api.call({ method: 'GET', path: '/TrackingCategories', params: { includeArchived: 'true' } });
  return ((res['TrackingCategories'] as Json[] | undefined) ?? []).map((c) => ({
    id: String(c['TrackingCategoryID']),
    name: String(c['Name']),
    active: c['Status'] === 'ACTIVE',
    options: ((c['Options'] as Json[] | undefined) ?? []).map((o) => ({
      id: String(o['TrackingOptionID']),
      name: String(o['Name']),
      active: o['Status'] === 'ACTIVE',
    })),
  }));
}

/** "<category>:<option>" — a picker's value and the config's. */
export const trackingValue = (categoryId: string, optionId: string): string => `${categoryId}:${optionId}`;

export function parseTrackingValue(v: unknown): { categoryId: string; optionId: string } | null {
  if (typeof v !== 'string') return null;
  const [categoryId, optionId, ...rest] = v.split(':');
  return categoryId && optionId && rest.length === 0 ? { categoryId, optionId } : null;
}

/** The mapped options as a LineItem's `Tracking` (absent when none is mapped). */
export function lineTracking(config: { readonly tracking1?: string | undefined; readonly tracking2?: string | undefined }): { Tracking?: Json[] } {
  const chosen = XERO_TRACKING_KEYS.map((k) => parseTrackingValue(config[k])).filter((t) => t !== null);
  return chosen.length ? { Tracking: chosen.map((t) => ({ TrackingCategoryID: t.categoryId, TrackingOptionID: t.optionId })) } : {};
}

/** "Region: North" for a value, from the lists (archived included); the raw value when not found. */
export function trackingValueName(v: unknown, categories: readonly XeroTrackingCategory[] | null): string | null {
  const t = parseTrackingValue(v);
  if (!t) return typeof v === 'string' && v !== '' ? v : null;
  const cat = categories?.find((c) => c.id === t.categoryId);
  const opt = cat?.options.find((o) => o.id === t.optionId);
  return cat && opt ? `${cat.name}: ${opt.name}` : String(v);
}

/**
 * What is wrong with one mapped value against the live lists, in words a person can act on; null when Xero
 * would take it. `where` names the fix's place (Settings → Accounts).
 */
export function trackingValueProblem(key: string, v: unknown, categories: readonly XeroTrackingCategory[]): string | null {
  if (v === undefined || v === null || v === '') return null;
  const fix = 'choose another option or “None” in Settings → Accounts';
  const t = parseTrackingValue(v);
  if (!t) return `${key} “${String(v)}” is not a tracking option (expected "<TrackingCategoryID>:<TrackingOptionID>"): ${fix}`;
  const cat = categories.find((c) => c.id === t.categoryId);
  if (!cat) return `the tracking category mapped as ${key} (id ${t.categoryId}) no longer exists in Xero: ${fix}`;
  if (!cat.active) return `the tracking category “${cat.name}” mapped as ${key} is archived in Xero: restore it in Xero, or ${fix}`;
  const opt = cat.options.find((o) => o.id === t.optionId);
  if (!opt) return `the ${cat.name} option mapped as ${key} (id ${t.optionId}) no longer exists in Xero: ${fix}`;
  if (!opt.active) return `the ${cat.name} option “${opt.name}” mapped as ${key} is archived in Xero: restore it in Xero, or ${fix}`;
  return null;
}

/** Every mapped value's problem (doctor, and the reason a refused fee SPEND gives). */
export function xeroTrackingProblems(
  config: { readonly tracking1?: unknown; readonly tracking2?: unknown },
  categories: readonly XeroTrackingCategory[],
): string[] {
  return XERO_TRACKING_KEYS.map((k) => trackingValueProblem(k, config[k], categories)).filter((p) => p !== null);
}
