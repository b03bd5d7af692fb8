// "Connect to Xero" over HTTP, the way a browser walks it: the connections page's button → Xero's consent page
// (the simulator's) → Allow access → the callback → tokens exchanged, the organisation named by /connections,
// account codes chosen from its chart, sealed, audited; the connection then posts a payment. Refused: Cancel,
// a replayed callback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { readConnection } from '../../src/engine/connections.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { freePort } from '../helpers/ports.ts';
import { request, signIn, type Answer } from '../security/http-from.ts';
import { startXeroSimulator, type RunningXeroSimulator } from '../../simulators/xero/index.ts';
import { xeroRedirectUri } from '../../src/engine/xero-connect.ts';

let stack: Stack;
let xero: RunningXeroSimulator;
let owner: string;
const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };

beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 3, settlePort: await freePort() });
  xero = await startXeroSimulator();
  const invoices = await openInvoices(stack);
  for (const i of invoices) xero.sim.seedInvoice({ number: i.number, contactName: 'Client', amount: (Number(i.total_minor) / 100).toFixed(2) });
  stack.settle!.oauthApps.xero = {
    clientId: xero.clientId,
    clientSecret: xero.clientSecret,
    authorizeUrl: xero.authorizeUrl,
    tokenUrl: xero.tokenUrl,
    identityApiUrl: xero.baseUrl,
    apiUrl: xero.apiUrl,
  };
  xero.sim.identity.redirectUris.add(xeroRedirectUri(stack.settleUrl));
  owner = await signIn(stack.settleUrl, OWNER);
}, 240_000);
afterAll(async () => {
  await stack?.close();
  await xero?.close();
});

const get = (path: string, cookie: string): Promise<Answer> => request(`${stack.settleUrl}${path}`, { headers: { cookie } });

async function post(path: string, cookie: string): Promise<Answer> {
  const page = await get('/app/connections', cookie);
  const token = /name="csrf-token" content="([^"]+)"/.exec(page.text)?.[1];
  if (!token) throw new Error(`no CSRF token on /app/connections (${page.status})`);
  return request(`${stack.settleUrl}${path}`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: stack.settleUrl, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ _csrf: token }).toString(),
  });
}

async function consent(decision: 'allow' | 'deny'): Promise<URL> {
  const start = await post('/app/connections/xero/connect', owner);
  expect(start.status, start.text.slice(0, 300)).toBe(303);
  const url = new URL(String(start.headers.location));
  expect(url.origin + url.pathname).toBe(xero.authorizeUrl);
  const page = await request(url.toString());
  expect(page.text).toContain('Demo MSP Ltd');
  const fields = Object.fromEntries(
    [...page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1]!,
      m[2]!.replace(/&#(\d+);/g, (_x, n: string) => String.fromCharCode(Number(n))),
    ]),
  );
  const a = await request(xero.authorizeUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, decision }).toString(),
  });
  expect(a.status).toBe(302);
  return new URL(String(a.headers.location));
}

describe('Xero OAuth from the staff app', () => {
  it('the connections page offers “Connect to Xero”; Cancel connects nothing', async () => {
    expect((await get('/app/connections', owner)).text).toContain('id="connect-xero"');
    const back = await consent('deny');
    const a = await get(back.pathname + back.search, owner);
    expect(a.status).toBe(400);
    expect(a.text).toContain('You chose Cancel on the Xero page');
  });

  it('Allow access: tokens sealed, the organisation and accounts chosen, audited; a replay is refused; payments post to Xero', async () => {
    const back = await consent('allow');
    expect(back.pathname).toBe('/app/connections/xero/callback');
    const done = await get(back.pathname + back.search, owner);
    expect(done.status, done.text.slice(0, 300)).toBe(303);
    const conn = await readConnection(stack.database.db, SecretBox.fromHex(stack.secretKeyHex), stack.tenantId, 'accounting');
    expect(conn).toMatchObject({
      vendor: 'xero',
      config: { tenantId: xero.tenantId, bankAccountCode: '090', clearingAccountCode: '091', feeAccountCode: '404' },
    });
    const raw = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('connections').selectAll().where('role', '=', 'accounting').executeTakeFirstOrThrow(),
    );
    expect(JSON.stringify(raw)).not.toContain(String((conn!.secrets as { refreshToken: string }).refreshToken));
    const saved = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', 'connection.saved').orderBy('id', 'desc').executeTakeFirstOrThrow(),
    );
    expect(saved.actor).toMatch(/^user:/);
    expect(JSON.stringify(saved.detail)).toContain('xero');
    const replay = await get(back.pathname + back.search, owner);
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('already used');
    const inv = (await openInvoices(stack))[0]!;
    await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    await eventually(async () => xero.sim.invoice(inv.number)!.paidCents > 0, 40_000, 'the payment in Xero');
  });
});
