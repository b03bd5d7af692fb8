// `settle doctor` on a QuickBooks Desktop connection: Settle cannot reach QuickBooks Desktop, so the check is
// whether the Web Connector reaches Settle — when it last ran, whether QuickBooks answered, and how long work
// has been waiting. Never a look-up: that would queue work for the Web Connector just to check.
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import { DoctorProblem } from './vendor-checks.ts';
import { WaitingForWebConnector } from '../connectors/accounting/quickbooks-desktop/chart.ts';
import type { QuickBooksDesktopConnector } from '../connectors/accounting/quickbooks-desktop/connector.ts';
import { mappedAccountIds } from '../connectors/accounting/quickbooks-desktop/settings.ts';
import { ledgerAccountProblems } from './gl-mapping-checks.ts';

export async function checkQbdWebConnector(db: Db, tenantId: string, slug: string, runEveryMinutes: number): Promise<string | { warning: string }> {
  const last = await db
    .selectFrom('qbd_sessions')
    .select(['created_at', 'last_error'])
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  const waiting = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('qbd_work')
      .select([sql<number>`count(*)::int`.as('n'), sql<Date | null>`min(created_at)`.as('oldest')])
      .where('state', 'in', ['queued', 'in_flight'])
      .executeTakeFirstOrThrow(),
  );
  const howTo = `open the .qwc file (Connections → Books, or \`settle qwc --workspace ${slug}\`) in the QuickBooks Web Connector on the PC with QuickBooks`;
  if (!last) return { warning: `the QuickBooks Web Connector has never called Settle: ${howTo}` };
  const minutes = Math.round((Date.now() - last.created_at.getTime()) / 60_000);
  const queue = waiting.n > 0 ? `; ${waiting.n} item(s) waiting since ${waiting.oldest?.toISOString() ?? '?'}` : '; nothing waiting';
  if (waiting.n > 0 && waiting.oldest && Date.now() - new Date(waiting.oldest).getTime() > 60 * 60_000 && minutes > 3 * runEveryMinutes) {
    throw new DoctorProblem(
      `the Web Connector last ran ${minutes} min ago and work has waited over an hour${queue}: check that the PC with QuickBooks is on and the Web Connector's schedule is on (${howTo})`,
    );
  }
  if (last.last_error && !/no more work/.test(last.last_error))
    return { warning: `the Web Connector last ran ${minutes} min ago; QuickBooks said: ${last.last_error}${queue}` };
  return `the Web Connector last ran ${minutes} min ago (every ${runEveryMinutes} min)${queue}`;
}

/**
 * The GL mapping against the chart the Web Connector last brought (never a live read: there is none): accounts
 * chosen in Settings → Accounts by ListID, or named in the keys form, each active and fit for its role. No chart
 * yet is a warning that says when the Web Connector is next expected (the read is queued for it).
 */
export async function checkQbdGlMapping(books: QuickBooksDesktopConnector, config: Readonly<Record<string, unknown>>): Promise<string | { warning: string }> {
  let chart;
  try {
    chart = await books.readChart();
  } catch (e) {
    if (e instanceof WaitingForWebConnector) return { warning: e.message };
    throw e;
  }
  const { problems, fine } = ledgerAccountProblems(mappedAccountIds(config, chart.accounts), chart);
  if (problems.length > 0) throw new DoctorProblem(`${problems.join('; ')} (the chart as the Web Connector last brought it).`);
  return `accounts fit their roles in the chart the Web Connector last brought: ${fine.join(', ')}`;
}
