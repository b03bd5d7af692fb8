// A XeroConnector pointed at a running Xero simulator, for the connector's own tests and the conformance suite:
// the simulator's seeded codes (090 bank, 091 clearing, 404 fees, 260 surcharges), a Stripe contact, no waits
// on a 429. Pass one token store to every connector of a test: Xero rotates the refresh token on each use.
import type { RunningXeroSimulator } from '../../simulators/xero/index.ts';
import { MemoryTokenStore } from '../../src/connectors/accounting/quickbooks-online/tokens.ts';
import { XeroConnector, type XeroConfig } from '../../src/connectors/accounting/xero/connector.ts';
import { XeroLimiter } from '../../src/connectors/accounting/xero/limiter.ts';
import { xeroTokensFromRefreshToken } from '../../src/connectors/accounting/xero/tokens.ts';

export const xeroTokenStore = (x: RunningXeroSimulator): MemoryTokenStore => new MemoryTokenStore(xeroTokensFromRefreshToken(x.initialRefreshToken));

export function xeroConnectorFor(
  x: RunningXeroSimulator,
  opts: { readonly store?: MemoryTokenStore; readonly limiter?: XeroLimiter; readonly config?: Partial<XeroConfig> } = {},
): XeroConnector {
  return new XeroConnector(
    {
      apiUrl: x.apiUrl,
      tokenUrl: x.tokenUrl,
      tenantId: x.tenantId,
      clientId: x.clientId,
      clientSecret: x.clientSecret,
      bankAccountCode: x.sim.codes.bank,
      clearingAccountCode: x.sim.codes.clearing,
      feeAccountCode: x.sim.codes.fees,
      processorContactName: 'Stripe',
      surchargeAccountCode: x.sim.codes.otherRevenue,
      ...opts.config,
    },
    opts.store ?? xeroTokenStore(x),
    { limiter: opts.limiter ?? new XeroLimiter(), sleep: async () => {} },
  );
}
