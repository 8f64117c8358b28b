import { describe, expect, it } from "vitest";
import type { BacktestRunDetail } from "@/engine/store/backtests";
import { fieldOfMessage, errorsFromServer } from "./form-errors";
import {
  ALL_METRICS,
  bucketIndex,
  cellPct,
  fmtDuration,
  fmtPct,
  formatMetric,
  metricDef,
  monthlyGrid,
  niceStep,
  pnlHistogram,
  priceDecimals,
  toRunView,
  tradeMarks,
  type PriceRow,
  type TradeRow,
} from "./report-model";

describe("pnlHistogram", () => {
  it("puts zero on a bin edge so no bin mixes winners and losers", () => {
    const pnls = [-730, -120.5, -0.01, 0, 0.01, 55, 999, 1234.5, -3, 17];
    const { bins, width } = pnlHistogram(pnls);
    expect(width).toBeGreaterThan(0);
    expect(bins.reduce((s, b) => s + b.wins + b.losses + b.even, 0)).toBe(pnls.length);
    for (const b of bins) {
      if (b.losses) expect(b.hi).toBeLessThanOrEqual(1e-9);
      if (b.wins || b.even) expect(b.lo).toBeGreaterThanOrEqual(-1e-9);
      expect(b.hi - b.lo).toBeCloseTo(width, 9);
    }
    expect(bins.some((b) => Math.abs(b.lo) < 1e-9)).toBe(true);
  });

  it("handles one value, equal values, an empty list and float-noisy widths", () => {
    expect(pnlHistogram([]).bins).toEqual([]);
    const one = pnlHistogram([42]);
    expect(one.bins.reduce((s, b) => s + b.wins, 0)).toBe(1);
    const same = pnlHistogram([-5, -5, -5]);
    expect(same.bins.reduce((s, b) => s + b.losses, 0)).toBe(3);
    const noisy = pnlHistogram([-0.3, -0.1, 0.1, 0.2, 0.3, 0.7]);
    for (const b of noisy.bins) if (b.losses) expect(b.hi).toBeLessThanOrEqual(1e-12);
    expect(niceStep(0.3)).toBe(0.5);
    expect(niceStep(130)).toBe(200);
  });
});

describe("trades on candles", () => {
  const prices: PriceRow[] = [0, 10, 20, 30].map((t) => ({ t, o: 1, h: 2, l: 0.5, c: 1.5 }));
  it("bucketIndex finds the bucket containing a time (binary search)", () => {
    const ts = prices.map((p) => p.t);
    expect(bucketIndex(ts, -1)).toBe(-1);
    expect(bucketIndex(ts, 0)).toBe(0);
    expect(bucketIndex(ts, 9)).toBe(0);
    expect(bucketIndex(ts, 10)).toBe(1);
    expect(bucketIndex(ts, 29)).toBe(2);
    expect(bucketIndex(ts, 1e9)).toBe(3);
  });
  it("snaps entries and exits to their candles, buy/sell by side, ordered by candle", () => {
    const trades: TradeRow[] = [
      { side: "short", qty: 1, entryTs: 25, exitTs: 31, entryPrice: 1, exitPrice: 0.9, pnl: 0.1, commission: 0, bars: 1 },
      { side: "long", qty: 1, entryTs: 3, exitTs: 15, entryPrice: 1, exitPrice: 1.2, pnl: 0.2, commission: 0, bars: 2 },
    ];
    const marks = tradeMarks(prices, trades);
    expect(marks.map((m) => [m.index, m.kind, m.action, m.trade])).toEqual([
      [0, "entry", "buy", 1],
      [1, "exit", "sell", 1],
      [2, "entry", "sell", 0],
      [3, "exit", "buy", 0],
    ]);
  });
});

describe("monthlyGrid", () => {
  it("compounds the months of each year and leaves months without bars empty", () => {
    const { years, maxAbsMonth } = monthlyGrid([
      { year: 2023, month: 12, ret: 0.1 },
      { year: 2024, month: 1, ret: 0.1 },
      { year: 2024, month: 3, ret: -0.5 },
    ]);
    expect(years.map((y) => y.year)).toEqual([2023, 2024]);
    expect(years[1]!.months[1]).toBeNull();
    expect(years[1]!.total).toBeCloseTo(1.1 * 0.5 - 1, 12);
    expect(years[0]!.total).toBeCloseTo(0.1, 12);
    expect(maxAbsMonth).toBe(0.5);
    expect(cellPct(-0.0001)).toBe("0.0");
  });
});

