// Verifying ConnectWise callbacks. ConnectWise signs the raw body: header `x-content-signature` =
// base64(HMAC-SHA256(key = SHA-256(signing_key), body)), and the body's Metadata.key_url is where the
// signing key is fetched (`{ "signing_key": "…" }`). Source: NangoHQ/nango
// packages/server/lib/webhook/connectwise-psa-webhook-routing.ts (public, tested; cites the vendor's
// Developer Guide "Webhooks"); no vendor text is shipped in specs/ — verify against the vendor.
// The key URL comes from an unauthenticated body, so it is only fetched from the connection's own
// site (same origin, /v4_6_release/ path); anything else is treated as a forgery.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { send, VendorError } from '../../http.ts';
import { WebhookRejected } from '../../webhook-rejected.ts';
import type { PsaChangeNotice } from '../types.ts';
import { connectWiseCatalogue } from './catalogue.ts';
import { ConnectWiseMappingError, mapChangeNotice } from './mapping.ts';
import { cwCallbackPayload, type CwCallbackPayload } from './schema.ts';

export type Headers = Record<string, string | string[] | undefined>;

export function callbackSignature(rawBody: Buffer | string, signingKey: string): string {
  const key = createHash('sha256').update(signingKey, 'utf8').digest();
  return createHmac('sha256', key).update(rawBody).digest('base64');
}

/** Constant-time comparison of the header against the signature we compute. */
export function signatureMatches(rawBody: Buffer | string, header: string, signingKey: string): boolean {
  const expected = Buffer.from(callbackSignature(rawBody, signingKey), 'utf8');
  const given = Buffer.from(header.trim(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(v) ? v[0] : v;
}

export function readCallback(rawBody: Buffer): CwCallbackPayload {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookRejected('malformed', 'ConnectWise callback body is not JSON');
  }
  const parsed = cwCallbackPayload.safeParse(json);
  if (!parsed.success) throw new WebhookRejected('malformed', `ConnectWise callback body is not a callback: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

/** The key URL, if it is on the connection's own site; otherwise the callback is not genuine. */
export function trustedKeyUrl(keyUrl: string, siteOrigin: string): string {
  let u: URL;
  try {
    u = new URL(keyUrl);
  } catch {
    throw new WebhookRejected('bad_signature', 'callback key_url is not a URL');
  }
  if (u.origin !== new URL(siteOrigin).origin || u.username || u.password || !u.pathname.startsWith(connectWiseCatalogue.callbacks.keyUrlPathPrefix)) {
    throw new WebhookRejected('bad_signature', `callback key_url ${u.origin}${u.pathname} is not on this connection's ConnectWise site`);
  }
  return u.toString();
}

/**
 * Signing keys by key URL, kept for `ttlMs`. A signature mismatch may refresh a key (it could have
 * been rotated under the same URL), but at most once per `minRefreshMs`, so forged callbacks cannot
 * turn us into a key-fetching loop against the vendor. Refusals are remembered too (issue #8 item 9):
 * a key URL the site answered 404 for is refused without asking again for `negativeTtlMs`, and at most
 * `newUrlsPerMinute` key URLs never seen before are fetched a minute, so forged callbacks naming ever new
 * key ids cost the MSP's site a handful of requests, not one per callback. A genuine rotation needs one.
 */
export class SigningKeyCache {
  private readonly keys = new Map<string, { key: string; fetchedAt: number }>();
  private readonly refused = new Map<string, number>();
  private recentNewUrls: number[] = [];
  constructor(
    private readonly ttlMs = 60 * 60_000,
    private readonly fetchKey: (url: string) => Promise<string> = fetchSigningKey,
    private readonly minRefreshMs = 30_000,
    private readonly negativeTtlMs = 10 * 60_000,
    private readonly newUrlsPerMinute = 10,
  ) {}

  /** How many key URLs are remembered as refused (tests and metrics). */
  get refusedCount(): number {
    return this.refused.size;
  }

  cached(url: string, now = Date.now()): string | null {
    const hit = this.keys.get(url);
    return hit && now - hit.fetchedAt < this.ttlMs ? hit.key : null;
  }

  async get(url: string, refresh = false): Promise<string> {
    const hit = this.keys.get(url);
    const now = Date.now();
    if (hit && now - hit.fetchedAt < this.ttlMs && (!refresh || now - hit.fetchedAt < this.minRefreshMs)) return hit.key;
    const refusedAt = this.refused.get(url);
    if (refusedAt !== undefined && now - refusedAt < this.negativeTtlMs)
      throw new WebhookRejected('bad_signature', 'callback key_url names a signing key this ConnectWise site does not have');
    if (!hit) {
      this.recentNewUrls = this.recentNewUrls.filter((t) => now - t < 60_000);
      if (this.recentNewUrls.length >= this.newUrlsPerMinute)
        throw new WebhookRejected('bad_signature', 'too many callbacks naming unknown signing keys; this one is not verified (ConnectWise retries)');
      this.recentNewUrls.push(now);
    }
    let key: string;
    try {
      key = await this.fetchKey(url);
    } catch (e) {
      if (e instanceof WebhookRejected) this.remember(url, now);
      throw e;
    }
    this.refused.delete(url);
    this.keys.set(url, { key, fetchedAt: Date.now() });
    return key;
  }

  private remember(url: string, at: number): void {
    // Bounded: the oldest refusals go first (a Map iterates in insertion order).
    if (this.refused.size >= 1000) this.refused.delete(this.refused.keys().next().value!);
    this.refused.set(url, at);
  }
}

/**
 * GET the key URL. A transient failure here is a VendorError (retry later), not a verdict on the callback;
 * but a key the site says it does not have (404) can only be named by a callback it did not send.
 */
export async function fetchSigningKey(url: string): Promise<string> {
  let res: Awaited<ReturnType<typeof send>>;
  try {
    res = await send({ vendor: connectWiseCatalogue.vendor, method: 'GET', url, headers: { accept: 'application/json' }, timeoutMs: 10_000 });
  } catch (e) {
    if (e instanceof VendorError && e.kind === 'not_found')
      throw new WebhookRejected('bad_signature', 'callback key_url names a signing key this ConnectWise site does not have');
    throw e;
  }
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    body = null;
  }
  const key = (body as { signing_key?: unknown } | null)?.signing_key;
  if (typeof key !== 'string' || key.length === 0) throw new WebhookRejected('bad_signature', 'callback key_url did not return a signing_key');
  return key;
}

