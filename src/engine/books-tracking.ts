// Class and location in the GL mapping: one QuickBooks Class and one Location (QuickBooks' Department) that
// Settle puts on what it posts (connectors/accounting/quickbooks-online/tracking.ts says where). Picked from
// the books' live lists where the company has class / location tracking turned on; "None" is always allowed.
// Saved by saveBooksAccounts (books-accounts.ts) beside the accounts — same check-then-write, same audit
// entry — only when the form sent them, so a form without these pickers (the set-up wizard) leaves them be.
import { QuickBooksOnlineConnector } from '../connectors/accounting/quickbooks-online/connector.ts';
import type { TrackingChoice, TrackingLists } from '../connectors/accounting/quickbooks-online/tracking.ts';
import type { TenantConnectors } from './context.ts';

export type { TrackingLists } from '../connectors/accounting/quickbooks-online/tracking.ts';

export interface TrackingSetting {
  /** The key in the QuickBooks connection's settings (connectors/registry.ts). */
  readonly key: 'classId' | 'departmentId';
  readonly label: string;
  readonly hint: string;
}

export function trackingSettings(lists: Pick<TrackingLists, 'departmentLabel'> | null): readonly TrackingSetting[] {
  const location = lists?.departmentLabel ?? 'Location';
  return [
    { key: 'classId', label: 'Class', hint: 'Put on the lines of each payout’s deposit and of refund and return entries, for reports by class.' },
    {
      key: 'departmentId',
      label: location,
      hint: `Put on payments, deposits and refund and return entries, for reports by ${location.toLowerCase()}.`,
    },
  ];
}

export const TRACKING_KEYS = ['classId', 'departmentId'] as const;

/** The books' tracking preferences and active lists, read live. Null when the books are not QuickBooks Online. */
export async function trackingLists(connectors: TenantConnectors, tenantId: string): Promise<TrackingLists | null> {
  const books = await connectors.accounting(tenantId);
  if (!(books instanceof QuickBooksOnlineConnector)) return null;
  return books.trackingLists();
}

export function choicesOf(key: TrackingSetting['key'], lists: TrackingLists | null): readonly TrackingChoice[] {
  if (!lists) return [];
  return key === 'classId' ? (lists.classesOn ? lists.classes : []) : lists.departmentsOn ? lists.departments : [];
}

/** Check the chosen class / location (only the keys present) against the live lists. */
export function checkTracking(chosen: Readonly<Record<string, string>>, lists: TrackingLists | null): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const s of trackingSettings(lists)) {
    const id = chosen[s.key];
    if (id === undefined || id === '') continue;
    const on = s.key === 'classId' ? lists?.classesOn : lists?.departmentsOn;
    if (!on) errors[s.key] = `${s.label}: tracking is turned off in QuickBooks; choose “None”, or turn it on in QuickBooks first`;
    else if (!choicesOf(s.key, lists).some((c) => c.id === id))
      errors[s.key] = `${s.label}: ${id} is not an active ${s.label.toLowerCase()} in the books; choose one from the list or “None”`;
  }
  return errors;
}

export function trackingName(key: string, id: unknown, lists: TrackingLists | null): string | null {
  if (typeof id !== 'string') return null;
  const list = key === 'classId' ? lists?.classes : lists?.departments;
  return list?.find((c) => c.id === id)?.name ?? id;
}
