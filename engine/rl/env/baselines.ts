/**
 * Baselines on a span, through the trading core's backtest loop with the
 * dataset's instrument and costs, measured with the same metric set as every
 * backtest (engine/core/metrics computeMetrics): flat (no position),
 * buy-and-hold (long `contractSize` from the span's first decision), and the
 * built-in SMA crossover strategy. Every figure carries its sample label.
 */
import type { Metrics } from "../../core/metrics";
import type { Strategy, StrategyContext } from "../../core/ports";
import { SmaCross } from "../../core/strategies/builtin";
import type { TradingDataset } from "./dataset";
import { backtestOnSpan } from "./replay";
import type { Span } from "./split";

export type SampleLabel = "in-sample" | "out-of-sample";

export interface BaselineResult {
  name: "flat" | "buy-and-hold" | "sma-cross";
  label: SampleLabel;
  span: Span;
  finalValue: number;
  fills: number;
  metrics: Metrics;
}

class Flat implements Strategy {
  readonly name = "flat";
}

class BuyAndHold implements Strategy {
  readonly name = "buy-and-hold";
  constructor(private readonly size: number) {}
  onBar(ctx: StrategyContext): void {
    if (ctx.data.count === 1 && ctx.position.qty === 0) ctx.exec.submit({ side: "buy", qty: this.size, type: "market", tag: "buy-and-hold" });
  }
}

export interface BaselineOptions {
  cash: number;
  contractSize: number;
  label: SampleLabel;
  sma?: { fast: number; slow: number; mode?: "long_only" | "long_short" };
}

export function runBaselines(dataset: TradingDataset, span: Span, opts: BaselineOptions): BaselineResult[] {
  if (!(span.from >= 0 && span.to <= dataset.length && span.to - span.from >= 2)) throw new RangeError(`span: [${span.from}, ${span.to}) is not a span of at least 2 bars inside the data (${dataset.length} bars)`);
  const sma = opts.sma ?? { fast: 10, slow: 30 };
  const runs: [BaselineResult["name"], Strategy][] = [
    ["flat", new Flat()],
    ["buy-and-hold", new BuyAndHold(opts.contractSize)],
    ["sma-cross", new SmaCross({ fast: sma.fast, slow: sma.slow, size: opts.contractSize, mode: sma.mode ?? "long_only" })],
  ];
  return runs.map(([name, strategy]) => {
    const { result, metrics } = backtestOnSpan(dataset, span, strategy, opts.cash);
    return { name, label: opts.label, span, finalValue: result.finalValue, fills: result.fillCount, metrics };
  });
}
