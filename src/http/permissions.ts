// THE permission table: who may call every HTTP route Settle serves. One line per route, "METHOD /path" as
// Fastify registers it (with its prefix, :params as written). src/http/authorize.ts enforces it for every
// route through an onRoute hook, and refuses to register a route that is not listed here, so a new route
// cannot ship without someone deciding who may call it (docs/security-roles.md says how to add one).
//
// Staff roles, each including the one before: viewer reads everything; finance also moves money and
// runs day-to-day collections (payments, refunds, autopay runs/rules/approvals, ACH, portal links, credit,
// installments, exceptions); owner also changes workspace-wide settings, users and API keys.
// Routes not answered by a staff member say how they are authenticated instead of naming a role.

import type { StaffRole } from '../domain/roles.ts';

export type Access =
  | StaffRole
  /**
   * A signed-in person (any role) acting on their own account only: own password, second factor, sessions.
   * Never an API key. Changes nothing of the workspace, which is why it is not a role: `viewer` is read-only
   * (authorize.ts refuses a viewer declaration on POST/PUT/PATCH/DELETE).
   */
  | 'own-account'
  /** Anyone: sign-in, health checks, the API reference. */
  | 'public'
  /** A client holding a signed, expiring portal link; the handler verifies the token in the path. */
  | 'portal-link'
  /** A vendor pushing events; the handler verifies the vendor's signature before storing anything. */
  | 'vendor-signature';

