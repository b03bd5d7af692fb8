// Issue #8 item 7, through HTTP against a running Settle: the exact Content-Security-Policy of staff pages,
// API answers and the client portal (no inline script; nonce on the processor's script; the processor's hosted fields named by
// origin from the connection's jsUrl; portal framing only by the origins the MSP lists), the other headers,
// and HSTS / Secure cookies only when PUBLIC_URL is https.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/db/crypto.ts';
import { saveConnection } from '../../src/engine/connections.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { openLogin, postLogin } from './http-from.ts';
import { OWNER, startLeanSettle, type LeanSettle } from './lean-settle.ts';

let plain: LeanSettle;
let https: LeanSettle;

beforeAll(async () => {
  // The https one also sits "behind a proxy on this host" (TRUST_PROXY=loopback); the plain one trusts no proxy.
  [plain, https] = await Promise.all([startLeanSettle({}), startLeanSettle({ PUBLIC_URL: 'https://pay.example-msp.test', TRUST_PROXY: 'loopback' })]);
}, 240_000);

afterAll(async () => {
  await Promise.allSettled([plain?.close(), https?.close()]);
});

const nonceOf = (csp: string | null): string => /'nonce-([A-Za-z0-9+/=]+)'/.exec(csp ?? '')?.[1] ?? '';

function staffCsp(nonce: string): string {
  return (
    `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; ` +
    `connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`
  );
}

function portalCsp(nonce: string, p: { script: string; connect: string; frame: string; ancestors: string }): string {
  return (
    `default-src 'self'; script-src 'self' 'nonce-${nonce}' ${p.script}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; ` +
    `connect-src 'self' ${p.connect}; frame-src ${p.frame}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors ${p.ancestors}`
  );
}

/** Every <script> tag of a page, with its nonce attribute (or null). */
/** The nonce of each inline script that runs (files from Settle itself and JSON data blocks need none). */
function scriptNonces(html: string): (string | null)[] {
  return [...html.matchAll(/<script\b([^>]*)>/g)]
    .map((m) => m[1] ?? '')
    .filter((attrs) => !/\bsrc="\/[^/]/.test(attrs) && !/\btype="application\/json"/.test(attrs))
    .map((attrs) => /\bnonce="([^"]+)"/.exec(attrs)?.[1] ?? null);
}

