import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findStrategy, resolveParams } from "@/engine/core/strategies/builtin";
import { paretoFront as enginePareto } from "@/engine/optimize/genetic";
import { OptimizationJobSchema, runOptimization } from "@/engine/optimize/run";
import { OBJECTIVES as ENGINE_OBJECTIVES } from "@/engine/optimize/search";
import { DIM_LIMIT as ENGINE_DIM_LIMIT, GRID_LIMIT as ENGINE_GRID_LIMIT, buildSpace as engineBuildSpace } from "@/engine/optimize/space";
import { randomWalkFixture } from "@/engine/optimize/test-data";
import { backtestInput, toEngineConfig } from "@/server/api/routers/backtest";
import {
  DIM_LIMIT,
  GRID_LIMIT,
  OBJECTIVES,
  type OptimizeFormValues,
  type ParamDefLike,
  type ParamSpecForm,
  type StoredResult,
  type StoredTrial,
  bestFirst,
  buildHeatmap,
  buildJob,
  buildSpace,
  defaultAxes,
  defaultSpecs,
  dimSize,
  fmtObjective,
  gridSize,
  heatCellColor,
  heatPosition,
  initialFormValues,
  listFigures,
  niceTicks,
  optErrorsFromServer,
  optFieldOf,
  optFieldOfMessage,
  orderValues,
  pageOf,
  paretoFront,
  parseResult,
  plannedTrials,
  rangeCount,
  runInputForTrial,
  sortFront,
  sortTrials,
  toJobView,
  toOptimizationView,
  trialXY,
} from "./model";

const defsOf = (id: string) => findStrategy(id).params.map((p) => ({ ...p, options: p.options ? [...p.options] : undefined })) as ParamDefLike[];
const SMA = defsOf("sma-cross");
const RSI = defsOf("rsi-reversion");
const ORB = defsOf("orb");
const PARAMS = ["fast", "slow", "size", "mode"];

const spec = (p: Partial<ParamSpecForm>): ParamSpecForm => ({ mode: "fixed", value: "", min: "", max: "", step: "", list: "", picked: [], ...p });

function form(p: Partial<OptimizeFormValues> = {}): OptimizeFormValues {
  return {
    ...initialFormValues(),
    symbol: "NQ",
    timeframe: "1h",
    strategy: "sma-cross",
    specs: {
      fast: spec({ mode: "range", min: "5", max: "20", step: "5" }),
      slow: spec({ mode: "list", list: "30, 60, 90" }),
      mode: spec({ picked: ["long_only"] }),
    },
    ...p,
  };
}

describe("constants follow the engine", () => {
  it("objectives and limits", () => {
    expect([...OBJECTIVES]).toEqual([...ENGINE_OBJECTIVES]);
    expect(GRID_LIMIT).toBe(ENGINE_GRID_LIMIT);
    expect(DIM_LIMIT).toBe(ENGINE_DIM_LIMIT);
  });
});

