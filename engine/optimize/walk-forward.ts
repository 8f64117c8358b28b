/**
 * Walk-forward analysis: optimise on an in-sample (IS) window, trade the best
 * parameters on the out-of-sample (OOS) window right after it, roll forward.
 *
 * Windows, in bars of the backtest's range [from, to):
 * - inSampleBars IS, outOfSampleBars OOS, stepBars between fold starts
 *   (default = outOfSampleBars, so the OOS windows tile; a larger step leaves
 *   gaps, a smaller one is refused because OOS windows would overlap).
 * - Or `folds` with one of the lengths (the other follows), or folds alone
 *   (OOS = N / (folds + 3), IS = 3 x OOS).
 * - Aligned to the END of the range: the last OOS window ends at `to`, the
 *   OOS windows tile the tail, unused bars (if any) are at the start.
 * - Rolling (IS slides along) or anchored (IS always starts at the first
 *   fold's IS start and grows).
 *
 * Each window is its own backtest that starts flat with the initial cash. By
 * default ("auto") indicators warm up on the bars just before the window
 * without trading (trial.ts), so the first OOS bars trade with the same
 * indicator values a continuous run would have; the IS trials warm up the
 * same way. A position still open at the end of an OOS window is valued at
 * that window's last close and not carried into the next window.
 *
 * The stitched OOS curve chains the OOS windows: window k's equity, offset
 * so it starts from window k-1's ending equity (the first from the initial
 * cash): stitched = prevEnd + (equity - cash). The offset is additive, not a
 * rescaling, because the built-in strategies trade a fixed size: P&L does not
 * scale with the account. Its metrics come from computeMetrics, like any
 * backtest's.
 */
import { computeMetrics, type Metrics } from "../core/metrics";
import type { Params } from "../core/strategies/builtin";
import type { Trade } from "../core/types";
import { type GeneticOptions, geneticSearch } from "./genetic";
import { gridSearch } from "./grid";
import { OptimizeInputError, type OverfitStats, type SearchContext, type Trial, autoWarmup, objectiveValue, finiteOrNull } from "./search";
import type { TrialMetrics, TrialTask } from "./trial";

export interface WalkForwardOptions {
  folds?: number;
  inSampleBars?: number;
  outOfSampleBars?: number;
  stepBars?: number;
  anchored?: boolean;
  optimizer: "grid" | "genetic";
  /** Genetic settings; fold f uses seed + f. */
  genetic?: GeneticOptions;
}

export interface BarRange {
  from: number;
  to: number;
}

export interface FoldPlan {
  index: number;
  inSample: BarRange;
  outOfSample: BarRange;
}

/** The fold windows for [from, to); throws OptimizeInputError naming the walkForward field. */
export function planFolds(from: number, to: number, o: Omit<WalkForwardOptions, "optimizer" | "genetic">): FoldPlan[] {
  const N = to - from;
  const posInt = (v: number | undefined, field: string, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new OptimizeInputError(`walkForward.${field}`, `walkForward.${field}: must be a whole number >= ${min}, got ${v}`);
  };
  posInt(o.folds, "folds", 1);
  posInt(o.inSampleBars, "inSampleBars", 2);
  posInt(o.outOfSampleBars, "outOfSampleBars", 2);
  posInt(o.stepBars, "stepBars", 1);
  let IS: number;
  let OOS: number;
  let step: number;
  let k: number;
  if (o.stepBars !== undefined && o.outOfSampleBars === undefined) throw new OptimizeInputError("walkForward.stepBars", "walkForward.stepBars: give outOfSampleBars with it");
  if (o.inSampleBars !== undefined && o.outOfSampleBars !== undefined) {
    IS = o.inSampleBars;
    OOS = o.outOfSampleBars;
    step = o.stepBars ?? OOS;
    k = o.folds ?? Math.floor((N - IS - OOS) / step) + 1;
  } else if (o.folds !== undefined) {
    k = o.folds;
    if (o.inSampleBars !== undefined) {
      IS = o.inSampleBars;
      OOS = Math.floor((N - IS) / k);
      step = OOS;
    } else if (o.outOfSampleBars !== undefined) {
      OOS = o.outOfSampleBars;
      step = o.stepBars ?? OOS;
      IS = N - OOS - (k - 1) * step;
    } else {
      OOS = Math.floor(N / (k + 3));
      IS = 3 * OOS;
      step = OOS;
    }
  } else throw new OptimizeInputError("walkForward", "walkForward: give folds, or inSampleBars and outOfSampleBars");
  if (step < OOS) throw new OptimizeInputError("walkForward.stepBars", `walkForward.stepBars: ${step} is shorter than the out-of-sample window (${OOS}); out-of-sample windows would overlap`);
  if (OOS < 2) throw new OptimizeInputError("walkForward.outOfSampleBars", `walkForward: out-of-sample windows of ${OOS} bars are too short (the range has ${N} bars for ${k} folds)`);
  if (IS < 2) throw new OptimizeInputError("walkForward.inSampleBars", `walkForward: in-sample windows of ${IS} bars are too short (the range has ${N} bars)`);
  if (!(k >= 1)) throw new OptimizeInputError("walkForward", `walkForward: the range has ${N} bars, fewer than one in-sample (${IS}) plus one out-of-sample (${OOS}) window`);
  const need = IS + OOS + (k - 1) * step;
  if (need > N) throw new OptimizeInputError("walkForward", `walkForward: ${k} folds of ${IS} in-sample + ${OOS} out-of-sample bars (step ${step}) need ${need} bars; the range has ${N}`);
  const folds: FoldPlan[] = [];
  const firstOos = to - OOS - (k - 1) * step;
  for (let f = 0; f < k; f++) {
    const oos = firstOos + f * step;
    folds.push({ index: f, inSample: { from: o.anchored ? firstOos - IS : oos - IS, to: oos }, outOfSample: { from: oos, to: oos + OOS } });
  }
  return folds;
}

