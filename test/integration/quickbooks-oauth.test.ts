// "Connect to QuickBooks" over HTTP, the way a browser walks it: Settle's button → Intuit's consent page (the
// simulator's) → Connect → the callback → tokens exchanged, sealed, audited — and everything that must be
// refused: a redirect URI Intuit does not know, a missing or altered state, a state from another sign-in, a
// callback replayed, a code used twice or expired, Cancel. Then the GL mapping: the fee account changed on
// Settings → Accounts is audited and used by the next payout's deposit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { readConnection } from '../../src/engine/connections.ts';
import { addUser } from '../../src/engine/staff-users.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { freePort } from '../helpers/ports.ts';
import { request, signIn, type Answer } from '../security/http-from.ts';

let stack: Stack;
let box: SecretBox;
let owner: string;
const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };

beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 3, settlePort: await freePort() });
  box = SecretBox.fromHex(stack.secretKeyHex);
  const q = stack.sims.quickbooks;
  stack.settle!.oauthApps.quickbooks = {
    clientId: q.clientId,
    clientSecret: q.clientSecret,
    authorizeUrl: q.authorizeUrl,
    tokenUrl: q.oauthTokenUrl,
    apiBaseUrl: q.baseUrl,
  };
  owner = await signIn(stack.settleUrl, OWNER);
}, 240_000);
afterAll(async () => stack?.close());

const callbackPath = '/app/connections/quickbooks/callback';
const redirectUri = (): string => `${stack.settleUrl}${callbackPath}`;

async function get(path: string, cookie: string): Promise<Answer> {
  return request(path.startsWith('http') ? path : `${stack.settleUrl}${path}`, { headers: { cookie } });
}

async function post(path: string, cookie: string, fields: Record<string, string>): Promise<Answer> {
  const page = await get('/app/connections', cookie);
  const token = /name="csrf-token" content="([^"]+)"/.exec(page.text)?.[1];
  if (!token) throw new Error(`no CSRF token on /app/connections (${page.status}): ${page.text.slice(0, 300)}`);
  return request(`${stack.settleUrl}${path}`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: stack.settleUrl, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ ...fields, _csrf: token }).toString(),
  });
}

/** Press "Connect to QuickBooks": Settle answers with a redirect to Intuit's consent page. */
async function startConnect(cookie: string): Promise<URL> {
  const a = await post('/app/connections/quickbooks/connect', cookie, { from: 'connections' });
  expect(a.status, a.text.slice(0, 400)).toBe(303);
  return new URL(String(a.headers.location));
}

/** On the consent page, press Connect (allow) or Cancel; answers Intuit's redirect back to Settle. */
async function consent(consentUrl: URL, decision: 'allow' | 'deny'): Promise<URL> {
  const page = await request(consentUrl.toString());
  expect(page.status, page.text.slice(0, 400)).toBe(200);
  const fields = Object.fromEntries(
    [...page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1]!,
      m[2]!.replace(/&#(\d+);/g, (_x, n: string) => String.fromCharCode(Number(n))),
    ]),
  );
  const a = await request(`${stack.sims.quickbooks.baseUrl}/connect/oauth2`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, decision }).toString(),
  });
  expect(a.status, a.text.slice(0, 400)).toBe(302);
  return new URL(String(a.headers.location));
}

const accounting = () =>
  withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('connections').selectAll().where('role', '=', 'accounting').executeTakeFirstOrThrow());
const audits = (action: string) =>
  withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute());

