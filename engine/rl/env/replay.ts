/**
 * A policy as a trading-core Strategy: at each bar's close it builds the
 * environment's observation (the same feature rows and account features, from
 * the core's position view), asks the policy for an action, maps it to a
 * target position exactly as the environment does and submits the market
 * order that reaches it. Run through engine/core's runBacktest this is how a
 * trained policy is evaluated (same fills, costs and metrics as any
 * backtest), and how the environment is proven equivalent to the core
 * (env.test.ts replays an action sequence both ways).
 */
import { type BacktestResult, runBacktest } from "../../core/backtest";
import { computeMetrics, type Metrics } from "../../core/metrics";
import type { Strategy, StrategyContext } from "../../core/ports";
import type { TradingDataset } from "./dataset";
import { type ActionMode, actionTarget, numActionsFor } from "./trading-env";

/** Chooses an action from an observation; `bar` is the decision bar's index in the dataset. */
export type PolicyFn = (obs: Float32Array, bar: number) => number;

export interface PolicyStrategyOptions {
  dataset: TradingDataset;
  window: number;
  actions: { mode: ActionMode; contractSize: number; maxUnits?: number };
  cash: number;
  flatAtSessionEnd?: boolean;
  unrealizedScale?: number;
  /** Index of the backtest's first bar in the dataset (its `from`). */
  from: number;
  /** Decisions are taken at bars [firstDecision, lastDecision] (default: from the first full window to the bar before the last). */
  firstDecision?: number;
  lastDecision?: number;
  policy: PolicyFn;
  name?: string;
}

export class PolicyStrategy implements Strategy {
  readonly name: string;
  readonly obs: Float32Array;
  private readonly o: PolicyStrategyOptions;
  private readonly maxUnits: number;
  private readonly nA: number;
  private readonly first: number;
  decisions = 0;

  constructor(o: PolicyStrategyOptions) {
    this.o = o;
    this.name = o.name ?? "rl-policy";
    this.maxUnits = o.actions.maxUnits ?? 1;
    this.nA = numActionsFor(o.actions.mode, this.maxUnits);
    const F = o.dataset.features.width;
    this.obs = new Float32Array(o.window * F + 2);
    this.first = Math.max(o.firstDecision ?? 0, o.dataset.features.validFrom + o.window - 1);
  }

  onBar(ctx: StrategyContext): void {
    const o = this.o;
    const t = o.from + ctx.data.count - 1;
    if (t < this.first || (o.lastDecision !== undefined && t > o.lastDecision) || t + 1 >= o.dataset.length) return;
    const F = o.dataset.features.width;
    const WF = o.window * F;
    const feat = o.dataset.features.data;
    const src = (t - o.window + 1) * F;
    const obs = this.obs;
    for (let k = 0; k < WF; k++) obs[k] = feat[src + k]!;
    const q = ctx.position.qty;
    const size = o.actions.contractSize;
    obs[WF] = q * (1 / (this.maxUnits * size));
    obs[WF + 1] = q === 0 ? 0 : ctx.position.unrealizedPnl * (1 / (o.unrealizedScale ?? o.cash * 0.01));
    const a = o.policy(obs, t);
    if (!(Number.isInteger(a) && a >= 0 && a < this.nA)) throw new RangeError(`policy returned action ${a} at bar ${t}: must be an integer in [0, ${this.nA})`);
    this.decisions++;
    let target = actionTarget(o.actions.mode, a, q, size, this.maxUnits);
    if (o.flatAtSessionEnd && o.dataset.lastOfSession[t + 1] === 1) target = 0;
    const diff = target - q;
    if (diff !== 0) ctx.exec.submit({ side: diff > 0 ? "buy" : "sell", qty: Math.abs(diff), type: "market", tag: "rl" });
  }
}

export interface PolicyBacktest {
  result: BacktestResult;
  metrics: Metrics;
}

/** Run a policy through the core's backtest loop over bars [from, to) of the dataset, with the dataset's costs. */
export function runPolicyBacktest(
  dataset: TradingDataset,
  span: { from: number; to: number },
  opts: Omit<PolicyStrategyOptions, "dataset" | "from"> & { recordFills?: boolean },
): PolicyBacktest {
  const strategy = new PolicyStrategy({ ...opts, dataset, from: span.from, lastDecision: opts.lastDecision ?? span.to - 2 });
  return backtestOnSpan(dataset, span, strategy, opts.cash, opts.recordFills ?? false);
}

/** Any Strategy over bars [from, to) of a dataset with its instrument and costs; metrics as the backtest runner computes them. */
export function backtestOnSpan(dataset: TradingDataset, span: { from: number; to: number }, strategy: Strategy, cash: number, recordFills = false): PolicyBacktest {
  const m = dataset.market;
  const result = runBacktest(dataset.bars, {
    instrument: m.instrument,
    strategy,
    cash,
    barMs: m.barMs,
    commission: m.commission,
    slippage: m.slippage,
    from: span.from,
    to: span.to,
    recordFills,
  });
  const metrics = computeMetrics({ initialCash: cash, ts: result.ts, equity: result.equity, exposure: result.exposure, barMs: m.barMs, calendar: m.calendar, trades: result.trades });
  return { result, metrics };
}
