/**
 * The optimiser's one entry point: a validated job (grid, genetic or
 * walk-forward) over one loaded backtest, run in-process or on worker
 * threads, returning a JSON-safe result. Errors in the job throw
 * OptimizeInputError naming the field (space.fast, backtest.cash,
 * walkForward.inSampleBars...); errors in a trial become failed trials.
 */
import { z } from "zod";
import { BacktestConfigSchema, BacktestInputError, downsampleEquity, type EquityPoint, prepareBacktest, type RunnerDeps } from "../backtest/runner";
import type { Metrics } from "../core/metrics";
import { findStrategy, type Params } from "../core/strategies/builtin";
import { type GenerationStats, geneticSearch } from "./genetic";
import { gridSearch, type Heatmap, heatmap } from "./grid";
import { createEvaluator, defaultPoolSize } from "./pool";
import { OBJECTIVES, type Objective, OptimizeInputError, type OverfitStats, type SearchContext, type Trial, objectiveDirection } from "./search";
import { buildSpace, enumerateGrid, SpaceError, SpaceSchema } from "./space";
import type { TrialBase } from "./trial";
import { type FoldResult, planFolds, walkForward } from "./walk-forward";

export { OptimizeInputError } from "./search";

const int = () => z.number().int("must be a whole number");

export const GeneticSchema = z
  .object({
    population: int().min(4).max(500).default(32),
    generations: int().min(0).max(500).default(10),
    mutationRate: z.number().min(0).max(1).default(0.2),
    crossoverRate: z.number().min(0).max(1).default(0.9),
    /** Survivor slots open to parents (see genetic.ts); default a quarter of the population. */
    elite: int().min(0).optional(),
    seed: int().default(1),
  })
  .strict();

export const WalkForwardSchema = z
  .object({
    folds: int().min(1).max(200).optional(),
    inSampleBars: int().min(2).optional(),
    outOfSampleBars: int().min(2).optional(),
    stepBars: int().min(1).optional(),
    anchored: z.boolean().default(false),
    optimizer: z.enum(["grid", "genetic"]).default("grid"),
    /** Indicator warm-up before each window, bars, or "auto" (5 x the largest integer parameter). */
    warmupBars: z.union([int().min(0), z.literal("auto")]).default("auto"),
  })
  .strict();

