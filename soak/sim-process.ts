// One vendor simulator in a process of its own, as the real vendor runs on its own servers: started by the
// soak (soak/lib/sims.ts) as the leader of its own process group, it prints one JSON line with what Settle
// needs to connect and is steered only over HTTP (`/_sim/*`), so the soak's checks read the vendor's own state.
// Usage: node --import tsx soak/sim-process.ts <connectwise|stripe|quickbooks-online> <port> [seedJson]
import { startConnectWiseSimulator } from '../simulators/connectwise/index.ts';
import { startStripeSimulator } from '../simulators/stripe/index.ts';
import { startQuickBooksSimulator } from '../simulators/quickbooks-online/index.ts';

const [vendor, portText, seedText] = process.argv.slice(2);
const port = Number(portText ?? 0);

async function start(): Promise<Record<string, unknown>> {
  switch (vendor) {
    case 'connectwise': {
      const seed = JSON.parse(seedText ?? '{"companies":20,"invoices":40,"seed":11,"paidShare":0}') as { companies: number; invoices: number; seed: number };
      const s = await startConnectWiseSimulator({ port, seed });
      return { baseUrl: s.baseUrl, origin: s.origin, credentials: s.credentials };
    }
    case 'stripe': {
      // Stripe's live limit; ACH debits settle a few seconds after confirmation (days at Stripe).
      const s = await startStripeSimulator({ port, rateLimitPerSecond: 100, achSettleDelayMs: 4000, searchLagMs: 2000 });
      return { baseUrl: s.baseUrl, secretKey: s.secretKey, publishableKey: s.publishableKey };
    }
    case 'quickbooks-online': {
      const s = await startQuickBooksSimulator({ port });
      return {
        baseUrl: s.baseUrl,
        oauthTokenUrl: s.oauthTokenUrl,
        realmId: s.realmId,
        clientId: s.clientId,
        clientSecret: s.clientSecret,
        initialRefreshToken: s.initialRefreshToken,
        accounts: s.sim.accounts,
      };
    }
    default:
      throw new Error(`unknown simulator "${vendor}" (connectwise | stripe | quickbooks-online)`);
  }
}

try {
  const info = await start();
  process.stdout.write(`${JSON.stringify({ ready: true, vendor, ...info })}\n`);
} catch (e) {
  process.stderr.write(`simulator ${vendor} did not start: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
}
