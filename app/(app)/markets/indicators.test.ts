import { describe, expect, it } from "vitest";
import { bollinger, ema, rsi, sma, vwap } from "./indicators";

const NaN_ = Number.NaN;

/** Element-wise comparison where NaN must match NaN and numbers must be within tol (absolute). */
function expectSeries(actual: ArrayLike<number>, expected: number[], tol = 1e-12) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (Number.isNaN(e)) expect(a, `index ${i}`).toBeNaN();
    else expect(Math.abs(a - e), `index ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(tol);
  }
}

/** Same bits (Object.is) on the first `upTo` elements. */
function expectSamePrefix(a: ArrayLike<number>, b: ArrayLike<number>, upTo: number) {
  for (let i = 0; i < upTo; i++) expect(Object.is(a[i], b[i]), `index ${i}: ${a[i]} vs ${b[i]}`).toBe(true);
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Naive reference: mean of each full window, summed from scratch. */
function naiveSma(values: number[], n: number): number[] {
  return values.map((_, i) => {
    if (i < n - 1) return NaN_;
    let s = 0;
    for (let j = i - n + 1; j <= i; j++) s += values[j] as number;
    return s / n;
  });
}

const CONSTANTS = [0.1, 1234.5678, 1e-7, 3, -42.125, 65_432.1];

describe("sma", () => {
  it("matches a hand-computed fixture with NaN warm-up", () => {
    // windows of 3: [1,2,3] = 2, [2,3,4] = 3, [3,4,10] = 17/3
    expectSeries(sma([1, 2, 3, 4, 10], 3), [NaN_, NaN_, 2, 3, 17 / 3]);
  });

  it("period 1 is the input; period longer than the series is all NaN", () => {
    expectSeries(sma([5, 6, 7], 1), [5, 6, 7], 0);
    expectSeries(sma([5, 6, 7], 4), [NaN_, NaN_, NaN_]);
    expect(sma([], 3)).toHaveLength(0);
  });

  it("rejects a non-integer or non-positive period", () => {
    expect(() => sma([1, 2], 0)).toThrow(RangeError);
    expect(() => sma([1, 2], 2.5)).toThrow(RangeError);
  });

  it("is exactly the constant for a constant series, over long runs", () => {
    for (const c of CONSTANTS) {
      const out = sma(new Array(10_000).fill(c), 20);
      for (let i = 19; i < out.length; i++) if (out[i] !== c) throw new Error(`sma of constant ${c} at ${i} = ${out[i]}`);
    }
  });

  it("becomes exact again when the window returns to a constant after large values", () => {
    const values = [...new Array(30).fill(1e15), ...new Array(30).fill(0.1)];
    const out = sma(values, 10);
    for (let i = 39; i < 60; i++) expect(out[i]).toBe(0.1);
  });

  it("does not carry rounding residue from huge values that left the window", () => {
    // A naive running sum would leave an error of order 1e17 * eps = 10 here.
    const values = [1e17, -3e16, 7e16, 1, 2, 3, 4, 5, 6];
    const out = sma(values, 3);
    expectSeries(out.subarray(5), [2, 3, 4, 5], 1e-12);
  });

  it("does not drift over a long random walk at a large price level", () => {
    const r = rng(7);
    const values: number[] = [];
    let p = 50_000;
    for (let i = 0; i < 200_000; i++) {
      p += (r() - 0.5) * 25;
      values.push(Math.round(p * 100) / 100);
    }
    const out = sma(values, 20);
    const ref = naiveSma(values, 20);
    let worst = 0;
    for (let i = 19; i < values.length; i++) worst = Math.max(worst, Math.abs((out[i] as number) - (ref[i] as number)) / Math.abs(ref[i] as number));
    expect(worst).toBeLessThan(1e-13);
  });

  it("gives NaN for windows containing a non-finite value, and recovers after", () => {
    expectSeries(sma([1, 2, NaN_, 4, 5, 6], 2), [NaN_, 1.5, NaN_, NaN_, 4.5, 5.5]);
  });
});

describe("ema", () => {
  it("is seeded with the SMA of the first n values and then smoothed (hand-computed)", () => {
    // n = 3, alpha = 0.5. Seed at i=2: (2+4+6)/3 = 4.
    // i=3: 4 + 0.5*(8-4) = 6; i=4: 6 + 0.5*(3-6) = 4.5; i=5: 4.5 + 0.5*(1-4.5) = 2.75
    expectSeries(ema([2, 4, 6, 8, 3, 1], 3), [NaN_, NaN_, 4, 6, 4.5, 2.75]);
  });

  it("matches a naive recursive loop for a non-trivial alpha", () => {
    const r = rng(11);
    const values = Array.from({ length: 500 }, () => 100 + r() * 10);
    const n = 50;
    const alpha = 2 / (n + 1);
    const ref: number[] = new Array(values.length).fill(NaN_);
    let seed = 0;
    for (let j = 0; j < n; j++) seed += values[j] as number;
    ref[n - 1] = seed / n;
    for (let i = n; i < values.length; i++) ref[i] = alpha * (values[i] as number) + (1 - alpha) * (ref[i - 1] as number);
    expectSeries(ema(values, n), ref, 1e-9);
  });

  it("is exactly the constant for a constant series", () => {
    for (const c of CONSTANTS) {
      const out = ema(new Array(5_000).fill(c), 50);
      expect(Number.isNaN(out[48])).toBe(true);
      for (let i = 49; i < out.length; i++) if (out[i] !== c) throw new Error(`ema of constant ${c} at ${i} = ${out[i]}`);
    }
  });
});

describe("bollinger", () => {
  it("matches a hand-computed fixture (population standard deviation)", () => {
    // n=3, k=2 on [1,2,3,4,10]
    // i=2: mean 2, var ((1)^2 + 0 + 1^2)/3 = 2/3
    // i=3: mean 3, var 2/3
    // i=4: mean 17/3, deviations -8/3, -5/3, 13/3 -> var (64+25+169)/27 = 258/27 = 86/9
    const { mid, upper, lower } = bollinger([1, 2, 3, 4, 10], 3, 2);
    const sd2 = Math.sqrt(2 / 3);
    const sd4 = Math.sqrt(86 / 9);
    expectSeries(mid, [NaN_, NaN_, 2, 3, 17 / 3]);
    expectSeries(upper, [NaN_, NaN_, 2 + 2 * sd2, 3 + 2 * sd2, 17 / 3 + 2 * sd4]);
    expectSeries(lower, [NaN_, NaN_, 2 - 2 * sd2, 3 - 2 * sd2, 17 / 3 - 2 * sd4]);
  });

  it("matches a naive two-pass loop on random data", () => {
    const r = rng(3);
    const values = Array.from({ length: 300 }, () => 1.08 + r() * 0.01);
    const n = 20;
    const k = 2;
    const { mid, upper, lower } = bollinger(values, n, k);
    for (let i = n - 1; i < values.length; i++) {
      const w = values.slice(i - n + 1, i + 1);
      const m = w.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(w.reduce((a, b) => a + (b - m) ** 2, 0) / n);
      expect(Math.abs((mid[i] as number) - m)).toBeLessThan(1e-13);
      expect(Math.abs((upper[i] as number) - (m + k * sd))).toBeLessThan(1e-13);
      expect(Math.abs((lower[i] as number) - (m - k * sd))).toBeLessThan(1e-13);
    }
  });

  it("has zero width, exactly at the constant, for a constant series", () => {
    for (const c of CONSTANTS) {
      const { mid, upper, lower } = bollinger(new Array(2_000).fill(c), 20, 2);
      for (let i = 19; i < 2_000; i++) {
        if (mid[i] !== c || upper[i] !== c || lower[i] !== c) throw new Error(`bollinger of constant ${c} at ${i}`);
      }
    }
  });
});

describe("rsi", () => {
  it("matches a hand-computed Wilder fixture", () => {
    // closes 10, 11, 12, 11, 13, 12, 12 -> changes +1, +1, -1, +2, -1, 0; n = 3
    // i=3: avgG = 2/3, avgL = 1/3 -> 100 * (2/3) / 1 = 66.67
    // i=4: avgG = (2/3*2 + 2)/3 = 10/9, avgL = (1/3*2 + 0)/3 = 2/9 -> 100 * 10/12
    // i=5: avgG = (10/9*2 + 0)/3 = 20/27, avgL = (2/9*2 + 1)/3 = 13/27 -> 100 * 20/33
    // i=6: avgG = 40/81, avgL = 26/81 -> 100 * 40/66
    expectSeries(rsi([10, 11, 12, 11, 13, 12, 12], 3), [NaN_, NaN_, NaN_, 200 / 3, 250 / 3, 2000 / 33, 2000 / 33], 1e-10);
  });

  it("is 100 when every change is up, 0 when every change is down", () => {
    const up = Array.from({ length: 100 }, (_, i) => 100 + i * 0.37);
    const down = Array.from({ length: 100 }, (_, i) => 100 - i * 0.37);
    const u = rsi(up, 14);
    const d = rsi(down, 14);
    for (let i = 0; i < 14; i++) {
      expect(u[i]).toBeNaN();
      expect(d[i]).toBeNaN();
    }
    for (let i = 14; i < 100; i++) {
      expect(u[i]).toBe(100);
      expect(d[i]).toBe(0);
    }
  });

  it("is 100 for a constant series (no losses), with warm-up NaNs", () => {
    const out = rsi(new Array(50).fill(0.1), 14);
    for (let i = 0; i < 14; i++) expect(out[i]).toBeNaN();
    for (let i = 14; i < 50; i++) expect(out[i]).toBe(100);
  });

  it("stays within [0, 100] on random data", () => {
    const r = rng(5);
    let p = 100;
    const closes = Array.from({ length: 5_000 }, () => (p += r() - 0.5));
    const out = rsi(closes, 14);
    for (let i = 14; i < out.length; i++) {
      expect(out[i]).toBeGreaterThanOrEqual(0);
      expect(out[i]).toBeLessThanOrEqual(100);
    }
  });
});

describe("vwap", () => {
  const day1 = Date.UTC(2024, 0, 15);
  const day2 = Date.UTC(2024, 0, 16);
  // typical prices: (12+9+9)/3 = 10, (13+10+13)/3 = 12, (21+19+20)/3 = 20, (24+21+21)/3 = 22
  const t = [day1 + 23 * 3_600_000, day1 + 23.5 * 3_600_000, day2, day2 + 1_800_000];
  const h = [12, 13, 21, 24];
  const l = [9, 10, 19, 21];
  const c = [9, 13, 20, 21];
  const v = [100, 300, 50, 150];

  it("resets at UTC midnight for intraday bars (hand-computed)", () => {
    // day 1: 10, (10*100 + 12*300)/400 = 11.5; day 2 restarts: 20, (20*50 + 22*150)/200 = 21.5
    expectSeries(vwap(t, h, l, c, v, true), [10, 11.5, 20, 21.5]);
  });

  it("accumulates from the first bar without reset (hand-computed)", () => {
    // 10, 11.5, (1000 + 3600 + 1000)/450 = 5600/450, (5600 + 3300)/600 = 8900/600
    expectSeries(vwap(t, h, l, c, v, false), [10, 11.5, 5600 / 450, 8900 / 600]);
  });

  it("treats the last millisecond before midnight as the old day", () => {
    const tt = [day2 - 60_000, day2 - 1, day2];
    const out = vwap(tt, [10, 20, 30], [10, 20, 30], [10, 20, 30], [1, 1, 1], true);
    expectSeries(out, [10, 15, 30]);
  });

  it("is NaN until volume accumulates, and ignores zero/missing volume", () => {
    const out = vwap([0, 1, 2, 3], [10, 12, 14, 16], [10, 12, 14, 16], [10, 12, 14, 16], [0, NaN_, 2, 0], false);
    expectSeries(out, [NaN_, NaN_, 14, 14]);
  });

  it("is exactly the price for a constant price over long runs", () => {
    for (const p of CONSTANTS) {
      const n = 20_000;
      const tt = Array.from({ length: n }, (_, i) => day1 + i * 60_000);
      const vv = Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % 1000) / 7);
      const arr = new Array(n).fill(p);
      for (const reset of [true, false]) {
        const out = vwap(tt, arr, arr, arr, vv, reset);
        for (let i = 0; i < n; i++) if (out[i] !== p) throw new Error(`vwap of constant ${p} at ${i} = ${out[i]}`);
      }
    }
  });

  it("matches a naive cumulative loop on random bars", () => {
    const r = rng(9);
    const n = 3_000;
    const tt = Array.from({ length: n }, (_, i) => day1 + i * 5 * 60_000);
    const cc = Array.from({ length: n }, () => 100 + r() * 5);
    const hh = cc.map((x) => x + r());
    const ll = cc.map((x) => x - r());
    const vv = cc.map(() => r() * 1000);
    const out = vwap(tt, hh, ll, cc, vv, true);
    let pv = 0;
    let vol = 0;
    let day = -1;
    for (let i = 0; i < n; i++) {
      const d = Math.floor((tt[i] as number) / 86_400_000);
      if (d !== day) {
        day = d;
        pv = 0;
        vol = 0;
      }
      pv += (((hh[i] as number) + (ll[i] as number) + (cc[i] as number)) / 3) * (vv[i] as number);
      vol += vv[i] as number;
      expect(Math.abs((out[i] as number) - pv / vol)).toBeLessThan(1e-9);
    }
  });

  it("rejects arrays of different lengths", () => {
    expect(() => vwap([1, 2], [1], [1], [1], [1], true)).toThrow(RangeError);
  });
});

describe("no look-ahead", () => {
  const r = rng(13);
  const len = 3_000;
  const base = Array.from({ length: len }, () => 100 + r() * 10);
  const cut = 2_100; // outputs before this index must not change when later inputs change
  const changed = base.map((x, i) => (i >= cut ? x * 3 + 1e6 : x));
  const t = Array.from({ length: len }, (_, i) => Date.UTC(2024, 0, 1) + i * 15 * 60_000);

  it("sma, ema, rsi, bollinger do not see future values", () => {
    expectSamePrefix(sma(base, 20), sma(changed, 20), cut);
    expectSamePrefix(ema(base, 50), ema(changed, 50), cut);
    expectSamePrefix(rsi(base, 14), rsi(changed, 14), cut);
    const a = bollinger(base, 20, 2);
    const b = bollinger(changed, 20, 2);
    expectSamePrefix(a.mid, b.mid, cut);
    expectSamePrefix(a.upper, b.upper, cut);
    expectSamePrefix(a.lower, b.lower, cut);
    // and the outputs from the cut on do change (the test would be vacuous otherwise)
    expect(sma(changed, 20)[cut]).not.toBe(sma(base, 20)[cut]);
  });

  it("sma with a non-finite future value does not change earlier outputs", () => {
    const withNaN = base.map((x, i) => (i === cut ? NaN_ : x));
    expectSamePrefix(sma(base, 20), sma(withNaN, 20), cut);
  });

  it("vwap does not see future bars", () => {
    const vol = base.map((x) => x * 10);
    const volChanged = vol.map((x, i) => (i >= cut ? x * 1000 : x));
    for (const reset of [true, false]) {
      const a = vwap(t, base, base, base, vol, reset);
      expectSamePrefix(a, vwap(t, changed, changed, changed, vol, reset), cut);
      expectSamePrefix(a, vwap(t, base, base, base, volChanged, reset), cut);
    }
  });
});
