import { describe, expect, it } from "vitest";
import { computeMetrics } from "../../core/metrics";
import { buildDataset } from "./dataset";
import { defaultFeatureSet } from "./features";
import { runBaselines } from "./baselines";
import { assertSplit, sampleLabel, splitByDates, splitByTime, SplitError, walkForwardFolds } from "./split";
import { syntheticBars } from "./testdata";

describe("time splits", () => {
  it("train | embargo | validation | embargo | test, in time order, test = the most recent bars", () => {
    const s = splitByTime(10_000, { train: 0.6, validation: 0.2, test: 0.2, embargo: 32, start: 100 });
    expect(s.train.from).toBe(100);
    expect(s.validation.from).toBe(s.train.to + 32);
    expect(s.test.from).toBeGreaterThanOrEqual(s.validation.to + 32);
    expect(s.test.to).toBe(10_000);
    expect(sampleLabel(s, s.test)).toBe("out-of-sample");
    expect(sampleLabel(s, s.validation)).toBe("in-sample");
    expect(sampleLabel(s, s.train)).toBe("in-sample");
  });

  it("walk-forward folds stay inside train + validation and never touch the test span", () => {
    const s = splitByTime(10_000, { train: 0.6, validation: 0.2, test: 0.2, embargo: 16 });
    for (const anchored of [true, false]) {
      const folds = walkForwardFolds(s, { folds: 4, anchored });
      expect(folds.length).toBe(4);
      for (const f of folds) {
        expect(f.train.to + 16).toBeLessThanOrEqual(f.validation.from);
        expect(f.validation.to).toBeLessThanOrEqual(s.test.from - 16);
        expect(f.train.from).toBeGreaterThanOrEqual(s.train.from);
      }
      expect(folds[3]!.validation.to).toBe(s.validation.to);
      if (anchored) expect(folds.every((f) => f.train.from === s.train.from)).toBe(true);
      else expect(folds[2]!.train.from).toBeGreaterThan(s.train.from);
    }
  });

  it("refuses splits that overlap or leave too little data, naming the field", () => {
    expect(() => splitByTime(1000, { train: 0.7, validation: 0.3, test: 0.2 })).toThrow(SplitError);
    try {
      splitByTime(20, { train: 0.5, validation: 0.2, test: 0.05, embargo: 2 });
    } catch (e) {
      expect((e as SplitError).field).toBe("test");
    }
    expect(() => assertSplit({ train: { from: 0, to: 100 }, validation: { from: 90, to: 150 }, test: { from: 150, to: 200 }, embargo: 0 })).toThrow(/validation/);
    expect(() => assertSplit({ train: { from: 0, to: 100 }, validation: { from: 100, to: 150 }, test: { from: 140, to: 200 }, embargo: 0 })).toThrow(/test/);
    const ts = new Float64Array(100).map((_, i) => i * 1000);
    const d = splitByDates(ts, 100, { trainEnd: 50_000, validationEnd: 75_000, embargo: 5 });
    expect(d).toEqual({ train: { from: 0, to: 50 }, validation: { from: 55, to: 75 }, test: { from: 80, to: 100 }, embargo: 5 });
  });
});

describe("baselines on a span", () => {
  const bars = syntheticBars(4000, { seed: 5 });
  const ds = buildDataset(bars, { instrument: { symbol: "NQ", tickSize: 0.25, pointValue: 20, currency: "USD", marginPerContract: 19_000 }, commission: { kind: "per_contract", amount: 2.25 }, slippage: { kind: "ticks", ticks: 1 }, barMs: 60_000 }, defaultFeatureSet());
  const split = splitByTime(ds.length, { train: 0.6, validation: 0.2, test: 0.2, embargo: 16 });

  it("flat, buy-and-hold and SMA crossover with the backtests' metric set, labelled", () => {
    const res = runBaselines(ds, split.test, { cash: 100_000, contractSize: 1, label: sampleLabel(split, split.test) });
    expect(res.map((r) => r.name)).toEqual(["flat", "buy-and-hold", "sma-cross"]);
    const keys = Object.keys(computeMetrics({ initialCash: 1, ts: new Float64Array([0, 1]), equity: new Float64Array([1, 1]), exposure: new Uint8Array(2), barMs: 60_000, trades: [] })).sort();
    for (const r of res) {
      expect(r.label).toBe("out-of-sample");
      expect(Object.keys(r.metrics).sort()).toEqual(keys);
      expect(r.metrics.bars).toBe(split.test.to - split.test.from);
    }
    const [flat, bh, sma] = res as [(typeof res)[0], (typeof res)[0], (typeof res)[0]];
    expect(flat.finalValue).toBe(100_000);
    expect(flat.metrics.totalReturn).toBe(0);
    // buy-and-hold: bought at the second bar's open plus one tick, marked at the last close, one commission
    const { from, to } = split.test;
    const expected = 100_000 + (bars.close[to - 1]! - (bars.open[from + 1]! + 0.25)) * 20 - 2.25;
    expect(bh.finalValue).toBeCloseTo(expected, 9);
    expect(bh.fills).toBe(1);
    expect(sma.fills).toBeGreaterThan(5);
    expect(sma.metrics.trades).toBeGreaterThan(2);
  });
});
