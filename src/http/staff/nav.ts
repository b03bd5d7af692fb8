// The staff app's navigation, in order. Each area adds ONE entry here (and one line in index.ts).
// `permission` hides an entry from roles below it; the route itself is still gated by http/permissions.ts.
import type { StaffRole } from '../../domain/roles.ts';
import { roleAtLeast } from '../../domain/roles.ts';

export interface NavEntry {
  readonly href: string;
  readonly label: string;
  /** The least role that sees this entry (absent: every signed-in person). */
  readonly permission?: StaffRole;
  /** This entry carries the Needs-attention count badge. */
  readonly badge?: 'attention';
  /** Other paths that belong to this entry's area (marked current there too). */
  readonly also?: readonly string[];
}

export const NAV: readonly NavEntry[] = [
  { href: '/app', label: 'Dashboard' },
  { href: '/app/rollout', label: 'Rollout' },
  { href: '/app/invoices', label: 'Invoices' },
  { href: '/app/clients', label: 'Clients' },
  { href: '/app/payments', label: 'Payments' },
  { href: '/app/payouts', label: 'Payouts' },
  { href: '/app/reconciliation', label: 'Reconciliation' },
  { href: '/app/autopay', label: 'Autopay' },
  { href: '/app/collections', label: 'Collections' },
  { href: '/app/attention', label: 'Needs attention', badge: 'attention' },
  { href: '/app/connections', label: 'Connections' },
  { href: '/app/settings', label: 'Settings', also: ['/users', '/api-keys', '/staff/lockouts', '/account'] },
];

export interface NavItem extends NavEntry {
  /** This entry is the page being shown, or the area it belongs to (aria-current). */
  readonly current: boolean;
}

/** The entries `role` sees, the current one marked: the longest href that prefixes the path. */
export function navFor(role: StaffRole, path: string): NavItem[] {
  const visible = NAV.filter((e) => !e.permission || roleAtLeast(role, e.permission));
  const under = (p: string): boolean => path === p || path.startsWith(`${p}/`);
  const matches = visible.filter((e) => under(e.href) || (e.also ?? []).some(under));
  const current = matches.sort((a, b) => b.href.length - a.href.length)[0]?.href;
  return visible.map((e) => ({ ...e, current: e.href === current }));
}
