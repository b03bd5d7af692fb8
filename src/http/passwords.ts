// Staff passwords: scrypt with a per-user salt, run on libuv's thread pool (never on the event loop, so a
// flood of sign-ins cannot stall other requests), compared in constant time.
//
// Cost: OWASP's Password Storage Cheat Sheet lists equivalent scrypt settings; N=2^14, r=8, p=5 is one of
// them and needs 16 MiB per hash (the heavier N=2^17, p=1 needs 128 MiB, times the 4 pool threads under a
// flood). The parameters are stored with each hash — `scrypt$v2$N=16384,r=8,p=5$<salt>$<hash>` — so a
// later change of cost keeps old hashes verifying; a hash with other parameters (or the first format,
// `scrypt$<salt>$<hash>`, Node's defaults N=2^14, r=8, p=1) is re-hashed at the next sign-in.
//
// Unknown workspaces and e-mails are checked against a dummy hash of the same cost, so a wrong guess takes
// as long as a real user's wrong password and the answer time tells nothing about who exists.
import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (password: string, salt: Buffer, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export const CURRENT: ScryptParams = { N: 2 ** 14, r: 8, p: 5 };
/** What `scrypt$salt$hash` (the first format) was made with: Node's scrypt defaults. */
const FIRST_FORMAT: ScryptParams = { N: 2 ** 14, r: 8, p: 1 };
const KEY_LEN = 32;
// Refuse parameters that would let a stored (or forged) hash make one check use unbounded memory/time.
const LIMITS = { N: 2 ** 20, r: 32, p: 64 };

interface Parsed {
  readonly v2: boolean;
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function parse(stored: string): Parsed | null {
  const parts = stored.split('$');
  if (parts[0] !== 'scrypt') return null;
  if (parts.length === 3 && parts[1] && parts[2])
    return { v2: false, params: FIRST_FORMAT, salt: Buffer.from(parts[1], 'base64url'), hash: Buffer.from(parts[2], 'base64url') };
  if (parts.length !== 5 || parts[1] !== 'v2' || !parts[3] || !parts[4]) return null;
  const m = /^N=(\d+),r=(\d+),p=(\d+)$/.exec(parts[2] ?? '');
  if (!m) return null;
  const params = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (params.N < 2 || params.N > LIMITS.N || (params.N & (params.N - 1)) !== 0 || params.r < 1 || params.r > LIMITS.r || params.p < 1 || params.p > LIMITS.p)
    return null;
  const hash = Buffer.from(parts[4], 'base64url');
  return hash.length >= 16 ? { v2: true, params, salt: Buffer.from(parts[3], 'base64url'), hash } : null;
}

function derive(password: string, salt: Buffer, keylen: number, p: ScryptParams, v2 = true): Promise<Buffer> {
  // v2 hashes a Unicode-normalised password (NIST 800-63B 5.1.1.2: the same password typed on another
  // keyboard matches); the first format hashed it as typed.
  // maxmem: 128·N·r bytes plus headroom (Node's default 32 MiB refuses the larger legitimate settings).
  return scrypt(v2 ? password.normalize('NFKC') : password, salt, keylen, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 });
}

export async function hashPassword(password: string, params: ScryptParams = CURRENT): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await derive(password, salt, KEY_LEN, params);
  return `scrypt$v2$N=${params.N},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

let dummy: Promise<string> | null = null;
/** A hash of a random password at the current cost, made once per process. */
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomBytes(16).toString('hex'));
  return dummy;
}

/** Counts checks that ran against the dummy hash (tests assert the constant-time path is taken). */
export const dummyChecks = { count: 0 };

/**
 * Whether `password` matches `stored`. With no stored hash (unknown workspace or e-mail, an invited user
 * without a password yet) the same work is done against a dummy hash, and the answer is false.
 */
export async function checkPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const parsed = stored ? parse(stored) : null;
  if (!parsed) {
    dummyChecks.count++;
    const d = parse(await dummyHash())!;
    const actual = await derive(password, d.salt, d.hash.length, d.params);
    crypto.timingSafeEqual(actual, d.hash);
    return false;
  }
  const actual = await derive(password, parsed.salt, parsed.hash.length, parsed.params, parsed.v2);
  return crypto.timingSafeEqual(actual, parsed.hash);
}

/** True when the stored hash was made with other parameters than today's: re-hash it after a good sign-in. */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  if (!parsed) return false;
  return !parsed.v2 || parsed.params.N !== CURRENT.N || parsed.params.r !== CURRENT.r || parsed.params.p !== CURRENT.p;
}

/** Warm the dummy hash at start-up, so the first unknown e-mail is not answered faster than the rest. */
export function prepareDummyHash(): Promise<unknown> {
  return dummyHash();
}

export function hashApiKey(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

/** SHA-256 of a high-entropy random token (session id, e-mailed link, recovery code): enough, no salt needed. */
export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}
