// Workspace branding on real PostgreSQL with Settle running: what saveBranding refuses (a logo judged by its
// bytes, not its name — SVG, GIF and text refused, more than 512 KB refused; a button colour with less than
// 4.5:1 contrast for white text, with a darker shade proposed that passes), that a refusal changes nothing,
// the audit line (before → after, the logo by hash, never its bytes), the public logo and stylesheet routes
// (type, nosniff, cache keyed by the hash), and the From name and Reply-To on an e-mail Settle sends.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { contrastWithWhite } from '../../src/domain/branding-checks.ts';
import { saveBranding, type BrandingInput } from '../../src/engine/branding.ts';
import { UseCaseError } from '../../src/engine/context.ts';
import { queueEmail } from '../../src/notify/queue-email.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

let smtp: TestSmtp;
let stack: Stack;
beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ companies: 1, invoices: 1, smtpUrl: smtp.url });
}, 180_000);
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

const PNG_1PX = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const JPEG_HEAD = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]);
const WEBP_HEAD = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x24, 0, 0, 0]), Buffer.from('WEBPVP8 '), Buffer.alloc(24)]);
const SVG = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

const base: BrandingInput = { primaryColor: '', senderName: '', replyTo: '' };
const save = (input: Partial<BrandingInput>) => saveBranding(stack.database.db, stack.tenantId, { ...base, ...input }, 'user:test');
const row = () => withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('workspace_branding').selectAll().executeTakeFirst());
const audits = () =>
  withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('audit_log').select(['action', 'detail', 'actor']).where('action', '=', 'settings.branding_changed').orderBy('id').execute(),
  );

async function refusal(input: Partial<BrandingInput>): Promise<Record<string, string>> {
  try {
    await save(input);
  } catch (e) {
    expect(e).toBeInstanceOf(UseCaseError);
    return (e as UseCaseError).detail!['fields'] as Record<string, string>;
  }
  throw new Error('expected the branding to be refused');
}

