import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PreparedBacktest, prepareBacktest, UNIT_INSTRUMENT } from "../backtest/runner";
import { runBacktest } from "../core/backtest";
import type { IndicatorHandle } from "../core/indicator-registry";
import { computeMetrics } from "../core/metrics";
import type { Strategy, StrategyContext } from "../core/ports";
import { findStrategy } from "../core/strategies/builtin";
import { inProcessEvaluator } from "./pool";
import { autoWarmup, OptimizeInputError } from "./search";
import { buildSpace } from "./space";
import { randomWalkFixture } from "./test-data";
import { evaluateTrial, type TrialBase, WarmupGate } from "./trial";
import { type FoldPlan, planFolds, walkForward, type WalkForwardContext } from "./walk-forward";

let fixture: { dir: string } | undefined;
let prepared: PreparedBacktest;
let base: TrialBase;

beforeAll(async () => {
  const fx = (fixture = await randomWalkFixture(20_000, 9, { params: { mode: "long_short" } }));
  prepared = await prepareBacktest(fx.backtest);
  const { create: _c, dataInfo: _d, ...rest } = prepared;
  base = rest;
});

afterAll(() => {
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

function fieldOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof OptimizeInputError) return e.field;
    throw e;
  }
  throw new Error("did not throw");
}

/** The properties every plan must have. */
function checkPlan(folds: FoldPlan[], from: number, to: number, tiles = true) {
  expect(folds.length).toBeGreaterThan(0);
  folds.forEach((f, i) => {
    expect(f.index).toBe(i);
    expect(f.inSample.from).toBeGreaterThanOrEqual(from);
    expect(f.inSample.from).toBeLessThan(f.inSample.to);
    expect(f.outOfSample.from).toBeLessThan(f.outOfSample.to);
    // a fold's IS and OOS windows do not overlap: OOS starts where IS ends (no look-ahead, no gap)
    expect(f.inSample.to).toBe(f.outOfSample.from);
    if (i > 0) {
      const prev = folds[i - 1]!;
      if (tiles) expect(f.outOfSample.from).toBe(prev.outOfSample.to); // OOS windows tile, no overlap
      else expect(f.outOfSample.from).toBeGreaterThanOrEqual(prev.outOfSample.to);
    }
  });
  expect(folds.at(-1)!.outOfSample.to).toBe(to); // the tail
}

describe("fold planning", () => {
  it("rolls fixed windows that tile the tail", () => {
    const f = planFolds(100, 1100, { inSampleBars: 300, outOfSampleBars: 100 });
    checkPlan(f, 100, 1100);
    expect(f.length).toBe(7); // (1000 - 300 - 100) / 100 + 1
    expect(f[0]).toEqual({ index: 0, inSample: { from: 100, to: 400 }, outOfSample: { from: 400, to: 500 } });
    expect(f.every((x) => x.inSample.to - x.inSample.from === 300 && x.outOfSample.to - x.outOfSample.from === 100)).toBe(true);
  });

  it("aligns to the end and leaves the remainder at the start", () => {
    const f = planFolds(0, 1055, { inSampleBars: 300, outOfSampleBars: 100, folds: 3 });
    checkPlan(f, 0, 1055);
    expect(f[0]!.inSample.from).toBe(1055 - 300 - 300);
  });

  it("anchors the in-sample start when asked", () => {
    const f = planFolds(0, 1000, { inSampleBars: 400, outOfSampleBars: 150, anchored: true });
    checkPlan(f, 0, 1000);
    expect(new Set(f.map((x) => x.inSample.from)).size).toBe(1);
    expect(f[0]!.inSample.to - f[0]!.inSample.from).toBe(400);
    expect(f.at(-1)!.inSample.to - f.at(-1)!.inSample.from).toBe(400 + 150 * (f.length - 1));
  });

  it("derives the windows from a fold count", () => {
    const a = planFolds(0, 20_000, { folds: 4 }); // OOS = 20000 / 7, IS = 3 x OOS
    checkPlan(a, 0, 20_000);
    expect(a.length).toBe(4);
    expect(a[0]!.outOfSample.to - a[0]!.outOfSample.from).toBe(2857);
    expect(a[0]!.inSample.to - a[0]!.inSample.from).toBe(3 * 2857);
    const b = planFolds(0, 10_000, { folds: 5, inSampleBars: 5000 });
    checkPlan(b, 0, 10_000);
    expect(b[0]!.outOfSample.to - b[0]!.outOfSample.from).toBe(1000);
    const c = planFolds(0, 10_000, { folds: 5, outOfSampleBars: 1000 });
    checkPlan(c, 0, 10_000);
    expect(c[0]!.inSample).toEqual({ from: 0, to: 5000 });
  });

  it("leaves gaps with a step longer than the out-of-sample window", () => {
    const f = planFolds(0, 2000, { inSampleBars: 500, outOfSampleBars: 100, stepBars: 250 });
    checkPlan(f, 0, 2000, false);
    expect(f[1]!.outOfSample.from - f[0]!.outOfSample.from).toBe(250);
  });

  it("names the field of bad settings", () => {
    expect(fieldOf(() => planFolds(0, 1000, {}))).toBe("walkForward");
    expect(fieldOf(() => planFolds(0, 1000, { inSampleBars: 300, outOfSampleBars: 100, stepBars: 50 }))).toBe("walkForward.stepBars");
    expect(fieldOf(() => planFolds(0, 1000, { inSampleBars: 300, outOfSampleBars: 100, folds: 9 }))).toBe("walkForward");
    expect(() => planFolds(0, 1000, { inSampleBars: 300, outOfSampleBars: 100, folds: 9 })).toThrow(/need 1200 bars; the range has 1000/);
    expect(fieldOf(() => planFolds(0, 1000, { inSampleBars: 1, outOfSampleBars: 100 }))).toBe("walkForward.inSampleBars");
    expect(fieldOf(() => planFolds(0, 1000, { folds: 0 }))).toBe("walkForward.folds");
    expect(fieldOf(() => planFolds(0, 10, { folds: 8 }))).toBe("walkForward.outOfSampleBars");
    expect(fieldOf(() => planFolds(0, 1000, { folds: 2, stepBars: 10 }))).toBe("walkForward.stepBars");
  });
});

