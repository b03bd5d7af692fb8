import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WebhookRejected } from '../../webhook-rejected.ts';
import { callbackSignature, parseSignedCallback, SigningKeyCache, trustedKeyUrl, verifyCallback } from './webhook.ts';

const site = 'https://api-na.myconnectwise.net';
const keyUrl = `${site}/v4_6_release/system/callbackkey/index.rails?id=abc`;
const signingKey = 'k3y-from-connectwise';

function callback(over: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      MessageId: '6f1c2a5e-0000-4000-8000-000000000001',
      FromUrl: 'api-na.myconnectwise.net',
      CompanyId: 'acme',
      MemberId: 'jtech',
      Action: 'updated',
      Type: 'invoice',
      ID: 5123,
      Entity: '{"id":5123}',
      Metadata: { key_url: keyUrl },
      ...over,
    }),
  );
}

// Written out independently of webhook.ts: base64(HMAC-SHA256(SHA-256(key), body)).
const sign = (body: Buffer, key = signingKey): string => createHmac('sha256', createHash('sha256').update(key).digest()).update(body).digest('base64');

function keys(): { cache: SigningKeyCache; fetched: string[] } {
  const fetched: string[] = [];
  const cache = new SigningKeyCache(60_000, async (url) => {
    fetched.push(url);
    return signingKey;
  });
  return { cache, fetched };
}

async function rejection(p: Promise<unknown>): Promise<WebhookRejected> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WebhookRejected);
  return e as WebhookRejected;
}

describe('ConnectWise callback verification', () => {
  it('signs as ConnectWise does', () => {
    const body = callback();
    expect(callbackSignature(body, signingKey)).toBe(sign(body));
  });

  it('accepts a genuine callback, fetching the key once and caching it', async () => {
    const { cache, fetched } = keys();
    const body = callback();
    const notice = await verifyCallback({ 'x-content-signature': sign(body) }, body, { siteOrigin: site, companyId: 'ACME', keys: cache });
    expect(notice).toEqual({ eventId: '6f1c2a5e-0000-4000-8000-000000000001', entity: 'invoice', externalId: '5123', action: 'updated' });
    await verifyCallback({ 'X-Content-Signature': sign(body) }, body, { siteOrigin: site, companyId: 'acme', keys: cache });
    expect(fetched).toEqual([keyUrl]);
  });

  it('rejects a bad signature, a tampered body and a missing header', async () => {
    const { cache } = keys();
    const body = callback();
    const opts = { siteOrigin: site, companyId: 'acme', keys: cache };
    expect((await rejection(verifyCallback({ 'x-content-signature': sign(body, 'wrong key') }, body, opts))).reason).toBe('bad_signature');
    const tampered = callback({ ID: 9999 });
    expect((await rejection(verifyCallback({ 'x-content-signature': sign(body) }, tampered, opts))).reason).toBe('bad_signature');
    expect((await rejection(verifyCallback({}, body, opts))).reason).toBe('bad_signature');
  });

  it('never fetches a key from a URL off the connection site', async () => {
    const { cache, fetched } = keys();
    for (const url of [
      'https://evil.example/v4_6_release/key',
      'http://api-na.myconnectwise.net/v4_6_release/key',
      `${site}/other/key`,
      'https://u:p@api-na.myconnectwise.net/v4_6_release/k',
      'nope',
    ]) {
      const body = callback({ Metadata: { key_url: url } });
      const e = await rejection(verifyCallback({ 'x-content-signature': sign(body) }, body, { siteOrigin: site, companyId: 'acme', keys: cache }));
      expect(e.reason).toBe('bad_signature');
    }
    expect(fetched).toEqual([]);
    expect(trustedKeyUrl(keyUrl, site)).toBe(keyUrl);
  });

  it('rejects another company, malformed bodies and unknown actions', async () => {
    const { cache } = keys();
    const opts = { siteOrigin: site, companyId: 'acme', keys: cache };
    const other = callback({ CompanyId: 'rival' });
    expect((await rejection(verifyCallback({ 'x-content-signature': sign(other) }, other, opts))).reason).toBe('unknown_tenant');
    const notJson = Buffer.from('{nope');
    expect((await rejection(verifyCallback({ 'x-content-signature': sign(notJson) }, notJson, opts))).reason).toBe('malformed');
    const noId = callback({ ID: 'x' });
    expect((await rejection(verifyCallback({ 'x-content-signature': sign(noId) }, noId, opts))).reason).toBe('malformed');
    const merged = callback({ Action: 'merged' });
    expect((await rejection(verifyCallback({ 'x-content-signature': sign(merged) }, merged, opts))).reason).toBe('malformed');
  });

  it('offers a synchronous, pure check for callers that hold the key', () => {
    const body = callback();
    expect(parseSignedCallback({ 'x-content-signature': sign(body) }, body, signingKey, 'acme').externalId).toBe('5123');
    expect(() => parseSignedCallback({ 'x-content-signature': sign(body) }, body, 'other', 'acme')).toThrow(WebhookRejected);
  });
});

describe('SigningKeyCache refusals (issue #8 item 9)', () => {
  it('a key URL the site refused is not fetched again, and new key URLs are fetched within a budget', async () => {
    const fetched: string[] = [];
    const cache = new SigningKeyCache(
      60_000,
      async (url) => {
        fetched.push(url);
        throw new WebhookRejected('bad_signature', 'callback key_url names a signing key this ConnectWise site does not have');
      },
      30_000,
      60_000,
      3,
    );
    const url = (id: number): string => `${site}/v4_6_release/system/callbackkey/index.rails?id=${id}`;
    for (let i = 0; i < 5; i++) expect((await rejection(cache.get(url(1)))).reason).toBe('bad_signature');
    expect(fetched).toEqual([url(1)]);
    await rejection(cache.get(url(2)));
    await rejection(cache.get(url(3)));
    // A fourth unknown key URL within the minute: refused without asking the site.
    expect((await rejection(cache.get(url(4)))).message).toMatch(/too many callbacks/);
    expect(fetched).toEqual([url(1), url(2), url(3)]);
    expect(cache.refusedCount).toBe(3);
  });
});
