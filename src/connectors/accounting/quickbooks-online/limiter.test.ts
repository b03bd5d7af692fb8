import { describe, expect, it } from 'vitest';
import { QboRequestLimiter } from './limiter.ts';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('QboRequestLimiter', () => {
  it('keeps at most `concurrent` calls in flight', async () => {
    const l = new QboRequestLimiter({ concurrent: 3, perMinute: 1000, batchPerMinute: 1000, windowMs: 60_000 });
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        l.run('call', async () => {
          peak = Math.max(peak, l.inFlight);
          await tick();
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(l.inFlight).toBe(0);
  });

  it('holds calls past the per-window budget until the window moves on', async () => {
    const l = new QboRequestLimiter({ concurrent: 10, perMinute: 2, batchPerMinute: 1, windowMs: 80 });
    const started: number[] = [];
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 3 }, () => l.run('call', async () => void started.push(Date.now() - t0))));
    expect(started.filter((t) => t < 40)).toHaveLength(2);
    expect(started[2]).toBeGreaterThanOrEqual(70);
    const b0 = Date.now();
    await l.run('batch', async () => {});
    await l.run('batch', async () => {});
    expect(Date.now() - b0).toBeGreaterThanOrEqual(70); // one batch per window
  });

  it('releases its slot when the call throws', async () => {
    const l = new QboRequestLimiter({ concurrent: 1, perMinute: 100, batchPerMinute: 100, windowMs: 60_000 });
    await expect(l.run('call', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await l.run('call', async () => 'ok')).toBe('ok');
  });

  it('starts at most `perSecond` calls in any second (Intuit: 10 per realm and app)', async () => {
    const l = new QboRequestLimiter({ concurrent: 10, perMinute: 1000, perSecond: 3, batchPerMinute: 1000, windowMs: 60_000 });
    const started: number[] = [];
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 4 }, () => l.run('call', async () => void started.push(Date.now() - t0))));
    started.sort((a, b) => a - b);
    expect(started[3]! - started[0]!).toBeGreaterThanOrEqual(990);
  });
});
