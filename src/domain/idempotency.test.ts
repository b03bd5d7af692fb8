import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdempotencyKeyError, MAX_KEY_LENGTH, fnv1a64, keys } from './idempotency.ts';

describe('key shapes', () => {
  it('builds the documented keys', () => {
    expect(keys.psaPayment('p_123', 'connectwise')).toBe('payment:p_123:connectwise:payment');
    expect(keys.booksPayment('p_123', 'quickbooks-online')).toBe('payment:p_123:quickbooks-online:payment');
    expect(keys.booksDeposit('po_9', 'xero')).toBe('payout:po_9:xero:deposit');
    expect(keys.booksRefund('r_1', 'xero')).toBe('refund:r_1:xero:refund');
    expect(keys.charge('inv_7', 3, 2)).toBe('invoice:inv_7:v3:charge:2');
    expect(keys.installmentCharge('plan_1', 2, 1)).toBe('plan:plan_1:installment:2:charge:1');
    expect(keys.portalPayment('sess_42')).toBe('portal:sess_42:payment');
    expect(keys.customer('c_5', 'stripe')).toBe('client:c_5:stripe:customer');
    expect(keys.refund('p_123', 'r_1')).toBe('payment:p_123:refund:r_1:request');
  });

  it('escapes separators inside ids so they cannot forge another key', () => {
    expect(keys.portalPayment('a:b')).toBe('portal:a%3Ab:payment');
    expect(keys.psaPayment('x:connectwise', 'autotask')).not.toBe(keys.psaPayment('x', 'connectwise'));
    expect(keys.portalPayment('100%')).toBe('portal:100%25:payment');
  });

  it('rejects empty ids, bad vendors and bad counters', () => {
    expect(() => keys.portalPayment('')).toThrow(IdempotencyKeyError);
    expect(() => keys.psaPayment('p', 'ConnectWise')).toThrow(IdempotencyKeyError);
    expect(() => keys.psaPayment('p', 'connect:wise')).toThrow(IdempotencyKeyError);
    expect(() => keys.charge('i', 0, 1)).toThrow(IdempotencyKeyError);
    expect(() => keys.charge('i', 1, 1.5)).toThrow(IdempotencyKeyError);
    expect(() => keys.charge('i', 1, -1)).toThrow(IdempotencyKeyError);
  });

  it('FNV-1a 64 matches the published test vectors', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });
});

type Call =
  | { kind: 'payment'; id: string; vendor: string }
  | { kind: 'booksDeposit'; id: string; vendor: string }
  | { kind: 'booksRefund'; id: string; vendor: string }
  | { kind: 'charge'; id: string; version: number; attempt: number }
  | { kind: 'installmentCharge'; id: string; version: number; attempt: number }
  | { kind: 'portalPayment'; id: string }
  | { kind: 'customer'; id: string; vendor: string }
  | { kind: 'refund'; id: string; other: string };

// Mostly ids built from the separators' own vocabulary, where an unescaped key would collide
// (refund('a:refund', 'b') vs refund('a', 'refund:b')), plus arbitrary text.
const idArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'a:refund', 'refund:b', 'a:b', ':', '%3A', 'a%3Arefund') },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }) },
);
const vendorArb = fc.constantFrom('connectwise', 'autotask', 'halopsa', 'quickbooks-online', 'xero', 'stripe', 'refund', 'payment');
const nArb = fc.integer({ min: 1, max: 20 });
const callArb: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ kind: fc.constant('payment' as const), id: idArb, vendor: vendorArb }),
  fc.record({ kind: fc.constant('booksDeposit' as const), id: idArb, vendor: vendorArb }),
  fc.record({ kind: fc.constant('booksRefund' as const), id: idArb, vendor: vendorArb }),
  fc.record({ kind: fc.constant('charge' as const), id: idArb, version: nArb, attempt: nArb }),
  fc.record({ kind: fc.constant('installmentCharge' as const), id: idArb, version: nArb, attempt: nArb }),
  fc.record({ kind: fc.constant('portalPayment' as const), id: idArb }),
  fc.record({ kind: fc.constant('customer' as const), id: idArb, vendor: vendorArb }),
  fc.record({ kind: fc.constant('refund' as const), id: idArb, other: idArb }),
);

function keyOf(c: Call): string {
  switch (c.kind) {
    case 'payment':
      return keys.psaPayment(c.id, c.vendor); // booksPayment is the same template by design
    case 'booksDeposit':
      return keys.booksDeposit(c.id, c.vendor);
    case 'booksRefund':
      return keys.booksRefund(c.id, c.vendor);
    case 'charge':
      return keys.charge(c.id, c.version, c.attempt);
    case 'installmentCharge':
      return keys.installmentCharge(c.id, c.version, c.attempt);
    case 'portalPayment':
      return keys.portalPayment(c.id);
    case 'customer':
      return keys.customer(c.id, c.vendor);
    case 'refund':
      return keys.refund(c.id, c.other);
  }
}

describe('key properties', () => {
  it('deterministic, ASCII, at most 255 characters', () => {
    fc.assert(
      fc.property(callArb, fc.string({ maxLength: 600, unit: 'grapheme' }), (c, long) => {
        const withLong = { ...c, id: c.id + long };
        const k = keyOf(withLong);
        expect(keyOf(withLong)).toBe(k);
        expect(k.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
        expect(/^[\x21-\x7e]+$/.test(k)).toBe(true);
      }),
    );
  });

  it('different effects never share a key (exhaustive over ids made of separator words)', () => {
    const ids = ['a', 'b', 'a:refund', 'refund:b', 'a:b', 'b:stripe', ':', '%3A', 'a%3Arefund', 'v1:charge:1'];
    const vendors = ['stripe', 'xero', 'refund'];
    const ns = [1, 2];
    const calls: Call[] = [];
    for (const id of ids) {
      for (const vendor of vendors) {
        calls.push({ kind: 'payment', id, vendor }, { kind: 'booksDeposit', id, vendor }, { kind: 'booksRefund', id, vendor });
        calls.push({ kind: 'customer', id, vendor });
      }
      for (const version of ns) {
        for (const attempt of ns) calls.push({ kind: 'charge', id, version, attempt }, { kind: 'installmentCharge', id, version, attempt });
      }
      calls.push({ kind: 'portalPayment', id });
      for (const other of ids) calls.push({ kind: 'refund', id, other });
    }
    const seen = new Map<string, Call>();
    for (const c of calls) {
      const k = keyOf(c);
      expect(seen.get(k) ?? c, k).toEqual(c);
      seen.set(k, c);
    }
    expect(seen.size).toBe(calls.length);
  });

  it('different random effects never share a key', () => {
    fc.assert(
      fc.property(callArb, callArb, (a, b) => {
        if (keyOf(a) === keyOf(b)) expect(a).toEqual(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('long ids are cut to 255 characters with a digest that still tells them apart', () => {
    const a = keys.portalPayment('x'.repeat(400) + 'a');
    const b = keys.portalPayment('x'.repeat(400) + 'b');
    expect(a).toHaveLength(MAX_KEY_LENGTH);
    expect(a.startsWith('portal:xxxx')).toBe(true);
    expect(a).not.toBe(b);
    expect(a.slice(0, -17)).toBe(b.slice(0, -17));
  });
});
