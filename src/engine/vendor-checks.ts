// The vendor-specific checks of `settle doctor` and the staff app's "Test connection" (connection-checks.ts)
// that go beyond "the credentials work": the accounts named in the books settings exist and are of the right
// kind, the processor's webhook endpoint is registered and enabled for the events Settle needs. Each returns a
// sentence saying what is fine, or throws a DoctorProblem saying what is wrong and how to fix it.
import { createStripeClient } from '../connectors/payments/stripe/api.ts';
import { STRIPE_WEBHOOK_EVENTS } from '../connectors/payments/stripe/catalogue.ts';
import type { QboApi } from '../connectors/accounting/quickbooks-online/api.ts';
import { queryLiteral } from '../connectors/accounting/quickbooks-online/mapping.ts';
import { trackingProblem } from '../connectors/accounting/quickbooks-online/tracking.ts';
import { BOOKS_ACCOUNT_SETTINGS } from './books-accounts.ts';

export class DoctorProblem extends Error {
  override readonly name = 'DoctorProblem';
}

/** Which QuickBooks account types each setting may name (null: any active account); the staff app's pickers offer the same. */
const QBO_ACCOUNT_TYPES: Record<string, readonly string[] | null> = Object.fromEntries(BOOKS_ACCOUNT_SETTINGS.map((s) => [s.key, s.types]));

/**
 * The active accounts of these types, to name in the fix (an Account query by AccountType, a filterable
 * field at Intuit): `— Bank accounts in QuickBooks: "Checking" (35), …`. Empty when the look-up fails.
 */
async function candidates(api: QboApi, types: readonly string[], setting: string): Promise<string> {
  try {
    const all = await api.queryAll('Account', `AccountType IN (${types.map(queryLiteral).join(', ')}) AND Active = true`);
    // Undeposited Funds is never a clearing account of its own.
    const rows = setting === 'clearingAccountId' ? all.filter((r) => r['AccountSubType'] !== 'UndepositedFunds') : all;
    if (rows.length === 0) return ` — QuickBooks has no active ${types.join(' or ')} account; create one`;
    const names = rows.slice(0, 8).map((r) => `"${String(r['Name'])}" (${String(r['Id'])})`);
    return ` — ${types.join(' or ')} accounts in QuickBooks: ${names.join(', ')}${rows.length > 8 ? ', …' : ''}`;
  } catch {
    return '';
  }
}

export async function checkQuickBooksAccounts(api: QboApi, config: Record<string, unknown>, slug: string): Promise<string> {
  const problems: string[] = [];
  const fine: string[] = [];
  for (const [setting, types] of Object.entries(QBO_ACCOUNT_TYPES)) {
    const id = config[setting];
    if (typeof id !== 'string' || id === '') continue;
    let account: Record<string, unknown>;
    try {
      account = await api.read('Account', id);
    } catch (e) {
      problems.push(
        `${setting} names account ${id}, which QuickBooks does not have (${(e as Error).message})${types ? await candidates(api, types, setting) : ''}`,
      );
      continue;
    }
    const type = String(account['AccountType'] ?? '');
    const name = String(account['Name'] ?? id);
    if (account['Active'] === false)
      problems.push(`${setting} names "${name}" (${id}), which is inactive in QuickBooks${types ? await candidates(api, types, setting) : ''}`);
    else if (types && !types.includes(type))
      problems.push(`${setting} names "${name}" (${id}), a ${type} account; it must be ${types.join(' or ')}${await candidates(api, types, setting)}`);
    else if (setting === 'clearingAccountId' && account['AccountSubType'] === 'UndepositedFunds')
      problems.push(`${setting} names "${name}" (${id}), the Undeposited Funds account; use an Other Current Asset account of its own`);
    else fine.push(`${setting} "${name}"`);
  }
  // The class and location mapped (Settings → Accounts): still there, active, with their tracking on.
  const tracking = {
    classId: typeof config['classId'] === 'string' ? config['classId'] : undefined,
    departmentId: typeof config['departmentId'] === 'string' ? config['departmentId'] : undefined,
  };
  const trackingIssue = await trackingProblem(api, tracking);
  if (trackingIssue) problems.push(trackingIssue);
  else if (tracking.classId || tracking.departmentId) fine.push('the class / location mapped');
  if (problems.length > 0)
    throw new DoctorProblem(
      `${problems.join('; ')}. Fix the account ids in the settings: \`settle connect accounting quickbooks-online --workspace ${slug} --config …\` ` +
        `(an account's id is in its QuickBooks address, …/register?accountId=<id>).`,
    );
  return `accounts exist with the right types: ${fine.join(', ') || 'none named'}`;
}

/**
 * A warning (not a failure) when no clearing account is set: payout money whose payment is not in the books
 * yet (its invoice not exported) then sits on the adjustments account, mixed with refunds and dispute
 * withdrawals, where it is harder to see. Null when one is set (checkQuickBooksAccounts checks it).
 */
export function clearingAccountWarning(config: Record<string, unknown>, slug: string): string | null {
  const id = config['clearingAccountId'];
  if (typeof id === 'string' && id !== '') return null;
  const fallback =
    typeof config['adjustmentAccountId'] === 'string' ? 'the adjustments account (adjustmentAccountId)' : 'the fee account (feeExpenseAccountId)';
  return (
    `no clearingAccountId set: payout money whose payment is not in QuickBooks yet goes to ${fallback}. ` +
    `Create an Other Current Asset account (e.g. "Settle clearing") in QuickBooks and add its id: ` +
    `\`settle connect accounting quickbooks-online --workspace ${slug} --config '{…,"clearingAccountId":"<id>"}'\``
  );
}

export async function checkStripeWebhook(
  conn: { config: Record<string, unknown>; secrets: Record<string, unknown> },
  wantedUrl: string,
  slug: string,
): Promise<string> {
  const fix = `register one for ${wantedUrl} (Stripe Dashboard → Developers → Webhooks, or POST /v1/webhook_endpoints) and save its id and signing secret: \`settle connect payments stripe --workspace ${slug} --config '{…,"webhookEndpointId":"we_…"}' --secrets '{…,"webhookSecret":"whsec_…"}'\``;
  const id = conn.config['webhookEndpointId'];
  if (typeof id !== 'string' || id === '')
    throw new DoctorProblem(`no webhook endpoint recorded for this workspace, so Settle only learns of payments by asking; ${fix}`);
  const stripe = createStripeClient({ secretKey: String(conn.secrets['secretKey']), baseUrl: String(conn.config['baseUrl'] ?? '') || undefined });
  let we;
  try {
    we = await stripe.webhookEndpoints.retrieve(id);
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 404) throw new DoctorProblem(`webhook endpoint ${id} no longer exists at Stripe; ${fix}`);
    throw e;
  }
  const problems: string[] = [];
  if (we.status !== 'enabled') problems.push(`endpoint ${id} is ${we.status}: enable it in the Stripe Dashboard (Developers → Webhooks)`);
  if (we.url !== wantedUrl) problems.push(`endpoint ${id} sends to ${we.url}, but this workspace receives at ${wantedUrl}: change its URL at Stripe`);
  const events = new Set(we.enabled_events);
  const missing = events.has('*') ? [] : STRIPE_WEBHOOK_EVENTS.filter((e) => !events.has(e));
  if (missing.length > 0) problems.push(`endpoint ${id} does not send ${missing.join(', ')}: add them to its events at Stripe`);
  if (problems.length > 0) throw new DoctorProblem(problems.join('; '));
  return `webhook endpoint ${id} enabled for ${wantedUrl} with every event Settle needs`;
}
