// `settle doctor` on a Xero connection's accounts: each mapped code is an active account Xero lets take its
// role (chart.ts), and the connection still reaches the organisation; problems name the accounts that fit.
import { readXeroChart, xeroAccountProblems } from '../connectors/accounting/xero/chart.ts';
import type { XeroConnector } from '../connectors/accounting/xero/connector.ts';
import { DoctorProblem } from './vendor-checks.ts';

export async function checkXeroAccounts(books: XeroConnector, config: Readonly<Record<string, unknown>>, slug: string): Promise<string> {
  const chart = await readXeroChart(books.api);
  const problems = xeroAccountProblems(config, chart);
  if (problems.length > 0) {
    throw new DoctorProblem(`${problems.join('; ')}. Fix the codes: \`settle connect accounting xero --workspace ${slug} --config …\``);
  }
  const r = books.api.limiter.remaining;
  const day = r.day === null ? '' : `; Xero says ${r.day} calls left today`;
  return `bank ${String(config['bankAccountCode'])}, clearing ${String(config['clearingAccountCode'])} (bank type), fees ${String(config['feeAccountCode'])} fit their roles${day}`;
}
