// Issue #8 item 6, replayed through HTTP against a running Settle: a staff member turns on a TOTP second
// factor from "Your account"; sign-in then asks for a code (a wrong or replayed one is refused, a recovery
// code works once); the secret is sealed at rest; a workspace that requires a second factor for owners
// sends an owner without one to set it up before any other page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { withTenant } from '../../src/db/tenant.ts';
import { OWNER, startLeanSettle, type LeanSettle } from './lean-settle.ts';
import { StaffBrowser } from './staff-browser.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
let s: LeanSettle;

const ENV = { SETTLE_LIMIT_SIGNIN_ADDRESS: '1000/1m', SETTLE_LIMIT_SIGNIN_ACCOUNT: '1000/1m', SETTLE_LIMIT_PAGES_ADDRESS: '5000/1m' };

async function settleCli(...args: string[]): Promise<{ stdout: string }> {
  return run(
    process.execPath,
    ['--import', pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, path.join(ROOT, 'src/cli/main.ts'), ...args],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...s.env },
      timeout: 120_000,
    },
  );
}

/** A code for the 30-second step `ahead` steps from now (each step's code is accepted once). */
const codeFor = (secret: string, ahead: number): Promise<string> => generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 * ahead });

async function enrol(b: StaffBrowser): Promise<{ secret: string; recovery: string[] }> {
  const started = await b.submit('/account', '/account/second-factor/start', {});
  expect(started.status).toBe(200);
  const secret = /id="totp-secret">([A-Z2-7]+)</.exec(started.text)?.[1];
  expect(secret).toBeTruthy();
  expect(started.text).toContain('otpauth://totp/');
  const wrong = await b.submit('/account', '/account/second-factor/confirm', { code: '000000' === (await codeFor(secret!, 0)) ? '111111' : '000000' });
  expect(wrong.status).toBe(400);
  const confirmed = await b.submit('/account', '/account/second-factor/confirm', { code: await codeFor(secret!, 0) });
  expect(confirmed.status).toBe(200);
  const recovery = /id="recovery-codes">([\s\S]*?)<\/pre>/.exec(confirmed.text)![1]!.trim().split('\n');
  expect(recovery).toHaveLength(10);
  return { secret: secret!, recovery };
}

beforeAll(async () => {
  s = await startLeanSettle(ENV);
}, 180_000);
afterAll(async () => {
  await s?.close();
});