export interface WindowInfo extends BarRange {
  bars: number;
  startTs: number;
  endTs: number;
}

export interface FoldResult {
  index: number;
  /** The varied parameters chosen on the in-sample window. */
  params: Params | null;
  inSample: WindowInfo & { metrics: TrialMetrics | null; objective: number | null; trials: number; failed: number };
  outOfSample: WindowInfo & { metrics: TrialMetrics | null; objective: number | null };
  /** DSR and PBO of the in-sample selection. */
  overfit: OverfitStats;
  error?: string;
}

export interface WalkForwardResult {
  folds: FoldResult[];
  /** All in-sample trials (each with its fold). */
  trials: Trial[];
  inSample: { folds: number; meanSharpe: number | null; meanTotalReturn: number | null; meanMaxDrawdownPct: number | null; meanObjective: number | null };
  outOfSample: {
    /** Metrics of the stitched out-of-sample curve; null when no fold ran. */
    metrics: Metrics | null;
    meanSharpe: number | null;
    meanObjective: number | null;
    /** The stitched curve at full resolution (not JSON: run.ts downsamples it). */
    curve: { ts: Float64Array; equity: Float64Array; exposure: Uint8Array; trades: Trade[] };
  };
  /** Mean OOS Sharpe / mean IS Sharpe; null unless the IS mean is positive. */
  sharpeEfficiency: number | null;
  stopped: boolean;
}

