// Issue #8 item 2, through HTTP against a running Settle (`settle start` as a child process) with small limits
// set by its environment: every door answers 429 with Retry-After once its limit is reached (and only for the
// key over it); repeated failed sign-ins from one address lock that e-mail for that address, even against the
// right password, with a message that says how to get back in; an owner lifts the lock on the staff page and
// `settle user unlock` from the server; every failed sign-in is in the audit log without the password, and
// logged at warn, never at error.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { lockMinutes, recordFailedSignIn, DEFAULT_LOCKOUT } from '../../src/engine/sign-in-lockout.ts';
import { cookieFrom, csrfFrom, openLogin, postLogin, request, signIn } from './http-from.ts';
import { OWNER, startLeanSettle, type LeanSettle } from './lean-settle.ts';

// Two more staff users, so that each lockout test has an account of its own (the per-account limit counts
// every attempt on an account for a minute).
const FINANCE = { workspace: 'acme-it', email: 'finance@acme.test', password: 'ledger lines balance' };
const VIEWER = { workspace: 'acme-it', email: 'viewer@acme.test', password: 'read only reader' };
const LIMITS = {
  SETTLE_LIMIT_SIGNIN_ADDRESS: '12/1m',
  SETTLE_LIMIT_SIGNIN_ACCOUNT: '8/1m',
  SETTLE_LIMIT_PORTAL_LINK: '10/1m',
  SETTLE_LIMIT_API_KEY: '10/1m',
  SETTLE_LIMIT_WEBHOOK_WORKSPACE: '10/1m',
  SETTLE_LOCKOUT_AFTER: '3',
  SETTLE_LOCKOUT_MINUTES: '15',
  // warn, so that the test can read what was logged and at which level
  LOG_LEVEL: 'warn',
};

let s: LeanSettle;
let base = '';

beforeAll(async () => {
  s = await startLeanSettle(LIMITS);
  base = s.base;
  await s.addUser({ ...FINANCE, role: 'finance' });
  await s.addUser({ ...VIEWER, role: 'viewer' });
}, 240_000);

afterAll(async () => {
  await s?.close();
});