describe('TOTP second factor', { timeout: 400_000 }, () => {
  it('enrol, then sign-in asks for a code; wrong and replayed codes are refused; a recovery code works once', async () => {
    const user = { workspace: OWNER.workspace, email: 'mo@acme.test', password: 'juniper socket fable 21' };
    await settleCli('user', 'add', '--workspace', OWNER.workspace, user.email, '--role', 'finance', '--password', user.password);
    const b = await new StaffBrowser(s.base).signedIn(user);
    const other = await new StaffBrowser(s.base).signedIn(user);
    const { secret, recovery } = await enrol(b);
    // Turning the factor on signs out the user's other sessions.
    expect(await other.dashboardOpens()).toBe(false);
    expect(await b.dashboardOpens()).toBe(true);

    // The secret is sealed: the base32 secret does not appear in the row.
    const row = await withTenant(s.database.db, s.tenantId, (tx) =>
      tx.selectFrom('users').select(['mfa_secret_sealed', 'mfa_recovery_hashes']).where('email', '=', user.email).executeTakeFirstOrThrow(),
    );
    expect(row.mfa_secret_sealed).toMatch(/^v1\./);
    expect(row.mfa_secret_sealed).not.toContain(secret);
    expect(row.mfa_recovery_hashes.join()).not.toContain(recovery[0]);

    // The password alone gives no session: only the second-factor step.
    const c = new StaffBrowser(s.base);
    const first = await c.signIn(user);
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/login/second-factor');
    expect(c.session).toBeUndefined();
    expect(await c.dashboardOpens()).toBe(false);
    const bad = await c.submit('/login/second-factor', '/login/second-factor', { code: '123456' === (await codeFor(secret, 1)) ? '654321' : '123456' });
    expect(bad.status).toBe(401);
    expect(c.session).toBeUndefined();
    // The enrolment used this step's code; the next step's code signs in.
    const next = await codeFor(secret, 1);
    const ok = await c.submit('/login/second-factor', '/login/second-factor', { code: next });
    expect(ok.status).toBe(302);
    expect(ok.headers.location).toBe('/app');
    expect(await c.dashboardOpens()).toBe(true);

    // The same code again (seen over a shoulder) does not sign in a second browser.
    const d = new StaffBrowser(s.base);
    await d.signIn(user);
    expect((await d.submit('/login/second-factor', '/login/second-factor', { code: next })).status).toBe(401);
    // A recovery code does, once.
    expect((await d.submit('/login/second-factor', '/login/second-factor', { code: recovery[0]! })).status).toBe(302);
    expect(await d.dashboardOpens()).toBe(true);
    const e = new StaffBrowser(s.base);
    await e.signIn(user);
    expect((await e.submit('/login/second-factor', '/login/second-factor', { code: recovery[0]! })).status).toBe(401);

    const actions = (await withTenant(s.database.db, s.tenantId, (tx) => tx.selectFrom('audit_log').select('action').execute())).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['user.mfa_enabled', 'user.second_factor_failed', 'user.mfa_recovery_code_used']));
  });

  it('five wrong codes end the attempt; wrong codes count towards the sign-in lock', async () => {
    const user = { workspace: OWNER.workspace, email: 'ned@acme.test', password: 'mango ribbon glacier 5' };
    await settleCli('user', 'add', '--workspace', OWNER.workspace, user.email, '--role', 'viewer', '--password', user.password);
    const { secret } = await enrol(await new StaffBrowser(s.base).signedIn(user));
    const b = new StaffBrowser(s.base);
    await b.signIn(user);
    const good = await codeFor(secret, 1);
    const wrong = good === '000001' ? '000002' : '000001';
    for (let i = 0; i < 5; i++) expect((await b.submit('/login/second-factor', '/login/second-factor', { code: wrong })).status).toBe(401);
    // Even the right code is refused now: the attempt is over.
    expect(b.cookies.has('settle_second_factor')).toBe(false);
    const after = await b.submit('/login', '/login/second-factor', { code: good });
    expect(after.status).toBe(401);
    expect(after.text).toContain('Sign in');
    expect(b.session).toBeUndefined();

    // Wrong codes count towards the sign-in lock like wrong passwords (default: 10 from one address).
    const again = new StaffBrowser(s.base);
    expect((await again.signIn(user)).headers.location).toBe('/login/second-factor');
    for (let i = 0; i < 4; i++) expect((await again.submit('/login/second-factor', '/login/second-factor', { code: wrong })).status).toBe(401);
    const locked = await again.submit('/login/second-factor', '/login/second-factor', { code: wrong });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await new StaffBrowser(s.base).signIn(user)).status).toBe(429);
  });

  it('a workspace that requires a second factor sends an owner without one to set it up first', async () => {
    const second = { workspace: OWNER.workspace, email: 'ola@acme.test', password: 'plum satellite thistle 9' };
    await settleCli('user', 'add', '--workspace', OWNER.workspace, second.email, '--role', 'owner', '--password', second.password);
    const o = await new StaffBrowser(s.base).signedIn(OWNER);
    const required = await o.submit('/users', '/users/second-factor-required', { required: 'yes' });
    expect(required.status).toBe(200);
    expect(required.text).toContain('Owners must now use a second factor');

    const ola = await new StaffBrowser(s.base).signedIn(second);
    const dash = await ola.get('/app');
    expect(dash.status).toBe(302);
    expect(dash.headers.location).toBe('/account#second-factor');
    expect((await ola.get('/account')).text).toContain('requires owners to use a second factor');
    await enrol(ola);
    expect(await ola.dashboardOpens()).toBe(true);
    // A finance user is not held up by the owners' rule.
    await settleCli('user', 'add', '--workspace', OWNER.workspace, 'pat@acme.test', '--role', 'finance', '--password', 'lobster canyon pencil 2');
    expect(
      await (
        await new StaffBrowser(s.base).signedIn({ workspace: OWNER.workspace, email: 'pat@acme.test', password: 'lobster canyon pencil 2' })
      ).dashboardOpens(),
    ).toBe(true);
    const actions = (await withTenant(s.database.db, s.tenantId, (tx) => tx.selectFrom('audit_log').select('action').execute())).map((r) => r.action);
    expect(actions).toContain('settings.staff_mfa_required');
  });
});
