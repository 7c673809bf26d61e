import { AttemptStore } from '../../src/worker/attempt';

describe('retry delays', () => {
  const { retryDelayMs } = AttemptStore;

  it('double from the first delay up to the cap (no jitter at the midpoint)', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((a) => retryDelayMs(a, 1000, 30_000, mid))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('stay within ±20 % (jitter), so that exports failed together do not retry together', () => {
    expect(retryDelayMs(3, 1000, 30_000, () => 0)).toBe(3200);
    expect(retryDelayMs(3, 1000, 30_000, () => 0.999999)).toBe(4800);
  });

  it('with the defaults, ten attempts ride out at least two minutes of outage', () => {
    const lowest = Array.from({ length: 9 }, (_, i) => retryDelayMs(i + 1, 1000, 30_000, () => 0)).reduce((a, b) => a + b, 0);
    expect(lowest).toBeGreaterThanOrEqual(120_000);
  });
});