describe('branding: what is refused', () => {
  it('judges a logo by its bytes: SVG, GIF, text and anything over 512 KB are refused, and nothing is saved', async () => {
    expect((await refusal({ logo: { bytes: SVG } })).logo).toMatch(/SVG.*script.*PNG, JPEG or WebP/);
    // An SVG with a BOM and leading blank lines is still an SVG.
    expect((await refusal({ logo: { bytes: Buffer.concat([Buffer.from('\uFEFF\n  '), SVG]) } })).logo).toMatch(/SVG/);
    expect((await refusal({ logo: { bytes: Buffer.from('GIF89a\x01\x00\x01\x00') } })).logo).toMatch(/GIF/);
    expect((await refusal({ logo: { bytes: Buffer.from('just some text, named logo.png') } })).logo).toMatch(/not a PNG, JPEG or WebP/);
    const big = Buffer.concat([PNG_1PX, Buffer.alloc(512 * 1024)]);
    expect((await refusal({ logo: { bytes: big } })).logo).toMatch(/at most 512 KB/);
    expect((await refusal({ logo: { bytes: Buffer.alloc(0), tooLarge: true, size: 3_000_000, cutOff: true } })).logo).toMatch(
      /more than 2930 KB.*at most 512 KB/,
    );
    // A refused field refuses the whole form: the good colour sent with a bad logo is not saved either.
    await refusal({ primaryColor: '#1d4ed8', logo: { bytes: SVG } });
    expect(await row()).toBeUndefined();
    expect(await audits()).toHaveLength(0);
  });

  it('refuses a button colour white text cannot be read on, naming a darker shade that passes', async () => {
    const fields = await refusal({ primaryColor: '#7FB3FF' });
    expect(fields.primary_color).toMatch(/#7fb3ff is too light for buttons with white text: its contrast is 2\.\d:1/);
    const suggested = /such as (#[0-9a-f]{6})/.exec(fields.primary_color!)![1]!;
    expect(contrastWithWhite(suggested)).toBeGreaterThanOrEqual(4.5);
    // The suggestion is accepted as it is.
    await save({ primaryColor: suggested });
    expect((await row())!.primary_color).toBe(suggested);
    // Yellow, and a not-a-colour.
    expect((await refusal({ primaryColor: '#ffd400' })).primary_color).toMatch(/too light/);
    expect((await refusal({ primaryColor: 'blue-ish' })).primary_color).toMatch(/not a colour code.*#1d4ed8/);
  });

  it('refuses a sender name that would break the From line and a reply-to that is not an address', async () => {
    expect((await refusal({ senderName: 'Acme\r\nBcc: victim@example.com' })).sender_name).toMatch(/line breaks/);
    expect((await refusal({ senderName: 'Acme <billing@evil.test>' })).sender_name).toMatch(/angle brackets/);
    expect((await refusal({ replyTo: 'billing at acme' })).reply_to).toMatch(/not an e-mail address/);
    expect((await refusal({ replyTo: 'a@b.test\r\nBcc: x@y.test' })).reply_to).toMatch(/not an e-mail address/);
  });
});

describe('branding: saved, audited, served and used', () => {
  it('accepts PNG, JPEG and WebP by their bytes, audits before → after with the hash, and serves the logo', async () => {
    await save({ primaryColor: '#1d4ed8', logo: { bytes: JPEG_HEAD } });
    expect((await row())!.logo_type).toBe('image/jpeg');
    await save({ primaryColor: '#1d4ed8', logo: { bytes: WEBP_HEAD } });
    expect((await row())!.logo_type).toBe('image/webp');
    await save({ primaryColor: '#1d4ed8', senderName: 'Acme IT Billing', replyTo: 'billing@acme.test', logo: { bytes: PNG_1PX } });
    const saved = (await row())!;
    const sha = crypto.createHash('sha256').update(PNG_1PX).digest('hex');
    expect(saved).toMatchObject({ logo_type: 'image/png', logo_sha256: sha, sender_name: 'Acme IT Billing', reply_to: 'billing@acme.test' });

    const last = (await audits()).at(-1)!;
    expect(last.actor).toBe('user:test');
    const detail = last.detail as { before: Record<string, unknown>; after: Record<string, unknown>; changed: string[] };
    expect(detail.changed).toEqual(['sender_name', 'reply_to', 'logo']);
    expect(detail.before.logo).toMatchObject({ type: 'image/webp' });
    expect(detail.after).toEqual({
      primary_color: '#1d4ed8',
      sender_name: 'Acme IT Billing',
      reply_to: 'billing@acme.test',
      logo: { type: 'image/png', sha256: sha, bytes: PNG_1PX.length },
    });
    expect(JSON.stringify(last.detail)).not.toContain(PNG_1PX.toString('base64'));
    // Saving the same again changes nothing and writes no audit line; the logo stays when none is sent.
    const count = (await audits()).length;
    await save({ primaryColor: '#1d4ed8', senderName: 'Acme IT Billing', replyTo: 'billing@acme.test' });
    expect(await audits()).toHaveLength(count);
    expect((await row())!.logo_sha256).toBe(sha);

    const logo = await fetch(`${stack.settleUrl}/brand/${stack.tenantId}/logo?v=${sha}`);
    expect(logo.status).toBe(200);
    expect(logo.headers.get('content-type')).toBe('image/png');
    expect(logo.headers.get('x-content-type-options')).toBe('nosniff');
    expect(logo.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(logo.headers.get('etag')).toBe(`"${sha}"`);
    expect(Buffer.from(await logo.arrayBuffer()).equals(PNG_1PX)).toBe(true);
    // An old or missing version is cached only briefly; a browser holding it gets 304.
    const stale = await fetch(`${stack.settleUrl}/brand/${stack.tenantId}/logo?v=old`);
    expect(stale.headers.get('cache-control')).toBe('public, max-age=300');
    const again = await fetch(`${stack.settleUrl}/brand/${stack.tenantId}/logo`, { headers: { 'if-none-match': `"${sha}"` } });
    expect(again.status).toBe(304);
    const css = await fetch(`${stack.settleUrl}/brand/${stack.tenantId}/brand.css?v=1d4ed8`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(css.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await css.text()).toMatch(/--brand: #1d4ed8;/);
    // Another workspace's id (or none) has no logo; not a UUID is not looked up at all.
    expect((await fetch(`${stack.settleUrl}/brand/${crypto.randomUUID()}/logo`)).status).toBe(404);
    expect((await fetch(`${stack.settleUrl}/brand/not-a-uuid/logo`)).status).toBe(404);

    // Removing the logo.
    await save({ primaryColor: '#1d4ed8', senderName: 'Acme IT Billing', replyTo: 'billing@acme.test', removeLogo: true });
    expect((await row())!.logo).toBeNull();
    expect((await fetch(`${stack.settleUrl}/brand/${stack.tenantId}/logo`)).status).toBe(404);
  });

  it('sends e-mails from the sender name at Settle’s address, with the Reply-To', async () => {
    await withTenant(stack.database.db, stack.tenantId, (tx) =>
      queueEmail(tx, stack.tenantId, { kind: 'test', clientId: null, to: 'ap@client.test', subject: 'Branded', text: 'Hello', idempotencyKey: 'branded:1' }),
    );
    const mail = await eventually(async () => smtp.received.find((m) => m.subject === 'Branded'), 30_000, 'branded e-mail received');
    const head = mail.raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
    expect(head).toMatch(new RegExp(`^From: "?Acme IT Billing"? <${stack.config.SETTLE_MAIL_FROM.replace(/[.]/g, '\\.')}>$`, 'm'));
    expect(head).toMatch(/^Reply-To: billing@acme\.test$/m);

    // Without branding: the workspace's name and no Reply-To.
    await save({});
    await withTenant(stack.database.db, stack.tenantId, (tx) =>
      queueEmail(tx, stack.tenantId, { kind: 'test', clientId: null, to: 'ap@client.test', subject: 'Plain', text: 'Hello', idempotencyKey: 'plain:1' }),
    );
    const plain = await eventually(async () => smtp.received.find((m) => m.subject === 'Plain'), 30_000, 'plain e-mail received');
    const plainHead = plain.raw.split(/\r?\n\r?\n/)[0]!;
    expect(plainHead).toMatch(/^From: "?Acme IT"? </m);
    expect(plainHead).not.toMatch(/^Reply-To:/im);
  });
});