function expectLimited(a: { status: number; headers: Record<string, unknown> }): void {
  expect(a.status).toBe(429);
  const retry = Number(a.headers['retry-after']);
  expect(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${String(a.headers['retry-after'])}`).toBe(true);
}

async function auditRows(action: string): Promise<{ actor: string; detail: unknown }[]> {
  return withTenant(s.database.db, s.tenantId, (tx) =>
    tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', action).orderBy('id').execute(),
  );
}

describe('429 with Retry-After on every door', () => {
  it('/api/v1: per API key', async () => {
    const [key, other] = [await s.apiKey(), await s.apiKey()];
    const get = (k: string) => request(`${base}/api/v1/clients`, { headers: { authorization: `Bearer ${k}` } });
    for (let i = 0; i < 10; i++) expect((await get(key)).status).toBe(200);
    const refused = await get(key);
    expectLimited(refused);
    expect(JSON.parse(refused.text).error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/retry after \d+ s/) });
    expect((await get(other)).status).toBe(200); // another key has its own count
  });

  it('portal: per link', async () => {
    const [a, b] = [await s.portalToken(s.clientIds[0]!), await s.portalToken(s.clientIds[1]!)];
    for (let i = 0; i < 10; i++) expect((await request(`${base}/portal/${a}`)).status).not.toBe(429);
    expectLimited(await request(`${base}/portal/${a}`));
    // POSTs on the same link count too
    expectLimited(await request(`${base}/portal/${a}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    expect((await request(`${base}/portal/${b}`)).status).not.toBe(429);
  });

  it('webhooks: per workspace', async () => {
    const post = (workspace: string) =>
      request(`${base}/webhooks/${workspace}/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
        body: '{}',
      });
    for (let i = 0; i < 10; i++) expect((await post('acme-it')).status).toBe(404); // not connected to Stripe: refused, still counted
    expectLimited(await post('acme-it'));
    expect((await post('another-workspace')).status).toBe(404);
  });

  it('sign-in: per address', async () => {
    const from = '127.0.0.20';
    const form = await openLogin(base, from);
    // A different e-mail each time, so that no lock starts: only the address's count grows.
    for (let i = 0; i < 12; i++) {
      const a = await postLogin(base, form, { ...OWNER, email: `guess${i}@acme.test`, password: 'wrong' }, { from });
      expect(a.status).toBe(401);
    }
    const refused = await postLogin(base, form, OWNER, { from });
    expectLimited(refused);
    expect(refused.text).toMatch(/Too many sign-in attempts/);
    expect(cookieFrom(refused, 'settle_session')).toBeNull();
    // Another address still signs in.
    await signIn(base, OWNER, '127.0.0.21');
  });

  it('sign-in: per account, across addresses', async () => {
    const email = 'nobody@acme.test';
    for (let i = 0; i < 8; i++) {
      const from = `127.0.0.${30 + i}`;
      expect((await postLogin(base, await openLogin(base, from), { ...OWNER, email, password: 'wrong' }, { from })).status).toBe(401);
    }
    const from = '127.0.0.39';
    expectLimited(await postLogin(base, await openLogin(base, from), { ...OWNER, email, password: 'wrong' }, { from }));
  });
});

describe('password checks at once', () => {
  it('beyond a few checks and a short queue, a sign-in is answered 429 at once instead of piling up', async () => {
    // 40 posts at the same moment from 10 addresses (4 each, under the per-address limit), unknown e-mails.
    const forms = await Promise.all(Array.from({ length: 10 }, (_, i) => openLogin(base, `127.0.0.${70 + i}`)));
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        postLogin(base, forms[i % 10]!, { ...OWNER, email: `crowd${i}@acme.test`, password: 'wrong' }, { from: `127.0.0.${70 + (i % 10)}` }),
      ),
    );
    const busy = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 401).length).toBeGreaterThanOrEqual(1);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    for (const b of busy) {
      expect(b.text).toContain('Too many sign-ins are being checked right now');
      expectLimited(b);
    }
  });
});

describe('account lockout', () => {
  it('locks an e-mail for an address after repeated failures, even against the right password; an owner lifts it on the staff page', async () => {
    const from = '127.0.0.40';
    const form = await openLogin(base, from);
    const before = (await auditRows('user.sign_in_failed')).length;
    for (let i = 0; i < 2; i++) expect((await postLogin(base, form, { ...FINANCE, password: `wrong-${i}` }, { from })).status).toBe(401);
    const third = await postLogin(base, form, { ...FINANCE, password: 'wrong-2' }, { from });
    expect(third.status).toBe(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(14 * 60);
    expect(third.text).toContain('settle user unlock acme-it finance@acme.test');
    expect(third.text).toMatch(/locked until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);

    // The right password from that address is refused while the lock lasts (not even checked).
    const right = await postLogin(base, form, FINANCE, { from });
    expect(right.status).toBe(429);
    expect(cookieFrom(right, 'settle_session')).toBeNull();

    // Every failure audited, with the address and e-mail and never the password.
    const failed = (await auditRows('user.sign_in_failed')).slice(before);
    expect(failed).toHaveLength(3);
    for (const f of failed) {
      expect(f.detail).toMatchObject({ email: FINANCE.email, address: from, reason: 'wrong_password' });
      expect(JSON.stringify(f.detail)).not.toContain('wrong-');
    }
    expect((await auditRows('user.sign_in_locked')).length).toBeGreaterThanOrEqual(1);
    // Logged at warn, never at error (pino level 50).
    expect(s.settle.output()).toContain('sign-in failed; locked');
    const errors = s.settle
      .output()
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l) && /sign-in|login|lock/i.test(l));
    expect(errors).toEqual([]);

    // The refused sign-in opened no session behind the 429 (and no handler went on after answering).
    const opened = await auditRows('user.signed_in');
    expect(opened.filter((o) => JSON.stringify(o.detail).includes(from))).toEqual([]);
    expect(s.settle.output()).not.toContain('Reply was already sent');

    // The lock holds only for that address; an owner signs in and lifts it on the staff page.
    const session = await signIn(base, OWNER, '127.0.0.41');
    const page = await request(`${base}/staff/lockouts`, { from: '127.0.0.41', headers: { cookie: session } });
    expect(page.status).toBe(200);
    expect(page.text).toContain(from);
    const token = csrfFrom(page.text)!;
    const unlock = await request(`${base}/staff/lockouts/unlock`, {
      method: 'POST',
      from: '127.0.0.41',
      headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded', origin: base, 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ _csrf: token, email: FINANCE.email, address: from }).toString(),
    });
    expect(unlock.status).toBe(303);
    expect((await auditRows('user.sign_in_unlocked')).at(-1)?.actor).toMatch(/^user:/);
    // Now the right password from the locked address signs in.
    const after = await postLogin(base, await openLogin(base, from), FINANCE, { from });
    expect(after.status).toBe(302);
    expect(cookieFrom(after, 'settle_session')).not.toBeNull();
  });

  it('`settle user unlock` lifts a lock from the server (the only owner is never locked out for good)', async () => {
    const from = '127.0.0.50';
    const form = await openLogin(base, from);
    for (let i = 0; i < 3; i++) await postLogin(base, form, { ...VIEWER, password: `nope-${i}` }, { from });
    expect((await postLogin(base, form, VIEWER, { from })).status).toBe(429);

    const out = await runSettle(['user', 'unlock', '--workspace', 'acme-it', VIEWER.email]);
    expect(out.code, out.output).toBe(0);
    expect(out.output).toMatch(/unlocked viewer@acme\.test/i);
    expect((await postLogin(base, await openLogin(base, from), VIEWER, { from })).status).toBe(302);
  });

  it('each further lock lasts longer (15 min, then 30, …, at most a day)', async () => {
    expect([1, 2, 3, 10].map((n) => lockMinutes(DEFAULT_LOCKOUT, n))).toEqual([15, 30, 60, 24 * 60]);
    const policy = { after: 2, firstMinutes: 15, maxMinutes: 24 * 60 };
    const attempt = { tenantId: s.tenantId, email: 'someone@acme.test', address: '192.0.2.7', userId: null, reason: 'unknown_email' };
    const t0 = new Date();
    await recordFailedSignIn(s.database.db, attempt, policy, t0);
    const first = await recordFailedSignIn(s.database.db, attempt, policy, t0);
    expect(first.lockedUntil!.getTime() - t0.getTime()).toBe(15 * 60_000);
    const t1 = new Date(first.lockedUntil!.getTime() + 1000);
    await recordFailedSignIn(s.database.db, attempt, policy, t1);
    const second = await recordFailedSignIn(s.database.db, attempt, policy, t1);
    expect(second.lockedUntil!.getTime() - t1.getTime()).toBe(30 * 60_000);
  });
});

function runSettle(args: string[]): Promise<{ code: number | null; output: string }> {
  const root = path.resolve(import.meta.dirname, '../..');
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href, path.join(root, 'src/cli/main.ts'), ...args],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ...s.env,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}
