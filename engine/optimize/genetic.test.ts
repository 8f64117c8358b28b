import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PreparedBacktest, prepareBacktest } from "../backtest/runner";
import { findStrategy } from "../core/strategies/builtin";
import { crowdingDistance, type GeneticOptions, geneticSearch, nonDominatedSort, nsgaOrder, paretoFront } from "./genetic";
import { inProcessEvaluator } from "./pool";
import type { SearchContext, Trial } from "./search";
import { buildSpace, type SpaceSpec } from "./space";
import { randomWalkFixture } from "./test-data";
import type { TrialMetrics } from "./trial";

let fixture: { dir: string } | undefined;
let prepared: PreparedBacktest;

beforeAll(async () => {
  const fx = (fixture = await randomWalkFixture(20_000, 5));
  prepared = await prepareBacktest(fx.backtest);
});

afterAll(() => {
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

const SPACE = { fast: { min: 2, max: 60 }, slow: { min: 10, max: 300, step: 5 }, mode: ["long_only", "long_short"] };
const OPTS: GeneticOptions = { population: 12, generations: 4, mutationRate: 0.3, crossoverRate: 0.9, elite: 3, seed: 7 };

function ctx(space: SpaceSpec = SPACE): SearchContext {
  const { create: _c, dataInfo: _d, ...base } = prepared;
  return { space: buildSpace(findStrategy("sma-cross"), space, prepared.params), evaluator: inProcessEvaluator(base), objective: "sharpe", buckets: 100, pboBlocks: 8, barMs: prepared.barMs, calendar: prepared.calendar };
}

const m = (sharpe: number, maxDrawdownPct: number): TrialMetrics => ({ sharpe, maxDrawdownPct, sortino: 0, totalReturn: 0, trades: 1, profitFactor: 1, profitFactorInfinite: false, finalValue: 1, bars: 1 });
const t = (id: number, sharpe: number, dd: number): Trial => ({ id, params: {}, ok: true, metrics: m(sharpe, dd), objective: sharpe });
const dominates = (a: Trial, b: Trial) => a.metrics!.sharpe >= b.metrics!.sharpe && a.metrics!.maxDrawdownPct <= b.metrics!.maxDrawdownPct && (a.metrics!.sharpe > b.metrics!.sharpe || a.metrics!.maxDrawdownPct < b.metrics!.maxDrawdownPct);

describe("NSGA-II building blocks", () => {
  it("sorts points into non-dominated fronts (minimising)", () => {
    const f = [
      [1, 5],
      [2, 2],
      [5, 1],
      [3, 3], // dominated by [2, 2]
      [6, 6], // dominated by all of front 0 and [3, 3]
      [2, 2], // equal to [1]: neither dominates
    ];
    const { rank, fronts } = nonDominatedSort(f);
    expect([...rank]).toEqual([0, 0, 0, 1, 2, 0]);
    expect(fronts).toEqual([[0, 1, 2, 5], [3], [4]]);
  });

  it("gives a front's extremes infinite crowding distance and orders by rank then crowding", () => {
    const f = [
      [0, 4],
      [1, 2],
      [2, 1.5],
      [4, 0],
    ];
    const { fronts } = nonDominatedSort(f);
    const d = crowdingDistance(f, fronts);
    expect(d[0]).toBe(Infinity);
    expect(d[3]).toBe(Infinity);
    // [1, 2]: (2 - 0) / 4 + (4 - 1.5) / 4 = 1.125; [2, 1.5]: (4 - 1) / 4 + (2 - 0) / 4 = 1.25
    expect(d[1]).toBeCloseTo(1.125, 15);
    expect(d[2]).toBeCloseTo(1.25, 15);
    expect(nsgaOrder([...f, [5, 5]])).toEqual([0, 3, 2, 1, 4]);
  });

  it("finds the Pareto front of (max Sharpe, min drawdown), ties kept", () => {
    const trials = [t(0, 1, 0.1), t(1, 2, 0.2), t(2, 2, 0.3), t(3, 0.5, 0.1), t(4, 3, 0.5), t(5, 3, 0.5), t(6, 0, 0.05), { id: 7, params: {}, ok: false, metrics: null, objective: null }];
    expect(paretoFront(trials).map((x) => x.id)).toEqual([4, 5, 1, 0, 6]);
  });
});

describe("genetic search", () => {
  it("is deterministic for a seed and differs for another", async () => {
    const a = await geneticSearch(ctx(), OPTS);
    const b = await geneticSearch(ctx(), OPTS);
    expect(b.trials).toEqual(a.trials);
    expect(b.generations).toEqual(a.generations);
    expect(b.pareto).toEqual(a.pareto);
    const c = await geneticSearch(ctx(), { ...OPTS, seed: 8 });
    expect(c.trials.map((x) => x.params)).not.toEqual(a.trials.map((x) => x.params));
  });

  it("returns a non-dominated Pareto front that holds the best-Sharpe trial", async () => {
    const r = await geneticSearch(ctx(), OPTS);
    const ok = r.trials.filter((x) => x.ok);
    expect(r.pareto.length).toBeGreaterThan(0);
    for (const p of r.pareto) for (const q of ok) expect(dominates(q, p), `${q.id} dominates front member ${p.id}`).toBe(false);
    const ids = new Set(r.pareto.map((x) => x.id));
    for (const q of ok) if (!ids.has(q.id)) expect(r.pareto.some((p) => dominates(p, q)), `trial ${q.id} off the front but not dominated`).toBe(true);
    const maxSharpe = Math.max(...ok.map((x) => x.metrics!.sharpe));
    expect(r.pareto.some((p) => p.metrics!.sharpe === maxSharpe)).toBe(true);
    expect(r.best!.metrics!.sharpe).toBe(maxSharpe);
    const minDd = Math.min(...ok.map((x) => x.metrics!.maxDrawdownPct));
    expect(r.pareto.some((p) => p.metrics!.maxDrawdownPct === minDd)).toBe(true);
  });

  it("evaluates each parameter set once, only valid ones, and reports every generation", async () => {
    const r = await geneticSearch(ctx(), OPTS);
    const keys = r.trials.map((x) => JSON.stringify(x.params));
    expect(new Set(keys).size).toBe(keys.length);
    expect(r.trials.every((x) => (x.params.fast as number) < (x.params.slow as number))).toBe(true);
    expect(r.generations.map((g) => g.generation)).toEqual([0, 1, 2, 3, 4]);
    expect(r.generations.reduce((a, g) => a + g.evaluated, 0)).toBe(r.evaluations);
    expect(r.generations.reduce((a, g) => a + g.evaluated + g.cached, 0)).toBe(OPTS.population * (OPTS.generations + 1));
    // the best objective so far never gets worse
    const best = r.generations.map((g) => g.bestObjective!);
    for (let i = 1; i < best.length; i++) expect(best[i]!).toBeGreaterThanOrEqual(best[i - 1]!);
    expect(r.overfit.deflatedSharpe!.trials).toBe(r.evaluations);
    expect(r.overfit.pbo!.trials).toBe(r.evaluations);
  });

  it("serves repeated points of a small space from the cache", async () => {
    // fast in {2, 4, 6} x slow in {5, 10}: 5 valid points (6 >= 5 is rejected)
    const r = await geneticSearch(ctx({ fast: [2, 4, 6], slow: [5, 10] }), { ...OPTS, population: 8, generations: 3 });
    expect(r.evaluations).toBe(5);
    expect(r.cacheHits).toBe(8 * 4 - 5);
    expect(new Set(r.trials.map((x) => JSON.stringify(x.params))).size).toBe(5);
  });
});
