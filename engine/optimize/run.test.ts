import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OptimizeInputError, type OptimizeProgress, runOptimization } from "./run";
import { randomWalkFixture } from "./test-data";

let fixture: { dir: string } | undefined;
let backtest: Record<string, unknown>;

beforeAll(async () => {
  backtest = (fixture = await randomWalkFixture(20_000, 21, { params: { mode: "long_short" } })).backtest;
});

afterAll(() => {
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

async function fieldOf(job: unknown): Promise<string> {
  try {
    await runOptimization(job);
  } catch (e) {
    if (e instanceof OptimizeInputError) return e.field;
    throw e;
  }
  throw new Error("did not throw");
}

const SPACE = { fast: { min: 2, max: 12, step: 2 }, slow: [10, 30, 60] };

describe("runOptimization: job validation", () => {
  it("names the bad field", async () => {
    expect(await fieldOf({ kind: "anneal", backtest, space: SPACE })).toBe("kind");
    expect(await fieldOf({ kind: "grid", backtest: { ...backtest, cash: -1 }, space: SPACE })).toBe("backtest.cash");
    expect(await fieldOf({ kind: "grid", backtest: { ...backtest, data: { kind: "csv", path: "/nope.csv" } }, space: SPACE })).toBe("backtest.data");
    expect(await fieldOf({ kind: "grid", backtest: { ...backtest, strategy: "builder:x" }, space: SPACE })).toBe("backtest.strategy");
    expect(await fieldOf({ kind: "grid", backtest: { ...backtest, strategy: "model:x", params: {} }, space: SPACE })).toBe("backtest.strategy");
    expect(await fieldOf({ kind: "grid", backtest: { ...backtest, params: { fast: 0 } }, space: SPACE })).toBe("backtest.params.fast");
    expect(await fieldOf({ kind: "grid", backtest, space: { nope: [1] } })).toBe("space.nope");
    expect(await fieldOf({ kind: "grid", backtest, space: { fast: { min: 1, max: 200 }, slow: { min: 2, max: 200 } } })).toBe("space");
    expect(await fieldOf({ kind: "grid", backtest, space: { fast: [50], slow: [10] } })).toBe("space");
    expect(await fieldOf({ kind: "grid", backtest, space: SPACE, objective: "luck" })).toBe("objective");
    expect(await fieldOf({ kind: "grid", backtest, space: SPACE, heatmap: { x: "size" } })).toBe("heatmap.x");
    expect(await fieldOf({ kind: "walk_forward", backtest, space: SPACE })).toBe("walkForward");
    expect(await fieldOf({ kind: "walk_forward", backtest, space: SPACE, walkForward: { folds: 5000 } })).toBe("walkForward.folds");
    expect(await fieldOf({ kind: "walk_forward", backtest, space: SPACE, walkForward: { inSampleBars: 15_000, outOfSampleBars: 6000 } })).toBe("walkForward");
    expect(await fieldOf({ kind: "genetic", backtest, space: SPACE, genetic: { population: 8, elite: 9 } })).toBe("genetic.elite");
    expect(await fieldOf({ kind: "genetic", backtest, space: SPACE, genetic: { population: 2 } })).toBe("genetic.population");
    expect(await fieldOf({ kind: "grid", backtest, space: SPACE, overfit: { blocks: 5 } })).toBe("overfit.blocks");
    expect(await fieldOf({ kind: "grid", backtest, space: SPACE, surprise: 1 })).toBe("job");
  });
});

describe("runOptimization", () => {
  it("grid: trials, best, heatmap, overfit stats, progress; JSON-safe", async () => {
    const progress: OptimizeProgress[] = [];
    const r = await runOptimization({ kind: "grid", backtest, space: SPACE, workers: 0 }, {}, { onProgress: (p) => progress.push(p) });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(r).toMatchObject({ kind: "grid", strategy: { id: "sma-cross" }, objective: "sharpe", better: "higher", workers: 0, total: 16, skipped: 2, stopped: false });
    expect(r.fixedParams).toEqual({ size: 1, mode: "long_short" });
    expect(r.trials.length).toBe(16); // 6 x 3 points, fast 10 and 12 >= slow 10 skipped
    expect(r.best!.objective).toBe(Math.max(...r.trials.map((t) => t.objective!)));
    expect(r.heatmap!.x.param).toBe("fast");
    expect(r.heatmap!.y!.param).toBe("slow");
    expect(r.overfit.deflatedSharpe!.trials).toBe(16);
    expect(r.overfit.pbo!.trials).toBe(16);
    expect(r.data).toMatchObject({ bars: 20_000, barMs: 60_000, firstTs: Date.UTC(2024, 0, 1) });
    expect(progress.length).toBeGreaterThanOrEqual(16);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.done).toBeGreaterThanOrEqual(progress[i - 1]!.done);
    expect(progress.at(-1)).toMatchObject({ done: 16, total: 16, best: { params: r.best!.params, objective: r.best!.objective } });
  });

  it("genetic: the same result on worker threads as in-process", async () => {
    const job = { kind: "genetic", backtest, space: { fast: { min: 2, max: 40 }, slow: { min: 10, max: 200, step: 10 } }, genetic: { population: 8, generations: 2, seed: 4 } };
    const a = await runOptimization({ ...job, workers: 0 });
    const b = await runOptimization({ ...job, workers: 2 });
    expect(b.workers).toBe(2);
    expect(b.workersFallback).toBeUndefined();
    const strip = (r: typeof a) => ({ ...r, elapsedMs: 0, workers: 0 });
    expect(strip(b)).toEqual(strip(a));
    expect(a.pareto!.length).toBeGreaterThan(0);
    expect(a.generations!.length).toBe(3);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it("walk-forward: folds with inSample / outOfSample metrics and a downsampled stitched curve", async () => {
    const r = await runOptimization({ kind: "walk_forward", backtest, space: SPACE, walkForward: { folds: 3 }, workers: 0 });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    const wf = r.walkForward!;
    expect(wf.windows).toMatchObject({ folds: 3, outOfSampleBars: 3333, inSampleBars: 9999, stepBars: 3333, anchored: false, warmupBars: "auto", optimizer: "grid" });
    expect(wf.folds.map((f) => [f.inSample.bars, f.outOfSample.bars])).toEqual([
      [9999, 3333],
      [9999, 3333],
      [9999, 3333],
    ]);
    for (const f of wf.folds) {
      expect(f.inSample.metrics).not.toBeNull();
      expect(f.outOfSample.metrics).not.toBeNull();
      expect(f.overfit.pbo).not.toBeNull();
    }
    expect(wf.outOfSample.metrics!.bars).toBe(9999);
    expect(wf.outOfSample.metrics!.initialCash).toBe(100_000);
    expect(wf.outOfSample.equity.length).toBeLessThanOrEqual(2000);
    expect(wf.outOfSample.equity.at(-1)!.equity).toBe(wf.outOfSample.metrics!.finalEquity);
    expect(wf.inSample.folds).toBe(3);
    expect(r.trials.length).toBe(3 * 16);
    expect(r.total).toBe(3 * 17); // each fold: 16 in-sample trials + 1 out-of-sample run
  });

  it("stops when asked", async () => {
    let n = 0;
    const r = await runOptimization({ kind: "grid", backtest, space: SPACE, workers: 0 }, {}, { onProgress: () => void n++, shouldStop: () => n >= 4 });
    expect(r.stopped).toBe(true);
    expect(r.trials.length).toBe(4);
  });
});
