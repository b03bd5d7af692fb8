// Issue #8 item 5, replayed through HTTP against a running Settle: staff sessions live in the database, so
// sign-out, "sign out everywhere", a password change and removal of the user end them on the next request;
// idle and absolute timeouts end them too. The cookie holds only a random id (its hash is stored).
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { OWNER, startLeanSettle, type LeanSettle } from './lean-settle.ts';
import { StaffBrowser } from './staff-browser.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
let s: LeanSettle;

// Sign-in limits well above what this file sends (the limits have their own tests).
const ENV = { SETTLE_LIMIT_SIGNIN_ADDRESS: '1000/1m', SETTLE_LIMIT_SIGNIN_ACCOUNT: '1000/1m', SETTLE_LIMIT_PAGES_ADDRESS: '5000/1m' };

async function settleCli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
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

async function sessionRows(email: string): Promise<{ ended_at: Date | null; ended_reason: string | null; token_hash: string }[]> {
  return withTenant(s.database.db, s.tenantId, (tx) =>
    tx
      .selectFrom('staff_sessions')
      .innerJoin('users', 'users.id', 'staff_sessions.user_id')
      .select(['staff_sessions.ended_at', 'staff_sessions.ended_reason', 'staff_sessions.token_hash'])
      .where('users.email', '=', email)
      .orderBy('staff_sessions.created_at')
      .execute(),
  );
}

async function auditActions(): Promise<string[]> {
  const rows = await withTenant(s.database.db, s.tenantId, (tx) => tx.selectFrom('audit_log').select('action').execute());
  return rows.map((r) => r.action);
}

const owner = (): StaffBrowser => new StaffBrowser(s.base);

beforeAll(async () => {
  s = await startLeanSettle(ENV);
}, 180_000);
afterAll(async () => {
  await s?.close();
});

