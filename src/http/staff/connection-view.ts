// How the staff pages name and describe connections: vendor titles, the vendor's published API limits and
// Settle's use of them where this process records it, and the non-secret settings worth showing.
import type { ConnectionRole } from '../../connectors/registry.ts';
import { QBO_CATALOGUE } from '../../connectors/accounting/quickbooks-online/catalogue.ts';
import { STRIPE } from '../../connectors/payments/stripe/catalogue.ts';
import { limiterFor } from '../../connectors/accounting/quickbooks-online/limiter.ts';
import { XERO_LIMITS, xeroLimiterFor } from '../../connectors/accounting/xero/limiter.ts';
import type { ConnectionRow } from '../../db/queries/connections.ts';
import { autotaskCatalogue } from '../../connectors/psa/autotask/catalogue.ts';
import { budgetKey } from '../../connectors/psa/autotask/api.ts';
import { budgetStateFor } from '../../connectors/psa/autotask/budget.ts';

export const VENDOR_TITLES: Readonly<Record<string, string>> = {
  connectwise: 'ConnectWise PSA',
  halopsa: 'HaloPSA',
  autotask: 'Autotask PSA',
  stripe: 'Stripe',
  'quickbooks-online': 'QuickBooks Online',
  'quickbooks-desktop': 'QuickBooks Desktop',
  xero: 'Xero',
  'bank-ach': 'Bank (ACH files)',
};

export const ROLE_TITLES: Readonly<Record<ConnectionRole, string>> = {
  psa: 'PSA (invoices and clients)',
  payments: 'Payment processor',
  accounting: 'Books',
  bank_ach: 'Bank ACH',
};

export const vendorTitle = (vendor: string): string => VENDOR_TITLES[vendor] ?? vendor;

/** The vendor's published limits and, where this process counts them, how much of them Settle uses now. */
export function limitsOf(c: Pick<ConnectionRow, 'vendor' | 'config'>): { published: string; use: string | null } {
  if (c.vendor === 'quickbooks-online') {
    const L = QBO_CATALOGUE.limits;
    const realm = typeof c.config['realmId'] === 'string' ? c.config['realmId'] : null;
    const u = realm ? limiterFor(realm).usage() : null;
    return {
      published: `${L.requestsPerMinutePerRealm} requests a minute per company; ${L.requestsPerSecondPerRealmAndApp} a second and ${L.concurrentPerRealmAndApp} at once per company and app; ${L.batchRequestsPerMinutePerRealmAndApp} batch requests a minute.`,
      use: u
        ? `Settle (this server) in the last minute: ${u.lastMinute} of ${u.limits.perMinute} requests, ${u.batchLastMinute} of ${u.limits.batchPerMinute} batches; ${u.inFlight} of ${u.limits.concurrent} in flight now. Settle waits rather than go over.`
        : null,
    };
  }
  if (c.vendor === 'stripe') {
    const r = STRIPE.rateLimits;
    const own = typeof c.config['requestsPerSecond'] === 'number' ? `${String(c.config['requestsPerSecond'])} a second (raised for this account)` : null;
    return {
      published: own
        ? `${own}; ${String(c.config['endpointRequestsPerSecond'] ?? r.perEndpointRequestsPerSecond)} a second per endpoint.`
        : `${r.liveRequestsPerSecond} requests a second in live mode, ${r.testRequestsPerSecond} in test mode; ${r.perEndpointRequestsPerSecond} a second per endpoint.`,
      use: 'Settle paces its calls to stay under these and backs off when Stripe answers 429.',
    };
  }
  if (c.vendor === 'xero') {
    const t = typeof c.config['tenantId'] === 'string' ? c.config['tenantId'] : null;
    const r = t ? xeroLimiterFor(t).remaining : null;
    return {
      published: `${XERO_LIMITS.concurrent} calls at once, ${XERO_LIMITS.perMinute} a minute and ${XERO_LIMITS.perDay.toLocaleString('en-US')} a day per organisation; 10,000 a minute per app.`,
      use:
        r && r.day !== null
          ? `Xero's last answer to this server: ${r.minute ?? '?'} calls left this minute, ${r.day} today. Settle waits rather than go over; when the day's calls are used up, postings wait for the next day.`
          : 'Settle keeps to these, reads the remaining-call figures Xero sends with every answer and waits when Xero answers 429.',
    };
  }
  if (c.vendor === 'connectwise')
    return { published: 'ConnectWise publishes no numeric limit.', use: 'Settle backs off when ConnectWise answers 429 (honouring Retry-After).' };
  if (c.vendor === 'autotask') return autotaskLimits(c.config);
  if (c.vendor === 'halopsa')
    return { published: 'HaloPSA publishes no numeric limit in its API description.', use: 'Settle backs off when Halo answers 429 (honouring Retry-After).' };
  return { published: 'No published limit recorded for this vendor.', use: null };
}

/** Autotask: the database's hourly threshold shared by all integrations, and the budget broker's state. */
function autotaskLimits(config: Readonly<Record<string, unknown>>): { published: string; use: string | null } {
  const L = autotaskCatalogue.limits;
  const published = `${L.requestsPerHour.toLocaleString('en-US')} requests per rolling hour per Autotask database, shared by every integration the MSP runs; ${L.threadsPerEndpoint} at once per endpoint.`;
  const share = typeof config['budgetShare'] === 'number' ? config['budgetShare'] : autotaskCatalogue.defaultShare;
  const user = typeof config['username'] === 'string' ? config['username'] : null;
  const s = user
    ? budgetStateFor(budgetKey({ globalUrl: typeof config['globalUrl'] === 'string' ? config['globalUrl'] : autotaskCatalogue.globalUrl, username: user }))
    : null;
  const pct = `${Math.round(share * 100)} %`;
  if (!s || s.checkedAt === null)
    return { published, use: `Settle keeps its own use within ${pct} of what the other integrations leave each hour, write-backs first.` };
  return {
    published,
    use:
      `Settle (this server) this hour: ${s.usedBySettle} of its ${s.allowance} requests (${pct} of what other integrations leave; ${s.remaining} left). ` +
      `Autotask counted ${s.usedByAll.toLocaleString('en-US')} of ${s.limit.toLocaleString('en-US')} for the database at ${s.checkedAt.slice(11, 16)} UTC; ` +
      `${s.inFlight} in flight, ${s.waiting} waiting. Write-backs go first.`,
  };
}

/** Non-secret settings a person recognises (never keys or tokens). */
export function shownSettings(c: Pick<ConnectionRow, 'vendor' | 'config'>): [string, string][] {
  const pick: Readonly<Record<string, readonly [string, string][]>> = {
    connectwise: [
      ['baseUrl', 'API address'],
      ['companyId', 'Company ID'],
      ['payLinkField', 'Pay link field'],
    ],
    autotask: [
      ['username', 'API user'],
      ['globalUrl', 'Zone lookup address'],
      ['payLinkField', 'Pay link field'],
    ],
    halopsa: [
      ['baseUrl', 'Halo address'],
      ['tenant', 'Tenant'],
      ['clientId', 'Client ID'],
      ['payLinkField', 'Pay link field'],
    ],
    stripe: [
      ['publishableKey', 'Publishable key'],
      ['webhookEndpointId', 'Webhook endpoint'],
    ],
    'quickbooks-online': [
      ['realmId', 'Company (realm) ID'],
      ['baseUrl', 'API address'],
    ],
  };
  return (pick[c.vendor] ?? [])
    .filter(([k]) => typeof c.config[k] === 'string' && c.config[k] !== '')
    .map(([k, label]) => [label, String(c.config[k])] as [string, string]);
}
