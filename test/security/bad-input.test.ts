// Issue #8 item 8, through HTTP against a running Settle: each bad input is answered 4xx with a message,
// and the Settle process writes no error-level log line for any of them (its log is captured; pino's
// error level is 50, fatal 60). Each of these answered 500 with a stack in the log before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { startLeanSettle, type LeanSettle } from './lean-settle.ts';

let settle: LeanSettle;
let key: string;

beforeAll(async () => {
  settle = await startLeanSettle({ LOG_LEVEL: 'info' });
  key = await settle.apiKey();
}, 180_000);

afterAll(async () => {
  await settle?.close();
});

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const exp = (): number => Math.floor(Date.now() / 1000) + 3600;

function errorLines(from: number): string[] {
  return settle.settle
    .output()
    .slice(from)
    .split('\n')
    .filter((l) => /"level":(50|60)\b/.test(l));
}

async function call(path: string, init: RequestInit & { json?: unknown; form?: string } = {}): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string> | undefined) };
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  if (init.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = init.form;
  }
  const r = await fetch(`${settle.base}${path}`, { method: init.method ?? 'GET', headers, ...(body !== undefined ? { body } : {}), redirect: 'manual' });
  return { status: r.status, text: await r.text() };
}

describe('bad input is a 4xx with a reason, never a 500 with a stack in the log', () => {
  const dashes = '-'.repeat(36);
  const cases: [string, () => Promise<{ status: number; text: string }>, RegExp][] = [
    ['a portal link whose workspace id is 36 dashes', () => call(`/portal/${b64({ t: dashes, c: dashes, exp: exp() })}.AAAA`), /not complete/],
    [
      'the same on the pay route',
      () => call(`/portal/${b64({ t: dashes, c: dashes, exp: exp() })}.AAAA/pay`, { method: 'POST', json: { invoice_ids: [] } }),
      /link/,
    ],
    [
      'an update-method link whose ids are dashes',
      () => call(`/portal/update-method/${b64({ t: dashes, c: dashes, f: dashes, exp: exp() })}.AAAA`),
      /not complete/,
    ],
    ['offset=1e20', () => call('/api/v1/invoices?offset=1e20'), /offset/],
    ['offset=1e20 on another list', () => call('/api/v1/payments?offset=1e20'), /offset/],
    ['a NUL byte in a query', () => call('/api/v1/invoices?status=open%00'), /NUL/],
    ['a NUL byte in a path', () => call('/api/v1/invoices/%00'), /NUL/],
    ['a NUL byte in a webhook workspace', () => call('/webhooks/acme%00it/stripe', { method: 'POST', body: '{}' }), /NUL/],
    [
      'a NUL byte in an autopay rule name',
      () => call('/api/v1/autopay/rules', { method: 'POST', json: { name: 'Monthly\u0000', anchor: 'due_date', offset_days: 0, method: 'card' } }),
      /NUL/,
    ],
    // The sign-in form's own guards (CSRF token, Origin) may answer first; either way a 4xx, no error line.
    ['a NUL byte in a form field', () => call('/login', { form: 'workspace=acme%00&email=a%40b.test&password=x', method: 'POST' }), /./],
  ];

  for (const [what, send, says] of cases) {
    it(what, async () => {
      const before = settle.settle.output().length;
      const r = await send();
      expect(r.status, r.text).toBeGreaterThanOrEqual(400);
      expect(r.status, r.text).toBeLessThan(500);
      expect(r.text).toMatch(says);
      expect(r.text).not.toMatch(/at .*\.ts:\d+/); // no stack in the answer either
      expect(errorLines(before), 'error-level log lines').toEqual([]);
    });
  }

  it('a session cookie with a malformed escape (%ZZ): not a session, not a 500', async () => {
    const before = settle.settle.output().length;
    const r = await fetch(`${settle.base}/app`, { headers: { cookie: 'settle_session=%ZZ%' }, redirect: 'manual' });
    expect(r.status).toBeLessThan(500);
    expect(r.status).not.toBe(200);
    expect(errorLines(before)).toEqual([]);
  });

  it('changes nothing: no autopay rule was created and the workspace still answers', async () => {
    const rules = await withTenant(settle.database.db, settle.tenantId, (tx) => tx.selectFrom('autopay_rules').select('id').execute());
    expect(rules).toEqual([]);
    expect((await call('/api/v1/invoices?offset=0')).status).toBe(200);
    expect(errorLines(0)).toEqual([]);
  });
});