describe('staff sessions', { timeout: 400_000 }, () => {
  it('the cookie is a random id whose hash is stored; sign-out ends the session at once', async () => {
    const b = await owner().signedIn(OWNER);
    expect(b.session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await sessionRows(OWNER.email);
    const mine = rows.find((r) => r.token_hash === crypto.createHash('sha256').update(b.session!).digest('hex'));
    expect(mine?.ended_at).toBeNull();
    expect(rows.some((r) => r.token_hash === b.session)).toBe(false);

    const dashboard = await b.get('/app');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('id="sign-out"');

    const stale = b.session!;
    const out = await b.submit('/app', '/logout', {});
    expect(out.status).toBe(302);
    expect(out.headers.location).toBe('/login');
    expect(b.session).toBeUndefined();
    // The old cookie, replayed, no longer opens anything.
    b.cookies.set('settle_session', stale);
    expect(await b.dashboardOpens()).toBe(false);
    expect((await b.get('/account')).status).toBe(302);
    expect((await sessionRows(OWNER.email)).find((r) => r.token_hash === mine!.token_hash)?.ended_reason).toBe('signed_out');
    expect(await auditActions()).toEqual(expect.arrayContaining(['user.signed_in', 'user.signed_out']));
  });

  it("a removed user's session is refused at once (staff page and CLI)", async () => {
    await settleCli('user', 'add', '--workspace', OWNER.workspace, 'dana@acme.test', '--role', 'finance', '--password', 'ledger tulip quarry 42');
    await settleCli('user', 'add', '--workspace', OWNER.workspace, 'eli@acme.test', '--role', 'viewer', '--password', 'orchid lantern basalt 7');
    const dana = await new StaffBrowser(s.base).signedIn({ workspace: OWNER.workspace, email: 'dana@acme.test', password: 'ledger tulip quarry 42' });
    const eli = await new StaffBrowser(s.base).signedIn({ workspace: OWNER.workspace, email: 'eli@acme.test', password: 'orchid lantern basalt 7' });
    expect(await dana.dashboardOpens()).toBe(true);
    expect(await eli.dashboardOpens()).toBe(true);

    // An owner removes Dana on the Users page.
    const o = await owner().signedIn(OWNER);
    const users = await o.get('/users');
    expect(users.status).toBe(200);
    const danaId = /<tr data-email="dana@acme\.test">[\s\S]*?action="\/users\/([0-9a-f-]{36})\/remove"/.exec(users.text)?.[1];
    expect(danaId).toBeTruthy();
    const removed = await o.submit('/users', `/users/${danaId}/remove`, {});
    expect(removed.status).toBe(200);
    expect(removed.text).toContain('dana@acme.test removed');
    expect(await dana.dashboardOpens()).toBe(false);

    // And Eli from the command line.
    const cli = await settleCli('user', 'remove', '--workspace', OWNER.workspace, 'eli@acme.test');
    expect(cli.stdout).toContain('eli@acme.test removed');
    expect(await eli.dashboardOpens()).toBe(false);
    expect((await settleCli('user', 'list', '--workspace', OWNER.workspace)).stdout).not.toContain('eli@acme.test');
    expect(await auditActions()).toEqual(expect.arrayContaining(['user.added', 'user.removed']));

    // The only owner cannot be removed (the workspace would have nobody to manage it).
    const last = await settleCli('user', 'remove', '--workspace', OWNER.workspace, OWNER.email).catch((e: { code: number; stderr: string }) => e);
    expect((last as { code: number }).code).toBe(2);
    expect((last as { stderr: string }).stderr).toContain('only owner');
  });

  it('a password change signs out the other sessions and keeps this one; the old password stops working', async () => {
    const user = { workspace: OWNER.workspace, email: 'fay@acme.test', password: 'walnut harbor cinema 19' };
    await settleCli('user', 'add', '--workspace', OWNER.workspace, user.email, '--role', 'viewer', '--password', user.password);
    const here = await new StaffBrowser(s.base).signedIn(user);
    const elsewhere = await new StaffBrowser(s.base).signedIn(user);
    const changed = await here.submit('/account', '/account/password', {
      current: user.password,
      password: 'granite meadow violin 55',
      confirm: 'granite meadow violin 55',
    });
    expect(changed.status).toBe(200);
    expect(changed.text).toContain('Password changed');
    expect(await here.dashboardOpens()).toBe(true);
    expect(await elsewhere.dashboardOpens()).toBe(false);
    expect((await new StaffBrowser(s.base).signIn(user)).status).toBe(401);
    await new StaffBrowser(s.base).signedIn({ ...user, password: 'granite meadow violin 55' });
    expect((await sessionRows(user.email)).map((r) => r.ended_reason)).toContain('password_changed');
  });

  it('"sign out everywhere" ends every session of the user; an owner can end a colleague\'s sessions', async () => {
    const a = await owner().signedIn(OWNER);
    const b = await owner().signedIn(OWNER);
    const out = await a.submit('/account', '/account/sessions/end-all', {});
    expect(out.status).toBe(302);
    expect(await a.dashboardOpens()).toBe(false);
    b.cookies.set('settle_session', b.session!);
    expect(await b.dashboardOpens()).toBe(false);

    const user = { workspace: OWNER.workspace, email: 'gus@acme.test', password: 'copper sparrow delta 88' };
    await settleCli('user', 'add', '--workspace', OWNER.workspace, user.email, '--role', 'viewer', '--password', user.password);
    const gus = await new StaffBrowser(s.base).signedIn(user);
    const o = await owner().signedIn(OWNER);
    const id = /<tr data-email="gus@acme\.test">[\s\S]*?action="\/users\/([0-9a-f-]{36})\/sessions\/end"/.exec((await o.get('/users')).text)?.[1];
    const ended = await o.submit('/users', `/users/${id}/sessions/end`, {});
    expect(ended.text).toContain('1 session(s) of gus@acme.test ended');
    expect(await gus.dashboardOpens()).toBe(false);
    // A viewer is not allowed on the Users page.
    const viewer = await new StaffBrowser(s.base).signedIn(user);
    expect((await viewer.get('/users')).status).toBe(403);
  });

  it('idle and absolute timeouts end a session', async () => {
    const idle = await owner().signedIn(OWNER);
    const old = await owner().signedIn(OWNER);
    const hash = (t: string): string => crypto.createHash('sha256').update(t).digest('hex');
    await withTenant(s.database.db, s.tenantId, async (tx) => {
      // 31 minutes unused (the default idle timeout is 30), and past the absolute expiry.
      await tx
        .updateTable('staff_sessions')
        .set({ last_seen_at: sql<Date>`now() - interval '31 minutes'` })
        .where('token_hash', '=', hash(idle.session!))
        .execute();
      await tx
        .updateTable('staff_sessions')
        .set({ expires_at: sql<Date>`now() - interval '1 second'` })
        .where('token_hash', '=', hash(old.session!))
        .execute();
    });
    expect(await idle.dashboardOpens()).toBe(false);
    expect(await old.dashboardOpens()).toBe(false);
    const rows = await sessionRows(OWNER.email);
    expect(rows.find((r) => r.token_hash === hash(idle.session!))?.ended_reason).toBe('idle');
    expect(rows.find((r) => r.token_hash === hash(old.session!))?.ended_reason).toBe('expired');
  });

  it("no staff page reloads itself; a request a page makes by itself (?auto=1) does not keep an unattended session alive, a person's does", async () => {
    const b = await owner().signedIn(OWNER);
    const hash = crypto.createHash('sha256').update(b.session!).digest('hex');
    const lastSeen = async (): Promise<number> =>
      withTenant(s.database.db, s.tenantId, async (tx) =>
        new Date(
          (await tx.selectFrom('staff_sessions').select('last_seen_at').where('token_hash', '=', hash).executeTakeFirstOrThrow()).last_seen_at,
        ).getTime(),
      );
    expect((await b.get('/app')).text).not.toMatch(/http-equiv="refresh"/i);
    await withTenant(s.database.db, s.tenantId, (tx) =>
      tx
        .updateTable('staff_sessions')
        .set({ last_seen_at: sql<Date>`now() - interval '20 minutes'` })
        .where('token_hash', '=', hash)
        .execute(),
    );
    const before = await lastSeen();
    expect((await b.get('/app?auto=1')).status).toBe(200);
    expect(await lastSeen()).toBe(before);
    expect((await b.get('/app')).status).toBe(200);
    expect(await lastSeen()).toBeGreaterThan(before + 15 * 60_000);
  });
});