describe('staff pages and API answers (PUBLIC_URL http)', () => {
  it('the sign-in page: exact CSP with a fresh nonce, never framed, nosniff, no referrer, no HSTS', async () => {
    const a = await fetch(`${plain.base}/login`);
    const b = await fetch(`${plain.base}/login`);
    expect(a.status).toBe(200);
    const nonce = nonceOf(a.headers.get('content-security-policy'));
    expect(nonce.length).toBeGreaterThanOrEqual(22);
    expect(a.headers.get('content-security-policy')).toBe(staffCsp(nonce));
    expect(nonceOf(b.headers.get('content-security-policy'))).not.toBe(nonce);
    expect(a.headers.get('x-frame-options')).toBe('DENY');
    expect(a.headers.get('x-content-type-options')).toBe('nosniff');
    expect(a.headers.get('referrer-policy')).toBe('no-referrer');
    expect(a.headers.get('strict-transport-security')).toBeNull();
    // Over plain http a cookie cannot be Secure (the browser would drop it).
    for (const c of a.headers.getSetCookie()) expect(c).not.toMatch(/;\s*secure/i);
    // Any inline script on the page carries this response's nonce.
    for (const n of scriptNonces(await a.text())) expect(n).toBe(nonce);
  });

  it('an API answer and an error: nothing may load or frame them', async () => {
    const key = await plain.apiKey();
    const ok = await fetch(`${plain.base}/api/v1/clients`, { headers: { authorization: `Bearer ${key}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    const refused = await fetch(`${plain.base}/api/v1/clients`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(refused.headers.get('referrer-policy')).toBe('no-referrer');
  });
});

describe('the client portal', () => {
  it("names Stripe's hosted fields by default, and every script on the page carries the nonce", async () => {
    const r = await fetch(`${plain.base}/portal/${await plain.portalToken(plain.clientIds[0]!)}`);
    expect(r.status).toBe(200);
    const csp = r.headers.get('content-security-policy');
    const nonce = nonceOf(csp);
    expect(csp).toBe(
      portalCsp(nonce, {
        script: 'https://js.stripe.com https://*.js.stripe.com',
        connect: 'https://api.stripe.com',
        frame: 'https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com',
        ancestors: "'none'",
      }),
    );
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    const html = await r.text();
    const nonces = scriptNonces(html);
    expect(nonces.length).toBeGreaterThanOrEqual(1); // the processor's script (the page's own is a file from /assets)
    for (const n of nonces) expect(n).toBe(nonce);
    // No inline script at all: the page's own behaviour is a file from Settle itself.
    expect(html).toMatch(/<script src="\/assets\/portal-pay\.js\?v=[0-9a-f]+"><\/script>/);
    expect(html).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
  });

  it("names the connection's own jsUrl origin (the simulator in the demo), and may be framed only by the listed origins", async () => {
    const box = SecretBox.fromHex(plain.env.SETTLE_SECRET_KEY!);
    await saveConnection(plain.database.db, box, plain.tenantId, {
      role: 'payments',
      vendor: 'stripe',
      config: { baseUrl: 'http://127.0.0.1:9', publishableKey: 'pk_test_headers1', jsUrl: 'http://127.0.0.1:9/_sim/js/v3' },
      secrets: { secretKey: 'sk_test_headers1', webhookSecret: 'whsec_headers1' },
      actor: 'system:test',
    });
    const key = await plain.apiKey();
    const put = (list: unknown) =>
      fetch(`${plain.base}/api/v1/settings/portal-framing`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ frame_ancestors: list }),
      });
    // Only bare https origins: no scheme tricks, paths or CSP syntax smuggled in.
    for (const bad of ['http://clients.example-msp.test', 'https://clients.example-msp.test/pay', 'https://a.test; script-src *', '*']) {
      const r = await put([bad]);
      expect(r.status, bad).toBe(400);
    }
    const ok = await put(['https://clients.example-msp.test', 'https://*.portal.example-msp.test:8443']);
    expect(ok.status).toBe(200);

    const r = await fetch(`${plain.base}/portal/${await plain.portalToken(plain.clientIds[0]!)}`);
    expect(r.status).toBe(200);
    const csp = r.headers.get('content-security-policy');
    expect(csp).toBe(
      portalCsp(nonceOf(csp), {
        script: 'http://127.0.0.1:9',
        connect: 'http://127.0.0.1:9',
        frame: 'http://127.0.0.1:9',
        ancestors: 'https://clients.example-msp.test https://*.portal.example-msp.test:8443',
      }),
    );
    expect(r.headers.get('x-frame-options')).toBeNull();
    // The publishable key reaches the page's script as an escaped data attribute (no inline script).
    expect(await r.text()).toContain('data-publishable-key="pk_test_headers1"');
    // The staff pages stay unframeable whatever the portal allows.
    expect((await fetch(`${plain.base}/login`)).headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });
});

describe('PUBLIC_URL https', () => {
  it('adds HSTS to every answer and marks every cookie Secure', async () => {
    for (const path of ['/login', '/healthz', `/portal/${await https.portalToken(https.clientIds[0]!)}`]) {
      const r = await fetch(`${https.base}${path}`);
      expect(r.status, path).toBeLessThan(400);
      expect(r.headers.get('strict-transport-security'), path).toBe('max-age=31536000; includeSubDomains');
      for (const c of r.headers.getSetCookie()) expect(c, path).toMatch(/;\s*Secure(;|$)/i);
    }
  });
});

describe('the client address (TRUST_PROXY)', () => {
  /** A failed sign-in sent with X-Forwarded-For: the address Settle audits for it. */
  async function auditedAddress(s: LeanSettle, email: string): Promise<string | undefined> {
    const form = await openLogin(s.base);
    const r = await postLogin(
      s.base,
      form,
      { workspace: OWNER.workspace, email, password: 'not the password at all' },
      { headers: { 'x-forwarded-for': '203.0.113.7' } },
    );
    expect(r.status).toBeGreaterThanOrEqual(400);
    const rows = await withTenant(s.database.db, s.tenantId, (tx) =>
      tx.selectFrom('audit_log').select('detail').where('action', '=', 'user.sign_in_failed').execute(),
    );
    const mine = rows.map((row) => row.detail as { email?: string; address?: string }).find((d) => d.email === email);
    return mine?.address;
  }

  it('off (the default): X-Forwarded-For is ignored, the socket address is recorded', async () => {
    expect(await auditedAddress(plain, 'nobody-plain@acme.test')).toBe('127.0.0.1');
  });

  it('a trusted proxy (loopback): the forwarded client address is recorded', async () => {
    expect(await auditedAddress(https, 'nobody-proxied@acme.test')).toBe('203.0.113.7');
  });
});