describe("metrics formatting", () => {
  it("labels every metric of engine/core/metrics.ts", () => {
    const keys = new Set(ALL_METRICS.map((m) => m.key));
    for (const k of ["totalReturn", "annualizedReturn", "volatility", "sharpe", "sortino", "calmar", "maxDrawdownPct", "maxDrawdown", "maxDrawdownDuration", "profitFactor", "expectancy", "winRate", "avgWin", "avgLoss", "payoffRatio", "exposure", "trades", "longestLosingStreak", "totalCommission"]) {
      expect(keys.has(k), k).toBe(true);
    }
  });
  it("shows infinite ratios as ∞ and absent ones as —", () => {
    const m = { profitFactor: null, profitFactorInfinite: true, payoffRatio: 0, payoffRatioInfinite: false, annualizedReturn: null, sharpe: 1.234 };
    expect(formatMetric(m, metricDef("profitFactor"))).toBe("∞");
    expect(formatMetric(m, metricDef("payoffRatio"))).toBe("0.00");
    expect(formatMetric(m, metricDef("annualizedReturn"))).toBe("∞");
    expect(formatMetric(m, metricDef("sortino"))).toBe("—");
    expect(formatMetric(null, metricDef("sharpe"))).toBe("—");
    expect(fmtPct(-0.00001)).toBe("0.00%");
    expect(fmtDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe("3d 4h");
  });
});

describe("toRunView", () => {
  const base: BacktestRunDetail = {
    id: "r1", status: "done", strategy: "sma-cross", symbol: "ES", timeframe: "1m", source: "series:ES:1m", config: { params: { fast: 5 }, cash: 5000 },
    firstTs: 0, lastTs: 60_000, bars: 2, fills: 2, finalValue: 5001, metrics: { instrument: { symbol: "ES", tickSize: 0.25, pointValue: 50, currency: "USD" } }, error: null,
    optimizationId: null, createdById: null, createdAt: "2024-01-01T00:00:00.000Z", finishedAt: null,
    trades: [{ side: "long", qty: 1, entryTs: 0, exitTs: 60_000, entryPrice: 1, exitPrice: 2, pnl: 1, commission: 0, bars: 1 }, { side: "sideways" }, null],
    equity: [{ t: 0, equity: 5000, low: 5000, dd: 0 }, { t: "x" }], monthly: [{ year: 2024, month: 13, ret: 0 }], prices: [{ t: 60_000, o: 1, h: 1, l: 1, c: 1 }, { t: 0, o: 1, h: 1, l: 1, c: 1 }],
  };
  it("keeps well-formed entries, counts the rest, and sorts candles", () => {
    const v = toRunView(base);
    expect(v.trades).toHaveLength(1);
    expect(v.dropped).toEqual({ trades: 2, equity: 1, monthly: 1, prices: 0 });
    expect(v.prices.map((p) => p.t)).toEqual([0, 60_000]);
    expect(v.currency).toBe("USD");
    expect(v.params).toEqual({ fast: 5 });
    expect(priceDecimals(v)).toBe(2);
  });
});

describe("form errors", () => {
  const names = ["fast", "slow", "size", "mode"];
  it("finds the field a server message is about", () => {
    expect(fieldOfMessage("params.fast: fast (30) must be less than slow (10)", names)).toBe("params.fast");
    expect(fieldOfMessage("fast (30) must be less than slow (10)", names)).toBe("params.fast");
    expect(fieldOfMessage("size must be positive, got 0", names)).toBe("size");
    expect(fieldOfMessage("from (2024-01-02T00:00:00.000Z) is after to (2023-01-01T00:00:00.000Z)", names)).toBe("from");
    expect(fieldOfMessage("no bars between 2030-01-01 and the end (data spans …)", names)).toBe("from");
    expect(fieldOfMessage("unknown parameter 'x' for strategy sma-cross (known: fast, slow)", names)).toBe("strategy");
    expect(fieldOfMessage("data: files are for the CLI", names)).toBe("symbol");
    expect(fieldOfMessage("engine refused (HTTP 500)", names)).toBe("form");
  });
  it("says plainly that the engine is offline, and maps Zod field errors", () => {
    expect(errorsFromServer({ message: "Engine offline: backtests run in the engine.", data: { code: "SERVICE_UNAVAILABLE" } }, names).form).toMatch(/engine is offline/);
    expect(errorsFromServer({ message: "[...]", data: { code: "BAD_REQUEST", zodError: { fieldErrors: { cash: ["Cash must be positive."] }, formErrors: [] } } }, names)).toEqual({ cash: "cash: Cash must be positive." });
  });
});
