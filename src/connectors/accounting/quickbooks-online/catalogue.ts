// QuickBooks Online facts as data (specs/README.md §4 and the Intuit pages it cites). Code reads
// limits and lengths from here instead of scattering numbers.
export const QBO_CATALOGUE = {
  vendor: 'quickbooks-online',
  baseUrls: {
    production: 'https://quickbooks.api.intuit.com',
    sandbox: 'https://sandbox-quickbooks.api.intuit.com',
  },
  /** Data paths: `${baseUrl}/v3/company/${realmId}/${entity}`. */
  companyPath: (realmId: string): string => `/v3/company/${encodeURIComponent(realmId)}`,
  oauth: {
    tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
    authorizeUrl: 'https://appcenter.intuit.com/connect/oauth2',
    revokeUrl: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
    scope: 'com.intuit.quickbooks.accounting',
    clientAuth: 'basic',
    accessTokenTtlSec: 3600,
    /** Each refresh may return a new refresh token; the newest must be stored before it is relied on. */
    refreshTokenRotates: true,
  },
  /** Intuit retired minor versions below 75 on 2025-08-01 (answered as 75); every call names one, never less. */
  minorVersion: 75,
  minMinorVersion: 75,
  limits: {
    requestsPerMinutePerRealm: 500,
    /** Intuit's limits page: 10 requests per second per realm and app. */
    requestsPerSecondPerRealmAndApp: 10,
    concurrentPerRealmAndApp: 10,
    batchRequestsPerMinutePerRealmAndApp: 40,
    /** Batch page: 30 payloads per batch (an older page says 10). */
    batchItemsMax: 30,
    /** Intuit: "HTTP 429 → wait 60 s"; it sends no Retry-After. */
    throttleWaitMs: 60_000,
    /** Requests time out at Intuit after 120 s. */
    requestTimeoutMs: 120_000,
    queryMaxResults: 1000,
  },
  idempotency: {
    param: 'requestid',
    maxLength: 50,
    batchMaxLength: 36,
    /** With a requestid on a batch, each bId may have at most 10 characters. */
    batchIdMaxLength: 10,
  },
  fieldLimits: {
    docNumber: 21,
    paymentRefNum: 21,
    privateNote: 4000,
    // Line.Description: 4000 characters (Intuit's Deposit and Invoice reference pages).
    lineDescription: 4000,
  },
} as const;
