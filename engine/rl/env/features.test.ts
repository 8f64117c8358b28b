import { describe, expect, it } from "vitest";
import { createIndicator } from "../../core/indicators";
import { buildDataset } from "./dataset";
import { buildFeatures, defaultFeatureSet, FeatureError, type FeatureSetSpec, validateFeatureSet } from "./features";
import { nextFloat, nextInt, Prng, seedStream } from "./prng";
import { syntheticBars } from "./testdata";

describe("features", () => {
  const bars = syntheticBars(2000, { seed: 3 });

  it("raw features match their definitions and the core's indicators", () => {
    const spec: FeatureSetSpec = {
      features: [{ kind: "logret", lag: 1 }, { kind: "logret", lag: 5 }, { kind: "volatility", period: 10 }, { kind: "range" }, { kind: "indicator", spec: { kind: "rsi", period: 14 } }, { kind: "indicator", spec: { kind: "sma", period: 20 } }],
      norm: { kind: "none" },
    };
    const m = buildFeatures(bars, spec);
    expect(m.names).toEqual(["logret(1)", "logret(5)", "vol(10)", "range", "rsi(14)", "sma(20)"]);
    const c = bars.close;
    const rsi = createIndicator({ kind: "rsi", period: 14 });
    const sma = createIndicator({ kind: "sma", period: 20 });
    const rsiV: number[] = [];
    const smaV: number[] = [];
    for (let t = 0; t < bars.length; t++) {
      rsiV.push(rsi.update(c[t]!));
      smaV.push(sma.update(c[t]!));
    }
    expect(m.validFrom).toBe(Math.max(5, 10, 14, 19));
    for (const t of [m.validFrom, 100, 777, 1999]) {
      const row = m.data.subarray(t * m.width, (t + 1) * m.width);
      expect(row[0]).toBeCloseTo(Math.log(c[t]! / c[t - 1]!), 6);
      expect(row[1]).toBeCloseTo(Math.log(c[t]! / c[t - 5]!), 6);
      const r = Array.from({ length: 10 }, (_, k) => Math.log(c[t - k]! / c[t - k - 1]!));
      const mean = r.reduce((a, b) => a + b, 0) / 10;
      const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / 9);
      expect(row[2]).toBeCloseTo(sd, 6);
      expect(row[3]).toBeCloseTo(Math.log(bars.high[t]! / bars.low[t]!), 6);
      expect(row[4]).toBeCloseTo(rsiV[t]!, 4);
      expect(row[5]).toBeCloseTo(Math.log(c[t]! / smaV[t]!), 6);
    }
    // rows before the warm-up are zero
    expect(Array.from(m.data.subarray(0, m.validFrom * m.width)).every((x) => x === 0)).toBe(true);
  });

  it("normalises with past statistics only (expanding mean and variance up to t)", () => {
    const spec: FeatureSetSpec = { features: [{ kind: "logret", lag: 1 }], norm: { kind: "expanding", minCount: 30 }, clip: 100 };
    const m = buildFeatures(bars, spec);
    expect(m.validFrom).toBe(1 + 29);
    const c = bars.close;
    for (const t of [30, 500, 1999]) {
      const xs: number[] = [];
      for (let k = 1; k <= t; k++) xs.push(Math.log(c[k]! / c[k - 1]!));
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
      expect(m.data[t]).toBeCloseTo((xs[xs.length - 1]! - mean) / sd, 5);
    }
    // changing the future leaves the past untouched
    const b2 = syntheticBars(2000, { seed: 3 });
    for (let t = 1500; t < 2000; t++) {
      b2.close[t] = b2.close[t]! * 1.5;
      b2.high[t] = b2.high[t]! * 1.5;
      b2.open[t] = b2.open[t]! * 1.5;
      b2.low[t] = b2.low[t]! * 1.5;
    }
    const m2 = buildFeatures(b2, defaultFeatureSet());
    const m1 = buildFeatures(bars, defaultFeatureSet());
    expect(Array.from(m2.data.subarray(0, 1500 * m1.width))).toEqual(Array.from(m1.data.subarray(0, 1500 * m1.width)));
    expect(Array.from(m2.data.subarray(1500 * m1.width))).not.toEqual(Array.from(m1.data.subarray(1500 * m1.width)));
  });

  it("fixed normalisation uses the given training span's statistics", () => {
    const spec: FeatureSetSpec = { features: [{ kind: "range" }], norm: { kind: "fixed", from: 0, to: 1000 }, clip: 100 };
    const m = buildFeatures(bars, spec);
    const xs = Array.from({ length: 1000 }, (_, t) => Math.log(bars.high[t]! / bars.low[t]!));
    const mean = xs.reduce((a, b) => a + b, 0) / 1000;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / 1000);
    expect(m.stats!.mean[0]).toBeCloseTo(mean, 12);
    expect(m.data[1500]).toBeCloseTo((Math.log(bars.high[1500]! / bars.low[1500]!) - mean) / sd, 5);
  });

  it("time of day: sin/cos of the local wall clock", () => {
    const b = syntheticBars(10, { seed: 1, barMs: 3_600_000 });
    // 2024-01-01 00:00 UTC = 19:00 the day before in New York (EST, UTC-5)
    const m = buildFeatures(b, { features: [{ kind: "time_of_day", timeZone: "America/New_York" }], norm: { kind: "expanding" } });
    expect(m.names).toEqual(["tod.sin", "tod.cos"]);
    expect(m.validFrom).toBe(0); // not normalised
    const frac = 19 / 24;
    expect(m.data[0]).toBeCloseTo(Math.sin(2 * Math.PI * frac), 6);
    expect(m.data[1]).toBeCloseTo(Math.cos(2 * Math.PI * frac), 6);
  });

  it("a non-finite value after the warm-up stops the build naming the feature and the bar", () => {
    const b = syntheticBars(300, { seed: 2 });
    b.close[200] = 0;
    b.low[200] = 0;
    let err: unknown;
    try {
      buildFeatures(b, { features: [{ kind: "range" }, { kind: "logret", lag: 1 }], norm: { kind: "none" } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FeatureError);
    const fe = err as FeatureError;
    expect(fe.feature).toBe("range");
    expect(fe.bar).toBe(200);
    expect(fe.message).toContain("bar 200 (2024-01-01T03:20:00.000Z)");
    // and the dataset refuses such bars with a field-level message
    expect(() => buildDataset(b, { instrument: { symbol: "X", tickSize: 0.25, pointValue: 1, currency: "USD" }, barMs: 60_000 }, { features: [{ kind: "range" }] })).toThrow(/bars.200: bar 200 .*prices must be finite and > 0/);
  });

  it("invalid feature specs come back field by field", () => {
    const errs = validateFeatureSet({
      features: [{ kind: "logret", lag: 0 }, { kind: "volatility", period: 1 }, { kind: "indicator", spec: { kind: "macd", fast: 12, slow: 26, signal: 9 }, output: "nope" }, { kind: "time_of_day", timeZone: "Mars/Base" }],
      norm: { kind: "ewm", halflife: -1 },
      clip: 0,
    });
    expect(errs.map((e) => e.field)).toEqual(["features.0.lag", "features.1.period", "features.2.output", "features.3.timeZone", "norm.halflife", "clip"]);
  });
});

describe("prng", () => {
  it("is deterministic, seed-sensitive and roughly uniform", () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xa = Array.from({ length: 100 }, () => a.u32());
    expect(Array.from({ length: 100 }, () => b.u32())).toEqual(xa);
    expect(Array.from({ length: 100 }, () => c.u32())).not.toEqual(xa);
    const s = new Uint32Array(8);
    seedStream(s, 0, 1);
    seedStream(s, 1, 1);
    expect(nextFloat(s, 0)).not.toBe(nextFloat(s, 1));
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[nextInt(s, 0, 7)]++;
    for (const k of counts) expect(Math.abs(k - 10_000)).toBeLessThan(400);
    // large ranges take the other branch
    for (let i = 0; i < 1000; i++) {
      const v = nextInt(s, 1, 3_000_000_000);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(3_000_000_000);
    }
  });
});