describe("grid size", () => {
  it("counts a range as the engine expands it", () => {
    const rsi = findStrategy("rsi-reversion");
    const cases: [number, number, number][] = [
      [0, 1, 0.1],
      [10, 40, 0.3],
      [20, 35, 0.7],
      [1, 1, 1],
      [5, 50, 5],
      [0.5, 2.25, 0.25],
      [0, 100, 3],
    ];
    for (const [min, max, step] of cases) {
      const s = engineBuildSpace(rsi, { lower: { min, max, step } }, {});
      expect(rangeCount(min, max, step), `${min}..${max} step ${step}`).toBe(s.dims[0]!.size);
    }
    expect(rangeCount(5, 1, 1)).toBeNull();
    expect(rangeCount(1, 5, 0)).toBeNull();
    expect(rangeCount(1, 5, -1)).toBeNull();
  });

  it("multiplies the rows; fixed values count once; bad rows make it unknown", () => {
    const v = form();
    const g = gridSize(SMA, v.specs);
    expect(g.dims.map((d) => d.name)).toEqual(["fast", "slow", "mode"]); // size is set apart
    expect(g.total).toBe(4 * 3 * 1);
    expect(g.varied).toEqual(["fast", "slow"]);
    expect(gridSize(SMA, { ...v.specs, mode: spec({ picked: ["long_only", "long_short"] }) }).total).toBe(24);
    // an int range without a step steps by 1
    expect(dimSize(SMA[0]!, spec({ mode: "range", min: "1", max: "10" }))).toBe(10);
    // a number range needs a step
    expect(dimSize(RSI[1]!, spec({ mode: "range", min: "10", max: "40" }))).toBeNull();
    expect(dimSize(SMA[0]!, spec({ mode: "list", list: "5, 5, 10 ,15" }))).toBe(3);
    expect(dimSize(SMA[0]!, spec({ mode: "list", list: "5, x" }))).toBeNull();
    expect(dimSize(SMA[3]!, spec({ picked: [] }))).toBeNull();
    expect(gridSize(SMA, { ...v.specs, fast: spec({ mode: "range", min: "a", max: "3" }) }).total).toBeNull();
  });

  it("the form's space has the size the engine computes", () => {
    const v = form({ specs: { fast: spec({ mode: "range", min: "2", max: "30", step: "4" }), slow: spec({ mode: "range", min: "20", max: "100", step: "20" }), mode: spec({ picked: ["long_only", "long_short"] }) } });
    const built = buildJob(v, SMA);
    if (!("job" in built)) throw new Error(JSON.stringify(built.errors));
    const s = engineBuildSpace(findStrategy("sma-cross"), built.job.space, {});
    expect(s.size).toBe(gridSize(SMA, v.specs).total);
  });

  it("planned trials per method", () => {
    const v = form();
    expect(plannedTrials(v, 12)).toBe(12);
    expect(plannedTrials({ ...v, kind: "genetic" }, 12)).toBe(32 * 11);
    expect(plannedTrials({ ...v, kind: "walk_forward" }, 12)).toBe(4 * 13);
    expect(plannedTrials({ ...v, kind: "walk_forward", wf: { ...v.wf, optimizer: "genetic", folds: "2" } }, 12)).toBe(2 * (32 * 11 + 1));
    expect(plannedTrials({ ...v, kind: "walk_forward", wf: { ...v.wf, windows: "bars" } }, 12)).toBeNull();
  });

  it("default rows: the first two numeric parameters as ranges inside their bounds", () => {
    const s = defaultSpecs(SMA);
    expect(Object.keys(s)).toEqual(["fast", "slow", "mode"]);
    expect(s.fast!.mode).toBe("range");
    expect(s.slow!.mode).toBe("range");
    expect(s.mode!.picked).toEqual(["long_only"]);
    const orb = defaultSpecs(ORB);
    expect(Object.keys(orb)).not.toContain("barMinutes");
    expect(orb.open!.mode).toBe("fixed");
    for (const d of [SMA, RSI, ORB]) {
      const specs = defaultSpecs(d);
      for (const p of d) {
        const sp = specs[p.name];
        if (!sp || sp.mode !== "range") continue;
        const min = Number(sp.min);
        const max = Number(sp.max);
        if (p.min !== undefined) expect(min).toBeGreaterThanOrEqual(p.min);
        if (p.max !== undefined) expect(max).toBeLessThanOrEqual(p.max);
        expect(dimSize(p, sp)).toBeGreaterThan(1);
      }
    }
  });
});

