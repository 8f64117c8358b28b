import { rmSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { executePrepared, type PreparedBacktest, prepareBacktest } from "../backtest/runner";
import { findStrategy, SmaCross } from "../core/strategies/builtin";
import { gridSearch, heatmap } from "./grid";
import { inProcessEvaluator } from "./pool";
import type { SearchContext } from "./search";
import { buildSpace, type SpaceSpec } from "./space";
import { randomWalkFixture } from "./test-data";
import type { TrialBase } from "./trial";

let fixture: { dir: string } | undefined;
let prepared: PreparedBacktest;
let base: TrialBase;

beforeAll(async () => {
  const fx = (fixture = await randomWalkFixture(20_000, 3, { params: { mode: "long_short" } }));
  prepared = await prepareBacktest(fx.backtest);
  const { create: _c, dataInfo: _d, ...rest } = prepared;
  base = rest;
});

afterAll(() => {
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

afterEach(() => vi.restoreAllMocks());

function ctx(space: SpaceSpec, over: Partial<SearchContext> = {}): SearchContext {
  return {
    space: buildSpace(findStrategy("sma-cross"), space, prepared.params),
    evaluator: inProcessEvaluator(base),
    objective: "sharpe",
    buckets: 200,
    pboBlocks: 16,
    barMs: prepared.barMs,
    calendar: prepared.calendar,
    ...over,
  };
}

describe("grid search", () => {
  it("evaluates every valid point once, skipping fast >= slow", async () => {
    const r = await gridSearch(ctx({ fast: { min: 2, max: 20, step: 2 }, slow: [10, 20, 40, 80] }));
    // 10 x 4 = 40 points; fast >= slow: slow 10 -> fast 10..20 (6), slow 20 -> fast 20 (1)
    expect(r.total).toBe(33);
    expect(r.skipped).toBe(7);
    expect(r.trials.map((t) => t.id)).toEqual(Array.from({ length: 33 }, (_, i) => i));
    expect(r.trials.every((t) => t.ok && (t.params.fast as number) < (t.params.slow as number))).toBe(true);
    expect(new Set(r.trials.map((t) => `${t.params.fast}/${t.params.slow}`)).size).toBe(33);
    expect(r.stopped).toBe(false);
  });

  it("reports the best trial: the maximum of the objective over the trials", async () => {
    const r = await gridSearch(ctx({ fast: { min: 2, max: 20, step: 2 }, slow: [10, 20, 40, 80] }));
    const max = Math.max(...r.trials.map((t) => t.metrics!.sharpe));
    expect(r.best!.metrics!.sharpe).toBe(max);
    expect(r.best!.objective).toBe(max);
    expect(r.best).toBe(r.trials.find((t) => t.metrics!.sharpe === max)); // first in grid order on ties

    const dd = await gridSearch(ctx({ fast: { min: 2, max: 20, step: 2 }, slow: [10, 20, 40, 80] }, { objective: "maxDrawdownPct" }));
    expect(dd.best!.metrics!.maxDrawdownPct).toBe(Math.min(...dd.trials.map((t) => t.metrics!.maxDrawdownPct)));
  });

  it("gives each trial exactly the metrics of a plain backtest with those parameters", async () => {
    const r = await gridSearch(ctx({ fast: [3, 7], slow: [30] }));
    for (const t of r.trials) {
      const p = await prepareBacktest({ ...prepared.config, params: { ...prepared.config.params, ...t.params } });
      const { metrics, result } = executePrepared(p);
      expect(t.metrics).toEqual({
        sharpe: metrics.sharpe,
        sortino: metrics.sortino,
        totalReturn: metrics.totalReturn,
        maxDrawdownPct: metrics.maxDrawdownPct,
        trades: metrics.trades,
        profitFactor: metrics.profitFactor,
        profitFactorInfinite: metrics.profitFactorInfinite,
        finalValue: result.finalValue,
        bars: 20_000,
      });
    }
  });

  it("computes DSR of the best and PBO across the trials", async () => {
    const r = await gridSearch(ctx({ fast: { min: 2, max: 20, step: 2 }, slow: [10, 20, 40, 80] }));
    const d = r.overfit.deflatedSharpe!;
    expect(d.trials).toBe(33);
    expect(d.n).toBe(20_000);
    expect(d.srAnnualized).toBeCloseTo(r.best!.metrics!.sharpe, 6); // same returns, same sample std
    expect(d.dsr).toBeGreaterThanOrEqual(0);
    expect(d.dsr).toBeLessThanOrEqual(d.psr);
    expect(r.overfit.pbo).toMatchObject({ trials: 33, blocks: 16, observations: 200, combinations: 12870 });
    expect(r.overfit.pbo!.pbo).toBeGreaterThanOrEqual(0);
    expect(r.overfit.pbo!.pbo).toBeLessThanOrEqual(1);
  });

  it("builds a heatmap over two parameters, best over the others, null where no trial ran", async () => {
    const c = ctx({ fast: [5, 10, 20], slow: [10, 30], mode: ["long_only", "long_short"] });
    const r = await gridSearch(c);
    const h = heatmap(c.space, r.records, "sharpe", "higher", "fast", "slow");
    expect(h.x).toEqual({ param: "fast", values: [5, 10, 20] });
    expect(h.y).toEqual({ param: "slow", values: [10, 30] });
    expect(h.z[0]![1]).toBeNull(); // fast 10, slow 10: rejected
    expect(h.z[0]![2]).toBeNull();
    const cell = r.trials.filter((t) => t.params.fast === 10 && t.params.slow === 30).map((t) => t.objective!);
    expect(cell.length).toBe(2);
    expect(h.z[1]![1]).toBe(Math.max(...cell));
    const one = heatmap(c.space, r.records, "sharpe", "higher", "mode");
    expect(one.y).toBeNull();
    expect(one.z.length).toBe(1);
  });

  it("reports a trial whose strategy throws as failed, and carries on", async () => {
    const orig = SmaCross.prototype.onBar;
    vi.spyOn(SmaCross.prototype, "onBar").mockImplementation(function (this: SmaCross, c) {
      if ((this as unknown as { p: { fast: number } }).p.fast === 4) throw new Error("boom");
      return orig.call(this, c);
    });
    const r = await gridSearch(ctx({ fast: [2, 4, 6], slow: [20, 40] }));
    expect(r.trials.length).toBe(6);
    const failed = r.trials.filter((t) => !t.ok);
    expect(failed.map((t) => t.params)).toEqual([
      { fast: 4, slow: 20 },
      { fast: 4, slow: 40 },
    ]);
    expect(failed[0]!.error).toMatch(/strategy sma-cross failed in onBar at .*: boom/);
    expect(failed[0]!.metrics).toBeNull();
    expect(r.best!.params.fast).not.toBe(4);
    expect(r.overfit.deflatedSharpe!.trials).toBe(4);
    expect(r.overfit.pbo!.trials).toBe(4);
    expect(r.overfit.notes).toContain("2 failed trial(s) left out of DSR and PBO");
  });

  it("stops when asked and says so", async () => {
    let n = 0;
    const c = ctx({ fast: { min: 2, max: 20, step: 2 }, slow: [40, 80] }, { onTrial: () => void n++, shouldStop: () => n >= 3 });
    const r = await gridSearch(c);
    expect(r.stopped).toBe(true);
    expect(r.trials.length).toBe(3);
  });
});