function toNotice(payload: CwCallbackPayload): PsaChangeNotice {
  try {
    return mapChangeNotice(payload);
  } catch (e) {
    if (e instanceof ConnectWiseMappingError) throw new WebhookRejected('malformed', e.message);
    throw e;
  }
}

function checkTenant(payload: CwCallbackPayload, companyId: string): void {
  if (payload.CompanyId.toLowerCase() !== companyId.toLowerCase()) {
    // Neither company id is repeated: the answer must not tell a forger which company this workspace is.
    throw new WebhookRejected('unknown_tenant', "callback is not for this workspace's ConnectWise company");
  }
}

/** Pure and synchronous: verify with a signing key the caller already holds, then parse. */
export function parseSignedCallback(headers: Headers, rawBody: Buffer, signingKey: string, companyId: string): PsaChangeNotice {
  const signature = header(headers, connectWiseCatalogue.callbacks.signatureHeader);
  if (!signature) throw new WebhookRejected('bad_signature', 'missing x-content-signature header');
  if (!signatureMatches(rawBody, signature, signingKey)) throw new WebhookRejected('bad_signature', 'x-content-signature does not match the body');
  const payload = readCallback(rawBody);
  checkTenant(payload, companyId);
  return toNotice(payload);
}

/** Verify a callback end to end: fetch (or reuse) the signing key from the trusted key URL, check, parse. */
export async function verifyCallback(
  headers: Headers,
  rawBody: Buffer,
  opts: { readonly siteOrigin: string; readonly companyId: string; readonly keys: SigningKeyCache },
): Promise<PsaChangeNotice> {
  const signature = header(headers, connectWiseCatalogue.callbacks.signatureHeader);
  if (!signature) throw new WebhookRejected('bad_signature', 'missing x-content-signature header');
  const payload = readCallback(rawBody);
  checkTenant(payload, opts.companyId);
  const keyUrl = trustedKeyUrl(payload.Metadata.key_url, opts.siteOrigin);
  let key = await opts.keys.get(keyUrl);
  if (!signatureMatches(rawBody, signature, key)) {
    key = await opts.keys.get(keyUrl, true);
    if (!signatureMatches(rawBody, signature, key)) throw new WebhookRejected('bad_signature', 'x-content-signature does not match the body');
  }
  return toNotice(payload);
}
