import { describe, expect, it } from 'vitest';
import { readAhead } from './read-ahead.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function* pages(n: number, log: string[]): AsyncGenerator<number> {
  for (let i = 1; i <= n; i++) {
    log.push(`fetch ${i}`);
    await sleep(5);
    yield i;
  }
}

describe('readAhead', () => {
  it('keeps the vendor order, maps up to depth pages at once and never more', async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const out: number[] = [];
    for await (const p of readAhead(
      pages(7, log),
      async (n) => {
        running++;
        most = Math.max(most, running);
        await sleep(n % 2 === 0 ? 30 : 1); // later pages may finish first
        running--;
        return n * 10;
      },
      2,
    ))
      out.push(p);
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(most).toBe(2);
    expect(log).toHaveLength(7);
  });

  it('throws a failed page when its turn comes, after the pages before it, and stops the walk', async () => {
    const log: string[] = [];
    const out: number[] = [];
    await expect(
      (async () => {
        for await (const p of readAhead(
          pages(50, log),
          async (n) => {
            if (n === 3) throw new Error('page 3 refused');
            return n;
          },
          3,
        ))
          out.push(p);
      })(),
    ).rejects.toThrow('page 3 refused');
    expect(out).toEqual([1, 2]);
    expect(log.length).toBeLessThan(10);
  });

  it('an empty source yields nothing', async () => {
    const out: number[] = [];
    for await (const p of readAhead(pages(0, []), async (n) => n, 2)) out.push(p);
    expect(out).toEqual([]);
  });
});