describe('QuickBooks Online OAuth from the staff app', () => {
  it('a redirect URI not registered at Intuit is refused on Intuit’s page, never redirected to', async () => {
    const url = await startConnect(owner);
    expect(url.origin + url.pathname).toBe(stack.sims.quickbooks.authorizeUrl);
    expect(url.searchParams.get('redirect_uri')).toBe(redirectUri());
    expect(url.searchParams.get('scope')).toBe('com.intuit.quickbooks.accounting');
    const page = await request(url.toString());
    expect(page.status).toBe(400);
    expect(page.headers.location).toBeUndefined();
    expect(page.text).toContain('redirect_uri query parameter value is invalid');
    // The page Settle shows says which URI to register.
    expect((await get('/app/connections', owner)).text).toContain(redirectUri());
    stack.sims.quickbooks.sim.registerRedirectUri(redirectUri());
  });

  it('Connect: the code is exchanged, the tokens sealed with the connection, audited; refresh rotation keeps working', async () => {
    // Start from a workspace whose books are disconnected (audited), as a new MSP would be.
    const off = await post('/app/connections/accounting/disconnect', owner, {});
    expect(off.status).toBe(303);
    expect((await accounting()).status).toBe('disabled');
    expect((await audits('connection.disconnected')).map((a) => a.subject_id)).toEqual(['accounting']);

    const back = await consent(await startConnect(owner), 'allow');
    expect(back.origin + back.pathname).toBe(redirectUri());
    expect(back.searchParams.get('realmId')).toBe(stack.sims.quickbooks.realmId);
    const done = await get(back.pathname + back.search, owner);
    expect(done.status, done.text.slice(0, 600)).toBe(303);
    expect(done.headers.location).toBe('/app/connections?connected=quickbooks-online');

    const row = await accounting();
    expect(row.status).toBe('active');
    const q = stack.sims.quickbooks;
    expect(row.config).toMatchObject({
      realmId: q.realmId,
      clientId: q.clientId,
      bankAccountId: q.sim.accounts.checking,
      feeExpenseAccountId: q.sim.accounts.merchantFees,
    });
    // Sealed: the tokens are not in the row's text, and open to exactly what Intuit issued for the code.
    const issued = q.sim.auth.log.filter((l) => l.grant === 'authorization_code' && l.issuedRefreshToken).at(-1)!.issuedRefreshToken!;
    expect(row.secrets_ciphertext).not.toContain(issued);
    const conn = await readConnection(stack.database.db, box, stack.tenantId, 'accounting');
    expect(conn!.secrets['refreshToken']).toBe(issued);
    const saved = (await audits('connection.saved')).at(-1)!;
    expect(saved.actor).toMatch(/^user:/);
    expect(JSON.stringify(saved.detail)).not.toContain(issued);

    // The connector works with the new tokens, and an expired access token rotates the refresh token, saved.
    const books = await stack.settle!.ctx.connectors.accounting(stack.tenantId);
    expect(await books!.findInvoiceByNumber('no-such-invoice')).toBeNull();
    q.sim.expireAccessTokens();
    expect(await books!.findInvoiceByNumber('no-such-invoice')).toBeNull();
    const rotated = q.sim.auth.log.filter((l) => l.grant === 'refresh_token' && l.refreshToken === issued).at(-1)!.issuedRefreshToken!;
    expect(rotated).toBeTruthy();
    expect((await readConnection(stack.database.db, box, stack.tenantId, 'accounting'))!.secrets['refreshToken']).toBe(rotated);

    // The callback replayed (Back, reload): the state is used, nothing is applied again.
    const again = await get(back.pathname + back.search, owner);
    expect(again.status).toBe(400);
    expect(again.text).toContain('already used');
  });

  it('a code used twice is refused by Intuit and explained; nothing changes', async () => {
    const first = await consent(await startConnect(owner), 'allow');
    expect((await get(first.pathname + first.search, owner)).status).toBe(303);
    const before = await accounting();
    // A fresh state of this session, with the code already exchanged.
    const second = await consent(await startConnect(owner), 'allow');
    second.searchParams.set('code', first.searchParams.get('code')!);
    const a = await get(second.pathname + second.search, owner);
    expect(a.status).toBe(400);
    expect(a.text).toContain('already used or has expired');
    expect((await accounting()).secrets_ciphertext).toBe(before.secrets_ciphertext);
  });

  it('an expired code is refused and explained', async () => {
    const back = await consent(await startConnect(owner), 'allow');
    await fetch(`${stack.sims.quickbooks.baseUrl}/_sim/oauth/codes/expire`, { method: 'POST' });
    const a = await get(back.pathname + back.search, owner);
    expect(a.status).toBe(400);
    expect(a.text).toContain('already used or has expired');
  });

  it('Cancel on the consent page comes back as access_denied and is shown in plain words', async () => {
    const before = await accounting();
    const back = await consent(await startConnect(owner), 'deny');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('code')).toBeNull();
    const a = await get(back.pathname + back.search, owner);
    expect(a.status).toBe(400);
    expect(a.text).toContain('You chose Cancel on the QuickBooks page');
    expect((await accounting()).updated_at).toEqual(before.updated_at);
  });

  it('a missing, altered or foreign state is refused', async () => {
    const back = await consent(await startConnect(owner), 'allow');
    const without = new URL(back);
    without.searchParams.delete('state');
    const a = await get(without.pathname + without.search, owner);
    expect(a.status).toBe(400);
    expect(a.text).toContain('without the security code');

    const altered = new URL(back);
    altered.searchParams.set('state', `${back.searchParams.get('state')!.slice(0, -2)}xx`);
    const b = await get(altered.pathname + altered.search, owner);
    expect(b.status).toBe(400);
    expect(b.text).toContain('does not carry a security code Settle issued');

    // Someone else's browser (another sign-in) following this callback link: refused (OAuth CSRF).
    const other = await signIn(stack.settleUrl, OWNER);
    const c = await get(back.pathname + back.search, other);
    expect(c.status).toBe(400);
    expect(c.text).toContain('started in another sign-in');
    // …and the rightful session can still finish it.
    expect((await get(back.pathname + back.search, owner)).status).toBe(303);
  });
});

