// `settle doctor` per PSA vendor, against the Autotask and HaloPSA simulators over HTTP with a real
// PostgreSQL: a healthy connection is reported with what was checked; each way it can be wrong is named with
// its fix — Autotask: zone lookup, API user refused, an entity the API user may not read, the hour's
// threshold above 80 % (a warning); HaloPSA: token refused, permissions narrower than Settle needs, a
// resource the application may not read, the webhook not at Settle's public URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctor } from '../../src/cli/doctor.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { ConnectorCache, readConnection } from '../../src/engine/connections.ts';
import { psaCallbackUrl } from '../../src/engine/psa-callbacks.ts';
import { checkPsaVendor } from '../../src/engine/psa-vendor-checks.ts';
import { DoctorProblem } from '../../src/engine/vendor-checks.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

async function psaFindings(stack: Stack<'autotask'> | Stack<'halopsa'>): Promise<Map<string, { ok: boolean; warning?: true; detail: string }>> {
  const db = stack.database.db;
  const box = SecretBox.fromHex(stack.secretKeyHex);
  const all = await doctor(db, new ConnectorCache(db, box), { box, publicUrl: stack.settleUrl, log: createLogger('silent') });
  return new Map(all.filter((f) => f.role === 'psa').map((f) => [f.what.slice(stack.slug.length + 1), f]));
}

async function vendorCheck(stack: Stack<'autotask'> | Stack<'halopsa'>, patch: { config?: object; secrets?: object } = {}): Promise<string> {
  const conn = (await readConnection(stack.database.db, SecretBox.fromHex(stack.secretKeyHex), stack.tenantId, 'psa'))!;
  const at = { callbackUrl: psaCallbackUrl(stack.settleUrl, stack.slug, conn.vendor), slug: stack.slug };
  try {
    const r = await checkPsaVendor({ vendor: conn.vendor, config: { ...conn.config, ...patch.config }, secrets: { ...conn.secrets, ...patch.secrets } }, at);
    return typeof r === 'string' ? `ok: ${r}` : `warning: ${r?.warning}`;
  } catch (e) {
    if (e instanceof DoctorProblem) return `problem: ${e.message}`;
    throw e;
  }
}

describe('settle doctor on Autotask', () => {
  let stack: Stack<'autotask'>;
  beforeAll(async () => {
    stack = await startStack({ psa: 'autotask', settle: false, companies: 1, invoices: 1 });
  }, 300_000);
  afterAll(async () => stack?.close());

  it('a healthy connection: zone, API user, entities read, threshold usage — all ok', async () => {
    const f = await psaFindings(stack);
    expect(f.get('psa')).toMatchObject({ ok: true });
    expect(f.get('psa callback')).toMatchObject({ ok: true });
    const access = f.get('psa access')!;
    expect(access).toMatchObject({ ok: true });
    expect(access.warning).toBeUndefined();
    expect(access.detail).toMatch(/zone http:.*API user accepted; reads Companies, Contacts, Invoices, BillingItems, CompanyNotes; \d+ of 10,000 requests/);
  });

  it('names the zone lookup and the refused API user with their fixes', async () => {
    expect(await vendorCheck(stack, { config: { username: 'nobody@msp.example' } })).toMatch(
      /^problem: Autotask's zone lookup for "nobody@msp.example".*404.*Admin → Resources\/Users/,
    );
    expect(await vendorCheck(stack, { secrets: { secret: 'wrong-secret' } })).toMatch(
      /^problem: Autotask refused the API user .*401.*API Tracking Identifier.*settle connect psa autotask/,
    );
  });

  it('an entity the API user may not read is named with the security level to change', async () => {
    stack.sims.autotask.sim.faults.add({
      method: 'POST',
      pathPattern: 'CompanyNotes/query/count$',
      fault: { kind: 'status', status: 403, body: { errors: ['The logged in Resource does not have the adequate permissions to query this entity type.'] } },
      times: 1,
    });
    const r = await vendorCheck(stack);
    expect(r).toMatch(/^problem: the API user "settle-api@msp.example" cannot read CompanyNotes \(payment notes.*403.*Security Levels/);
    expect(r).not.toMatch(/Companies \(|Invoices \(/);
  });

  it('more than 80 % of the hour used by all integrations is a warning (doctor still succeeds) with what to do', async () => {
    await fetch(`${stack.sims.autotask.origin}/_sim/threshold/others`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requests: 8_500 }),
    });
    try {
      const access = (await psaFindings(stack)).get('psa access')!;
      expect(access).toMatchObject({ ok: true, warning: true });
      expect(access.detail).toMatch(/8,5\d\d of 10,000 requests .*\(8\d %\) — above 80 %.*budgetShare/);
    } finally {
      await fetch(`${stack.sims.autotask.origin}/_sim/limits`, { method: 'DELETE' });
    }
  });
});

describe('settle doctor on HaloPSA', () => {
  let stack: Stack<'halopsa'>;
  beforeAll(async () => {
    stack = await startStack({ psa: 'halopsa', settle: false, companies: 1, invoices: 1 });
  }, 300_000);
  afterAll(async () => stack?.close());

  it('a healthy connection: token with its permissions, reads, webhook at the public URL — all ok', async () => {
    const f = await psaFindings(stack);
    expect(f.get('psa')).toMatchObject({ ok: true });
    const access = f.get('psa access')!;
    expect(access).toMatchObject({ ok: true });
    expect(access.detail).toContain(`token granted (permissions "all", 3600 s); reads invoices, clients and users; webhook`);
    expect(access.detail).toContain(`at ${stack.settleUrl}/webhooks/${stack.slug}/halopsa, active`);
  });

  it('a refused token and narrower permissions are named with their fixes', async () => {
    expect(await vendorCheck(stack, { secrets: { clientSecret: 'not-the-secret' } })).toMatch(
      /^problem: Halo's authorisation server refused a token for client .*invalid_client.*Client ID and Secret \(Services\).*tenant "settledemo"/,
    );
    stack.sims.halopsa.sim.faults.add({
      method: 'POST',
      pathPattern: '^/auth/token$',
      fault: { kind: 'status', status: 200, body: { access_token: 'narrow', token_type: 'Bearer', expires_in: 3600, scope: 'read:invoices read:customers' } },
      times: 1,
    });
    expect(await vendorCheck(stack)).toMatch(
      /^problem: the API application is granted "read:invoices read:customers" but Settle needs edit:invoices, admin: set its permissions to "all"/,
    );
  });

  it('a resource the application may not read is named', async () => {
    stack.sims.halopsa.sim.faults.add({
      method: 'GET',
      pathPattern: '^/api/Webhook$',
      fault: { kind: 'status', status: 403, body: { message: 'Forbidden' } },
      times: 1,
    });
    expect(await vendorCheck(stack)).toMatch(/^problem: the API application may not manage webhooks \(\/Webhook: 403/);
  });

  it("a webhook that no longer points at Settle's public URL is named; the doctor re-creates it and is then content", async () => {
    const hook = [...stack.sims.halopsa.state.webhooks.values()][0]!;
    hook.url = `http://old-address.example/webhooks/${stack.slug}/halopsa`;
    expect(await vendorCheck(stack)).toMatch(
      new RegExp(
        `^problem: no webhook at ${stack.settleUrl}/webhooks/${stack.slug}/halopsa.*; webhook \\S+ sends to http://old-address.example/.*Set PUBLIC_URL`,
      ),
    );
    const f = await psaFindings(stack);
    expect(f.get('psa callback')!.detail).toMatch(/re-created/);
    expect(f.get('psa access')).toMatchObject({ ok: true });
  });
});
