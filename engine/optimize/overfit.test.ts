import { describe, expect, it } from "vitest";
import { bucketLogReturns, CscvAccumulator, deflatedSharpe, EULER_GAMMA, expectedMaxSharpe, probabilisticSharpe, probabilityOfBacktestOverfitting, returnStats, sampleVariance } from "./overfit";
import { mulberry32 } from "./prng";

const gaussian = (seed: number) => {
  const r = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
};

describe("returnStats", () => {
  it("moments of a hand-checkable curve", () => {
    // returns +10 %, -10 %, +10 %: a two-point distribution with p = 2/3 on the high value
    const s = returnStats(Float64Array.of(110, 99, 108.9), 100);
    expect(s.n).toBe(3);
    expect(s.mean).toBeCloseTo(0.1 / 3, 14);
    expect(s.std).toBeCloseTo(Math.sqrt(0.08 / 6), 14); // deviations 1/15, -2/15, 1/15
    expect(s.sr).toBeCloseTo(0.1 / 3 / Math.sqrt(0.08 / 6), 12);
    expect(s.skew).toBeCloseTo(-Math.SQRT1_2, 12); // (1 - 2p) / sqrt(pq) with the rare value low
    expect(s.kurt).toBeCloseTo(1.5, 12); // (1 - 3pq) / pq
  });

  it("a flat curve has no deviation: Sharpe 0, normal shape", () => {
    expect(returnStats(Float64Array.of(100, 100, 100), 100)).toEqual({ n: 3, mean: 0, std: 0, skew: 0, kurt: 3, sr: 0 });
    expect(returnStats(new Float64Array(0), 100).n).toBe(0);
  });
});

describe("bucketLogReturns", () => {
  it("sums log returns into equal buckets whose total is the log growth", () => {
    const eq = Float64Array.of(110, 99, 108.9, 108.9, 50);
    const b = bucketLogReturns(eq, 100, 2); // bars [0, 2) and [2, 5)
    expect(b.length).toBe(2);
    expect(b[0]).toBeCloseTo(Math.log(1.1) + Math.log(0.9), 14);
    expect(b[1]).toBeCloseTo(Math.log(1.1) + 0 + Math.log(50 / 108.9), 14);
    expect(b[0]! + b[1]!).toBeCloseTo(Math.log(0.5), 14);
    expect(bucketLogReturns(eq, 100, 100).length).toBe(5); // never more buckets than bars
    const wiped = bucketLogReturns(Float64Array.of(100, 0, 0), 100, 3);
    expect(Number.isFinite(wiped[1])).toBe(true);
    expect(wiped[1]).toBeLessThan(-27);
    expect(wiped[2]).toBe(0); // base <= 0: return 0, as in metrics.ts
  });
});

describe("Deflated Sharpe Ratio", () => {
  it("reproduces the numerical example of Bailey & López de Prado (2014)", () => {
    // annualised SR 2.5 from 5 years of daily returns (T = 1250), N = 100 trials whose
    // annualised Sharpe ratios have variance 0.5, skewness -3, kurtosis 10 -> DSR ~ 0.9004
    const d = deflatedSharpe({ sr: 2.5 / Math.sqrt(250), n: 1250, skew: -3, kurt: 10, trials: 100, variance: 0.5 / 250 });
    expect(d.sr0).toBeCloseTo(0.113172, 5);
    expect(d.sr0 * Math.sqrt(250)).toBeCloseTo(1.7894, 3);
    expect(d.z).toBeCloseTo(1.28382, 4);
    expect(d.dsr).toBeCloseTo(0.9004, 4);
    expect(d.psr).toBeGreaterThan(d.dsr);
  });

  it("expected maximum Sharpe ratio under the null", () => {
    // sqrt(V) ((1 - γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e))), values from scipy
    expect(expectedMaxSharpe(100, 1)).toBeCloseTo(2.5306028932016846, 12);
    expect(expectedMaxSharpe(10, 1)).toBeCloseTo(1.57459830134575, 12);
    expect(expectedMaxSharpe(1000, 4)).toBeCloseTo(2 * 3.255121513652723, 11);
    expect(expectedMaxSharpe(1, 1)).toBe(0); // no selection
    expect(expectedMaxSharpe(50, 0)).toBe(0);
    expect(EULER_GAMMA).toBeCloseTo(0.5772156649, 10);
  });

  it("PSR is 1/2 at the benchmark and grows with the sample", () => {
    expect(probabilisticSharpe(0.1, 0.1, 500, 0, 3)).toBeCloseTo(0.5, 15);
    expect(probabilisticSharpe(0.1, 0, 100, 0, 3)).toBeLessThan(probabilisticSharpe(0.1, 0, 1000, 0, 3));
    // normal returns (kurtosis 3): z = SR sqrt(n - 1) / sqrt(1 + SR^2 / 2) = 1 / sqrt(1.005)
    expect(probabilisticSharpe(0.1, 0, 101, 0, 3)).toBeCloseTo(0.8407413278013, 12); // Φ(1 / sqrt(1.005)), scipy
    // negative skew and fat tails lower it
    expect(probabilisticSharpe(0.1, 0, 101, -2, 12)).toBeLessThan(probabilisticSharpe(0.1, 0, 101, 0, 3));
  });

  it("sample variance", () => {
    expect(sampleVariance([1, 2, 3, 4])).toBeCloseTo(5 / 3, 15);
    expect(sampleVariance([7])).toBe(0);
  });
});

