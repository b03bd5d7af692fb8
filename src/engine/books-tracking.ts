// The workspace-wide tracking in the GL mapping, per ledger, picked from the books' live lists ("None" is
// always allowed) and saved by saveBooksAccounts (books-accounts.ts) beside the accounts — same
// check-then-write, same audit entry — only when the form sent them, so a form without these pickers (the
// set-up wizard) leaves them be.
//   - QuickBooks Online: one Class and one Location (QuickBooks' Department), where the company has class /
//     location tracking turned on (connectors/accounting/quickbooks-online/tracking.ts says where they go).
//   - Xero: one option of each active tracking category (at most two), put on every line of the payout's fee
//     SPEND and income RECEIVE — the only records Settle writes to Xero that take Tracking
//     (connectors/accounting/xero/tracking.ts says why the others cannot).
// The rules by contract kind (gl-mapping.ts) beat the workspace-wide choice where the ledger takes them per
// invoice; Xero takes none per invoice, so it has only this.
import { QuickBooksOnlineConnector } from '../connectors/accounting/quickbooks-online/connector.ts';
import type { TrackingChoice, TrackingLists as QboTrackingLists } from '../connectors/accounting/quickbooks-online/tracking.ts';
import { XeroConnector } from '../connectors/accounting/xero/connector.ts';
import { trackingValue, trackingValueName, XERO_TRACKING_KEYS, type XeroTrackingCategory } from '../connectors/accounting/xero/tracking.ts';
import type { TenantConnectors } from './context.ts';

export type { TrackingChoice } from '../connectors/accounting/quickbooks-online/tracking.ts';

export interface TrackingSetting {
  /** The key in the accounting connection's settings (connectors/registry.ts). */
  readonly key: TrackingKey;
  readonly label: string;
  readonly hint: string;
}

export const TRACKING_KEYS = ['classId', 'departmentId', ...XERO_TRACKING_KEYS] as const;
export type TrackingKey = (typeof TRACKING_KEYS)[number];

/** A ledger's tracking pickers, read live: what may be chosen per key, and the name of any value. */
export interface TrackingLists {
  /** The ledger's name in sentences ("QuickBooks", "Xero"). */
  readonly ledger: string;
  /** The fieldset's legend and its first sentence, in the ledger's words. */
  readonly legend: string;
  readonly intro: string;
  readonly settings: readonly TrackingSetting[];
  /** Active choices per key (none where the ledger's tracking is off). */
  readonly choices: Readonly<Partial<Record<TrackingKey, readonly TrackingChoice[]>>>;
  /** Per key whose tracking is turned off in the books: what to do instead. */
  readonly off: Readonly<Partial<Record<TrackingKey, string>>>;
  nameOf(key: TrackingKey, id: string): string | null;
}

function qboSettings(departmentLabel: string): TrackingSetting[] {
  return [
    { key: 'classId', label: 'Class', hint: 'Put on the lines of each payout’s deposit and of refund and return entries, for reports by class.' },
    {
      key: 'departmentId',
      label: departmentLabel,
      hint: `Put on payments, deposits and refund and return entries, for reports by ${departmentLabel.toLowerCase()}.`,
    },
  ];
}

function qboLists(l: QboTrackingLists): TrackingLists {
  const off = (label: string): string => `${label}: tracking is turned off in QuickBooks; choose “None”, or turn it on in QuickBooks first`;
  return {
    ledger: 'QuickBooks',
    legend: 'Class and location',
    intro:
      'Your QuickBooks company tracks these. Settle puts the ones chosen here on what it posts, so reports by class or location include payments, fees and refunds.',
    settings: qboSettings(l.departmentLabel),
    choices: { classId: l.classesOn ? l.classes : [], departmentId: l.departmentsOn ? l.departments : [] },
    off: { ...(l.classesOn ? {} : { classId: off('Class') }), ...(l.departmentsOn ? {} : { departmentId: off(l.departmentLabel) }) },
    nameOf: (key, id) => (key === 'classId' ? l.classes : l.departments).find((c) => c.id === id)?.name ?? id,
  };
}

function xeroSettings(categories: readonly XeroTrackingCategory[]): TrackingSetting[] {
  const active = categories.filter((c) => c.active);
  return XERO_TRACKING_KEYS.map((key, i) => {
    const name = active[i]?.name ?? `Tracking category ${i + 1}`;
    return { key, label: name, hint: `Put on every line of each payout’s fee and income bank transactions in Xero, for reports by ${name.toLowerCase()}.` };
  });
}

function xeroLists(categories: readonly XeroTrackingCategory[]): TrackingLists {
  const active = categories.filter((c) => c.active);
  return {
    ledger: 'Xero',
    legend: 'Tracking categories',
    intro:
      'Your Xero organisation has these tracking categories. Settle puts the options chosen here on each payout’s processing-fee and income lines; Xero takes no tracking on payments or transfers, which follow their invoice.',
    settings: xeroSettings(categories),
    choices: Object.fromEntries(
      XERO_TRACKING_KEYS.map((k, i) => [
        k,
        (active[i]?.options ?? []).filter((o) => o.active).map((o) => ({ id: trackingValue(active[i]!.id, o.id), name: o.name })),
      ]),
    ),
    off: {},
    nameOf: (_key, id) => trackingValueName(id, categories),
  };
}

/** The settings a ledger offers, for its saved values even when its lists cannot be read now. */
export function trackingSettings(lists: TrackingLists | null, vendor?: string): readonly TrackingSetting[] {
  if (lists) return lists.settings;
  if (vendor === 'xero') return xeroSettings([]);
  return vendor === 'quickbooks-online' || vendor === undefined ? qboSettings('Location') : [];
}

/** The books' tracking lists, read live. Null when the books take no workspace-wide tracking (or none are connected). */
export async function trackingLists(connectors: TenantConnectors, tenantId: string): Promise<TrackingLists | null> {
  const books = await connectors.accounting(tenantId);
  if (books instanceof QuickBooksOnlineConnector) return qboLists(await books.trackingLists());
  if (books instanceof XeroConnector) return xeroLists(await books.trackingCategories());
  return null;
}

export function choicesOf(key: TrackingKey, lists: TrackingLists | null): readonly TrackingChoice[] {
  return lists?.choices[key] ?? [];
}

/** Check the chosen tracking (only the keys present) against the live lists. */
export function checkTracking(chosen: Readonly<Record<string, string>>, lists: TrackingLists | null): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const key of TRACKING_KEYS) {
    const id = chosen[key];
    if (id === undefined || id === '') continue;
    const s = lists?.settings.find((x) => x.key === key);
    if (!lists || !s) errors[key] = `${key}: the books take no such tracking; choose “None”`;
    else if (lists.off[key]) errors[key] = lists.off[key];
    else if (!choicesOf(key, lists).some((c) => c.id === id))
      errors[key] = `${s.label}: ${lists.nameOf(key, id) ?? id} is not an active ${s.label.toLowerCase()} in the books; choose one from the list or “None”`;
  }
  return errors;
}

export function trackingName(key: TrackingKey, id: unknown, lists: TrackingLists | null): string | null {
  if (typeof id !== 'string' || id === '') return null;
  return lists?.nameOf(key, id) ?? id;
}