export const OptimizationJobSchema = z
  .object({
    kind: z.enum(["grid", "genetic", "walk_forward"]),
    backtest: BacktestConfigSchema,
    space: SpaceSchema,
    objective: z.enum(OBJECTIVES).default("sharpe"),
    genetic: GeneticSchema.optional(),
    walkForward: WalkForwardSchema.optional(),
    /** Heatmap axes (grid); default the first two parameters with more than one value. */
    heatmap: z.object({ x: z.string(), y: z.string().optional() }).strict().optional(),
    /** Worker threads; 0 = in-process; default: a pool of min(cores, 2) for jobs worth it. */
    workers: int().min(0).max(64).optional(),
    overfit: z
      .object({
        /** Return buckets per trial for PBO (0 = no PBO). */
        buckets: int().min(0).max(10_000).default(2000),
        /** CSCV blocks (even). */
        blocks: int()
          .min(2)
          .max(24)
          .refine((b) => b % 2 === 0, "must be even")
          .default(16),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((j, ctx) => {
    if (j.kind === "walk_forward" && !j.walkForward) ctx.addIssue({ code: "custom", path: ["walkForward"], message: "a walk_forward job needs walkForward settings (folds, or inSampleBars and outOfSampleBars)" });
    if (j.kind !== "walk_forward" && j.walkForward) ctx.addIssue({ code: "custom", path: ["walkForward"], message: `walkForward settings are for walk_forward jobs, not ${j.kind}` });
    if (j.genetic?.elite !== undefined && j.genetic.elite > j.genetic.population) ctx.addIssue({ code: "custom", path: ["genetic", "elite"], message: `elite (${j.genetic.elite}) is larger than the population (${j.genetic.population})` });
  });
export type OptimizationJob = z.input<typeof OptimizationJobSchema>;

export interface OptimizeProgress {
  done: number;
  total: number;
  best?: { params: Params; objective: number | null };
}

export interface OptimizeHooks {
  onProgress?: (p: OptimizeProgress) => void;
  shouldStop?: () => boolean;
}

export interface OptimizationResult {
  kind: "grid" | "genetic" | "walk_forward";
  strategy: { id: string; name: string };
  objective: Objective;
  better: "higher" | "lower";
  data: { source: string; symbol: string; timeframe: string; barMs: number; bars: number; firstTs: number; lastTs: number };
  cash: number;
  space: { params: { name: string; type: string; size: number }[]; points: number };
  /** Parameters the space does not vary, as every trial ran with them. */
  fixedParams: Params;
  workers: number;
  /** Why the worker pool was not used although asked for. */
  workersFallback?: string;
  elapsedMs: number;
  stopped: boolean;
  /** Trials planned (grid: valid points; genetic: population x (generations + 1); walk-forward: all folds). */
  total: number;
  trials: Trial[];
  best: Trial | null;
  /** grid */
  skipped?: number;
  skippedExamples?: string[];
  heatmap?: Heatmap | null;
  /** genetic */
  pareto?: Trial[];
  generations?: GenerationStats[];
  evaluations?: number;
  cacheHits?: number;
  /** walk_forward */
  walkForward?: {
    windows: { folds: number; inSampleBars: number; outOfSampleBars: number; stepBars: number; anchored: boolean; warmupBars: number | "auto"; optimizer: "grid" | "genetic" };
    folds: FoldResult[];
    inSample: { folds: number; meanSharpe: number | null; meanTotalReturn: number | null; meanMaxDrawdownPct: number | null; meanObjective: number | null };
    outOfSample: { metrics: Metrics | null; meanSharpe: number | null; meanObjective: number | null; equity: EquityPoint[] };
    sharpeEfficiency: number | null;
    overfit: { meanPbo: number | null; meanDsr: number | null };
  };
  /** DSR of the best trial and PBO across trials (walk-forward: per fold, in walkForward.folds[].overfit). */
  overfit: OverfitStats;
}

function parseJob(input: unknown) {
  const r = OptimizationJobSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.map(String).join(".") || "job";
    throw new OptimizeInputError(field, `${field}: ${issue.message}`);
  }
  return r.data;
}

export { downsampleEquity };

export function jsonSafe<T>(v: T): T {
  const walk = (x: unknown): unknown => {
    if (typeof x === "number") return Number.isFinite(x) ? x : null;
    if (Array.isArray(x)) return x.map(walk);
    if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>, (n) => (Number.isFinite(n) ? n : null));
    if (x && typeof x === "object") {
      const o: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(x)) if (val !== undefined) o[k] = walk(val);
      return o;
    }
    return x;
  };
  return walk(v) as T;
}

/**
 * Below this many bar-trials the pool's start-up (~0.45 s for two workers)
 * costs more than the second core saves: sma-cross runs ~11 M bars/s on one
 * core and a pool of two gives ~1.65x (engine/optimize/bench.ts).
 */
const POOL_MIN_WORK = 12_000_000;

export async function runOptimization(input: unknown, deps: RunnerDeps = {}, hooks: OptimizeHooks = {}): Promise<OptimizationResult> {
  const started = performance.now();
  const job = parseJob(input);
  const raw = input as { backtest: unknown };
  if (job.backtest.strategy.startsWith("builder:")) throw new OptimizeInputError("backtest.strategy", "backtest.strategy: optimisation needs a built-in strategy (builder strategies take no parameters to vary)");
  if (job.backtest.strategy.startsWith("model:")) throw new OptimizeInputError("backtest.strategy", "backtest.strategy: optimisation needs a built-in strategy (model strategies take no parameters to vary)");
  let prepared;
  try {
    prepared = await prepareBacktest(raw.backtest, deps);
  } catch (e) {
    if (e instanceof BacktestInputError) throw new OptimizeInputError(`backtest.${e.field}`, `backtest.${e.message}`);
    throw e;
  }
  const def = findStrategy(prepared.strategyId);
  let space;
  try {
    space = buildSpace(def, job.space, prepared.params);
  } catch (e) {
    if (e instanceof SpaceError) throw new OptimizeInputError(e.field, e.message);
    throw e;
  }
  const objective = job.objective;
  const genetic = job.kind === "genetic" || job.walkForward?.optimizer === "genetic" ? GeneticSchema.parse(job.genetic ?? {}) : null;
  const geneticOpts = genetic ? { ...genetic, elite: genetic.elite ?? Math.ceil(genetic.population / 4) } : null;

  // plan (and validate) before starting any worker
  const rangeBars = prepared.to - prepared.from;
  let perSearch: number;
  if (job.kind === "grid" || job.walkForward?.optimizer === "grid") {
    try {
      perSearch = enumerateGrid(space).points.length;
    } catch (e) {
      if (e instanceof SpaceError) throw new OptimizeInputError(e.field, e.message);
      throw e;
    }
    if (perSearch === 0) throw new OptimizeInputError("space", "space: every grid point is rejected by the strategy's check");
  } else perSearch = geneticOpts!.population * (geneticOpts!.generations + 1);
  const folds = job.walkForward ? planFolds(prepared.from, prepared.to, job.walkForward) : null;
  const total = folds ? folds.length * (perSearch + 1) : perSearch;
  const work = folds ? folds.reduce((a, f) => a + perSearch * (f.inSample.to - f.inSample.from) + (f.outOfSample.to - f.outOfSample.from), 0) : perSearch * rangeBars;

  let hx: string | undefined;
  let hy: string | undefined;
  if (job.kind === "grid") {
    const names = space.dims.map((d) => d.name);
    if (job.heatmap) {
      if (!names.includes(job.heatmap.x)) throw new OptimizeInputError("heatmap.x", `heatmap.x: ${job.heatmap.x} is not a parameter of the space (${names.join(", ")})`);
      if (job.heatmap.y !== undefined && !names.includes(job.heatmap.y)) throw new OptimizeInputError("heatmap.y", `heatmap.y: ${job.heatmap.y} is not a parameter of the space (${names.join(", ")})`);
      if (job.heatmap.y === job.heatmap.x) throw new OptimizeInputError("heatmap.y", "heatmap.y: must differ from heatmap.x");
      hx = job.heatmap.x;
      hy = job.heatmap.y;
    } else {
      const varied = space.dims.filter((d) => d.size > 1).map((d) => d.name);
      const axes = varied.length ? varied : names;
      hx = axes[0];
      hy = axes[1];
    }
  }

  const workers = job.workers ?? (work >= POOL_MIN_WORK ? defaultPoolSize() : 0);
  const { create: _create, dataInfo, ...base } = prepared;
  const trialBase: TrialBase = base;
  const { evaluator, fallback } = await createEvaluator(trialBase, workers);

  let done = 0;
  const progress = (best?: Trial | null) => hooks.onProgress?.({ done: Math.min(done, total), total, ...(best ? { best: { params: best.params, objective: best.objective } } : {}) });
  const ctx: SearchContext = {
    space,
    evaluator,
    objective,
    buckets: job.overfit.buckets,
    pboBlocks: job.overfit.blocks,
    barMs: prepared.barMs,
    calendar: prepared.calendar,
    shouldStop: hooks.shouldStop,
    onTrial: (_t, best) => {
      done++;
      progress(best);
    },
  };
  const fixedParams: Params = { ...prepared.params };
  for (const d of space.dims) delete fixedParams[d.name];
  const ts = prepared.bars.ts;
  const head = {
    kind: job.kind,
    strategy: { id: prepared.strategyId, name: prepared.strategyName },
    objective,
    better: objectiveDirection(objective),
    data: { source: dataInfo.source ?? "", symbol: prepared.symbol, timeframe: prepared.timeframe, barMs: prepared.barMs, bars: rangeBars, firstTs: ts[prepared.from]!, lastTs: ts[prepared.to - 1]! },
    cash: prepared.config.cash,
    space: { params: space.dims.map((d) => ({ name: d.name, type: d.type, size: d.size })), points: space.size },
    fixedParams,
    workers: evaluator.workers,
    ...(fallback ? { workersFallback: fallback } : {}),
    total,
  };

  try {
    let result: OptimizationResult;
    if (job.kind === "grid") {
      const r = await gridSearch(ctx);
      result = {
        ...head,
        elapsedMs: 0,
        stopped: r.stopped,
        trials: r.trials,
        best: r.best,
        skipped: r.skipped,
        skippedExamples: r.skippedExamples,
        heatmap: hx ? heatmap(space, r.records, objective, objectiveDirection(objective), hx, hy) : null,
        overfit: r.overfit,
      };
    } else if (job.kind === "genetic") {
      const r = await geneticSearch(ctx, {
        ...geneticOpts!,
        onCacheHits: (n) => {
          done += n;
          progress();
        },
      });
      result = { ...head, elapsedMs: 0, stopped: r.stopped, trials: r.trials, best: r.best, pareto: r.pareto, generations: r.generations, evaluations: r.evaluations, cacheHits: r.cacheHits, overfit: r.overfit };
    } else {
      const wf = job.walkForward!;
      const r = await walkForward(
        {
          ...ctx,
          warmupBars: wf.warmupBars,
          from: prepared.from,
          to: prepared.to,
          ts,
          cash: prepared.config.cash,
          onFold: (i) => {
            // each fold's search plus its out-of-sample run counts perSearch + 1
            done = i * (perSearch + 1);
            progress();
          },
        },
        { ...wf, ...(geneticOpts ? { genetic: geneticOpts } : {}) },
      );
      const f0 = folds![0]!;
      const pbos = r.folds.map((f) => f.overfit.pbo?.pbo).filter((v): v is number => v !== undefined);
      const dsrs = r.folds.map((f) => f.overfit.deflatedSharpe?.dsr).filter((v): v is number => v !== undefined);
      const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
      result = {
        ...head,
        elapsedMs: 0,
        stopped: r.stopped,
        trials: r.trials,
        best: null,
        walkForward: {
          windows: {
            folds: folds!.length,
            inSampleBars: f0.inSample.to - f0.inSample.from,
            outOfSampleBars: f0.outOfSample.to - f0.outOfSample.from,
            stepBars: folds!.length > 1 ? folds![1]!.outOfSample.from - f0.outOfSample.from : f0.outOfSample.to - f0.outOfSample.from,
            anchored: wf.anchored,
            warmupBars: wf.warmupBars,
            optimizer: wf.optimizer,
          },
          folds: r.folds,
          inSample: r.inSample,
          outOfSample: {
            metrics: r.outOfSample.metrics,
            meanSharpe: r.outOfSample.meanSharpe,
            meanObjective: r.outOfSample.meanObjective,
            equity: downsampleEquity(r.outOfSample.curve.ts, r.outOfSample.curve.equity, prepared.config.cash),
          },
          sharpeEfficiency: r.sharpeEfficiency,
          overfit: { meanPbo: avg(pbos), meanDsr: avg(dsrs) },
        },
        overfit: { deflatedSharpe: null, pbo: null, notes: ["walk-forward: each fold's in-sample selection has its own DSR and PBO (walkForward.folds[].overfit)"] },
      };
    }
    if (!result.stopped) {
      done = total;
      progress(result.best);
    }
    result.elapsedMs = performance.now() - started;
    return jsonSafe(result);
  } finally {
    await evaluator.close();
  }
}