/** Records the slow SMA's value at the strategy's first onBar. */
class Probe implements Strategy {
  readonly name = "probe";
  sma!: IndicatorHandle;
  first: { count: number; value: number } | null = null;
  onStart(ctx: StrategyContext) {
    this.sma = ctx.data.indicator({ kind: "sma", period: 20 });
  }
  onBar(ctx: StrategyContext) {
    this.first ??= { count: ctx.data.count, value: this.sma.value };
  }
}

describe("indicator warm-up", () => {
  it("feeds the bars before the window to the indicators but not to onBar", () => {
    const run = (w: number) => {
      const probe = new Probe();
      runBacktest(prepared.bars, { instrument: UNIT_INSTRUMENT, strategy: w ? new WarmupGate(probe, w) : probe, cash: 1000, barMs: 60_000, from: 1000 - w, to: 1100 });
      return probe.first!;
    };
    expect(run(0).value).toBeNaN(); // cold: the SMA needs 20 bars
    const warm = run(50);
    expect(warm.count).toBe(51); // first onBar on the window's first bar
    let s = 0;
    for (let i = 981; i <= 1000; i++) s += prepared.bars.close[i]!;
    expect(warm.value).toBeCloseTo(s / 20, 9);
  });

  it("trades only inside the window and measures only the window", () => {
    const range = { from: 5000, to: 6000 };
    const warm = evaluateTrial(base, { params: { fast: 5, slow: 20 }, range, warmupBars: 100, keepCurve: true });
    const cold = evaluateTrial(base, { params: { fast: 5, slow: 20 }, range, keepCurve: true });
    if (!warm.ok || !cold.ok) throw new Error("trial failed");
    expect(warm.metrics.bars).toBe(1000);
    expect(warm.curve!.ts[0]).toBe(prepared.bars.ts[5000]);
    expect(warm.curve!.trades.every((t) => t.entryTs >= prepared.bars.ts[5000]!)).toBe(true);
    // warm indicators can trade in the first 20 bars; cold ones cannot
    expect(cold.curve!.trades.every((t) => t.entryTs >= prepared.bars.ts[5020]!)).toBe(true);
    expect(warm.metrics).not.toEqual(cold.metrics);
    // the warm-up is capped at the bars that exist
    const early = evaluateTrial(base, { params: { fast: 5, slow: 20 }, range: { from: 10, to: 500 }, warmupBars: 100 });
    expect(early.ok && early.metrics.bars).toBe(490);
    expect(autoWarmup("sma-cross", { fast: 5, slow: 20, size: 1, mode: "long_only" })).toBe(100);
  });
});

