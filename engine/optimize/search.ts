/**
 * What the searches (grid, genetic, walk-forward) share: objectives, the
 * JSON-safe trial record, the context a search runs in, and the collector
 * that turns trial outcomes into trials, the running best and the
 * overfitting statistics (Deflated Sharpe Ratio of the best, PBO across
 * trials).
 */
import { defaultPeriodsPerYear } from "../core/metrics";
import { findStrategy, type Params } from "../core/strategies/builtin";
import type { CalendarId } from "../data/types";
import { CscvAccumulator, type DeflatedSharpe, deflatedSharpe, type PboResult, type ReturnStats, sampleVariance } from "./overfit";
import type { Evaluator } from "./pool";
import type { ParamSpace } from "./space";
import type { TrialMetrics, TrialOutcome, TrialTask } from "./trial";

/** Bad optimisation input; `field` names it (e.g. walkForward.inSampleBars). */
export class OptimizeInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "OptimizeInputError";
  }
}

export const OBJECTIVES = ["sharpe", "sortino", "totalReturn", "profitFactor", "maxDrawdownPct"] as const;
export type Objective = (typeof OBJECTIVES)[number];

export function objectiveDirection(o: Objective): "higher" | "lower" {
  return o === "maxDrawdownPct" ? "lower" : "higher";
}

/** The objective's value; Infinity for an infinite profit factor. */
export function objectiveValue(m: TrialMetrics, o: Objective): number {
  if (o === "profitFactor") return m.profitFactorInfinite ? Infinity : (m.profitFactor ?? 0);
  return m[o];
}

/** Higher is better whatever the objective; -Infinity for a failed trial. */
export function score(m: TrialMetrics | null, o: Objective): number {
  if (!m) return -Infinity;
  const v = objectiveValue(m, o);
  return objectiveDirection(o) === "lower" ? -v : v;
}

/** One evaluated parameter set, JSON-safe. */
export interface Trial {
  id: number;
  /** Values of the varied parameters (the rest: `fixedParams` of the result). */
  params: Params;
  ok: boolean;
  metrics: TrialMetrics | null;
  /** The objective's value; null for a failed trial or an infinite profit factor. */
  objective: number | null;
  error?: string;
  /** Walk-forward fold whose in-sample window the trial ran on. */
  fold?: number;
}

/** A trial plus what the statistics need (not serialised). */
export interface TrialRecord {
  trial: Trial;
  /** The point's index vector in the space. */
  idx: number[];
  stats: ReturnStats | null;
  score: number;
}

export interface SearchContext {
  space: ParamSpace;
  evaluator: Evaluator;
  objective: Objective;
  /** Bar index range; default the backtest's. */
  range?: { from: number; to: number };
  /** Indicator warm-up bars before the range (see trial.ts); "auto" = autoWarmup. Default 0. */
  warmupBars?: number | "auto";
  /** Buckets of bucketed log returns per trial for PBO (0 = no PBO). */
  buckets: number;
  /** CSCV blocks S (even). */
  pboBlocks: number;
  barMs: number;
  calendar: CalendarId;
  /** Trial ids start here (walk-forward keeps them unique across folds). */
  idBase?: number;
  fold?: number;
  shouldStop?: () => boolean;
  /** After every finished trial (completion order), with the best so far. */
  onTrial?: (t: Trial, best: Trial | null) => void;
}

/**
 * Indicator warm-up for "auto": 5 x the largest integer parameter (periods,
 * minutes; not ORB's barMinutes), enough for SMAs and Bollinger bands and for
 * Wilder/EMA smoothing to forget its seed to well under 1 %.
 */
export function autoWarmup(strategyId: string, params: Params): number {
  const def = findStrategy(strategyId);
  let m = 0;
  for (const d of def.params) {
    if (d.type !== "int" || d.name === "barMinutes") continue;
    const v = params[d.name];
    if (typeof v === "number" && v > m) m = v;
  }
  return 5 * m;
}

export function taskFor(ctx: SearchContext, idx: ArrayLike<number>): TrialTask {
  const params = ctx.space.point(idx);
  const w = ctx.warmupBars === "auto" ? autoWarmup(ctx.space.strategyId, { ...ctx.space.base, ...params }) : (ctx.warmupBars ?? 0);
  const task: TrialTask = { params, buckets: ctx.buckets };
  if (ctx.range) task.range = ctx.range;
  if (w > 0) task.warmupBars = w;
  return task;
}

