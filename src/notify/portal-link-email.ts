// The e-mail that gives a client their portal link ("view and pay your invoices"), sent when staff press
// "E-mail portal link" on the client's page. Pure composition; the engine queues it (engine/portal-links.ts).
import { format, money, type Currency } from '../domain/money.ts';
import { composeEmail, type ComposedEmail, type EmailTemplate } from './templates/compose.ts';

export interface PortalLinkEmail {
  readonly mspName: string;
  readonly clientName: string;
  readonly link: string;
  readonly linkExpiresAt: Date;
  /** What is open now, per currency (minor units). */
  readonly open: readonly { readonly currency: Currency; readonly minor: bigint }[];
}

const day = (d: Date): string => d.toISOString().slice(0, 10);

/** The e-mail from the workspace's template (`override`, from templateOf) or the default one. */
export function portalLinkEmail(e: PortalLinkEmail, override: EmailTemplate | null = null): ComposedEmail {
  const owed = e.open.filter((o) => o.minor > 0n).map((o) => format(money(o.minor, o.currency)));
  const lead = owed.length ? `You have ${owed.join(' and ')} open with ${e.mspName}.` : `Here is your link to your invoices with ${e.mspName}.`;
  return composeEmail(
    'portal_link',
    {
      msp_name: e.mspName,
      client_name: e.clientName,
      amount_open: owed.length ? owed.join(' and ') : 'nothing',
      open_summary: lead,
      portal_link: { link: e.link, label: 'View and pay your invoices' },
      link_expires_on: day(e.linkExpiresAt),
    },
    override,
  );
}
