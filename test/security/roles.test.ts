// Issue #8 item 4: roles are enforced on every route from one permission table (src/http/permissions.ts).
// Against a running Settle (real PostgreSQL, real HTTP): every route in Fastify's route table has a declared
// permission and a route without one cannot be registered; a viewer — signed in or with a viewer API key —
// is answered 403 on every mutating route and nothing in the database changes; finance may do what finance
// does and owners alone change settings, users and keys; expired and revoked keys are refused; keys are
// made, listed and revoked with `settle api-key`, and their last use is recorded at most once a minute.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { startSettle, type Running } from '../../src/cli/runtime.ts';
import { createApiKey, createWorkspace } from '../../src/cli/workspace.ts';
import { createDb, createPool } from '../../src/db/pool.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { isStaffRole, roleAtLeast, STAFF_ROLES, type StaffRole } from '../../src/domain/roles.ts';
import { authenticateApiKey } from '../../src/http/api-key-auth.ts';
import { accessFor, enforcePermissions, routePermissions, type RoutePermission } from '../../src/http/authorize.ts';
import type { HttpDeps } from '../../src/http/deps.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { PERMISSIONS } from '../../src/http/permissions.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const SLUG = 'roles-it';
const PASSWORD: Record<StaffRole, string> = {
  owner: 'owner passphrase for roles 7',
  finance: 'finance passphrase for roles 7',
  viewer: 'viewer passphrase for roles 7',
};
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let database: TestDatabase;
let settle: Running;
let url: string;
let tenantId: string;
let dataDir: string;
let secretKeyHex: string;
let ruleId: string;
const keys = {} as Record<StaffRole, string>;
const sessions = {} as Record<StaffRole, string>;

interface Answer {
  status: number;
  text: string;
  json: { error?: { code?: string; message?: string }; [k: string]: unknown } | null;
}

async function call(method: string, pathname: string, auth: { key?: string; session?: string }, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { origin: url, accept: pathname.startsWith('/api/') ? 'application/json' : 'text/html' };
  if (auth.key) headers.authorization = `Bearer ${auth.key}`;
  if (auth.session) headers.cookie = auth.session;
  let payload: string | undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${url}${pathname}`, { method, headers, redirect: 'manual', ...(payload === undefined ? {} : { body: payload }) });
  const text = await res.text();
  let json: Answer['json'] = null;
  try {
    json = JSON.parse(text) as Answer['json'];
  } catch {
    /* an HTML page */
  }
  return { status: res.status, text, json };
}

/** Refused for the role (not for a missing CSRF token, bad input or an unknown id). */
function refusedForRole(a: Answer): boolean {
  return a.status === 403 && (a.json?.error?.code === 'forbidden' || /needs the (viewer|finance|owner) role|needs the own-account permission/.test(a.text));
}

/** Sign in through the login form as a browser does: the page's CSRF token, its pre-session cookie, Origin. */
async function signIn(email: string, password: string): Promise<string> {
  const page = await fetch(`${url}/login`);
  const html = await page.text();
  const pre = page.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const form = new URLSearchParams({ workspace: SLUG, email, password });
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (token) form.set('_csrf', token);
  const res = await fetch(`${url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url, cookie: pre.join('; ') },
    body: form.toString(),
    redirect: 'manual',
  });
  const session = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('settle_session=') && c.length > 'settle_session='.length);
  if (!session) throw new Error(`sign-in as ${email} failed: ${res.status} ${await res.text()}`);
  return session;
}

/** A concrete path for a route: the seeded rule where the route names a rule, otherwise ids that exist nowhere. */
function pathFor(route: RoutePermission): string {
  return route.url
    .replace(/^\/api\/v1\/autopay\/rules\/:id$/, `/api/v1/autopay/rules/${ruleId}`)
    .replace(/:part_no/g, '1')
    .replace(/:token/g, 'not-a-token')
    .replace(/:workspace/g, SLUG)
    .replace(/:[A-Za-z_]+/g, '00000000-0000-4000-8000-00000000abcd')
    .replace(/\*+$/, 'x');
}