export interface OverfitStats {
  /** Deflated Sharpe Ratio of the selected (best) trial; per-bar Sharpe ratios, with annualised copies. */
  deflatedSharpe: (DeflatedSharpe & { srAnnualized: number; sr0Annualized: number; periodsPerYear: number }) | null;
  /** Probability of Backtest Overfitting across the successful trials. */
  pbo: PboResult | null;
  notes: string[];
}

/** Collects outcomes by task index so results do not depend on completion order. */
export class TrialCollector {
  private readonly records: (TrialRecord | undefined)[] = [];
  private cscv: CscvAccumulator | null = null;
  private cscvNote: string | null = null;
  private bestRec: TrialRecord | null = null;
  stopped = false;

  constructor(private readonly ctx: SearchContext) {}

  /** Records the outcome of task `i` (point `idx`); returns the trial, or null for a cancelled one. */
  add(i: number, idx: number[], o: TrialOutcome): Trial | null {
    if (!o.ok && o.cancelled) {
      this.stopped = true;
      return null;
    }
    const params = this.ctx.space.point(idx);
    const trial: Trial = o.ok
      ? { id: (this.ctx.idBase ?? 0) + i, params, ok: true, metrics: o.metrics, objective: finiteOrNull(objectiveValue(o.metrics, this.ctx.objective)) }
      : { id: (this.ctx.idBase ?? 0) + i, params, ok: false, metrics: null, objective: null, error: o.error };
    if (this.ctx.fold !== undefined) trial.fold = this.ctx.fold;
    const rec: TrialRecord = { trial, idx, stats: o.ok ? o.stats : null, score: score(trial.metrics, this.ctx.objective) };
    this.records[i] = rec;
    if (o.ok && o.buckets && this.ctx.buckets > 0) this.addBuckets(i, o.buckets);
    if (trial.ok && (!this.bestRec || rec.score > this.bestRec.score || (rec.score === this.bestRec.score && i < this.bestRec.trial.id - (this.ctx.idBase ?? 0)))) this.bestRec = rec;
    this.ctx.onTrial?.(trial, this.bestRec?.trial ?? null);
    return trial;
  }

  private addBuckets(i: number, b: Float64Array): void {
    if (this.cscvNote) return;
    if (!this.cscv) {
      if (b.length < 2 * this.ctx.pboBlocks) {
        this.cscvNote = `PBO skipped: ${b.length} return buckets are too few for ${this.ctx.pboBlocks} blocks`;
        return;
      }
      this.cscv = new CscvAccumulator(b.length, this.ctx.pboBlocks);
    }
    this.cscv.set(i, b);
  }

  /** The record of task `i`, if it finished. */
  record(i: number): TrialRecord | undefined {
    return this.records[i];
  }

  /** Finished records in task order. */
  list(): TrialRecord[] {
    return this.records.filter((r): r is TrialRecord => r !== undefined);
  }

  get best(): TrialRecord | null {
    return this.bestRec;
  }

  overfit(): OverfitStats {
    const notes: string[] = [];
    const ok = this.list().filter((r) => r.trial.ok && r.stats);
    const failed = this.list().length - ok.length;
    if (failed > 0) notes.push(`${failed} failed trial(s) left out of DSR and PBO`);
    let dsr: OverfitStats["deflatedSharpe"] = null;
    const best = this.bestRec;
    if (best?.stats) {
      const ppy = defaultPeriodsPerYear(this.ctx.barMs, this.ctx.calendar);
      const d = deflatedSharpe({ sr: best.stats.sr, n: best.stats.n, skew: best.stats.skew, kurt: best.stats.kurt, trials: ok.length, variance: sampleVariance(ok.map((r) => r.stats!.sr)) });
      dsr = { ...d, periodsPerYear: ppy, srAnnualized: d.sr * Math.sqrt(ppy), sr0Annualized: d.sr0 * Math.sqrt(ppy) };
    }
    let pbo: PboResult | null = null;
    if (this.ctx.buckets <= 0) notes.push("PBO not requested");
    else if (this.cscvNote) notes.push(this.cscvNote);
    else if (!this.cscv || this.cscv.trials < 2) notes.push("PBO needs at least two successful trials");
    else pbo = this.cscv.result();
    return { deflatedSharpe: dsr, pbo, notes };
  }
}

export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