export interface WalkForwardContext extends Omit<SearchContext, "range" | "idBase" | "fold"> {
  /** The backtest's range and data. */
  from: number;
  to: number;
  ts: Float64Array;
  cash: number;
  /** Called when a fold starts (for progress). */
  onFold?: (index: number, of: number) => void;
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export async function walkForward(ctx: WalkForwardContext, o: WalkForwardOptions): Promise<WalkForwardResult> {
  const plan = planFolds(ctx.from, ctx.to, o);
  if (o.optimizer === "genetic" && !o.genetic) throw new OptimizeInputError("genetic", "genetic: the genetic optimiser needs its settings");
  const info = (r: BarRange): WindowInfo => ({ ...r, bars: r.to - r.from, startTs: ctx.ts[r.from]!, endTs: ctx.ts[r.to - 1]! });
  const folds: FoldResult[] = [];
  const trials: Trial[] = [];
  const cat = { ts: [] as Float64Array[], equity: [] as Float64Array[], exposure: [] as Uint8Array[], trades: [] as Trade[] };
  let prevEnd = ctx.cash;
  let idBase = 0;
  let stopped = false;
  for (const f of plan) {
    if (ctx.shouldStop?.()) {
      stopped = true;
      break;
    }
    ctx.onFold?.(f.index, plan.length);
    const sctx: SearchContext = { ...ctx, range: f.inSample, idBase, fold: f.index };
    const r = o.optimizer === "genetic" ? await geneticSearch(sctx, { ...o.genetic!, seed: o.genetic!.seed + f.index }) : await gridSearch(sctx);
    trials.push(...r.trials);
    for (const t of r.trials) if (t.id >= idBase) idBase = t.id + 1;
    const fold: FoldResult = {
      index: f.index,
      params: r.best?.params ?? null,
      inSample: { ...info(f.inSample), metrics: r.best?.metrics ?? null, objective: r.best?.objective ?? null, trials: r.trials.length, failed: r.trials.filter((t) => !t.ok).length },
      outOfSample: { ...info(f.outOfSample), metrics: null, objective: null },
      overfit: r.overfit,
    };
    folds.push(fold);
    if (r.stopped) {
      stopped = true;
      fold.error = "stopped during the in-sample optimisation";
      break;
    }
    if (!r.best) {
      fold.error = "no in-sample trial succeeded";
      continue;
    }
    const full = { ...ctx.space.base, ...r.best.params };
    const w = ctx.warmupBars === "auto" ? autoWarmup(ctx.space.strategyId, full) : (ctx.warmupBars ?? 0);
    const task: TrialTask = { params: r.best.params, range: f.outOfSample, keepCurve: true };
    if (w > 0) task.warmupBars = w;
    const [oos] = await ctx.evaluator.run([task], { shouldStop: ctx.shouldStop });
    if (!oos || !oos.ok) {
      fold.error = `out-of-sample run failed: ${oos && !oos.ok ? oos.error : "no result"}`;
      if (oos && !oos.ok && oos.cancelled) {
        stopped = true;
        break;
      }
      continue;
    }
    fold.outOfSample.metrics = oos.metrics;
    fold.outOfSample.objective = finiteOrNull(objectiveValue(oos.metrics, ctx.objective));
    const c = oos.curve!;
    const offset = prevEnd - ctx.cash;
    const eq = new Float64Array(c.equity.length);
    for (let i = 0; i < eq.length; i++) eq[i] = c.equity[i]! + offset;
    if (eq.length) prevEnd = eq[eq.length - 1]!;
    cat.ts.push(c.ts);
    cat.equity.push(eq);
    cat.exposure.push(c.exposure);
    cat.trades.push(...c.trades);
  }
  const concat = <T extends Float64Array | Uint8Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((a, p) => a + p.length, 0));
    let k = 0;
    for (const p of parts) {
      out.set(p, k);
      k += p.length;
    }
    return out;
  };
  const curve = { ts: concat(cat.ts, (n) => new Float64Array(n)), equity: concat(cat.equity, (n) => new Float64Array(n)), exposure: concat(cat.exposure, (n) => new Uint8Array(n)), trades: cat.trades };
  const metrics = curve.ts.length ? computeMetrics({ initialCash: ctx.cash, ts: curve.ts, equity: curve.equity, exposure: curve.exposure, barMs: ctx.barMs, calendar: ctx.calendar, trades: curve.trades }) : null;
  const isM = folds.map((f) => f.inSample.metrics).filter((m): m is TrialMetrics => !!m);
  const oosFolds = folds.filter((f) => f.outOfSample.metrics);
  const isSharpe = mean(oosFolds.map((f) => f.inSample.metrics!.sharpe));
  const oosSharpe = mean(oosFolds.map((f) => f.outOfSample.metrics!.sharpe));
  return {
    folds,
    trials,
    inSample: {
      folds: isM.length,
      meanSharpe: mean(isM.map((m) => m.sharpe)),
      meanTotalReturn: mean(isM.map((m) => m.totalReturn)),
      meanMaxDrawdownPct: mean(isM.map((m) => m.maxDrawdownPct)),
      meanObjective: mean(folds.map((f) => f.inSample.objective).filter((v): v is number => v !== null)),
    },
    outOfSample: { metrics, meanSharpe: oosSharpe, meanObjective: mean(oosFolds.map((f) => f.outOfSample.objective).filter((v): v is number => v !== null)), curve },
    sharpeEfficiency: isSharpe !== null && isSharpe > 0 && oosSharpe !== null ? oosSharpe / isSharpe : null,
    stopped,
  };
}
