// Issue #8 item 3, through HTTP against a running Settle (`settle start` as a child process). One model:
// /api/v1 takes only bearer API keys, never the session cookie; staff pages and the sign-in forms need a CSRF
// token tied to the browser's session (or pre-session) cookie and a same-origin Origin / Sec-Fetch-Site; every
// HTML form carries the token; the portal's POSTs are JSON only and refused from another origin. Each refusal
// changes nothing. The "other site" is what the issue reproduced: a page on another port of the same host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { recordFailedSignIn } from '../../src/engine/sign-in-lockout.ts';
import { cookieFrom, csrfFrom, openLogin, postLogin, request, signIn, type Answer } from './http-from.ts';
import { OWNER, startLeanSettle, type LeanSettle } from './lean-settle.ts';

let s: LeanSettle;
let base = '';
let evil = ''; // same host, another port: same-site, not same-origin

beforeAll(async () => {
  s = await startLeanSettle({});
  base = s.base;
  const u = new URL(base);
  evil = `${u.protocol}//${u.hostname}:${Number(u.port) + 1}`;
}, 240_000);

afterAll(async () => {
  await s?.close();
});

const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const FORM = 'application/x-www-form-urlencoded';

async function count(table: 'autopay_rules' | 'audit_log' | 'payments', where?: string): Promise<number> {
  return withTenant(s.database.db, s.tenantId, async (tx) => {
    let q = tx.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n'));
    if (where && table === 'audit_log') q = q.where('action', '=', where);
    return Number((await q.executeTakeFirstOrThrow()).n);
  });
}

function expectRefused(a: Answer): void {
  expect(a.status, a.text.slice(0, 300)).toBe(403);
}