/** A request body that would change something if it were allowed (so a refusal is about the role). */
function bodyFor(route: RoutePermission): unknown {
  if (route.method === 'DELETE') return undefined;
  if (route.url === '/api/v1/autopay/rules' && route.method === 'POST') return { name: 'Made by a viewer' };
  if (route.url === '/api/v1/autopay/rules/:id') return { name: 'Renamed by a viewer' };
  if (route.url === '/api/v1/api-keys') return { name: 'viewer-made', role: 'owner' };
  return {};
}

/** Row counts and a checksum of every table, as the workspace sees them (row-level security applies). */
async function snapshot(): Promise<Record<string, string>> {
  return withTenant(database.db, tenantId, async (tx) => {
    const tables = await sql<{ name: string }>`
      SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(tx);
    const out: Record<string, string> = {};
    for (const { name } of tables.rows) {
      // What a refused request may legitimately write: its own audit line, and the cheap "last used" marks.
      const where = name === 'audit_log' ? sql`WHERE t.action <> 'permission.refused'` : sql``;
      const r = await sql<{ n: number; h: string }>`
        SELECT count(*)::int AS n,
               md5(coalesce(string_agg((to_jsonb(t) - 'last_used_at' - 'last_seen_at')::text, '|' ORDER BY (to_jsonb(t) - 'last_used_at' - 'last_seen_at')::text), '')) AS h
        FROM ${sql.table(name)} AS t ${where}`.execute(tx);
      out[name] = `${r.rows[0]!.n}:${r.rows[0]!.h}`;
    }
    const hasJobs = await sql<{ t: string | null }>`SELECT to_regclass('graphile_worker.jobs')::text AS t`.execute(tx);
    if (hasJobs.rows[0]?.t)
      out['graphile_worker.jobs'] = String((await sql<{ n: number }>`SELECT count(*)::int AS n FROM graphile_worker.jobs`.execute(tx)).rows[0]!.n);
    return out;
  });
}

async function refusalsLogged(): Promise<number> {
  return withTenant(database.db, tenantId, async (tx) => {
    const r = await tx
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('action', '=', 'permission.refused')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  });
}

async function settleCli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(
    process.execPath,
    ['--import', pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, path.join(ROOT, 'src/cli/main.ts'), ...args],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        DATABASE_URL: database.url,
        SETTLE_SECRET_KEY: secretKeyHex,
        SETTLE_DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
      },
      timeout: 120_000,
    },
  );
}

type StaffRoute = RoutePermission & { readonly access: StaffRole };

/** Fastify's route table as printRoutes draws it (a tree of path pieces, each with its methods), flattened. */
function printedRoutes(): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of settle.http!.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)(?:└── |├── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack[depth] = m[2]!;
    if (m[3]) for (const method of m[3].split(', ')) out.push({ method, url: stack.join('') });
  }
  return out;
}

function staffRoutes(): StaffRoute[] {
  return routePermissions(settle.http!).filter((r): r is StaffRoute => r.method !== 'HEAD' && isStaffRole(r.access));
}

/** Forms that change only the signed-in person's own account (password, second factor, sessions). */
function ownAccountRoutes(): RoutePermission[] {
  return routePermissions(settle.http!).filter((r) => r.method !== 'HEAD' && r.access === 'own-account');
}

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-roles-'));
  secretKeyHex = crypto.randomBytes(32).toString('hex');
  tenantId = await createWorkspace(database.db, {
    slug: SLUG,
    name: 'Roles IT',
    adminEmail: 'owner@roles.test',
    adminPassword: PASSWORD.owner,
    actor: 'system:test',
  });
  for (const role of ['finance', 'viewer'] as const) {
    const hash = await Promise.resolve(hashPassword(PASSWORD[role]));
    await withTenant(database.db, tenantId, (tx) =>
      tx
        .insertInto('users')
        .values({ tenant_id: tenantId, email: `${role}@roles.test`, name: role, role, password_hash: hash })
        .execute(),
    );
  }
  const config = loadConfig({
    DATABASE_URL: database.url,
    SETTLE_DATA_DIR: dataDir,
    SETTLE_SECRET_KEY: secretKeyHex,
    PORT: '0',
    SETTLE_DEMO: 'off',
    LOG_LEVEL: process.env.SETTLE_TEST_LOG ?? 'silent',
  });
  // HTTP only: no worker moving rows underneath the before/after comparison.
  const pool = createPool(database.url, 10);
  settle = await startSettle(config, createLogger(config.LOG_LEVEL), {
    http: true,
    worker: false,
    database: { url: database.url, pool, db: createDb(pool), embedded: null, close: async () => void (await pool.end()) },
  });
  url = settle.url!;
  for (const role of STAFF_ROLES) {
    keys[role] = await createApiKey(database.db, tenantId, `${role} key`, 'system:test', { role });
    sessions[role] = await signIn(`${role}@roles.test`, PASSWORD[role]);
  }
  const rule = await call('POST', '/api/v1/autopay/rules', { key: keys.owner }, { name: 'Seeded rule' });
  expect(rule.status, rule.text).toBe(201);
  ruleId = (rule.json as { id: string }).id;
}, 180_000);

afterAll(async () => {
  await settle?.stop();
  await database?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the permission table covers the route table', () => {
  it("every route in Fastify's route table has a declared permission, and every declaration names a route", async () => {
    const routes = routePermissions(settle.http!);
    // Fastify's own table: every route in it went through the permission hook (a prefixed plugin's "/" route
    // is also served with a trailing slash, with the same options and so the same check).
    const seen = new Set(routes.map((r) => `${r.method} ${r.url}`));
    const printed = printedRoutes();
    expect(printed.length).toBeGreaterThanOrEqual(routes.length);
    for (const p of printed) {
      // printRoutes draws a wildcard under the last shared piece of its path (/api/docs/static/* as /api/docs/*).
      const wildcard = p.url.endsWith('*') && routes.some((r) => r.method === p.method && r.url.endsWith('*') && r.url.startsWith(p.url.slice(0, -1)));
      const covered = seen.has(`${p.method} ${p.url}`) || seen.has(`${p.method} ${p.url.replace(/\/$/, '')}`) || wildcard;
      expect(covered, `${p.method} ${p.url} escaped the permission hook`).toBe(true);
      expect(accessFor(p.method, p.url), `${p.method} ${p.url}`).not.toBeNull();
    }
    for (const r of routes) expect(settle.http!.hasRoute({ method: r.method as 'GET', url: r.url }), `${r.method} ${r.url}`).toBe(true);
    for (const key of Object.keys(PERMISSIONS)) {
      const [method, pattern] = key.split(' ') as [string, string];
      const used = pattern.endsWith('/**')
        ? routes.some((r) => r.method === method && r.url.startsWith(pattern.slice(0, -3)))
        : routes.some((r) => r.method === method && r.url === pattern);
      expect(used, `${key} is declared in src/http/permissions.ts but no such route is registered`).toBe(true);
    }
    // Every door is there: API, staff pages, portal and webhooks, each declared the way it authenticates.
    expect(routes.filter((r) => r.url.startsWith('/api/v1/') && MUTATING.has(r.method)).length).toBeGreaterThanOrEqual(30);
    expect(routes.find((r) => r.url === '/webhooks/:workspace/:vendor')?.access).toBe('vendor-signature');
    expect(routes.filter((r) => r.url.startsWith('/portal/')).every((r) => r.access === 'portal-link')).toBe(true);
    expect(routes.find((r) => r.method === 'GET' && r.url === '/dashboard')?.access).toBe('viewer');
    // The API reference says which role each operation needs.
    const doc = (await (await fetch(`${url}/api/docs/json`)).json()) as { paths: Record<string, Record<string, { description?: string }>> };
    expect(doc.paths['/api/v1/autopay/rules']?.post?.description).toMatch(/Needs the \*\*finance\*\* role/);
    expect(doc.paths['/api/v1/retry-policy']?.put?.description).toMatch(/Needs the \*\*owner\*\* role/);
  });

  it('a route without a declared permission cannot be registered, with or without a prefix', async () => {
    const deps = { ctx: { db: database.db }, sessionSecret: 'x' } as unknown as HttpDeps;
    const plain = Fastify();
    enforcePermissions(plain, deps);
    plain.get('/healthz', async () => 'ok');
    expect(() => plain.post('/refund-everything', async () => 'done')).toThrow(/POST \/refund-everything has no permission.*src\/http\/permissions\.ts/);
    await plain.close();
    const prefixed = Fastify();
    enforcePermissions(prefixed, deps);
    await expect(prefixed.register(async (api) => void api.delete('/invoices/:id', async () => 'gone'), { prefix: '/api/v1' })).rejects.toThrow(
      /DELETE \/api\/v1\/invoices\/:id has no permission/,
    );
    await prefixed.close().catch(() => {});
  });
});

describe('one route, several methods', () => {
  it('each method gets its own declared access', async () => {
    const deps = { ctx: { db: database.db }, sessionSecret: 'x' } as unknown as HttpDeps;
    const app = Fastify();
    app.decorateRequest('caller', null);
    enforcePermissions(app, deps, { 'GET /report': 'public', 'POST /report': 'owner' });
    app.route({ method: ['GET', 'POST'], url: '/report', handler: async () => 'done' });
    expect((await app.inject({ method: 'GET', url: '/report' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'HEAD', url: '/report' })).statusCode).toBe(200);
    const post = await app.inject({ method: 'POST', url: '/report' });
    expect(post.statusCode).toBe(401);
    expect(post.body).not.toBe('done');
    await app.close();
  });
});

describe('a viewer changes nothing', () => {
  it('a viewer API key and a signed-in viewer are answered 403 on every mutating route, and the database is unchanged', async () => {
    const mutating = staffRoutes().filter((r) => MUTATING.has(r.method));
    expect(mutating.length).toBeGreaterThanOrEqual(30);
    // No mutating route is open to a viewer: the table cannot even declare one (authorize.ts refuses it).
    expect(mutating.filter((r) => r.access === 'viewer')).toEqual([]);
    const before = await snapshot();
    const refusedBefore = await refusalsLogged();
    let refusals = 0;
    // A person's own password, second factor and sessions are theirs to change whatever their role, but
    // never with an API key, a viewer's included.
    for (const route of ownAccountRoutes().filter((r) => MUTATING.has(r.method))) {
      const byKey = await call(route.method, pathFor(route), { key: keys.viewer }, bodyFor(route));
      expect(refusedForRole(byKey), `${route.method} ${route.url} with a viewer key: ${byKey.status} ${byKey.text}`).toBe(true);
      refusals++;
    }
    for (const route of mutating) {
      const where = `${route.method} ${route.url}`;
      const byKey = await call(route.method, pathFor(route), { key: keys.viewer }, bodyFor(route));
      expect(byKey.status, `${where} with a viewer key: ${byKey.text}`).toBe(403);
      expect(refusedForRole(byKey), `${where}: ${byKey.text}`).toBe(true);
      expect(byKey.json?.error?.message ?? byKey.text).toMatch(new RegExp(`needs the ${route.access} role`));
      refusals++;
      const bySession = await call(route.method, pathFor(route), { session: sessions.viewer }, bodyFor(route));
      if (route.url.startsWith('/api/v1/')) {
        // The API takes API keys only; a session cookie is refused before any role is looked at.
        expect([401, 403], `${where} with a viewer session: ${bySession.text}`).toContain(bySession.status);
        if (refusedForRole(bySession)) refusals++;
      } else {
        expect(bySession.status, `${where} with a viewer session: ${bySession.text}`).toBe(403);
        expect(refusedForRole(bySession), `${where}: ${bySession.text}`).toBe(true);
        refusals++;
      }
    }
    expect(await snapshot()).toEqual(before);
    // Each refusal is in the audit log (and at warn in the log), with the route and both roles.
    expect((await refusalsLogged()) - refusedBefore).toBe(refusals);
    const last = await withTenant(database.db, tenantId, (tx) =>
      tx.selectFrom('audit_log').selectAll().where('action', '=', 'permission.refused').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow(),
    );
    expect(last.subject_type).toBe('route');
    expect(last.detail).toMatchObject({ role: 'viewer' });
  });

  it('a viewer reads everything', async () => {
    for (const route of staffRoutes().filter((r) => r.method === 'GET' && r.access === 'viewer')) {
      const a = await call('GET', pathFor(route), route.url.startsWith('/api/') ? { key: keys.viewer } : { session: sessions.viewer });
      expect(refusedForRole(a), `GET ${route.url}: ${a.text.slice(0, 200)}`).toBe(false);
      expect([401, 403], `GET ${route.url}`).not.toContain(a.status);
    }
  });
});

describe('finance and owner', () => {
  it('what a viewer was refused, finance does: the same rule change succeeds with a finance key', async () => {
    const renamed = await call('PATCH', `/api/v1/autopay/rules/${ruleId}`, { key: keys.finance }, { name: 'Renamed by finance' });
    expect(renamed.status, renamed.text).toBe(200);
    expect((renamed.json as { name: string }).name).toBe('Renamed by finance');
    const rule = await call('GET', `/api/v1/autopay/rules/${ruleId}`, { key: keys.viewer });
    expect((rule.json as { name: string }).name).toBe('Renamed by finance');
  });

  it('each role is refused exactly the routes above it, by API key and by session', async () => {
    for (const route of staffRoutes()) {
      for (const role of ['finance', 'owner'] as const) {
        const auth = route.url.startsWith('/api/') ? { key: keys[role] } : { session: sessions[role] };
        const a = await call(route.method, pathFor(route), auth, MUTATING.has(route.method) ? {} : undefined);
        expect(refusedForRole(a), `${role} ${route.method} ${route.url} (needs ${route.access}): ${a.status} ${a.text.slice(0, 200)}`).toBe(
          !roleAtLeast(role, route.access),
        );
      }
    }
    for (const route of ownAccountRoutes()) {
      for (const role of STAFF_ROLES) {
        const byKey = await call(route.method, pathFor(route), { key: keys[role] }, MUTATING.has(route.method) ? {} : undefined);
        expect(refusedForRole(byKey), `${role} key ${route.method} ${route.url}`).toBe(true);
        if (route.method !== 'GET') continue; // a form without its CSRF token is refused by csrf.ts, whatever the role
        const bySession = await call(route.method, pathFor(route), { session: sessions[role] });
        expect(refusedForRole(bySession), `${role} session ${route.method} ${route.url}: ${bySession.status}`).toBe(false);
        expect(bySession.status, `${role} session ${route.method} ${route.url}`).toBe(200);
      }
    }
    // Owner-only: settings, users and API keys.
    const ownerOnly = staffRoutes().filter((r) => r.access === 'owner');
    for (const expected of [
      'PUT /api/v1/autopay/settings',
      'PUT /api/v1/settings/lifecycle',
      'PUT /api/v1/settings/surcharge',
      'PUT /api/v1/retry-policy',
      'POST /api/v1/api-keys',
      'DELETE /api/v1/api-keys/:id',
    ])
      expect(ownerOnly.map((r) => `${r.method} ${r.url}`)).toContain(expected);
  });
});

describe('how the check is applied', () => {
  it('HEAD is checked as GET, and each refusal is audited once', async () => {
    const before = await refusalsLogged();
    const head = await fetch(`${url}/api/v1/api-keys`, { method: 'HEAD', headers: { authorization: `Bearer ${keys.viewer}` } });
    expect(head.status).toBe(403);
    expect(await refusalsLogged()).toBe(before + 1);
  });

  it("a user's role is read on every request: promoted, the same session may; demoted, it is refused at once", async () => {
    const ownerPage = staffRoutes().find((r) => r.method === 'GET' && r.access === 'owner' && !r.url.startsWith('/api/') && !r.url.includes(':'));
    expect(ownerPage, 'an owner-only staff page').toBeDefined();
    const setRole = (role: StaffRole): Promise<unknown> =>
      withTenant(database.db, tenantId, (tx) => tx.updateTable('users').set({ role }).where('email', '=', 'viewer@roles.test').execute());
    expect(refusedForRole(await call('GET', ownerPage!.url, { session: sessions.viewer }))).toBe(true);
    await setRole('owner');
    try {
      const allowed = await call('GET', ownerPage!.url, { session: sessions.viewer });
      expect(allowed.status, allowed.text.slice(0, 200)).toBe(200);
    } finally {
      await setRole('viewer');
    }
    expect(refusedForRole(await call('GET', ownerPage!.url, { session: sessions.viewer }))).toBe(true);
  });
});

describe('API keys: role, expiry, revocation, last use', () => {
  it('an expired key is refused with a 401 that says so; one expiring later works', async () => {
    const expired = await createApiKey(database.db, tenantId, 'expired', 'system:test', { role: 'owner', expiresAt: new Date(Date.now() - 1000) });
    const a = await call('GET', '/api/v1/invoices', { key: expired });
    expect(a.status).toBe(401);
    expect(a.json?.error?.message).toMatch(/expired at .*settle api-key create/);
    const later = await createApiKey(database.db, tenantId, 'later', 'system:test', { role: 'viewer', expiresAt: new Date(Date.now() + 3_600_000) });
    expect((await call('GET', '/api/v1/invoices', { key: later })).status).toBe(200);
  });

  it('settle api-key create --role / list / revoke, and an owner through the API: a revoked key is refused at once', async () => {
    const bad = await settleCli('api-key', 'create', '--workspace', SLUG, '--name', 'no role').catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/missing --role/);

    const made = await settleCli('api-key', 'create', '--workspace', SLUG, '--role', 'finance', '--name', 'bookkeeping sync', '--expires', '30d');
    const secret = made.stdout.trim();
    expect(secret).toMatch(/^stl_/);
    expect(made.stderr).toMatch(/role finance, expires 20\d\d-/);
    expect((await call('POST', '/api/v1/autopay/runs', { key: secret }, {})).status).not.toBe(403);
    expect(refusedForRole(await call('PUT', '/api/v1/retry-policy', { key: secret }, {}))).toBe(true);

    const listed = await settleCli('api-key', 'list', '--workspace', SLUG);
    const line = listed.stdout.split('\n').find((l) => l.includes('bookkeeping sync'));
    expect(line).toMatch(/finance/);
    expect(line).toMatch(/active/);
    expect(listed.stdout).toMatch(/ROLE/);
    expect(listed.stdout).toMatch(/LAST USED/);
    const prefix = secret.slice(0, 8);

    const revoked = await settleCli('api-key', 'revoke', '--workspace', SLUG, prefix);
    expect(revoked.stdout).toMatch(/revoked/);
    const refused = await call('GET', '/api/v1/invoices', { key: secret });
    expect(refused.status).toBe(401);
    expect(refused.json?.error?.message).toMatch(/revoked at/);
    expect((await settleCli('api-key', 'list', '--workspace', SLUG)).stdout.split('\n').find((l) => l.includes('bookkeeping sync'))).toMatch(/revoked/);

    // The same through the API, for an owner only.
    const viaApi = await call('POST', '/api/v1/api-keys', { key: keys.owner }, { name: 'reporting', role: 'viewer' });
    expect(viaApi.status, viaApi.text).toBe(201);
    const { id, secret: reporting } = viaApi.json as { id: string; secret: string };
    expect((await call('GET', '/api/v1/invoices', { key: reporting })).status).toBe(200);
    expect(refusedForRole(await call('DELETE', `/api/v1/api-keys/${id}`, { key: keys.finance }))).toBe(true);
    const del = await call('DELETE', `/api/v1/api-keys/${id}`, { key: keys.owner });
    expect(del.status, del.text).toBe(200);
    expect((await call('GET', '/api/v1/invoices', { key: reporting })).status).toBe(401);
    const list = await call('GET', '/api/v1/api-keys', { key: keys.owner });
    expect((list.json as { data: { id: string; revoked_at: string | null; role: string }[] }).data.find((k) => k.id === id)).toMatchObject({ role: 'viewer' });
    expect(JSON.stringify(list.json)).not.toContain(reporting);

    // Creation and revocation are in the audit log with the role.
    const actions = await withTenant(database.db, tenantId, (tx) =>
      tx.selectFrom('audit_log').select(['action', 'actor', 'detail']).where('action', 'in', ['api_key.created', 'api_key.revoked']).orderBy('id').execute(),
    );
    expect(actions.filter((a) => a.action === 'api_key.revoked').map((a) => a.actor)).toEqual(['system:cli', expect.stringMatching(/^api_key:/)]);
    expect(actions.find((a) => a.action === 'api_key.created' && a.actor === 'system:cli')?.detail).toMatchObject({
      role: 'finance',
      name: 'bookkeeping sync',
    });
  }, 300_000);

  it('an owner makes and revokes a key on the API keys page; the page and its forms are owners only', async () => {
    const form = async (session: string, action: string, fields: Record<string, string>): Promise<Answer> => {
      const pageNow = await fetch(`${url}/api-keys`, { headers: { cookie: session } });
      const token = /name="_csrf" value="([^"]+)"/.exec(await pageNow.text())?.[1] ?? '';
      const res = await fetch(`${url}${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url, cookie: session, accept: 'text/html' },
        body: new URLSearchParams({ ...fields, _csrf: token }).toString(),
        redirect: 'manual',
      });
      return { status: res.status, text: await res.text(), json: null };
    };
    const page = await call('GET', '/api-keys', { session: sessions.owner });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Make a key');
    for (const role of ['viewer', 'finance'] as const) expect(refusedForRole(await call('GET', '/api-keys', { session: sessions[role] }))).toBe(true);

    const bad = await form(sessions.owner, '/api-keys/create', { name: 'nightly export', role: 'viewer', expires: 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/90d, 12h or a date/);
    const made = await form(sessions.owner, '/api-keys/create', { name: 'nightly export', role: 'viewer', expires: '90d' });
    expect(made.status, made.text.slice(0, 300)).toBe(200);
    const secret = /id="new-api-key">(stl_[A-Za-z0-9_-]+)</.exec(made.text)?.[1];
    expect(secret).toBeDefined();
    expect((await call('GET', '/api/v1/invoices', { key: secret! })).status).toBe(200);
    expect(refusedForRole(await call('POST', '/api/v1/autopay/runs', { key: secret! }, {}))).toBe(true);
    const id = await withTenant(
      database.db,
      tenantId,
      async (tx) => (await tx.selectFrom('api_keys').select('id').where('name', '=', 'nightly export').executeTakeFirstOrThrow()).id,
    );
    // A finance member cannot revoke it, even with a valid form.
    expect(refusedForRole(await form(sessions.finance, `/api-keys/${id}/revoke`, {}))).toBe(true);
    expect((await call('GET', '/api/v1/invoices', { key: secret! })).status).toBe(200);
    const revoked = await form(sessions.owner, `/api-keys/${id}/revoke`, {});
    expect(revoked.status).toBe(200);
    expect(revoked.text).toMatch(/nightly export revoked/);
    expect((await call('GET', '/api/v1/invoices', { key: secret! })).status).toBe(401);
    const audit = await withTenant(database.db, tenantId, (tx) =>
      tx.selectFrom('audit_log').select(['action', 'actor']).where('subject_id', '=', id).orderBy('id').execute(),
    );
    expect(audit.map((a) => a.action)).toEqual(['api_key.created', 'api_key.revoked']);
    expect(audit.every((a) => a.actor.startsWith('user:'))).toBe(true);
  });

  it('last use is recorded, at most once a minute per key', async () => {
    const key = await createApiKey(database.db, tenantId, 'busy integration', 'system:test', { role: 'viewer' });
    const lastUsed = async (): Promise<Date | null> =>
      withTenant(
        database.db,
        tenantId,
        async (tx) => (await tx.selectFrom('api_keys').select('last_used_at').where('name', '=', 'busy integration').executeTakeFirstOrThrow()).last_used_at,
      );
    expect(await lastUsed()).toBeNull();
    expect((await call('GET', '/api/v1/invoices', { key })).status).toBe(200);
    const first = await lastUsed();
    expect(first).not.toBeNull();
    for (let i = 0; i < 5; i++) expect((await call('GET', '/api/v1/invoices', { key })).status).toBe(200);
    expect(await lastUsed()).toEqual(first);
    // A minute later it moves again.
    const later = new Date(Date.now() + 61_000);
    expect((await authenticateApiKey(database.db, key, undefined, later)).ok).toBe(true);
    expect((await lastUsed())?.getTime()).toBe(later.getTime());
  });
});
