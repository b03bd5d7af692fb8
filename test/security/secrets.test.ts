// Issue #8 item 9, through HTTP against a running Settle (`settle start` as a child process, vendors on the
// simulators): portal link secrets are sealed in the database and links sent before keep working; a
// master-key rotation (`settle keys rotate`) re-seals without changing any link and Settle still uses its
// connections; a forged ConnectWise callback makes Settle fetch the key URL once, not once per callback,
// and no webhook answer tells which company or connection exists; /metrics can be restricted.
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/db/crypto.ts';
import { portalSecretContext } from '../../src/db/portal-secret.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { signToken } from '../../src/http/signed-token.ts';
import { freePort } from '../helpers/ports.ts';
import { startSettleCommand, type SettleProcess } from '../helpers/settle-process.ts';
import { openInvoices, startStack, type Stack } from '../helpers/stack.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const KEY_ROUTE = 'GET /v4_6_release/system/callbackkey';

let stack: Stack;
let settle: SettleProcess;
let port: number;
let base: string;
let clientId: string;
let invoiceId: string;
/** The portal secret as it was stored in clear before migration 0023, and a link signed with it then. */
const clearSecret = crypto.randomBytes(32).toString('hex');
let oldLink: string;
/** A link minted through the API after sealing. */
let apiLink: string;

beforeAll(async () => {
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stack = await startStack({ settle: false, settlePort: port });
  const open = (await openInvoices(stack))[0]!;
  clientId = open.client_id;
  invoiceId = open.id;
  // A workspace as it was before 0023: its portal secret in clear, and a link already e-mailed with it.
  await stack.database.db.updateTable('tenants').set({ portal_secret: clearSecret, portal_secret_sealed: null }).where('id', '=', stack.tenantId).execute();
  oldLink = signToken({ t: stack.tenantId, c: clientId, exp: Math.floor(Date.now() / 1000) + 7 * 24 * 3600 }, clearSecret);
  settle = await startSettle({ LOG_LEVEL: 'info' });
}, 240_000);

afterAll(async () => {
  settle?.child.kill('SIGTERM');
  await settle?.exited;
  await stack?.close();
});

/** `settle start` on the stack's database, with a start-up allowance for a busy machine. */
function startSettle(env: Record<string, string>): Promise<SettleProcess> {
  const base = { DATABASE_URL: stack.database.url, SETTLE_SECRET_KEY: stack.secretKeyHex, SETTLE_DATA_DIR: stack.config.SETTLE_DATA_DIR };
  return startSettleCommand(port, { ...base, ...env }, { readyTimeoutMs: 90_000 });
}

/** A `settle` command; `env.SETTLE_SECRET_KEY: null` runs it with the key in the data folder instead. */
function cli(args: string[], env: Record<string, string | null> = {}): Promise<{ code: number | null; out: string }> {
  const all: Record<string, string | null> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: stack.database.url,
    SETTLE_SECRET_KEY: stack.secretKeyHex,
    SETTLE_DATA_DIR: stack.config.SETTLE_DATA_DIR,
    LOG_LEVEL: 'warn',
    ...env,
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== null)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

async function tenantRow(): Promise<{ portal_secret: string | null; portal_secret_sealed: string | null }> {
  return stack.database.db.selectFrom('tenants').select(['portal_secret', 'portal_secret_sealed']).where('id', '=', stack.tenantId).executeTakeFirstOrThrow();
}

async function portalOpens(token: string): Promise<boolean> {
  const r = await fetch(`${base}/portal/${token}`);
  return r.status === 200 && (await r.text()).includes('pay-form');
}

