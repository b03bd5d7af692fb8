// Resident set size sampled on a timer, for the process it runs in: Settle, any in-process vendor
// simulators and their data, the tsx loader, and node itself. A sample can only be taken when the event
// loop is free, so a long synchronous stretch is sampled at its end; process.resourceUsage().maxRSS (the
// kernel's high-water mark, which misses nothing) is reported beside it.
export interface RssSampler {
  stop(): { peakRssMb: number; samples: number; kernelMaxRssMb: number };
}

export function sampleRss(everyMs = 50): RssSampler {
  let peak = process.memoryUsage().rss;
  let samples = 1;
  const timer = setInterval(() => {
    const rss = process.memoryUsage().rss;
    samples++;
    if (rss > peak) peak = rss;
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      const rss = process.memoryUsage().rss;
      if (rss > peak) peak = rss;
      return { peakRssMb: mb(peak), samples, kernelMaxRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10 };
    },
  };
}

export const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
