// `settle doctor` on a Xero connection's accounts: each mapped code is an active account Xero lets take its
// role (chart.ts), each mapped tracking option still exists and is active with its category (tracking.ts),
// and the connection still reaches the organisation; problems name the accounts that fit.
import { readXeroChart, xeroAccountProblems } from '../connectors/accounting/xero/chart.ts';
import type { XeroConnector } from '../connectors/accounting/xero/connector.ts';
import { readXeroTracking, xeroTrackingProblems, trackingValueName, XERO_TRACKING_KEYS } from '../connectors/accounting/xero/tracking.ts';
import { DoctorProblem } from './vendor-checks.ts';

export async function checkXeroAccounts(books: XeroConnector, config: Readonly<Record<string, unknown>>, slug: string): Promise<string> {
  const chart = await readXeroChart(books.api);
  const problems = xeroAccountProblems(config, chart);
  const mapped = XERO_TRACKING_KEYS.filter((k) => typeof config[k] === 'string' && config[k] !== '');
  const categories = mapped.length ? await readXeroTracking(books.api) : [];
  problems.push(...xeroTrackingProblems(config, categories));
  if (problems.length > 0) {
    throw new DoctorProblem(`${problems.join('; ')}. Fix the codes: \`settle connect accounting xero --workspace ${slug} --config …\``);
  }
  const r = books.api.limiter.remaining;
  const day = r.day === null ? '' : `; Xero says ${r.day} calls left today`;
  const tracking = mapped.length ? `; tracking ${mapped.map((k) => `“${trackingValueName(config[k], categories)}”`).join(', ')} active` : '';
  return `bank ${String(config['bankAccountCode'])}, clearing ${String(config['clearingAccountCode'])} (bank type), fees ${String(config['feeAccountCode'])} fit their roles${tracking}${day}`;
}