describe('portal link secrets', () => {
  it('are sealed in the database at start, and a link sent before keeps working', async () => {
    const row = await tenantRow();
    expect(row.portal_secret).toBeNull();
    expect(row.portal_secret_sealed).toMatch(/^v1\./);
    expect(row.portal_secret_sealed).not.toContain(clearSecret);
    // Sealed with the instance key, bound to this workspace: the same secret, so the same links.
    expect(SecretBox.fromHex(stack.secretKeyHex).open<string>(row.portal_secret_sealed!, portalSecretContext(stack.tenantId))).toBe(clearSecret);
    expect(() => SecretBox.fromHex(stack.secretKeyHex).open<string>(row.portal_secret_sealed!, portalSecretContext(crypto.randomUUID()))).toThrow();
    expect(settle.output()).toContain('sealed the portal link secrets that were stored in clear');
    expect(await portalOpens(oldLink)).toBe(true);

    const key = await stack.apiKey();
    const r = await fetch(`${base}/api/v1/clients/${clientId}/portal-links`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(201);
    apiLink = ((await r.json()) as { url: string }).url.split('/portal/')[1]!;
    expect(await portalOpens(apiLink)).toBe(true);
  });
});

describe('ConnectWise callbacks and webhook answers', () => {
  const forged = (companyId: string, keyId: string): string =>
    JSON.stringify({
      MessageId: crypto.randomUUID(),
      FromUrl: 'example',
      CompanyId: companyId,
      MemberId: 'attacker',
      Action: 'updated',
      Type: 'invoice',
      ID: 1,
      Entity: '{}',
      Metadata: { key_url: `${stack.sims.connectwise.origin}/v4_6_release/system/callbackkey/index.rails?id=${keyId}` },
    });
  const post = async (body: string, workspace = stack.slug, vendor = 'connectwise'): Promise<{ status: number; text: string }> => {
    const r = await fetch(`${base}/webhooks/${workspace}/${vendor}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-content-signature': crypto.randomBytes(32).toString('base64') },
      body,
    });
    return { status: r.status, text: await r.text() };
  };

  it('a forged callback naming an unknown key: the key URL is fetched once, the refusal remembered', async () => {
    const calls = stack.sims.connectwise.sim.calls;
    const before = calls.total(KEY_ROUTE);
    const keyId = crypto.randomUUID();
    for (let i = 0; i < 5; i++) {
      const r = await post(forged(stack.sims.connectwise.credentials.companyId, keyId));
      expect(r.status, r.text).toBe(401);
      expect(r.text).toMatch(/signing key/);
    }
    expect(calls.total(KEY_ROUTE) - before).toBe(1);
  });

  it('a callback for another company is refused without naming either company', async () => {
    const before = stack.sims.connectwise.sim.calls.total(KEY_ROUTE);
    const r = await post(forged('rival-msp', crypto.randomUUID()));
    expect(r.status).toBe(401);
    expect(r.text).not.toContain(stack.sims.connectwise.credentials.companyId);
    expect(r.text).not.toContain('rival-msp');
    expect(stack.sims.connectwise.sim.calls.total(KEY_ROUTE)).toBe(before); // refused before any fetch
  });

  it('an unknown workspace and a vendor the workspace has not connected get the same answer', async () => {
    const unknown = await post('{}', 'no-such-msp', 'connectwise');
    const unconnected = await post('{}', stack.slug, 'square');
    expect(unknown.status).toBe(404);
    expect(unconnected).toEqual(unknown);
    expect(unknown.text).not.toContain('no-such-msp');
  });
});

describe('settle keys rotate', () => {
  const newKey = crypto.randomBytes(32).toString('hex');
  const metricsToken = crypto.randomBytes(16).toString('hex');
  let metricsPort: number;

  it('is refused while Settle runs (it holds the old key)', async () => {
    const r = await cli(['keys', 'rotate', '--new-key', newKey]);
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).toMatch(/stop them all/);
    expect((await tenantRow()).portal_secret_sealed).toMatch(/^v1\./);
    expect(SecretBox.fromHex(stack.secretKeyHex).open<string>((await tenantRow()).portal_secret_sealed!, portalSecretContext(stack.tenantId))).toBe(
      clearSecret,
    );
  }, 300_000);

  it('re-seals every secret under the new key; every link keeps working and the connections are still used', async () => {
    settle.child.kill('SIGTERM');
    await settle.exited;
    const sealedBefore = (await tenantRow()).portal_secret_sealed!;
    const connectionsBefore = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('connections').select(['role', 'secrets_ciphertext']).orderBy('role').execute(),
    );

    const r = await cli(['keys', 'rotate', '--new-key', newKey]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('re-sealed 1 portal link secret(s)');
    expect(r.out).toContain(`connections.secrets_ciphertext ${connectionsBefore.length}`);

    const sealedAfter = (await tenantRow()).portal_secret_sealed!;
    expect(sealedAfter).not.toBe(sealedBefore);
    expect(() => SecretBox.fromHex(stack.secretKeyHex).open<string>(sealedAfter, portalSecretContext(stack.tenantId))).toThrow();
    expect(SecretBox.fromHex(newKey).open<string>(sealedAfter, portalSecretContext(stack.tenantId))).toBe(clearSecret);
    const connectionsAfter = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('connections').select(['role', 'secrets_ciphertext']).orderBy('role').execute(),
    );
    for (const [i, c] of connectionsAfter.entries()) {
      expect(c.secrets_ciphertext).not.toBe(connectionsBefore[i]!.secrets_ciphertext);
      expect(() => SecretBox.fromHex(newKey).open(c.secrets_ciphertext, `connection:${stack.tenantId}:${c.role}`)).not.toThrow();
    }
    const audited = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('audit_log').select('action').where('action', '=', 'instance_key.rotated').execute(),
    );
    expect(audited).toHaveLength(1);

    metricsPort = await freePort();
    settle = await startSettle({
      SETTLE_SECRET_KEY: newKey,
      METRICS_TOKEN: metricsToken,
      METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
    });
    expect(await portalOpens(oldLink)).toBe(true);
    expect(await portalOpens(apiLink)).toBe(true);
    // Paying opens a PaymentIntent at the processor: the Stripe key opened under the new instance key.
    const pay = await fetch(`${base}/portal/${apiLink}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoice_ids: [invoiceId], method: 'card' }),
    });
    expect(pay.status, await pay.clone().text()).toBe(200);
    expect(((await pay.json()) as { client_secret: string }).client_secret).toMatch(/^pi_/);
  }, 300_000);

  it('/metrics: only on METRICS_LISTEN, and only with the METRICS_TOKEN', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    const m = `http://127.0.0.1:${metricsPort}/metrics`;
    expect((await fetch(m)).status).toBe(401);
    expect((await fetch(m, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    const ok = await fetch(m, { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('settle_http_request_duration_seconds');
  });

  it('with the key in the data folder: an interrupted rotation (secret.key.next left behind) is finished by running it again', async () => {
    settle.child.kill('SIGTERM');
    await settle.exited;
    const dir = stack.config.SETTLE_DATA_DIR;
    fs.writeFileSync(path.join(dir, 'secret.key'), newKey, { mode: 0o600 });
    // A rotation that wrote its new key and stopped before re-sealing anything.
    const third = crypto.randomBytes(32).toString('hex');
    fs.writeFileSync(path.join(dir, 'secret.key.next'), third, { mode: 0o600 });

    const r = await cli(['keys', 'rotate'], { SETTLE_SECRET_KEY: null });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('the old one has been removed');
    expect(fs.readFileSync(path.join(dir, 'secret.key'), 'utf8').trim()).toBe(third);
    expect(fs.existsSync(path.join(dir, 'secret.key.next'))).toBe(false);
    expect(SecretBox.fromHex(third).open<string>((await tenantRow()).portal_secret_sealed!, portalSecretContext(stack.tenantId))).toBe(clearSecret);

    // Settle with the key from its data folder: the same links still open.
    settle = await startSettleCommand(port, { DATABASE_URL: stack.database.url, SETTLE_DATA_DIR: dir, LOG_LEVEL: 'warn' }, { readyTimeoutMs: 90_000 });
    expect(await portalOpens(oldLink)).toBe(true);
    expect(await portalOpens(apiLink)).toBe(true);
  }, 300_000);
});
