import { describe, expect, it, vi } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

/** A fake clock: sleeping advances it. */
function clock(): { now: () => number; sleep: (ms: number) => Promise<void> } {
  let t = 1000;
  return { now: () => t, sleep: async (ms) => void (t += ms) };
}

describe('TokenBucket', () => {
  it('spaces calls 1/rate apart however many ask at once', async () => {
    const c = clock();
    const b = new TokenBucket(100, c.now, c.sleep);
    const at: number[] = [];
    for (let i = 0; i < 5; i++) {
      await b.take();
      at.push(c.now());
    }
    expect(at.map((x) => x - at[0]!)).toEqual([0, 10, 20, 30, 40]);
    expect(b.requests).toBe(5);
  });

  it('never lets more than the rate into any one-second window, even with concurrent takers', async () => {
    // Fake timers: the property is about the slots the bucket hands out, not about how promptly a busy
    // machine's event loop wakes the sleepers (a stalled loop wakes many at once whatever the pacing).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const sent: number[] = [];
      const b = new TokenBucket(95);
      const start = performance.now();
      const takers = Promise.all(
        Array.from({ length: 8 }, async () => {
          while (performance.now() - start < 1200) {
            await b.take();
            sent.push(performance.now());
          }
        }),
      );
      await vi.advanceTimersByTimeAsync(1500);
      await takers;
      for (const t of sent) expect(sent.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(96);
      expect(sent.length).toBeGreaterThan(100);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not save up idle time as a burst, and pause() pushes later slots back', async () => {
    const c = clock();
    const b = new TokenBucket(10, c.now, c.sleep);
    await b.take();
    await c.sleep(5000); // idle
    const before = c.now();
    await b.take();
    await b.take();
    expect(c.now() - before).toBe(100);
    b.pause(1000);
    const p = c.now();
    await b.take();
    expect(c.now() - p).toBe(1000);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
  });
});