describe("buildJob", () => {
  it("builds a job the router and the engine accept", () => {
    const built = buildJob(form({ cash: "50000", commissionKind: "per_contract", commissionValue: "2.5", slippageTicks: "1", from: "2024-01-02", to: "2024-03-01" }), SMA);
    if (!("job" in built)) throw new Error(JSON.stringify(built.errors));
    const { job } = built;
    expect(job.space).toEqual({ fast: { min: 5, max: 20, step: 5 }, slow: [30, 60, 90] });
    // fixed values, and each varied parameter's value nearest its default
    expect(job.backtest.params).toEqual({ fast: 10, slow: 30, mode: "long_only" });
    expect(job.backtest.from).toBe(Date.UTC(2024, 0, 2));
    expect(job.backtest.to).toBe(Date.UTC(2024, 2, 2) - 1);
    const bt = backtestInput.parse(job.backtest);
    const engineJob = { ...job, backtest: toEngineConfig(bt) };
    expect(OptimizationJobSchema.safeParse(engineJob).success).toBe(true);
  });

  it("varied parameters' base values cannot clash with fixed ones", () => {
    // default fast 10 / slow 30 would fail "fast < slow" against a fixed fast of 50
    const built = buildJob(form({ specs: { fast: spec({ value: "50" }), slow: spec({ mode: "range", min: "60", max: "100", step: "20" }), mode: spec({ picked: ["long_only"] }) } }), SMA);
    if (!("job" in built)) throw new Error(JSON.stringify(built.errors));
    expect(built.job.backtest.params).toEqual({ fast: 50, slow: 60, mode: "long_only" });
    const def = findStrategy("sma-cross");
    const resolved = resolveParams(def, built.job.backtest.params);
    expect(def.check?.(resolved)).toBeNull();
  });

  it("several enum values and booleans go in the space, one is fixed", () => {
    const built = buildJob(form({ specs: { ...form().specs, mode: spec({ picked: ["long_short", "long_only"] }) } }), SMA);
    if (!("job" in built)) throw new Error(JSON.stringify(built.errors));
    expect(built.job.space.mode).toEqual(["long_only", "long_short"]);
    expect(built.job.backtest.params.mode).toBe("long_only");
    const rsi = buildJob(
      form({ strategy: "rsi-reversion", specs: { period: spec({ mode: "range", min: "7", max: "21", step: "7" }), lower: spec({ value: "30" }), upper: spec({ value: "70" }), exit: spec({ value: "50" }), allowShort: spec({ picked: ["false", "true"] }) } }),
      RSI,
    );
    if (!("job" in rsi)) throw new Error(JSON.stringify(rsi.errors));
    expect(rsi.job.space.allowShort).toEqual([true, false]);
    expect(rsi.job.backtest.params.allowShort).toBe(true);
  });

  it("names the fields that are not numbers, and an empty space", () => {
    const bad = buildJob(form({ cash: "lots", specs: { fast: spec({ mode: "range", min: "x", max: "10" }), slow: spec({ mode: "list", list: "" }), mode: spec({ picked: [] }) } }), SMA);
    expect("errors" in bad && bad.errors).toMatchObject({ cash: expect.any(String), "space.fast": expect.any(String), "space.slow": expect.any(String), "space.mode": expect.any(String) });
    const none = buildJob(form({ specs: { fast: spec({ value: "10" }), slow: spec({ value: "30" }), mode: spec({ picked: ["long_only"] }) } }), SMA);
    expect("errors" in none && none.errors.space).toMatch(/at least one parameter/);
    const rsi = buildJob(form({ strategy: "rsi-reversion", specs: { period: spec({ value: "14" }), lower: spec({ mode: "range", min: "10", max: "40" }), upper: spec({ value: "70" }), exit: spec({ value: "50" }), allowShort: spec({ picked: ["true"] }) } }), RSI);
    expect("errors" in rsi && rsi.errors["space.lower"]).toMatch(/step is required/);
  });

  it("genetic and walk-forward settings", () => {
    const g = buildJob(form({ kind: "genetic", genetic: { population: "20", generations: "5", mutationRate: "0.3", crossoverRate: "0.8", elite: "", seed: "7" } }), SMA);
    if (!("job" in g)) throw new Error(JSON.stringify(g.errors));
    expect(g.job.genetic).toEqual({ population: 20, generations: 5, mutationRate: 0.3, crossoverRate: 0.8, seed: 7 });
    expect(g.job.walkForward).toBeUndefined();
    const gbad = buildJob(form({ kind: "genetic", genetic: { population: "many", generations: "5", mutationRate: "0.3", crossoverRate: "0.8", elite: "x", seed: "7" } }), SMA);
    expect("errors" in gbad && Object.keys(gbad.errors).sort()).toEqual(["genetic.elite", "genetic.population"]);

    const base = form();
    const wf = buildJob({ ...base, kind: "walk_forward", wf: { ...base.wf, folds: "5", anchored: true } }, SMA);
    if (!("job" in wf)) throw new Error(JSON.stringify(wf.errors));
    expect(wf.job.walkForward).toEqual({ folds: 5, anchored: true, optimizer: "grid", warmupBars: "auto" });
    expect(wf.job.genetic).toBeUndefined();
    const bars = buildJob({ ...base, kind: "walk_forward", wf: { ...base.wf, windows: "bars", inSampleBars: "600", outOfSampleBars: "200", warmupBars: "50", optimizer: "genetic" } }, SMA);
    if (!("job" in bars)) throw new Error(JSON.stringify(bars.errors));
    expect(bars.job.walkForward).toEqual({ inSampleBars: 600, outOfSampleBars: 200, anchored: false, optimizer: "genetic", warmupBars: 50 });
    expect(bars.job.genetic?.population).toBe(32);
    const missing = buildJob({ ...base, kind: "walk_forward", wf: { ...base.wf, windows: "bars", warmupBars: "soon" } }, SMA);
    expect("errors" in missing && Object.keys(missing.errors).sort()).toEqual(["walkForward.inSampleBars", "walkForward.outOfSampleBars", "walkForward.warmupBars"]);
  });
});

