import { afterEach, describe, expect, it, vi } from 'vitest';
import { Faults } from './kit.ts';

describe('injected faults', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('apply to the matching requests, as many times as asked, first rule first', () => {
    const f = new Faults();
    f.add({ pathPattern: '^/a', fault: { kind: 'status', status: 429 }, times: 2 });
    f.add({ fault: { kind: 'status', status: 500 }, times: 1 });
    expect(f.take('GET', '/b')).toEqual({ kind: 'status', status: 500 });
    expect(f.take('GET', '/a/1')).toEqual({ kind: 'status', status: 429 });
    expect(f.take('GET', '/a/2')).toEqual({ kind: 'status', status: 429 });
    expect(f.take('GET', '/a/3')).toBeNull();
  });

  it('with a time to live, are gone once it has passed, used or not', () => {
    vi.useFakeTimers({ now: new Date('2026-12-06T12:00:00Z') });
    const f = new Faults();
    f.add({ fault: { kind: 'status', status: 429 }, times: 3, ttlMs: 30_000 });
    f.add({ pathPattern: '^/kept', fault: { kind: 'status', status: 500 }, times: 1 }); // no ttl: until used
    expect(f.take('GET', '/x')).toEqual({ kind: 'status', status: 429 });
    vi.advanceTimersByTime(30_001);
    expect(f.take('GET', '/x')).toBeNull();
    vi.advanceTimersByTime(3_600_000);
    expect(f.take('GET', '/kept')).toEqual({ kind: 'status', status: 500 });
  });
});