describe('/api/v1 accepts only bearer API keys', () => {
  it('a signed-in session cookie is refused on reads and on a forged form post, which changes nothing', async () => {
    const session = await signIn(base, OWNER, '127.0.0.60');
    const read = await request(`${base}/api/v1/clients`, { from: '127.0.0.60', headers: { cookie: session } });
    expect(read.status).toBe(401);
    expect(JSON.parse(read.text).error.message).toMatch(/does not accept the staff sign-in cookie/);

    const rulesBefore = await count('autopay_rules');
    // What the issue reproduced: a page elsewhere posting a form with the staff cookie attached.
    for (const [path, body] of [
      ['/api/v1/autopay/rules', form({ name: 'Forged rule' })],
      ['/api/v1/autopay/runs', ''],
    ] as const) {
      const forged = await request(`${base}${path}`, {
        method: 'POST',
        from: '127.0.0.60',
        headers: { cookie: session, 'content-type': FORM, origin: evil, 'sec-fetch-site': 'same-site' },
        body,
      });
      expect(forged.status, `${path}: ${forged.text}`).toBe(401);
    }
    expect(await count('autopay_rules')).toBe(rulesBefore);

    // The same read with an API key works.
    const key = await s.apiKey();
    expect((await request(`${base}/api/v1/clients`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
  });
});

describe('staff forms: session + CSRF token + same origin', () => {
  it('a cross-origin form post with the session cookie is refused and changes nothing; the same post from Settle works', async () => {
    const from = '127.0.0.61';
    const session = await signIn(base, OWNER, from);
    // A lock to lift, so that the unlock form is on the page.
    await recordFailedSignIn(
      s.database.db,
      { tenantId: s.tenantId, email: 'locked@acme.test', address: '198.51.100.9', userId: null, reason: 'unknown_email' },
      { after: 1, firstMinutes: 15, maxMinutes: 60 },
    );
    const page = await request(`${base}/staff/lockouts`, { from, headers: { cookie: session } });
    expect(page.status).toBe(200);
    const token = csrfFrom(page.text)!;
    expect(token).toBeTruthy();
    const unlock = (headers: Record<string, string>, fields: Record<string, string>) =>
      request(`${base}/staff/lockouts/unlock`, {
        method: 'POST',
        from,
        headers: { cookie: session, 'content-type': FORM, ...headers },
        body: form({ email: 'locked@acme.test', ...fields }),
      });
    const unlocksBefore = await count('audit_log', 'user.sign_in_unlocked');

    // Another origin (another port of the same host), even with a valid token: refused by Origin…
    expectRefused(await unlock({ origin: evil }, { _csrf: token }));
    // …or by Sec-Fetch-Site (same-site is not same-origin), or by a cross-site one…
    expectRefused(await unlock({ 'sec-fetch-site': 'same-site' }, { _csrf: token }));
    expectRefused(await unlock({ 'sec-fetch-site': 'cross-site', origin: 'https://attacker.example' }, { _csrf: token }));
    expectRefused(await unlock({ origin: 'null' }, { _csrf: token }));
    // …and from this origin without the token, or with a token made for another browser.
    expectRefused(await unlock({ origin: base, 'sec-fetch-site': 'same-origin' }, {}));
    const other = await openLogin(base, '127.0.0.62');
    expectRefused(await unlock({ origin: base, 'sec-fetch-site': 'same-origin' }, { _csrf: other.token }));
    // The forged sign-out is refused too, and the session still works.
    const logout = await request(`${base}/logout`, { method: 'POST', from, headers: { cookie: session, 'content-type': FORM, origin: evil }, body: '' });
    expectRefused(logout);
    expect((await request(`${base}/app`, { from, headers: { cookie: session } })).status).toBe(200);
    expect(await count('audit_log', 'user.sign_in_unlocked')).toBe(unlocksBefore);

    // The real form, sent by a browser on Settle's own page.
    const ok = await unlock({ origin: base, 'sec-fetch-site': 'same-origin' }, { _csrf: token });
    expect(ok.status).toBe(303);
    expect(await count('audit_log', 'user.sign_in_unlocked')).toBe(unlocksBefore + 1);
  });

  it('every HTML form Settle serves carries a CSRF token', async () => {
    const from = '127.0.0.63';
    const session = await signIn(base, OWNER, from);
    await recordFailedSignIn(
      s.database.db,
      { tenantId: s.tenantId, email: 'again@acme.test', address: '198.51.100.10', userId: null, reason: 'unknown_email' },
      { after: 1, firstMinutes: 15, maxMinutes: 60 },
    );
    const pages = ['/login', '/login/forgot', '/app', '/app/overview', '/staff/lockouts', '/account', '/users', '/api-keys'];
    let forms = 0;
    for (const path of pages) {
      const a = await request(`${base}${path}`, { from, headers: { cookie: session } });
      expect(a.status, path).toBe(200);
      for (const f of a.text.split(/<form\b/i).slice(1)) {
        const tag = f.slice(0, f.indexOf('>'));
        if (!/method="post"/i.test(tag)) continue;
        forms++;
        expect(f.slice(0, f.indexOf('</form>')), `a form on ${path}`).toMatch(/name="_csrf" value="[^"]+"/);
      }
    }
    expect(forms).toBeGreaterThanOrEqual(3);
  });
});

describe('login CSRF', () => {
  it('sign-in needs the pre-session cookie and its token, from this origin', async () => {
    const from = '127.0.0.64';
    const victim = await openLogin(base, from);
    const attacker = await openLogin(base, '127.0.0.65');
    const post = (cookie: string | null, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      request(`${base}/login`, {
        method: 'POST',
        from,
        headers: { 'content-type': FORM, ...(cookie ? { cookie } : {}), ...headers },
        body: form({ workspace: OWNER.workspace, email: OWNER.email, password: OWNER.password, ...fields }),
      });
    const refusals: Answer[] = [
      // A cross-site form (the attacker's own credentials) with no token, no cookie: what login CSRF is.
      await post(null, {}, { origin: evil, 'sec-fetch-site': 'same-site' }),
      await post(null, {}),
      // The victim's pre-session cookie with the attacker's token.
      await post(victim.cookie, { _csrf: attacker.token }),
      // The right pair, but sent from another origin.
      await post(victim.cookie, { _csrf: victim.token }, { origin: evil }),
      await post(victim.cookie, { _csrf: victim.token }, { 'sec-fetch-site': 'cross-site' }),
    ];
    for (const r of refusals) {
      expectRefused(r);
      expect(cookieFrom(r, 'settle_session')).toBeNull();
    }
    const ok = await postLogin(base, victim, OWNER, { from });
    expect(ok.status).toBe(302);
    expect(cookieFrom(ok, 'settle_session')).not.toBeNull();
  });
});

describe('portal', () => {
  it('POSTs are JSON only and refused from another origin; nothing is paid', async () => {
    const token = await s.portalToken(s.clientIds[0]!);
    const paymentsBefore = await count('payments');
    const pay = (headers: Record<string, string>, body: string) => request(`${base}/portal/${token}/pay`, { method: 'POST', headers, body });
    const json = JSON.stringify({ invoice_ids: ['00000000-0000-4000-8000-000000000000'], method: 'card' });
    // What an HTML form on another site can send: urlencoded, multipart, text/plain.
    expect((await pay({ 'content-type': FORM }, form({ method: 'card' }))).status).toBe(415);
    expect((await pay({ 'content-type': 'text/plain' }, json)).status).toBe(415);
    expect((await pay({ 'content-type': 'multipart/form-data; boundary=x' }, '--x--')).status).toBe(415);
    // JSON from another origin (it would need a CORS preflight Settle never grants, but a browser's headers say it all).
    expectRefused(await pay({ 'content-type': 'application/json', origin: evil }, json));
    expectRefused(await pay({ 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, json));
    expect(await count('payments')).toBe(paymentsBefore);
    // The portal's own script, on the portal's own page, is let through (to the handler's own checks).
    const own = await pay({ 'content-type': 'application/json', origin: base, 'sec-fetch-site': 'same-origin' }, json);
    expect([403, 415]).not.toContain(own.status);
  });
});
