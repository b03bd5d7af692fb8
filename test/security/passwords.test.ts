// Issue #8 items 1 and 6, replayed through HTTP against a running Settle: an unknown workspace or e-mail is
// answered as slowly as a real user's wrong password (no enumeration oracle); hashes of the first format
// keep working and are re-hashed at sign-in; the password policy refuses short and common passwords at
// every door; a reset link is e-mailed, works once and expires; an invitation lets a new user choose a
// password; `settle user reset-password` works on a server without SMTP.
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { eventually } from '../helpers/stack.ts';
import { OWNER, startLeanSettle, type LeanSettle } from './lean-settle.ts';
import { StaffBrowser } from './staff-browser.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
let s: LeanSettle;
let smtp: TestSmtp;

// Sign-in limits and the lockout well above what this file sends (they have their own tests): the timing
// test sends many wrong passwords on purpose.
const ENV = {
  SETTLE_LIMIT_SIGNIN_ADDRESS: '1000/1m',
  SETTLE_LIMIT_SIGNIN_ACCOUNT: '1000/1m',
  SETTLE_LIMIT_PAGES_ADDRESS: '5000/1m',
  SETTLE_LOCKOUT_AFTER: '1000',
};

async function settleCli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return run(
    process.execPath,
    ['--import', pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, path.join(ROOT, 'src/cli/main.ts'), ...args],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...s.env },
      timeout: 120_000,
    },
  ).then(
    (r) => ({ ...r, code: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => ({ stdout: e.stdout, stderr: e.stderr, code: e.code }),
  );
}

/** The first Settle link in an e-mail (quoted-printable soft breaks undone). */
function linkIn(raw: string, kind: 'reset' | 'invitation'): string {
  const text = raw.replace(/=\r?\n/g, '').replace(/=3D/gi, '=');
  const m = new RegExp(`https?://[^\\s]+/account/${kind}/[A-Za-z0-9_-]{43}`).exec(text);
  if (!m) throw new Error(`no ${kind} link in:\n${text}`);
  return new URL(m[0]).pathname;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

beforeAll(async () => {
  smtp = await startTestSmtp();
  s = await startLeanSettle({ ...ENV, SETTLE_SMTP_URL: smtp.url });
}, 180_000);
afterAll(async () => {
  await s?.close();
  await smtp?.close();
});

describe('staff passwords', { timeout: 400_000 }, () => {
  it('an unknown workspace or e-mail takes as long as a wrong password for a real user', async () => {
    const tries = { real: [] as number[], unknownEmail: [] as number[], unknownWorkspace: [] as number[] };
    const attempt = async (fields: { workspace: string; email: string; password: string }, i: number): Promise<number> => {
      const b = new StaffBrowser(s.base, `127.0.0.${20 + (i % 10)}`);
      await b.get('/login');
      const token = /name="_csrf" value="([^"]+)"/.exec((await b.get('/login')).text)![1]!;
      const t0 = performance.now();
      const a = await b.post('/login', { ...fields, _csrf: token });
      const ms = performance.now() - t0;
      expect(a.status).toBe(401);
      return ms;
    };
    // Interleaved, so that load on the machine falls on all three alike; medians, so that a stall does not count.
    for (let i = 0; i < 15; i++) {
      tries.real.push(await attempt({ ...OWNER, password: 'not the password at all' }, i));
      tries.unknownEmail.push(await attempt({ ...OWNER, email: `nobody${i}@acme.test`, password: 'not the password at all' }, i));
      tries.unknownWorkspace.push(await attempt({ ...OWNER, workspace: `no-such-workspace-${i}`, password: 'not the password at all' }, i));
    }
    const real = median(tries.real);
    console.info(
      `sign-in medians: real user ${real.toFixed(0)} ms, unknown e-mail ${median(tries.unknownEmail).toFixed(0)} ms, unknown workspace ${median(tries.unknownWorkspace).toFixed(0)} ms`,
    );
    // Before: 3 ms for an unknown workspace, 8 ms for an unknown e-mail, 64 ms for a real user. Now each
    // runs one scrypt of the same cost; what remains is a database lookup or two.
    expect(real).toBeGreaterThan(10);
    expect(median(tries.unknownEmail)).toBeGreaterThan(real * 0.6);
    expect(median(tries.unknownWorkspace)).toBeGreaterThan(real * 0.6);
  });

  it('a hash of the first format still signs in and is re-hashed with the current parameters', async () => {
    const salt = crypto.randomBytes(16);
    const legacy = `scrypt$${salt.toString('base64url')}$${crypto.scryptSync('amber falcon river 31', salt, 32).toString('base64url')}`;
    await settleCli('user', 'add', '--workspace', OWNER.workspace, 'hana@acme.test', '--role', 'viewer', '--password', 'temporary pass phrase 1');
    await withTenant(s.database.db, s.tenantId, (tx) => tx.updateTable('users').set({ password_hash: legacy }).where('email', '=', 'hana@acme.test').execute());
    await new StaffBrowser(s.base).signedIn({ workspace: OWNER.workspace, email: 'hana@acme.test', password: 'amber falcon river 31' });
    const stored = await withTenant(s.database.db, s.tenantId, (tx) =>
      tx.selectFrom('users').select('password_hash').where('email', '=', 'hana@acme.test').executeTakeFirstOrThrow(),
    );
    expect(stored.password_hash).toMatch(/^scrypt\$v2\$N=16384,r=8,p=5\$/);
    await new StaffBrowser(s.base).signedIn({ workspace: OWNER.workspace, email: 'hana@acme.test', password: 'amber falcon river 31' });
  });

  it('the policy refuses short and common passwords on the account page, the CLI and workspace creation', async () => {
    const b = await new StaffBrowser(s.base).signedIn(OWNER);
    const short = await b.submit('/account', '/account/password', { current: OWNER.password, password: 'short one', confirm: 'short one' });
    expect(short.status).toBe(400);
    expect(short.text).toContain('use at least 12');
    const common = await b.submit('/account', '/account/password', { current: OWNER.password, password: 'baseball1234567', confirm: 'baseball1234567' });
    expect(common.status).toBe(400);
    expect(common.text).toContain('most common passwords');
    const wrong = await b.submit('/account', '/account/password', { current: 'not it', password: 'tangerine atlas 1234', confirm: 'tangerine atlas 1234' });
    expect(wrong.status).toBe(400);
    // Nothing changed: the owner still signs in with the old password.
    await new StaffBrowser(s.base).signedIn(OWNER);

    const cli = await settleCli('user', 'add', '--workspace', OWNER.workspace, 'ivy@acme.test', '--role', 'viewer', '--password', 'password123');
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('use at least 12');
    expect((await settleCli('user', 'list', '--workspace', OWNER.workspace)).stdout).not.toContain('ivy@acme.test');
    const ws = await settleCli('workspace', 'create', 'beta-it', '--name', 'Beta', '--admin-email', 'a@beta.test', '--admin-password', 'qwertyuiop123456');
    expect(ws.code).toBe(2);
    expect(ws.stderr).toContain('most common passwords');
  });

  it('a reset link is e-mailed, works once, ends the sessions, and expires', async () => {
    const user = { workspace: OWNER.workspace, email: 'jo@acme.test', password: 'saffron glacier mole 4' };
    await settleCli('user', 'add', '--workspace', OWNER.workspace, user.email, '--role', 'finance', '--password', user.password);
    const before = await new StaffBrowser(s.base).signedIn(user);

    // Unknown accounts get the same answer and no e-mail.
    const sentBefore = smtp.received.length;
    const unknown = await new StaffBrowser(s.base).submit('/login/forgot', '/login/forgot', { workspace: OWNER.workspace, email: 'nobody@acme.test' });
    expect(unknown.status).toBe(200);
    const asked = await new StaffBrowser(s.base).submit('/login/forgot', '/login/forgot', { workspace: OWNER.workspace, email: user.email });
    expect(asked.status).toBe(200);
    const card = (t: string, email: string): string => (/<main\b[^>]*>([\s\S]*)<\/main>/.exec(t)?.[1] ?? '').replace(email, 'X');
    expect(card(asked.text, user.email)).toBe(card(unknown.text, 'nobody@acme.test'));
    expect(card(asked.text, user.email)).toContain('is on its way');
    const mail = await eventually(
      async () => smtp.received.find((m) => m.to.includes(user.email) && /Reset your Settle password/.test(m.subject)),
      60_000,
      'the reset e-mail',
    );
    expect(smtp.received.length).toBe(sentBefore + 1);
    const link = linkIn(mail.raw, 'reset');

    const b = new StaffBrowser(s.base);
    const opened = await b.get(link);
    expect(opened.status).toBe(200);
    expect(opened.text).toContain(user.email);
    const weak = await b.submit(link, link, { password: 'letmein', confirm: 'letmein' });
    expect(weak.status).toBe(400);
    const done = await b.submit(link, link, { password: 'pelican thunder maple 8', confirm: 'pelican thunder maple 8' });
    expect(done.status).toBe(200);
    expect(done.text).toContain('Your password is saved');
    expect(await before.dashboardOpens()).toBe(false);
    await new StaffBrowser(s.base).signedIn({ ...user, password: 'pelican thunder maple 8' });
    expect((await new StaffBrowser(s.base).signIn(user)).status).toBe(401);
    // Used once: the same link again is refused.
    expect((await new StaffBrowser(s.base).get(link)).status).toBe(410);

    // A new link that has passed its expiry is refused with a reason.
    await new StaffBrowser(s.base).submit('/login/forgot', '/login/forgot', { workspace: OWNER.workspace, email: user.email });
    const second = await eventually(async () => smtp.received.filter((m) => m.to.includes(user.email)).at(1), 60_000, 'the second reset e-mail');
    const late = linkIn(second.raw, 'reset');
    await withTenant(s.database.db, s.tenantId, (tx) =>
      tx
        .updateTable('staff_links')
        .set({ expires_at: sql<Date>`now() - interval '1 second'` })
        .where('used_at', 'is', null)
        .execute(),
    );
    const expired = await new StaffBrowser(s.base).get(late);
    expect(expired.status).toBe(410);
    expect(expired.text).toContain('expired');
    const actions = (await withTenant(s.database.db, s.tenantId, (tx) => tx.selectFrom('audit_log').select('action').execute())).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['user.password_reset_link_created', 'user.password_reset']));
  });

  it('an invitation e-mail lets the new user choose a password and sign in with the role given', async () => {
    const o = await new StaffBrowser(s.base).signedIn(OWNER);
    const invited = await o.submit('/users', '/users/invite', { email: 'kim@acme.test', name: 'Kim', role: 'finance' });
    expect(invited.status).toBe(200);
    expect(invited.text).toContain('Invitation e-mailed to kim@acme.test');
    // Until accepted, there is no password that signs in.
    expect((await new StaffBrowser(s.base).signIn({ workspace: OWNER.workspace, email: 'kim@acme.test', password: '!invited' })).status).toBe(401);
    const mail = await eventually(async () => smtp.received.find((m) => m.to.includes('kim@acme.test')), 60_000, 'the invitation');
    const link = linkIn(mail.raw, 'invitation');
    const b = new StaffBrowser(s.base);
    expect((await b.submit(link, link, { password: 'horizon basket cedar 12', confirm: 'horizon basket cedar 12' })).status).toBe(200);
    const kim = await new StaffBrowser(s.base).signedIn({ workspace: OWNER.workspace, email: 'kim@acme.test', password: 'horizon basket cedar 12' });
    expect((await kim.get('/app')).text).toContain('kim@acme.test (finance)');
  });

  it('settle user reset-password works without SMTP: a printed link, or a password set directly', async () => {
    const user = { workspace: OWNER.workspace, email: 'lee@acme.test', password: 'quartz noodle piano 6' };
    await settleCli('user', 'add', '--workspace', OWNER.workspace, user.email, '--role', 'viewer', '--password', user.password);
    const session = await new StaffBrowser(s.base).signedIn(user);
    const printed = await settleCli('user', 'reset-password', '--workspace', OWNER.workspace, user.email);
    expect(printed.code).toBe(0);
    const link = new URL(/(http\S+\/account\/reset\/[A-Za-z0-9_-]{43})/.exec(printed.stdout)![1]!).pathname;
    expect((await new StaffBrowser(s.base).get(link)).status).toBe(200);
    const set = await settleCli('user', 'reset-password', '--workspace', OWNER.workspace, user.email, '--password', 'velvet comet harbor 3');
    expect(set.stdout).toContain('their sessions have ended');
    expect(await session.dashboardOpens()).toBe(false);
    // The printed link was voided by the new password.
    expect((await new StaffBrowser(s.base).get(link)).status).toBe(410);
    await new StaffBrowser(s.base).signedIn({ ...user, password: 'velvet comet harbor 3' });
  });
});