describe('the connections page', () => {
  it('a viewer sees the state without buttons, and a direct POST is 403 with nothing changed', async () => {
    const viewer = { ...OWNER, email: 'viewer@acme.test', password: 'viewer passphrase for connections' };
    await withTenant(stack.database.db, stack.tenantId, (tx) =>
      addUser(tx, stack.tenantId, { email: viewer.email, role: 'viewer', password: viewer.password }, 'system:test'),
    );
    const cookie = await signIn(stack.settleUrl, viewer);
    const page = await get('/app/connections', cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('QuickBooks Online');
    expect(page.text).not.toContain('Test connection');
    expect(page.text).not.toContain('/disconnect');
    const before = await accounting();
    for (const [path, fields] of [
      ['/app/connections/accounting/disconnect', {}],
      ['/app/connections/quickbooks/connect', { from: 'connections' }],
      ['/app/settings/accounts', { feeExpenseAccountId: stack.sims.quickbooks.sim.accounts.checking }],
    ] as const) {
      const a = await post(path, cookie, fields);
      expect(a.status, path).toBe(403);
    }
    const after = await accounting();
    expect(after.status).toBe(before.status);
    expect(after.config).toEqual(before.config);
  });

  it('Repair puts back a callback deleted at ConnectWise, audited', async () => {
    const cw = stack.sims.connectwise.state.callbacks;
    const ours = () => cw.all().filter((cb) => cb.url === `${stack.settleUrl}/webhooks/${stack.slug}/connectwise`);
    for (const cb of ours()) cw.remove(cb.id);
    expect(ours()).toHaveLength(0);
    const a = await post('/app/connections/psa/repair', owner, {});
    expect(a.status).toBe(200);
    expect(a.text).toContain('has been registered again');
    expect(ours()).toHaveLength(1);
    expect((await audits('connection.callback_registered')).at(-1)!.actor).toMatch(/^user:/);
  });
});

describe('Settings → Accounts', () => {
  it('changing the fee account is audited and the next payout’s deposit books the fee there', async () => {
    const q = stack.sims.quickbooks;
    const newFees = q.sim.ensureAccount('Stripe processing fees', 'Expense', 'OtherMiscellaneousServiceCost').Id;
    const page = await get('/app/settings/accounts', owner);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Stripe processing fees');
    const conn = await readConnection(stack.database.db, box, stack.tenantId, 'accounting');
    const current = (k: string): string => (typeof conn!.config[k] === 'string' ? String(conn!.config[k]) : '');
    const fields = Object.fromEntries(
      ['bankAccountId', 'undepositedFundsAccountId', 'clearingAccountId', 'surchargeIncomeAccountId', 'clientCreditAccountId', 'adjustmentAccountId'].map(
        (k) => [k, current(k)],
      ),
    );

    // A bank account as the fee account: refused with the field named, nothing changed.
    const wrong = await post('/app/settings/accounts', owner, { ...fields, feeExpenseAccountId: q.sim.accounts.checking });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('href="#account-feeExpenseAccountId"');
    expect((await accounting()).config['feeExpenseAccountId']).toBe(q.sim.accounts.merchantFees);

    const ok = await post('/app/settings/accounts', owner, { ...fields, feeExpenseAccountId: newFees });
    expect(ok.status, ok.text.slice(0, 500)).toBe(303);
    expect((await accounting()).config['feeExpenseAccountId']).toBe(newFees);
    const changed = (await audits('connection.accounts_changed')).at(-1)!;
    expect(changed.detail).toMatchObject({ feeExpenseAccountId: { from: q.sim.accounts.merchantFees, to: newFees, to_name: 'Stripe processing fees' } });

    // The next payout: its deposit's fee line goes to the new account.
    const [invoice] = await openInvoices(stack);
    await payInPortal(stack, await stack.portalToken(invoice!.client_id), [invoice!.id]);
    await eventually(async () => q.sim.payments().length > 0, 30_000, 'payment in QuickBooks');
    const deposits = q.sim.deposits().length;
    expect(stack.sims.stripe.sim.runPayouts()).not.toBeNull();
    const deposit = await eventually(async () => q.sim.deposits()[deposits], 30_000, 'QuickBooks deposit');
    const fee = (deposit['Line'] as { Amount: number; DepositLineDetail?: { AccountRef: { value: string } } }[]).find((l) => l.Amount < 0)!;
    expect(fee.DepositLineDetail!.AccountRef.value).toBe(newFees);
  });
});
