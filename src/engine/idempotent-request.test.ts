import { describe, expect, it } from 'vitest';
import { fingerprint, idempotencyKeyOf, keyInUse, keyReused } from './idempotent-request.ts';
import { UseCaseError } from './context.ts';

describe('Idempotency-Key handling', () => {
  it('accepts 1–200 printable characters without spaces, and no header at all', () => {
    expect(idempotencyKeyOf(undefined)).toBeUndefined();
    expect(idempotencyKeyOf('order-42/retry#1')).toBe('order-42/retry#1');
    expect(idempotencyKeyOf(['first', 'second'])).toBe('first');
    for (const bad of ['', 'has space', 'x'.repeat(201), 'tab\there', 'naïve']) expect(() => idempotencyKeyOf(bad)).toThrow(UseCaseError);
  });

  it('fingerprints the request: same request, same print; any difference, another', () => {
    const a = {
      payment_method_id: 'm',
      invoices: [
        ['i1', '100'],
        ['i2', null],
      ],
    };
    expect(fingerprint(a)).toBe(fingerprint(structuredClone(a)));
    expect(fingerprint(a)).not.toBe(
      fingerprint({
        ...a,
        invoices: [
          ['i1', '101'],
          ['i2', null],
        ],
      }),
    );
    expect(fingerprint(a)).not.toBe(
      fingerprint({
        ...a,
        invoices: [
          ['i2', null],
          ['i1', '100'],
        ],
      }),
    );
    expect(fingerprint([1n])).toBe(fingerprint(['1']));
  });

  it('says what Stripe says, and tells the two conflicts apart', () => {
    const reused = keyReused('k1', 'refund request');
    expect(reused.code).toBe('conflict');
    expect(reused.message).toContain('can only be used with the same parameters they were first used with');
    expect(reused.message).toContain('already used for a different refund request');
    expect(reused.detail).toEqual({ type: 'idempotency_error', reason: 'idempotency_key_reused' });
    expect(keyInUse('k1').detail).toEqual({ type: 'idempotency_error', reason: 'idempotency_key_in_use' });
    expect(keyInUse('k1').message).toMatch(/in-progress request.*'k1'.*Retry/);
  });
});
