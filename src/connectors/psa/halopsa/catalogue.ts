// HaloPSA vendor facts, as data. Source: ../../../../../shared/specs/README.md §3 and specs/halopsa/swagger.json
// ("Halo API v2"). What the spec does not say is marked; simulators/halopsa/README.md lists the readings.

export const haloCatalogue = {
  vendor: 'halopsa',
  /** Resource server `https://<tenant>.halopsa.com/api`; the authorisation server beside it at `/auth/token`. */
  apiPath: '/api',
  tokenPath: '/auth/token',
  /** OAuth 2 client credentials, scope `all`; `tenant=` on the token request for hosted tenants. */
  scope: 'all',
  /** Renew the access token this long before it expires, so no request goes out with a dying token. */
  renewBeforeMs: 60_000,
  /** `pageinate=true` with `page_size`/`page_no`; no maximum is published — 100 is the simulator's (strict) limit. */
  paging: { maxPageSize: 100 },
  /** Halo has no idempotency key; `InvoicePayment_List.thirdpartyid` carries our reference (check before write). */
  idempotencyKeys: false,
  webhooks: {
    /** Webhook.authentication_type: 1 basic, 2 header (numbering: verify on a tenant). */
    authTypes: { basic: 1, header: 2 },
    basicUsername: 'settle',
    headerName: 'X-Settle-Token',
    /** Notification events for invoices (numbers: verify on a tenant; the spec lists none). */
    events: { created: 301, updated: 302 },
  },
} as const;