/** Straightforward CSCV over the full matrix, for comparison. */
function naivePbo(m: number[][], S: number): number {
  const T = m[0]!.length;
  const N = m.length;
  const blocks = Array.from({ length: S }, (_, b) => [Math.floor((b * T) / S), Math.floor(((b + 1) * T) / S)] as const);
  const sharpe = (xs: number[]) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
    return mean / Math.sqrt(v);
  };
  let over = 0;
  let count = 0;
  for (let mask = 0; mask < 1 << S; mask++) {
    let bits = 0;
    for (let b = 0; b < S; b++) if (mask & (1 << b)) bits++;
    if (bits !== S / 2) continue;
    const pick = (inTrain: boolean) => (row: number[]) => blocks.filter((_, b) => !!(mask & (1 << b)) === inTrain).flatMap(([a, z]) => row.slice(a, z));
    const is = m.map(pick(true)).map(sharpe);
    const oos = m.map(pick(false)).map(sharpe);
    const best = is.indexOf(Math.max(...is));
    const rank = oos.filter((v) => v < oos[best]!).length + 1 + (oos.filter((v) => v === oos[best]).length - 1) / 2;
    const w = rank / (N + 1);
    if (Math.log(w / (1 - w)) <= 0) over++;
    count++;
  }
  return over / count;
}

describe("Probability of Backtest Overfitting (CSCV)", () => {
  it("is 1 when the in-sample best is always the out-of-sample worst", () => {
    // A's blocks have levels 1, 2, 4, ..., 2^14 and -(2^15 - 1): they sum to 0 and no 8 of
    // them do, so A's mean over any half has the opposite sign to its mean over the other half.
    // B = -A. Whichever of the two wins in sample loses out of sample, in all 12,870 splits.
    const levels = [...Array.from({ length: 15 }, (_, k) => 2 ** k), -(2 ** 15 - 1)];
    const a = levels.flatMap((v) => [v + 0.5, v - 0.5]); // two observations per block
    const r = probabilityOfBacktestOverfitting([a, a.map((x) => -x)], 16)!;
    expect(r.combinations).toBe(12870);
    expect(r.pbo).toBe(1);
    expect(r.probOosLoss).toBe(1);
    expect(r.logitMedian).toBeCloseTo(Math.log(0.5), 12); // rank 1 of 2: ω = 1/3
  });

  it("is 0 when one trial is best in every block", () => {
    const g = gaussian(11);
    const T = 160;
    const strong = Array.from({ length: T }, (_, i) => 1 + (i % 2 ? 0.1 : -0.1)); // Sharpe ~10 everywhere
    const noise = Array.from({ length: 20 }, () => Array.from({ length: T }, g));
    const r = probabilityOfBacktestOverfitting([...noise, strong], 16)!;
    expect(r.trials).toBe(21);
    expect(r.pbo).toBe(0);
    expect(r.probOosLoss).toBe(0);
    expect(r.logitMean).toBeCloseTo(Math.log(21 / 22 / (1 / 22)), 12); // always rank N of N
  });

  it("is about 1/2 for pure noise", () => {
    const g = gaussian(5);
    const m = Array.from({ length: 100 }, () => Array.from({ length: 800 }, g));
    const r = probabilityOfBacktestOverfitting(m, 16)!;
    expect(r.pbo).toBeGreaterThan(0.3);
    expect(r.pbo).toBeLessThan(0.7);
    expect(Math.abs(r.oosSharpeMean)).toBeLessThan(0.05); // no skill out of sample
    expect(r.isSharpeMean).toBeGreaterThan(0.05); // selection bias in sample
  });

  it("matches a direct computation on the full matrix", () => {
    for (const [seed, S, N, T] of [
      [1, 4, 5, 37],
      [2, 6, 8, 60],
      [3, 8, 12, 100],
      [4, 16, 6, 70],
    ] as const) {
      const g = gaussian(seed);
      const m = Array.from({ length: N }, (_, n) => Array.from({ length: T }, () => g() + n * 0.02));
      expect(probabilityOfBacktestOverfitting(m, S)!.pbo, `seed ${seed}`).toBeCloseTo(naivePbo(m, S), 12);
    }
  });

  it("takes trials in index order whatever the arrival order", () => {
    const g = gaussian(9);
    const m = Array.from({ length: 6 }, () => Array.from({ length: 64 }, g));
    const a = new CscvAccumulator(64, 8);
    [3, 0, 5, 1, 4, 2].forEach((i) => a.set(i, m[i]!));
    expect(a.result()).toEqual(probabilityOfBacktestOverfitting(m, 8));
  });

  it("rejects bad shapes", () => {
    expect(() => new CscvAccumulator(10, 3)).toThrow(/even/);
    expect(() => new CscvAccumulator(10, 16)).toThrow(/at least one observation per block/);
    const a = new CscvAccumulator(32, 16);
    expect(() => a.add(new Float64Array(31))).toThrow(/32 observations/);
    a.add(new Float64Array(32));
    expect(a.result()).toBeNull(); // one trial
  });
});
