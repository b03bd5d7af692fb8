// The portal's own navigation (views/partials/portal-nav.eta): one link's pages — the invoices, saved
// methods and automatic payments, and paying from a bank account where the MSP debits by NACHA file.
import type { Tx } from '../../db/tenant.ts';

export type PortalPage = 'invoices' | 'methods' | 'bank' | 'invoice';

export interface PortalNav {
  readonly links: readonly { readonly href: string; readonly label: string; readonly current: boolean }[];
}

/** Whether the MSP debits bank accounts by NACHA file itself (a bank ACH connection that is not disabled). */
export async function hasBankAch(tx: Tx): Promise<boolean> {
  const c = await tx.selectFrom('connections').select('id').where('role', '=', 'bank_ach').where('status', '!=', 'disabled').executeTakeFirst();
  return c !== undefined;
}

export function portalNav(token: string, current: PortalPage, opts: { bankAch: boolean }): PortalNav {
  const base = `/portal/${token}`;
  const links = [
    { href: base, label: 'Invoices', page: 'invoices' },
    { href: `${base}/methods`, label: 'Saved methods and autopay', page: 'methods' },
    ...(opts.bankAch ? [{ href: `${base}/bank-account`, label: 'Pay from a bank account', page: 'bank' }] : []),
  ];
  return { links: links.map((l) => ({ href: l.href, label: l.label, current: l.page === current })) };
}
