// The e-mail that gives a client their portal link ("view and pay your invoices"), sent when staff press
// "E-mail portal link" on the client's page. Pure composition; the engine queues it (engine/portal-links.ts).
import { format, money, type Currency } from '../domain/money.ts';

export interface PortalLinkEmail {
  readonly mspName: string;
  readonly clientName: string;
  readonly link: string;
  readonly linkExpiresAt: Date;
  /** What is open now, per currency (minor units). */
  readonly open: readonly { readonly currency: Currency; readonly minor: bigint }[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const day = (d: Date): string => d.toISOString().slice(0, 10);

export function portalLinkEmail(e: PortalLinkEmail): { subject: string; text: string; html: string } {
  const owed = e.open.filter((o) => o.minor > 0n).map((o) => format(money(o.minor, o.currency)));
  const subject = `Your invoices from ${e.mspName}`;
  const lead = owed.length ? `You have ${owed.join(' and ')} open with ${e.mspName}.` : `Here is your link to your invoices with ${e.mspName}.`;
  const text = [
    `Hello ${e.clientName},`,
    '',
    lead,
    'You can see your invoices, pay them and save a payment method here:',
    e.link,
    `(This link is valid until ${day(e.linkExpiresAt)}. Card and bank details are entered in our payment processor's secure form.)`,
    '',
    'Thank you,',
    e.mspName,
  ].join('\n');
  const html = `<p>Hello ${esc(e.clientName)},</p>
<p>${esc(lead)}<br>You can see your invoices, pay them and save a payment method here:</p>
<p><a href="${esc(e.link)}">View and pay your invoices</a></p>
<p style="color:#666">This link is valid until ${esc(day(e.linkExpiresAt))}. Card and bank details are entered in our payment processor's secure form.</p>
<p>Thank you,<br>${esc(e.mspName)}</p>`;
  return { subject, text, html };
}
