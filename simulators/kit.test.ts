import { afterEach, describe, expect, it, vi } from 'vitest';
import { drawLatency, Faults, parseLatency } from './kit.ts';
import { startHaloSimulator } from './halopsa/index.ts';

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

describe('per-call latency', () => {
  it('is read as milliseconds or a range, and a bad one is refused with what was wrong', () => {
    expect(parseLatency(undefined)).toBeUndefined();
    expect(parseLatency('200')).toBe(200);
    expect(parseLatency('100-300')).toEqual([100, 300]);
    expect(() => parseLatency('300-100')).toThrow(/below its start/);
    expect(() => parseLatency('fast')).toThrow(/not milliseconds/);
    for (let i = 0; i < 200; i++) {
      const ms = drawLatency([100, 300]);
      expect(ms).toBeGreaterThanOrEqual(100);
      expect(ms).toBeLessThanOrEqual(300);
    }
  });

  it('delays every vendor call of a PSA simulator, not its control routes, and answers are counted by status', async () => {
    const halo = await startHaloSimulator({ latencyMs: [150, 200], seed: { clients: 1, invoices: 1 } });
    try {
      const t0 = performance.now();
      const res = await fetch(`${halo.baseUrl}/api/Invoice`);
      expect(res.status).toBe(401);
      expect(performance.now() - t0).toBeLessThan(5000);
      const token = (await (
        await fetch(`${halo.baseUrl}/auth/token?tenant=${halo.credentials.tenant}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: halo.credentials.clientId,
            client_secret: halo.credentials.clientSecret,
            scope: 'all',
          }),
        })
      ).json()) as { access_token: string };
      const t1 = performance.now();
      const ok = await fetch(`${halo.baseUrl}/api/Invoice`, { headers: { authorization: `Bearer ${token.access_token}` } });
      expect(ok.status).toBe(200);
      expect(performance.now() - t1).toBeGreaterThanOrEqual(145);
      const t2 = performance.now();
      await fetch(`${halo.baseUrl}/_sim/deliveries`);
      expect(performance.now() - t2).toBeLessThan(145);
      expect(halo.sim.calls.statuses.get(200)).toBeGreaterThanOrEqual(2);
      expect(halo.sim.calls.statuses.get(401)).toBe(1);
    } finally {
      await halo.close();
    }
  });
});
