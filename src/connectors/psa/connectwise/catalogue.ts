// ConnectWise PSA (Manage) vendor facts, as data. Source: ../../../../../shared/specs/README.md §1
// (no vendor OpenAPI is shipped; every item there is marked "verify against All.json").

export const connectWiseCatalogue = {
  vendor: 'connectwise',
  /** `https://{site}/v4_6_release/apis/3.0`; cloud sites are api-{na,eu,au}.myconnectwise.net. */
  baseUrlPattern: 'https://{site}/v4_6_release/apis/3.0',
  apiPath: '/v4_6_release/apis/3.0',
  cloudSites: ['api-na.myconnectwise.net', 'api-eu.myconnectwise.net', 'api-au.myconnectwise.net'],
  /** Basic `companyId+publicKey:privateKey`, plus a `clientId` header on every request (since 2019-08-14). */
  auth: 'basic+clientId',
  /** Clients pin the API version through the media type in Accept. */
  accept: 'application/vnd.connectwise.com+json; version=2022.1',
  paging: { defaultPageSize: 25, maxPageSize: 1000, forwardOnlyParam: 'pageId' },
  /** No numeric limit is published; 429 (with Retry-After when sent) is still handled. */
  publishedRateLimit: null,
  /** ConnectWise has no idempotency key on writes: check before write. */
  idempotencyKeys: false,
  callbacks: {
    signatureHeader: 'x-content-signature',
    /** Callback payloads name a key URL; it must be on the connection's own site. */
    keyUrlPathPrefix: '/v4_6_release/',
    invoiceType: 'invoice',
    ownerLevel: 'owner',
  },
  invoiceTypes: ['Agreement', 'CreditMemo', 'DownPayment', 'Miscellaneous', 'Progress', 'Standard'],
} as const;

export type ConnectWiseInvoiceType = (typeof connectWiseCatalogue.invoiceTypes)[number];