describe("server errors to fields", () => {
  it("maps engine field paths", () => {
    expect(optFieldOf("space.fast", PARAMS)).toBe("space.fast");
    expect(optFieldOf("space.fast.min", PARAMS)).toBe("space.fast");
    expect(optFieldOf("space.slow.2", PARAMS)).toBe("space.slow");
    expect(optFieldOf("space.nope", PARAMS)).toBe("space");
    expect(optFieldOf("space", PARAMS)).toBe("space");
    expect(optFieldOf("genetic.elite", PARAMS)).toBe("genetic.elite");
    expect(optFieldOf("genetic", PARAMS)).toBe("genetic");
    expect(optFieldOf("walkForward.inSampleBars", PARAMS)).toBe("walkForward.inSampleBars");
    expect(optFieldOf("walkForward", PARAMS)).toBe("walkForward");
    expect(optFieldOf("backtest.cash", PARAMS)).toBe("cash");
    expect(optFieldOf("backtest.data", PARAMS)).toBe("symbol");
    expect(optFieldOf("backtest.params.fast", PARAMS)).toBe("space.fast");
    expect(optFieldOf("backtest.params.size", PARAMS)).toBe("size");
    expect(optFieldOf("backtest.strategy", PARAMS)).toBe("strategy");
    expect(optFieldOf("objective", PARAMS)).toBe("objective");
    expect(optFieldOf("kind", PARAMS)).toBe("kind");
    expect(optFieldOf("heatmap.x", PARAMS)).toBe("form");
    expect(optFieldOf("job", PARAMS)).toBe("form");
  });

  it("maps messages, including those of an optimisation that failed as it started", () => {
    expect(optFieldOfMessage("space.fast: 0 is below the minimum 1", PARAMS)).toBe("space.fast");
    expect(optFieldOfMessage("space.fast.step: must be positive", PARAMS)).toBe("space.fast");
    expect(optFieldOfMessage("space: the grid has 39,601 points (fast: 199, slow: 199), more than the limit of 10,000; use larger steps", PARAMS)).toBe("space");
    expect(optFieldOfMessage("backtest: symbol: Pick a symbol.", PARAMS)).toBe("symbol");
    expect(optFieldOfMessage("backtest: cash: Cash must be positive.", PARAMS)).toBe("cash");
    expect(optFieldOfMessage("backtest.params.fast: fast (50) must be less than slow (30)", PARAMS)).toBe("space.fast");
    expect(optFieldOfMessage("backtest.data: unknown symbol XYZ", PARAMS)).toBe("symbol");
    expect(optFieldOfMessage("walkForward: 5 folds of 600 in-sample + 200 out-of-sample bars (step 200) need 1400 bars; the range has 900", PARAMS)).toBe("walkForward");
    expect(optFieldOfMessage("walkForward.stepBars: give outOfSampleBars with it", PARAMS)).toBe("walkForward.stepBars");
    expect(optFieldOfMessage("genetic.elite: elite (40) is larger than the population (32)", PARAMS)).toBe("genetic.elite");
    expect(optFieldOfMessage("something broke", PARAMS)).toBe("form");
  });

  it("the engine's own messages name fields the form has", async () => {
    const { dir, backtest } = await randomWalkFixture(500, 3);
    try {
      const fieldOfJob = async (job: Record<string, unknown>) => {
        try {
          await runOptimization({ workers: 0, ...job });
        } catch (e) {
          return optFieldOfMessage((e as Error).message, PARAMS);
        }
        throw new Error("did not throw");
      };
      expect(await fieldOfJob({ kind: "grid", backtest, space: { fast: { min: 0, max: 5 } } })).toBe("space.fast");
      expect(await fieldOfJob({ kind: "grid", backtest, space: { fast: { min: 9, max: 5 } } })).toBe("space.fast");
      expect(await fieldOfJob({ kind: "grid", backtest: { ...backtest, params: { fast: 50 } }, space: { slow: [60] } })).toBe("space.fast");
      expect(await fieldOfJob({ kind: "grid", backtest: { ...backtest, cash: -5 }, space: { slow: [60] } })).toBe("cash");
      expect(await fieldOfJob({ kind: "genetic", backtest, space: { fast: [2, 3] }, genetic: { population: 8, elite: 9 } })).toBe("genetic.elite");
      expect(await fieldOfJob({ kind: "walk_forward", backtest, space: { fast: [2, 3] }, walkForward: { inSampleBars: 400, outOfSampleBars: 200 } })).toMatch(/^walkForward/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("uses data.field first, zod field errors, and explains an offline engine", () => {
    expect(optErrorsFromServer({ message: "space.fast: bad", data: { field: "space.fast" } }, PARAMS)).toEqual({ "space.fast": "space.fast: bad" });
    expect(optErrorsFromServer({ message: "elite (40) is larger", data: { field: "genetic.elite" } }, PARAMS)).toEqual({ "genetic.elite": "elite (40) is larger" });
    expect(optErrorsFromServer({ message: "backtest: timeframe: Invalid option", data: { code: "BAD_REQUEST", field: null as unknown as undefined } }, PARAMS)).toEqual({ timeframe: "backtest: timeframe: Invalid option" });
    expect(Object.keys(optErrorsFromServer({ message: "x", data: { code: "SERVICE_UNAVAILABLE" } }, PARAMS))).toEqual(["form"]);
    expect(optErrorsFromServer({ message: "bad input", data: { zodError: { fieldErrors: { job: ["Expected object"] }, formErrors: [] } } }, PARAMS)).toEqual({ form: "job: Expected object" });
  });
});

describe("stored rows", () => {
  const config = {
    kind: "grid",
    objective: "sortino",
    backtest: { data: { kind: "series", symbol: "NQ", timeframe: "1h" }, strategy: "sma-cross", params: { fast: 10, slow: 30, mode: "long_short" }, size: 2, cash: 50_000, commission: { kind: "per_contract", amount: 2 }, slippage: { kind: "ticks", ticks: 1 }, sameBarPolicy: "stop_first", from: 1_700_000_000_000 },
    space: { fast: { min: 5, max: 20, step: 5 } },
  };

  it("reads the stored job and rebuilds a trial's backtest", () => {
    const j = toJobView(config);
    expect(j).toMatchObject({ kind: "grid", objective: "sortino", symbol: "NQ", timeframe: "1h", strategy: "sma-cross", size: 2, cash: 50_000, slippageTicks: 1, from: 1_700_000_000_000, to: null });
    const r = runInputForTrial(j, { fast: 15 });
    if (!("input" in r)) throw new Error(r.error);
    expect(r.input).toEqual({ symbol: "NQ", timeframe: "1h", strategy: "sma-cross", params: { fast: 15, slow: 30, mode: "long_short" }, size: 2, cash: 50_000, commission: { kind: "per_contract", amount: 2 }, slippageTicks: 1, sameBarPolicy: "stop_first", from: 1_700_000_000_000 });
    // what backtest.run accepts, and the same engine config the optimisation used, but for the params
    const engine = toEngineConfig(backtestInput.parse(r.input));
    expect({ ...engine, params: config.backtest.params }).toEqual({ ...config.backtest, data: { kind: "series", symbol: "NQ", timeframe: "1h" } });
    expect("error" in runInputForTrial(toJobView({}), {})).toBe(true);
  });

  it("parses rows defensively", () => {
    const v = toOptimizationView({ id: "o1", kind: "grid", status: "weird", config, progress: 0.5, error: null, createdAt: "2024-01-01T00:00:00.000Z", finishedAt: null });
    expect(v).toMatchObject({ id: "o1", status: "running", progress: 0.5, result: null, kind: "grid" });
    expect(parseResult(null)).toBeNull();
    expect(parseResult({ kind: "grid" })).toBeNull();
    const p = parseResult({ kind: "genetic", trials: [{ id: 1, params: { fast: 5 }, ok: true, metrics: { sharpe: 1 }, objective: 1 }, { nope: true }, { id: 2, params: { fast: 6 }, ok: true, metrics: null, objective: null }], best: null });
    expect(p?.droppedTrials).toBe(1);
    expect(p?.result.trials.map((t) => [t.id, t.ok])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(p?.result.overfit).toEqual({ deflatedSharpe: null, pbo: null, notes: [] });
  });

  it("list figures: from the result, a summary, or the stream; never invented", () => {
    const row = { id: "o1", kind: "grid", status: "running", config };
    const v = toOptimizationView(row);
    expect(listFigures(v, row, undefined)).toEqual({ trials: null, total: null, best: null });
    expect(listFigures(v, { ...row, trials: 10, total: 12, bestObjective: 1.5 }, undefined)).toEqual({ trials: 10, total: 12, best: 1.5 });
    expect(listFigures(v, row, { optimizationId: "o1", kind: "grid", done: 3, total: 12, status: "running", error: null, best: { params: {}, objective: 0.7 } })).toEqual({ trials: 3, total: 12, best: 0.7 });
  });

  it("formats objectives", () => {
    expect(fmtObjective("sharpe", 1.23456)).toBe("1.235");
    expect(fmtObjective("totalReturn", 0.1234)).toBe("12.34%");
    expect(fmtObjective("profitFactor", null, true)).toBe("∞");
    expect(fmtObjective("sharpe", null)).toBe("—");
  });
});

const trial = (id: number, params: Record<string, string | number | boolean>, m: { sharpe: number; dd: number; ret?: number; trades?: number; pf?: number | null; pfInf?: boolean } | null, objective: number | null = m ? m.sharpe : null): StoredTrial => ({
  id,
  params,
  ok: m !== null,
  metrics: m ? { sharpe: m.sharpe, sortino: m.sharpe, totalReturn: m.ret ?? 0, maxDrawdownPct: m.dd, trades: m.trades ?? 0, profitFactor: m.pf ?? 1, profitFactorInfinite: m.pfInf ?? false, finalValue: 0, bars: 10 } : null,
  objective,
  ...(m ? {} : { error: "boom" }),
});

describe("trials table", () => {
  const ts = [trial(1, { a: 1 }, { sharpe: 1, dd: 0.2, trades: 5 }), trial(2, { a: 2 }, null), trial(3, { a: 3 }, { sharpe: 2, dd: 0.1, trades: 5, pf: null, pfInf: true }, 2), trial(4, { a: 4 }, { sharpe: 1, dd: 0.3, trades: 9 }), trial(5, { a: 5 }, { sharpe: 0.5, dd: 0.05, pf: null, pfInf: true }, null)];

  it("sorts with missing figures last and ties by id", () => {
    expect(sortTrials(ts, "objective", "desc").map((t) => t.id)).toEqual([3, 1, 4, 2, 5]);
    expect(sortTrials(ts, "objective", "asc").map((t) => t.id)).toEqual([1, 4, 3, 2, 5]);
    expect(sortTrials(ts, "maxDrawdownPct", "asc").map((t) => t.id)).toEqual([5, 3, 1, 4, 2]);
    expect(sortTrials(ts, "trades", "desc").map((t) => t.id)).toEqual([4, 1, 3, 5, 2]);
    expect(sortTrials(ts, "profitFactor", "desc").map((t) => t.id)).toEqual([3, 5, 1, 4, 2]);
    expect(sortTrials(ts, "id", "desc").map((t) => t.id)).toEqual([5, 4, 3, 2, 1]);
  });

  it("best first and pages", () => {
    expect(bestFirst("objective", "higher")).toBe("desc");
    expect(bestFirst("objective", "lower")).toBe("asc");
    expect(bestFirst("maxDrawdownPct", "higher")).toBe("asc");
    expect(bestFirst("sharpe", "lower")).toBe("desc");
    const rows = Array.from({ length: 120 }, (_, i) => i);
    expect(pageOf(rows, 0, 50)).toMatchObject({ page: 0, pages: 3, rows: rows.slice(0, 50) });
    expect(pageOf(rows, 9, 50)).toMatchObject({ page: 2, rows: rows.slice(100) });
    expect(pageOf([], 3, 50)).toMatchObject({ page: 0, pages: 1, rows: [] });
  });
});

describe("heatmap and Pareto on synthetic trials", () => {
  it("best over the other parameters, direction aware, with known axis values", () => {
    const ts = [trial(1, { x: 1, y: 10, z: "a" }, { sharpe: 1, dd: 0.1 }), trial(2, { x: 1, y: 10, z: "b" }, { sharpe: 3, dd: 0.4 }), trial(3, { x: 2, y: 10, z: "a" }, { sharpe: -1, dd: 0.2 }), trial(4, { x: 2, y: 20, z: "a" }, null), trial(5, { x: 1, y: 20, z: "a" }, { sharpe: 2, dd: 0.3 })];
    const h = buildHeatmap(ts, "x", "y", "higher", { x: [3, 1, 2] });
    expect(h.x.values).toEqual([1, 2, 3]);
    expect(h.y?.values).toEqual([10, 20]);
    expect(h.z).toEqual([
      [3, -1, null],
      [2, null, null],
    ]);
    expect(h.trial[0]![0]!.id).toBe(2);
    expect([h.min, h.max]).toEqual([-1, 3]);
    const low = buildHeatmap(ts.map((t) => ({ ...t, objective: t.metrics?.maxDrawdownPct ?? null })), "x", "y", "lower");
    expect(low.z[0]).toEqual([0.1, 0.2]);
    const one = buildHeatmap(ts, "z", null, "higher");
    expect(one.y).toBeNull();
    expect(one.x.values).toEqual(["a", "b"]);
    expect(one.z).toEqual([[2, 3]]);
  });

  it("orders values and colours by position", () => {
    expect(orderValues([3, "b", 1, true, "a", 3, false])).toEqual([1, 3, true, false, "b", "a"]);
    expect(heatPosition(5, 0, 10, "higher")).toBe(0.5);
    expect(heatPosition(10, 0, 10, "lower")).toBe(0);
    expect(heatPosition(1, 1, 1, "higher")).toBe(0.5);
    expect(heatCellColor(0)).toBe("rgb(239, 91, 91)");
    expect(heatCellColor(1)).toBe("rgb(63, 208, 138)");
  });

  it("Pareto front: min drawdown, max Sharpe, drawn left to right", () => {
    const pts = [
      { id: 1, x: 0.1, y: 1 },
      { id: 2, x: 0.2, y: 2 },
      { id: 3, x: 0.15, y: 0.5 },
      { id: 4, x: 0.3, y: 2 },
      { id: 5, x: 0.05, y: 0.2 },
      { id: 6, x: 0.2, y: 2 },
      { id: 7, x: Number.NaN, y: 9 },
    ];
    const get = (p: { x: number; y: number }) => ({ x: p.x, y: p.y });
    expect(paretoFront(pts, get).map((p) => p.id)).toEqual([5, 1, 2, 6]);
    expect(sortFront([pts[3]!, pts[0]!, pts[1]!, pts[6]!], get).map((p) => p.id)).toEqual([1, 2, 4]);
  });

  it("nice ticks cover the range", () => {
    const t = niceTicks(0.013, 0.27, 5);
    expect(t.lo).toBeLessThanOrEqual(0.013);
    expect(t.hi).toBeGreaterThanOrEqual(0.27);
    expect(t.ticks[0]).toBe(t.lo);
    expect(t.ticks.at(-1)).toBe(t.hi);
    expect(t.ticks.length).toBeGreaterThanOrEqual(3);
    expect(t.ticks.length).toBeLessThanOrEqual(8);
    expect(niceTicks(-1.2, -1.2).ticks.length).toBeGreaterThan(1);
    expect(niceTicks(Number.NaN, 1).ticks).toEqual([]);
  });
});

describe("on real optimisation results", () => {
  let dir: string | undefined;
  let grid: StoredResult;
  let grid3: StoredResult;
  let genetic: StoredResult;
  let wf: StoredResult;

  beforeAll(async () => {
    const f = await randomWalkFixture(3000, 11, { params: { mode: "long_short" } });
    dir = f.dir;
    const store = (r: unknown) => parseResult(JSON.parse(JSON.stringify(r)))!.result;
    grid = store(await runOptimization({ kind: "grid", backtest: f.backtest, space: { fast: { min: 2, max: 20, step: 3 }, slow: [10, 20, 40] }, workers: 0 }));
    grid3 = store(await runOptimization({ kind: "grid", backtest: f.backtest, space: { fast: [3, 5, 8], slow: [10, 20], mode: ["long_only", "long_short"] }, heatmap: { x: "slow", y: "mode" }, objective: "maxDrawdownPct", workers: 0 }));
    genetic = store(await runOptimization({ kind: "genetic", backtest: f.backtest, space: { fast: { min: 2, max: 30 }, slow: { min: 10, max: 80, step: 5 } }, genetic: { population: 10, generations: 3, seed: 4 }, workers: 0 }));
    wf = store(await runOptimization({ kind: "walk_forward", backtest: f.backtest, space: { fast: [3, 5, 8], slow: [20, 40] }, walkForward: { folds: 3 }, workers: 0 }));
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the heatmap matrix equals the engine's for its axes", () => {
    for (const r of [grid, grid3]) {
      const h = r.heatmap!;
      const axes = defaultAxes(r);
      expect(axes).toEqual({ x: h.x.param, y: h.y?.param ?? null });
      const known = { [h.x.param]: h.x.values.filter((v): v is string | number | boolean => v !== null), ...(h.y ? { [h.y.param]: h.y.values.filter((v): v is string | number | boolean => v !== null) } : {}) };
      const m = buildHeatmap(r.trials, axes.x!, axes.y, r.better, known);
      expect(m.x.values).toEqual(h.x.values);
      expect(m.y?.values).toEqual(h.y?.values);
      expect(m.z).toEqual(h.z);
    }
    // grid: the strategy's check skipped fast >= slow points, which stay empty
    expect(grid.skipped).toBeGreaterThan(0);
    expect(buildHeatmap(grid.trials, "fast", "slow", grid.better).z.flat().some((v) => v === null)).toBe(true);
  });

  it("other axes: each cell is the best trial with those two values", () => {
    const m = buildHeatmap(grid3.trials, "fast", "mode", grid3.better);
    m.x.values.forEach((xv, xi) =>
      m.y!.values.forEach((yv, yi) => {
        const cell = grid3.trials.filter((t) => t.ok && t.objective !== null && t.params.fast === xv && t.params.mode === yv).map((t) => t.objective!);
        expect(m.z[yi]![xi]).toBe(cell.length ? Math.min(...cell) : null); // maxDrawdownPct: lower is better
      }),
    );
  });

  it("the Pareto front equals the engine's", () => {
    const ids = (ts: readonly { id: number }[]) => ts.map((t) => t.id).sort((a, b) => a - b);
    expect(genetic.pareto!.length).toBeGreaterThan(0);
    expect(ids(paretoFront(genetic.trials, trialXY))).toEqual(ids(genetic.pareto!));
    // the engine's own function on the same trials
    expect(ids(enginePareto(genetic.trials as never))).toEqual(ids(genetic.pareto!));
    const drawn = sortFront(genetic.pareto!, trialXY);
    for (let i = 1; i < drawn.length; i++) {
      expect(drawn[i]!.metrics!.maxDrawdownPct!).toBeGreaterThanOrEqual(drawn[i - 1]!.metrics!.maxDrawdownPct!);
      expect(drawn[i]!.metrics!.sharpe!).toBeGreaterThanOrEqual(drawn[i - 1]!.metrics!.sharpe!);
    }
  });

  it("stored results parse with every part the pages show", () => {
    expect(grid.trials.length + (grid.skipped ?? 0)).toBe(7 * 3);
    expect(genetic.generations?.length).toBe(4);
    expect(wf.walkForward?.folds.length).toBe(3);
    expect(wf.walkForward?.outOfSample.equity.length).toBeGreaterThan(0);
    expect(wf.trials.every((t) => typeof t.fold === "number")).toBe(true);
    expect(grid.overfit.deflatedSharpe?.dsr).toBeTypeOf("number");
  });
});
