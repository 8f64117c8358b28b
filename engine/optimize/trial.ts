/**
 * One optimisation trial: the loaded backtest with other strategy parameters
 * (and optionally another bar range), run through executePrepared. The same
 * function runs in-process and on the worker threads (worker.ts), so both give
 * bit-identical numbers.
 *
 * Warm-up: with warmupBars = w > 0 the backtest starts w bars before the
 * window. Those bars update the strategy's indicators (and its bar history)
 * but the strategy's onBar is not called, so it cannot trade; from the
 * window's first bar on it runs normally, flat, with warm indicators. Metrics
 * cover the window only. Nothing in the core changes: this is a wrapper
 * around the Strategy object.
 */
import { executePrepared, type PreparedBacktest, type RunnerHooks } from "../backtest/runner";
import { computeMetrics } from "../core/metrics";
import type { Strategy, StrategyContext } from "../core/ports";
import { findStrategy, type Params, resolveParams } from "../core/strategies/builtin";
import type { OrderEvent, Trade } from "../core/types";
import { bucketLogReturns, type ReturnStats, returnStats } from "./overfit";

/** A prepared backtest without its strategy factory: what a worker thread receives. */
export type TrialBase = Omit<PreparedBacktest, "create" | "dataInfo">;

export interface TrialTask {
  /** Values of the varied parameters, merged over the base parameters. */
  params: Params;
  /** Bar index range [from, to); default the base's. */
  range?: { from: number; to: number };
  /** Bars before range.from that only warm indicators up (capped at what exists). */
  warmupBars?: number;
  /** Also return the per-bar log returns summed into this many buckets (0 = no). */
  buckets?: number;
  /** Also return the equity curve and the trades (walk-forward out-of-sample runs). */
  keepCurve?: boolean;
}

/** The metrics an optimiser reports per trial (a subset of Metrics). */
export interface TrialMetrics {
  sharpe: number;
  sortino: number;
  totalReturn: number;
  maxDrawdownPct: number;
  trades: number;
  /** null when infinite (winners and no loser): see profitFactorInfinite. */
  profitFactor: number | null;
  profitFactorInfinite: boolean;
  finalValue: number;
  bars: number;
}

export interface TrialCurve {
  ts: Float64Array;
  equity: Float64Array;
  exposure: Uint8Array;
  trades: Trade[];
}

export type TrialOutcome =
  | {
      ok: true;
      /** The full resolved parameters the trial ran with. */
      params: Params;
      metrics: TrialMetrics;
      /** Per-bar return moments (for the Deflated Sharpe Ratio). */
      stats: ReturnStats;
      buckets?: Float64Array;
      curve?: TrialCurve;
      elapsedMs: number;
    }
  | { ok: false; params: Params; error: string; cancelled?: boolean };

/** The base parameters with `point` over them, resolved and checked (throws ParamError). */
export function resolveTrialParams(base: TrialBase, point: Params): Params {
  const def = findStrategy(base.strategyId);
  const merged: Params = { ...base.params, ...point };
  // the runner sets ORB's bar size from the data; keep it whatever the point says
  if (base.strategyId === "orb") merged.barMinutes = Math.max(1, Math.round(base.barMs / 60_000));
  return resolveParams(def, merged);
}

/** Runs `inner` with onBar held back for the first `warm` bars (see the file comment). */
export class WarmupGate implements Strategy {
  readonly name: string;
  onOrderEvent?: (ctx: StrategyContext, ev: OrderEvent) => void;
  constructor(
    private readonly inner: Strategy,
    private readonly warm: number,
  ) {
    this.name = inner.name;
    if (inner.onOrderEvent) this.onOrderEvent = (ctx, ev) => inner.onOrderEvent!(ctx, ev);
  }
  onStart(ctx: StrategyContext): void {
    this.inner.onStart?.(ctx);
  }
  onBar(ctx: StrategyContext): void {
    if (ctx.data.count > this.warm) this.inner.onBar?.(ctx);
  }
  onStop(ctx: StrategyContext): void {
    this.inner.onStop?.(ctx);
  }
}

function trialMetrics(m: ReturnType<typeof computeMetrics>, finalValue: number): TrialMetrics {
  return {
    sharpe: m.sharpe,
    sortino: m.sortino,
    totalReturn: m.totalReturn,
    maxDrawdownPct: m.maxDrawdownPct,
    trades: m.trades,
    profitFactor: m.profitFactor,
    profitFactorInfinite: m.profitFactorInfinite,
    finalValue,
    bars: m.bars,
  };
}

/** Runs one trial; never throws: a failure comes back as { ok: false, error }. */
export function evaluateTrial(base: TrialBase, task: TrialTask, hooks: RunnerHooks = {}): TrialOutcome {
  try {
    const params = resolveTrialParams(base, task.params);
    const def = findStrategy(base.strategyId);
    const from = task.range?.from ?? base.from;
    const to = task.range?.to ?? base.to;
    if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to <= base.bars.length && from < to)) {
      throw new RangeError(`bar range [${from}, ${to}) is outside the data (0..${base.bars.length})`);
    }
    const w = Math.max(0, Math.min(Math.floor(task.warmupBars ?? 0), from));
    const cash = base.config.cash;
    const prepared: PreparedBacktest = {
      ...base,
      dataInfo: {},
      params,
      from: from - w,
      to,
      create: w > 0 ? () => new WarmupGate(def.create(params), w) : () => def.create(params),
    };
    const run = executePrepared(prepared, hooks, { recordFills: false });
    const r = run.result;
    if (r.aborted) {
      // a stop request cancels; otherwise the backtest's own timeoutMs ran out: a failed trial
      if (hooks.shouldStop?.()) return { ok: false, params, error: "cancelled", cancelled: true };
      return { ok: false, params, error: `timed out after ${base.config.timeoutMs} ms (backtest.timeoutMs, which applies to each trial)` };
    }
    let ts = r.ts;
    let equity = r.equity;
    let exposure = r.exposure;
    let metrics = run.metrics;
    if (w > 0) {
      if (equity[w - 1] !== cash) throw new Error("the strategy traded during the indicator warm-up");
      ts = ts.subarray(w);
      equity = equity.subarray(w);
      exposure = exposure.subarray(w);
      metrics = computeMetrics({ initialCash: cash, ts, equity, exposure, barMs: base.barMs, calendar: base.calendar, trades: r.trades });
    }
    const out: TrialOutcome = {
      ok: true,
      params,
      metrics: trialMetrics(metrics, equity.length ? equity[equity.length - 1]! : cash),
      stats: returnStats(equity, cash),
      elapsedMs: run.elapsedMs,
    };
    if (task.buckets && task.buckets > 0) out.buckets = bucketLogReturns(equity, cash, task.buckets);
    // copies: ts may live in shared memory, equity in a larger buffer
    if (task.keepCurve) out.curve = { ts: ts.slice(), equity: equity.slice(), exposure: exposure.slice(), trades: r.trades.slice() };
    return out;
  } catch (e) {
    return { ok: false, params: task.params, error: e instanceof Error ? e.message : String(e) };
  }
}
