// Settings (/app/settings): the index of the workspace's settings pages, each with what it is for. An area
// that adds a settings page adds ONE entry to SETTINGS_PAGES; entries above the person's role are not shown
// (the pages themselves are gated by http/permissions.ts).
import type { FastifyInstance } from 'fastify';
import { roleAtLeast, type StaffRole } from '../../domain/roles.ts';
import type { HttpDeps } from '../deps.ts';
import { DEFAULT_TIMEOUTS } from '../../engine/staff-sessions.ts';
import { staffSession } from '../auth.ts';
import { renderStaff } from './view.ts';

export interface SettingsPage {
  readonly href: string;
  readonly label: string;
  readonly about: string;
  /** The least role that may open it (absent: everyone signed in). */
  readonly permission?: StaffRole;
}

export const SETTINGS_PAGES: readonly SettingsPage[] = [
  { href: '/app/settings/accounts', label: 'Books accounts', about: 'Which accounts in the books Settle posts payments, fees, surcharges and deposits to.' },
  {
    href: '/app/settings/gl-rules',
    label: 'Class and location by contract',
    about: 'The class or location in the books for invoices billed under each kind of PSA contract.',
  },
  { href: '/app/settings/surcharge', label: 'Card surcharge', about: 'Whether credit card payments carry a surcharge, at what rate, and the rules.' },
  { href: '/app/settings/retry-policy', label: 'Retry policy', about: 'When Settle tries a declined card again; how long the update link is valid.' },
  { href: '/app/settings/workspace', label: 'Workspace timezone', about: 'The timezone every page shows dates in and the dashboard counts its days in.' },
  { href: '/app/settings/branding', label: 'Branding', about: 'Your logo, button colour, e-mail sender name and reply-to address, as your clients see them.' },
  {
    href: '/app/settings/installments',
    label: 'Installment offers',
    about: 'The installment plans clients may choose themselves in the portal: parts, least amount, how they pay.',
  },
  { href: '/app/settings/webhooks', label: 'Webhooks', about: 'Signed event notifications to your own tools: URLs, events, secrets and the delivery log.' },
  { href: '/app/settings/emails', label: 'E-mails to clients', about: 'The subject and wording of each e-mail Settle sends to clients, with a preview.' },
  { href: '/app/connections', label: 'Connections', about: 'The PSA, the payment processor and the books: state, limits, re-test, reconnect.' },
  { href: '/users', label: 'Users', about: 'Who has access and with which role; invitations; second factor for owners.', permission: 'owner' },
  { href: '/api-keys', label: 'API keys', about: 'Keys for integrations and scripts, each with a role and an expiry.', permission: 'owner' },
  { href: '/staff/lockouts', label: 'Sign-in lockouts', about: 'E-mails locked after repeated failed sign-ins; lift a lock.', permission: 'owner' },
  {
    href: '/app/settings/audit',
    label: 'Audit log',
    about: 'Who did what and when: money movements, postings, setting changes; filter and export.',
    permission: 'finance',
  },
  { href: '/account', label: 'Your account', about: 'Your password, second factor and sessions.' },
];

export function registerSettingsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/app/settings', { schema: { hide: true } }, async (req, reply) => {
    const session = await staffSession(req, deps.ctx.db, deps.staff?.timeouts ?? DEFAULT_TIMEOUTS);
    if (!session) return reply.redirect('/login');
    const pages = SETTINGS_PAGES.filter((p) => !p.permission || roleAtLeast(session.role, p.permission));
    return renderStaff(req, reply, 'settings', { pages });
  });
}