describe("walk-forward analysis", () => {
  function wctx(): WalkForwardContext {
    return {
      space: buildSpace(findStrategy("sma-cross"), { fast: [2, 5, 10], slow: [20, 40] }, prepared.params),
      evaluator: inProcessEvaluator(base),
      objective: "sharpe",
      buckets: 100,
      pboBlocks: 8,
      barMs: prepared.barMs,
      calendar: prepared.calendar,
      warmupBars: "auto",
      from: prepared.from,
      to: prepared.to,
      ts: prepared.bars.ts,
      cash: prepared.config.cash,
    };
  }

  it("optimises each in-sample window, trades its best on the next window and stitches the out-of-sample curve", async () => {
    const r = await walkForward(wctx(), { inSampleBars: 5000, outOfSampleBars: 3000, optimizer: "grid" });
    expect(r.folds.length).toBe(5);
    checkPlan(
      r.folds.map((f) => ({ index: f.index, inSample: { from: f.inSample.from, to: f.inSample.to }, outOfSample: { from: f.outOfSample.from, to: f.outOfSample.to } })),
      0,
      20_000,
    );
    expect(r.trials.length).toBe(5 * 6);
    expect(new Set(r.trials.map((t) => t.id)).size).toBe(30);
    const cash = prepared.config.cash;
    let prevEnd = cash;
    let k = 0;
    for (const f of r.folds) {
      expect(f.error).toBeUndefined();
      // the chosen params are the in-sample best, with its in-sample metrics
      const isTrials = r.trials.filter((t) => t.fold === f.index);
      expect(f.inSample.metrics!.sharpe).toBe(Math.max(...isTrials.map((t) => t.metrics!.sharpe)));
      expect(f.inSample.trials).toBe(6);
      expect(f.overfit.deflatedSharpe!.trials).toBe(6);
      expect(f.inSample.startTs).toBe(prepared.bars.ts[f.inSample.from]);
      // the OOS run is the same trial run on its own
      const w = autoWarmup("sma-cross", { ...prepared.params, ...f.params! });
      const oos = evaluateTrial(base, { params: f.params!, range: { from: f.outOfSample.from, to: f.outOfSample.to }, warmupBars: w, keepCurve: true });
      if (!oos.ok) throw new Error(oos.error);
      expect(f.outOfSample.metrics).toEqual(oos.metrics);
      // stitched = previous window's end + (this window's equity - cash)
      const e = oos.curve!.equity;
      for (let i = 0; i < e.length; i++, k++) {
        expect(r.outOfSample.curve.ts[k]).toBe(oos.curve!.ts[i]);
        expect(r.outOfSample.curve.equity[k]).toBeCloseTo(prevEnd + e[i]! - cash, 6);
      }
      prevEnd += e[e.length - 1]! - cash;
    }
    expect(k).toBe(15_000);
    const c = r.outOfSample.curve;
    // the first point continues from the initial cash: its return is the first window's first-bar return
    const first = evaluateTrial(base, { params: r.folds[0]!.params!, range: { from: 5000, to: 8000 }, warmupBars: autoWarmup("sma-cross", { ...prepared.params, ...r.folds[0]!.params! }), keepCurve: true });
    if (!first.ok) throw new Error(first.error);
    expect(c.equity[0]).toBe(first.curve!.equity[0]);
    expect(c.equity[0]! / cash - 1).toBe(first.curve!.equity[0]! / cash - 1);
    // metrics of the stitched curve
    const m = r.outOfSample.metrics!;
    expect(m).toEqual(computeMetrics({ initialCash: cash, ts: c.ts, equity: c.equity, exposure: c.exposure, barMs: 60_000, calendar: "24x7", trades: c.trades }));
    expect(m.bars).toBe(15_000);
    expect(m.finalEquity).toBeCloseTo(prevEnd, 6);
    expect(m.trades).toBe(r.folds.reduce((a, f) => a + f.outOfSample.metrics!.trades, 0));
    expect(r.inSample.folds).toBe(5);
    expect(r.inSample.meanSharpe).toBeCloseTo(r.folds.reduce((a, f) => a + f.inSample.metrics!.sharpe, 0) / 5, 12);
    expect(r.stopped).toBe(false);
  });

  it("runs with the genetic optimiser, one seed per fold, repeatably", async () => {
    const genetic = { population: 6, generations: 2, mutationRate: 0.3, crossoverRate: 0.9, elite: 2, seed: 3 };
    const c = { ...wctx(), space: buildSpace(findStrategy("sma-cross"), { fast: { min: 2, max: 30 }, slow: { min: 10, max: 120, step: 10 } }, prepared.params) };
    const a = await walkForward(c, { folds: 3, optimizer: "genetic", genetic });
    const b = await walkForward({ ...c, evaluator: inProcessEvaluator(base) }, { folds: 3, optimizer: "genetic", genetic });
    expect(a.folds.length).toBe(3);
    expect(b.folds).toEqual(a.folds);
    expect(Array.from(b.outOfSample.curve.equity)).toEqual(Array.from(a.outOfSample.curve.equity));
  });
});