export const PERMISSIONS: Readonly<Record<string, Access>> = {
  // ---- health, metrics, API reference ----
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'public',
  // Every page and file of the API reference (the swagger-ui plugin's routes): the OpenAPI document only.
  'GET /api/docs/**': 'public',

  // ---- staff pages and their forms ----
  'GET /': 'public',
  'GET /login': 'public',
  'POST /login': 'public',
  'GET /dashboard': 'viewer',
  // The staff app (http/staff/): its files, and each area's pages (one block per area below).
  'GET /assets/:file': 'public',
  // A workspace's logo and colour stylesheet, linked from its portal pages (http/portal/branding-assets.ts):
  // no secret in them, and a client's browser or mail client fetches them without a portal link.
  'GET /brand/:tenant/logo': 'public',
  'GET /brand/:tenant/brand.css': 'public',
  'GET /app': 'viewer',
  // The dashboard's cash forecast panel, as a page without JavaScript, and its CSV (http/staff/dashboard-forecast.ts)
  'GET /app/forecast': 'viewer',
  'GET /app/forecast.csv': 'viewer',
  // Recompute the dashboard's figures now (http/staff/dashboard.ts): changes no data, but costs seconds of the
  // database on a large book, so not for every viewer's click (a POST cannot be a viewer's anyway).
  'POST /app/figures/refresh': 'finance',
  'GET /app/overview': 'viewer',
  'GET /app/settings': 'viewer',
  // E-mail templates (http/staff/settings-emails.ts): everyone reads the wording; finance changes it.
  'GET /app/settings/emails': 'viewer',
  'GET /app/settings/emails/:kind': 'viewer',
  'POST /app/settings/emails/:kind': 'finance',
  'POST /app/settings/emails/:kind/preview': 'finance',
  'POST /app/settings/emails/:kind/reset': 'finance',
  // The rollout view (http/staff/rollout.ts): weekly trends, pilot against the rest, and the pilot check.
  'GET /app/rollout': 'viewer',
  // Sign-in lockouts (http/dashboard/lockouts.ts): an owner lifts a lock.
  'GET /staff/lockouts': 'owner',
  'POST /staff/lockouts/unlock': 'owner',
  // Staff accounts (http/dashboard/sign-in.ts, account.ts, users.ts). The signed-out doors check their own
  // proof: the second-factor cookie set by a good password, or the secret of an e-mailed link.
  'GET /login/second-factor': 'public',
  'POST /login/second-factor': 'public',
  'GET /login/forgot': 'public',
  'POST /login/forgot': 'public',
  'GET /account/reset/:token': 'public',
  'POST /account/reset/:token': 'public',
  'GET /account/invitation/:token': 'public',
  'POST /account/invitation/:token': 'public',
  // Signing out needs no role: a stale cookie signs out as well (to the sign-in page).
  'POST /logout': 'public',
  // Every signed-in user manages their own password, second factor and sessions.
  'GET /account': 'own-account',
  'POST /account/password': 'own-account',
  'POST /account/second-factor/start': 'own-account',
  'POST /account/second-factor/confirm': 'own-account',
  'POST /account/second-factor/recovery-codes': 'own-account',
  'POST /account/second-factor/disable': 'own-account',
  'POST /account/sessions/end-all': 'own-account',
  'GET /users': 'owner',
  'POST /users/invite': 'owner',
  'POST /users/:id/remove': 'owner',
  'POST /users/:id/sessions/end': 'owner',
  'POST /users/:id/second-factor/disable': 'owner',
  'POST /users/second-factor-required': 'owner',
  // API keys (http/dashboard/api-keys.ts; also /api/v1/api-keys and `settle api-key …`).
  'GET /api-keys': 'owner',
  'POST /api-keys/create': 'owner',
  'POST /api-keys/:id/revoke': 'owner',

  // Payments, payouts and autopay pages (http/staff/payments.ts, payouts.ts, autopay.ts): everyone reads;
  // refunds, receipts and autopay decisions are finance's, like their API routes.
  // Invoices and clients (http/staff/invoices.ts, clients.ts): everyone reads them and exports the list;
  // the pilot switches and portal links are finance's, as in the API.
  'GET /app/invoices': 'viewer',
  'GET /app/invoices.csv': 'viewer',
  'GET /app/invoices/:id': 'viewer',
  // The invoice's pay link (http/staff/invoice-pay-link.ts): made and revoked by finance.
  'POST /app/invoices/:id/pay-link': 'finance',
  'POST /app/invoices/:id/pay-link/revoke': 'finance',
  'GET /app/clients': 'viewer',
  'GET /app/clients/:id': 'viewer',
  'POST /app/clients/:id/pilot': 'finance',
  'POST /app/clients/:id/portal-link': 'finance',
  'POST /app/clients/:id/portal-link/email': 'finance',
  // A client's surcharge location and exemption (http/staff/client-surcharge.ts), finance's as in the API.
  'GET /app/clients/:id/surcharge': 'finance',
  'POST /app/clients/:id/surcharge': 'finance',
  'GET /app/payments': 'viewer',
  'GET /app/payments/:id': 'viewer',
  'GET /app/payments/:id/refund': 'finance',
  'POST /app/payments/:id/refund': 'finance',
  'POST /app/payments/:id/refund/confirm': 'finance',
  'POST /app/payments/:id/receipt': 'finance',
  'GET /app/payouts': 'viewer',
  'GET /app/payouts/:id': 'viewer',
  // Three-way reconciliation (http/staff/reconciliation.ts): everyone reads; running it and fixing is finance's.
  'GET /app/reconciliation': 'viewer',
  'GET /app/reconciliation.csv': 'viewer',
  'POST /app/reconciliation/run': 'finance',
  'POST /app/reconciliation/drifts/:id/fix': 'finance',
  'GET /app/autopay': 'viewer',
  'GET /app/autopay/approvals/:id': 'viewer',
  'POST /app/autopay/approvals/:id/approve': 'finance',
  'POST /app/autopay/approvals/:id/reject': 'finance',
  'GET /app/autopay/rules': 'viewer',
  'GET /app/autopay/rules/new': 'finance',
  'POST /app/autopay/rules': 'finance',
  'GET /app/autopay/rules/:id': 'viewer',
  'POST /app/autopay/rules/:id': 'finance',
  'POST /app/autopay/rules/:id/delete': 'finance',
  'POST /app/autopay/rules/:id/move': 'finance',
  'GET /app/autopay/installments': 'viewer',
  'GET /app/autopay/installments/new': 'finance',
  'POST /app/autopay/installments/preview': 'finance',
  'POST /app/autopay/installments': 'finance',
  'POST /app/autopay/installments/:id/cancel': 'finance',

  // ---- client portal (signed link in the path) ----
  'GET /portal/:token': 'portal-link',
  'POST /portal/:token/pay': 'portal-link',
  'GET /portal/:token/plan/:invoiceId': 'portal-link',
  'POST /portal/:token/plan/:invoiceId': 'portal-link',
  'POST /portal/:token/quote': 'portal-link',
  'POST /portal/:token/pay-card': 'portal-link',
  'GET /portal/:token/bank-account': 'portal-link',
  // Collections Assist (http/portal/promise-to-pay.ts, dispute-invoice.ts, statement.ts)
  'GET /portal/:token/promise': 'portal-link',
  'POST /portal/:token/promise': 'portal-link',
  'POST /portal/:token/dispute': 'portal-link',
  'GET /portal/:token/statement.pdf': 'portal-link',
  'POST /portal/:token/bank-account': 'portal-link',
  'POST /portal/:token/pay-by-bank': 'portal-link',
  'GET /portal/update-method/:token': 'portal-link',
  'POST /portal/update-method/:token/start': 'portal-link',
  'POST /portal/update-method/:token/complete': 'portal-link',
  // The client's account pages (http/portal/account-routes.ts): invoice detail and receipts, saved methods
  // and autopay, and a fresh link for an expired one (renew-link.ts checks the expired link's signature).
  'GET /portal/:token/invoices/:id': 'portal-link',
  'GET /portal/:token/invoices/:id/pdf': 'portal-link',
  'GET /portal/:token/receipts/:id.pdf': 'portal-link',
  'POST /portal/:token/receipts/:id/email': 'portal-link',
  'GET /portal/:token/methods': 'portal-link',
  'POST /portal/:token/methods/start': 'portal-link',
  'POST /portal/:token/methods/complete': 'portal-link',
  'POST /portal/:token/methods/:id/default': 'portal-link',
  'POST /portal/:token/methods/:id/remove': 'portal-link',
  'POST /portal/:token/autopay': 'portal-link',
  'POST /portal/:token/autopay/leave': 'portal-link',
  'POST /portal/:token/renew': 'portal-link',
  // The PSA invoice's "Pay now" link (http/portal/pay-link.ts): an HMAC-checked token, read only.
  'GET /pay/:token': 'portal-link',

  // ---- vendor webhooks ----
  'POST /webhooks/:workspace/:vendor': 'vendor-signature',
  // The QuickBooks Web Connector's SOAP endpoint (webhooks/qbwc.ts): authenticate checks the workspace's Web
  // Connector password, every other operation a ticket it issued; GET serves the WSDL.
  'POST /webhooks/qbwc': 'vendor-signature',
  'GET /webhooks/qbwc': 'public',

  // ---- API: invoices, clients, payments ----
  'GET /api/v1/invoices': 'viewer',
  'GET /api/v1/invoices/:id': 'viewer',
  'GET /api/v1/clients': 'viewer',
  'GET /api/v1/clients/:id/payment-methods': 'viewer',
  'POST /api/v1/clients/:id/portal-links': 'finance',
  'GET /api/v1/payments': 'viewer',
  'GET /api/v1/payments/:id': 'viewer',
  'POST /api/v1/payments': 'finance',
  'GET /api/v1/payments/:id/refunds': 'viewer',
  'POST /api/v1/payments/:id/refunds': 'finance',

  // ---- API: activity, postings, exceptions ----
  'GET /api/v1/postings': 'viewer',
  'GET /api/v1/postings/:id': 'viewer',
  'POST /api/v1/postings/:id/retry': 'finance',
  // The audit log names who did what — staff e-mails, sign-ins and failed ones, keys made and revoked — next to
  // every money movement: that is for the people who answer for the money and the workspace (finance, owner),
  // not for a read-only seat such as an outside bookkeeper. Same rule as its page (GET /app/settings/audit).
  'GET /api/v1/audit-log': 'finance',
  // The A/R dashboard's figures (api/reports.ts; the page is GET /app)
  'GET /api/v1/reports/ar': 'viewer',
  // The cash forecast (api/cash-forecast.ts; its panel and CSV are on GET /app/forecast)
  'GET /api/v1/reports/cash-forecast': 'viewer',
  'GET /api/v1/exceptions': 'viewer',
  'POST /api/v1/exceptions/:id/dismiss': 'finance',
  'POST /api/v1/exceptions/:id/resolve': 'finance',
  'POST /api/v1/exceptions/:id/retry': 'finance',
  'POST /api/v1/exceptions/:id/remap': 'finance',
  'POST /api/v1/exceptions/retry': 'finance',
  // The Needs-attention page (http/staff/attention.ts): everyone reads the queue; its fixes are finance's.
  'GET /app/attention': 'viewer',
  'POST /app/attention/retry': 'finance',
  'POST /app/attention/:id/retry': 'finance',
  'POST /app/attention/:id/resolve': 'finance',
  'POST /app/attention/:id/dismiss': 'finance',
  'POST /app/attention/:id/remap': 'finance',
  // Connections, set-up wizard, GL mapping (http/staff/connections.ts, setup.ts, settings-accounts.ts, quickbooks-oauth.ts):
  // everyone reads the state; connecting, testing, repairing, disconnecting and the account mapping are the owner's.
  'GET /app/connections': 'viewer',
  'POST /app/connections/:role/test': 'owner',
  'POST /app/connections/psa/repair': 'owner',
  'POST /app/connections/psa/pay-links': 'finance', // a pay link for every open invoice (staff/pay-links-open.ts)
  'GET /app/connections/:role/disconnect': 'owner',
  'POST /app/connections/:role/disconnect': 'owner',
  'GET /app/connections/:role/:vendor': 'owner',
  'GET /app/connections/accounting/quickbooks-desktop/qwc': 'owner', // the Web Connector's .qwc file (staff/qbd-qwc.ts)
  'POST /app/connections/:role/:vendor': 'owner',
  'POST /app/connections/:role/:vendor/check': 'owner',
  'POST /app/connections/quickbooks/connect': 'owner',
  'GET /app/connections/quickbooks/callback': 'owner',
  'POST /app/connections/xero/connect': 'owner', // staff/xero-oauth.ts
  'GET /app/connections/xero/callback': 'owner',
  'GET /app/settings/accounts': 'viewer',
  // Class and location by contract (http/staff/settings-gl-rules.ts): everyone reads; owner and finance change them.
  'GET /app/settings/gl-rules': 'viewer',
  'POST /app/settings/gl-rules': 'finance',
  // Installment offers (http/staff/settings-installments.ts): everyone reads them; the owner changes them.
  // Collections Assist (http/staff/collections.ts, collections-results.ts): everyone reads the sequences, results
  // and holds; finance and owner change them and record promises, disputes and pauses (day-to-day collections).
  'GET /app/collections': 'viewer',
  'POST /app/collections/settings': 'finance',
  'POST /app/collections/sequences': 'finance',
  'GET /app/collections/sequences/:id': 'viewer',
  'POST /app/collections/sequences/:id/assign': 'finance',
  'POST /app/collections/sequences/:id/assignments/:assignmentId/remove': 'finance',
  'GET /app/collections/sequences/:id/steps/:stepId': 'viewer',
  'POST /app/collections/sequences/:id/steps/:stepId': 'finance',
  'POST /app/collections/sequences/:id/steps/:stepId/remove': 'finance',
  'GET /app/collections/results': 'viewer',
  'GET /app/collections/holds': 'viewer',
  'POST /app/collections/holds': 'finance',
  'POST /app/collections/holds/:id/release': 'finance',
  'GET /app/collections/statement/:clientId': 'viewer',
  'GET /app/settings/installments': 'viewer',
  'GET /app/settings/installments/new': 'owner',
  'GET /app/settings/installments/:id': 'owner',
  'POST /app/settings/installments': 'owner',
  'POST /app/settings/installments/:id': 'owner',
  'POST /app/settings/installments/:id/enabled': 'owner',
  // Surcharge, retry policy and timezone pages (http/staff/settings-policies.ts): everyone reads them; changing
  // them is the owner's, like PUT /api/v1/settings/surcharge and PUT /api/v1/retry-policy.
  'GET /app/settings/surcharge': 'viewer',
  'POST /app/settings/surcharge': 'owner',
  'GET /app/settings/retry-policy': 'viewer',
  'POST /app/settings/retry-policy': 'owner',
  'GET /app/settings/workspace': 'viewer',
  'POST /app/settings/workspace': 'owner',
  // The audit log page and its CSV (http/staff/audit-log.ts): finance and owner, for the reason given at
  // GET /api/v1/audit-log.
  'GET /app/settings/audit': 'finance',
  'GET /app/settings/audit.csv': 'finance',
  'POST /app/settings/accounts': 'finance', // the GL mapping: owner or finance (issue #11)
  // Branding (http/staff/settings-branding.ts): everyone reads it; changing it is the owner's.
  // Webhooks (http/staff/webhooks.ts): everyone reads the subscriptions and the delivery log; changing them is the owner's.
  'GET /app/settings/webhooks': 'viewer',
  'POST /app/settings/webhooks': 'owner',
  'GET /app/settings/webhooks/:id': 'viewer',
  'POST /app/settings/webhooks/:id': 'owner',
  'POST /app/settings/webhooks/:id/rotate': 'owner',
  'POST /app/settings/webhooks/:id/enabled': 'owner',
  'POST /app/settings/webhooks/:id/deliveries/:delivery/replay': 'owner',
  'GET /app/settings/branding': 'viewer',
  'POST /app/settings/branding': 'owner',
  'GET /app/setup': 'owner',
  'GET /app/setup/psa': 'owner',
  'POST /app/setup/psa': 'owner',
  'GET /app/setup/payments': 'owner',
  'POST /app/setup/payments': 'owner',
  'GET /app/setup/books': 'owner',
  'GET /app/setup/accounts': 'owner',
  'POST /app/setup/accounts': 'owner',
  'GET /app/setup/pilot': 'owner',
  'POST /app/setup/pilot': 'owner',
  'GET /app/setup/import': 'owner',
  'POST /app/setup/import': 'owner',
  'GET /app/setup/import/progress': 'owner',

  // ---- API: autopay ----
  'GET /api/v1/autopay/rules': 'viewer',
  'POST /api/v1/autopay/rules': 'finance',
  'GET /api/v1/autopay/rules/:id': 'viewer',
  'PATCH /api/v1/autopay/rules/:id': 'finance',
  'DELETE /api/v1/autopay/rules/:id': 'finance',
  'GET /api/v1/autopay/settings': 'viewer',
  'PUT /api/v1/autopay/settings': 'owner',
  'GET /api/v1/autopay/clients/:id': 'viewer',
  'PUT /api/v1/autopay/clients/:id': 'finance',
  'POST /api/v1/clients/:id/payment-methods/sync': 'finance',
  'PUT /api/v1/clients/:id/payment-methods/:methodId/default': 'finance',
  'GET /api/v1/autopay/schedules': 'viewer',
  'GET /api/v1/autopay/approvals': 'viewer',
  'POST /api/v1/autopay/approvals/:id/approve': 'finance',
  'POST /api/v1/autopay/approvals/:id/reject': 'finance',
  'POST /api/v1/autopay/runs': 'finance',

  // ---- API: collections (credit, installments, surcharging) ----
  'GET /api/v1/clients/:id/credit': 'viewer',
  'POST /api/v1/clients/:id/credit/applications': 'finance',
  'POST /api/v1/clients/:id/credit/refunds': 'finance',
  'GET /api/v1/invoices/:id/installment-plans': 'viewer',
  'POST /api/v1/invoices/:id/installment-plans': 'finance',
  'GET /api/v1/installment-plans/:id': 'viewer',
  'POST /api/v1/installment-plans/:id/cancel': 'finance',
  'POST /api/v1/installment-plans/:id/parts/:part_no/collect': 'finance',
  'GET /api/v1/settings/surcharge': 'viewer',
  'PUT /api/v1/settings/surcharge': 'owner',
  'PUT /api/v1/clients/:id/surcharge': 'finance',
  // Collections Assist (api/collections-assist.ts): as its staff pages — everyone reads, finance changes.
  'GET /api/v1/collections-assist/settings': 'viewer',
  'PUT /api/v1/collections-assist/settings': 'finance',
  'GET /api/v1/collections-assist/sequences': 'viewer',
  'POST /api/v1/collections-assist/sequences': 'finance',
  'GET /api/v1/collections-assist/sequences/:id': 'viewer',
  'POST /api/v1/collections-assist/sequences/:id/steps': 'finance',
  'PUT /api/v1/collections-assist/sequences/:id/steps/:step_id': 'finance',
  'DELETE /api/v1/collections-assist/sequences/:id/steps/:step_id': 'finance',
  'POST /api/v1/collections-assist/sequences/:id/assignments': 'finance',
  'DELETE /api/v1/collections-assist/assignments/:id': 'finance',
  'GET /api/v1/collections-assist/holds': 'viewer',
  'POST /api/v1/collections-assist/holds': 'finance',
  'POST /api/v1/collections-assist/holds/:id/release': 'finance',
  'GET /api/v1/collections-assist/results': 'viewer',
  'POST /api/v1/collections-assist/runs': 'finance',

  // ---- API: workspace settings ----
  'GET /api/v1/settings/lifecycle': 'viewer',
  'PUT /api/v1/settings/lifecycle': 'owner',
  // Which sites may frame the client portal (api/portal-framing.ts, security-headers.ts).
  'GET /api/v1/settings/portal-framing': 'viewer',
  'PUT /api/v1/settings/portal-framing': 'owner',
  // Outbound webhooks (http/api/webhook-subscriptions.ts): everyone reads the subscriptions (never a secret) and
  // the delivery log; adding, changing, rotating a secret and replaying are the owner's, as Settings → Webhooks.
  'GET /api/v1/webhook-event-types': 'viewer',
  'GET /api/v1/webhook-subscriptions': 'viewer',
  'POST /api/v1/webhook-subscriptions': 'owner',
  'GET /api/v1/webhook-subscriptions/:id': 'viewer',
  'PATCH /api/v1/webhook-subscriptions/:id': 'owner',
  'POST /api/v1/webhook-subscriptions/:id/rotate-secret': 'owner',
  'GET /api/v1/webhook-subscriptions/:id/deliveries': 'viewer',
  'POST /api/v1/webhook-deliveries/:id/replay': 'owner',
  'GET /api/v1/retry-policy': 'viewer',
  'PUT /api/v1/retry-policy': 'owner',
  'POST /api/v1/retry-policy/backtest': 'owner', // a preview before changing the policy (saves nothing)

  // ---- API: API keys (also `settle api-key …`) ----
  'GET /api/v1/api-keys': 'owner',
  'POST /api/v1/api-keys': 'owner',
  'DELETE /api/v1/api-keys/:id': 'owner',

  // ---- API: bank ACH ----
  'POST /api/v1/ach/debits': 'finance',
  'POST /api/v1/ach/bank-accounts': 'finance',
  'GET /api/v1/ach/bank-accounts': 'viewer',
  'POST /api/v1/ach/run': 'finance',
  'GET /api/v1/ach/files': 'viewer',
  'GET /api/v1/ach/settlements': 'viewer',
};
