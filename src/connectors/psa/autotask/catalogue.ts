// Autotask PSA (Datto/Kaseya) vendor facts, as data. Source: ../../../../../shared/specs/README.md §2 and
// specs/autotask/autotask-rest-v1.swagger.json.

export const autotaskCatalogue = {
  vendor: 'autotask',
  /** Zone discovery starts at the global host; every other call goes to the zone's URL. */
  globalUrl: 'https://webservices2.autotask.net/ATServicesRest',
  auth: 'headers: ApiIntegrationCode, UserName, Secret',
  paging: { maxRecords: 500 },
  /** Values per `in` list (not published; the simulator's strict figure, simulators/autotask/README.md). */
  maxInValues: 500,
  limits: {
    /** Per database, all integrations together, per rolling hour (REST_Thresholds_Limits). */
    requestsPerHour: 10_000,
    /** Concurrent requests per object endpoint per integration (ThreadLimiting, integrations after 2023.1). */
    threadsPerEndpoint: 3,
  },
  /** Settle's default share of what other integrations leave of the hour's threshold. */
  defaultShare: 0.25,
  /** No payment entity and no idempotency key: check before write. */
  idempotencyKeys: false,
  webhooks: { signatureHeader: 'x-hook-signature', algorithm: 'sha1' },
} as const;
