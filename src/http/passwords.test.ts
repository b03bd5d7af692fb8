import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkPassword, dummyChecks, hashPassword, needsRehash } from './passwords.ts';

describe('staff password hashes', () => {
  it('stores the parameters, verifies, and refuses a wrong password', async () => {
    const h = await hashPassword('river stone lamp 42');
    expect(h).toMatch(/^scrypt\$v2\$N=16384,r=8,p=5\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await checkPassword('river stone lamp 42', h)).toBe(true);
    expect(await checkPassword('river stone lamp 43', h)).toBe(false);
    expect(needsRehash(h)).toBe(false);
  });

  it('keeps verifying the first format and other parameters, and asks for a re-hash', async () => {
    const salt = crypto.randomBytes(16);
    const first = `scrypt$${salt.toString('base64url')}$${crypto.scryptSync('old password here', salt, 32).toString('base64url')}`;
    expect(await checkPassword('old password here', first)).toBe(true);
    expect(needsRehash(first)).toBe(true);
    const cheaper = await hashPassword('another one here', { N: 2 ** 10, r: 8, p: 1 });
    expect(await checkPassword('another one here', cheaper)).toBe(true);
    expect(needsRehash(cheaper)).toBe(true);
  });

  it('an unknown account is checked against the dummy hash (same work, always false)', async () => {
    const before = dummyChecks.count;
    expect(await checkPassword('anything at all', undefined)).toBe(false);
    expect(await checkPassword('anything at all', '!invited')).toBe(false);
    expect(dummyChecks.count).toBe(before + 2);
  });

  it('refuses stored parameters beyond the limits instead of running them', async () => {
    const huge = `scrypt$v2$N=${2 ** 24},r=8,p=1$${'A'.repeat(22)}$${'A'.repeat(43)}`;
    const before = dummyChecks.count;
    expect(await checkPassword('x', huge)).toBe(false);
    expect(dummyChecks.count).toBe(before + 1);
  });

  it('does not block the event loop while hashing', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await Promise.all([hashPassword('a long pass phrase 1'), hashPassword('a long pass phrase 2')]);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});
