import { describe, expect, it } from "vitest";
import { ALL_METRICS } from "@/app/(app)/backtests/report-model";
import type { BacktestRunDetail } from "@/engine/store/backtests";
import { escapeHtml, renderBacktestHtml } from "./export-html";

const HOSTILE = `<script>alert("x")</script><img src=x onerror=alert(1)>`;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 2);

function metrics(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    bars: 60,
    startTs: T0,
    endTs: T0 + 59 * DAY,
    years: 0.1615,
    periodsPerYear: 365,
    initialCash: 100_000,
    finalEquity: 101_234.5,
    totalReturn: 0.012345,
    annualizedReturn: 0.0789,
    volatility: 0.1234,
    sharpe: 1.2345,
    sortino: 1.789,
    calmar: 2.5,
    maxDrawdownPct: 0.0321,
    maxDrawdown: 3210.5,
    maxDrawdownDuration: 12 * DAY,
    maxDrawdownDurationBars: 12,
    exposure: 0.45,
    trades: 3,
    winningTrades: 2,
    losingTrades: 1,
    winRate: 2 / 3,
    grossProfit: 2000,
    grossLoss: 765.5,
    profitFactor: 2.6127,
    profitFactorInfinite: false,
    expectancy: 411.5,
    avgWin: 1000,
    avgLoss: -765.5,
    payoffRatio: 1.3063,
    payoffRatioInfinite: false,
    longestLosingStreak: 1,
    longestWinningStreak: 2,
    totalCommission: 13.5,
    strategy: { id: "sma-cross", name: "SMA crossover", params: { fast: 10, slow: 30, size: 1, mode: "long_only" } },
    instrument: { symbol: "NQ", tickSize: 0.25, pointValue: 20, currency: "USD", marginPerContract: 19_000 },
    data: { source: "series:NQ:1d", symbol: "NQ", timeframe: "1d", barMs: DAY, firstTs: T0, lastTs: T0 + 59 * DAY, bars: 60 },
    cash: 100_000,
    finalPosition: 0,
    elapsedMs: 12.5,
    barsPerSecond: 4800,
    ...over,
  };
}

function run(over: Partial<BacktestRunDetail> = {}): BacktestRunDetail {
  return {
    id: "8f0c2d4e-1111-4222-8333-944455556666",
    status: "done",
    strategy: "sma-cross",
    symbol: "NQ",
    timeframe: "1d",
    source: "series:NQ:1d",
    config: { data: { kind: "series", symbol: "NQ", timeframe: "1d" }, strategy: "sma-cross", params: { fast: 10, slow: 30 }, cash: 100_000, slippage: { kind: "ticks", ticks: 1 }, sameBarPolicy: "stop_first", strategyTimeZone: "America/New_York" },
    firstTs: T0,
    lastTs: T0 + 59 * DAY,
    bars: 60,
    fills: 6,
    finalValue: 101_234.5,
    metrics: metrics(),
    error: null,
    optimizationId: null,
    createdById: null,
    createdAt: "2024-03-01T10:00:00.000Z",
    finishedAt: "2024-03-01T10:00:01.000Z",
    trades: [
      { side: "long", qty: 1, entryTs: T0 + 3 * DAY, exitTs: T0 + 10 * DAY, entryPrice: 17000.25, exitPrice: 17050.5, pnl: 1000, commission: 4.5, bars: 7 },
      { side: "short", qty: 2, entryTs: T0 + 12 * DAY, exitTs: T0 + 20 * DAY, entryPrice: 17100, exitPrice: 17119.5, pnl: -765.5, commission: 4.5, bars: 8 },
      { side: "long", qty: 1, entryTs: T0 + 30 * DAY, exitTs: T0 + 40 * DAY, entryPrice: 16900.75, exitPrice: 16951, pnl: 1000, commission: 4.5, bars: 10 },
    ],
    equity: Array.from({ length: 60 }, (_, i) => ({ t: T0 + i * DAY, equity: 100_000 + i * 20, low: 100_000 + i * 20 - 5, dd: i % 10 === 5 ? 0.01 : 0 })),
    monthly: [
      { year: 2024, month: 1, ret: 0.01 },
      { year: 2024, month: 2, ret: -0.005 },
      { year: 2024, month: 3, ret: 0.0073 },
    ],
    prices: Array.from({ length: 60 }, (_, i) => ({ t: T0 + i * DAY, o: 17000 + i, h: 17010 + i, l: 16990 + i, c: 17005 + i })),
    ...over,
  };
}

describe("escapeHtml", () => {
  it("escapes the five HTML-significant characters", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  });
});

describe("renderBacktestHtml", () => {
  it("escapes hostile strings from the run (strategy name, params, symbol, error)", () => {
    const hostile = metrics({ strategy: { id: "sma-cross", name: HOSTILE, params: { fast: 10, slow: 30, mode: `long"'<b>` } } });
    const html = renderBacktestHtml(run({ metrics: hostile, symbol: `NQ<svg onload=alert(1)>`, strategy: `sma-cross"><script>x()</script>` }));
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<svg onload");
    expect(html).not.toContain("<b>");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).toContain("mode=long&quot;&#39;&lt;b&gt;");

    const failed = renderBacktestHtml(run({ status: "failed", metrics: null, error: `strategy threw: </div><script>steal()</script>`, trades: [], equity: [], monthly: [], prices: [] }));
    expect(failed).not.toContain("<script");
    expect(failed).toContain("This backtest failed.");
    expect(failed).toContain("strategy threw: &lt;/div&gt;&lt;script&gt;steal()&lt;/script&gt;");
  });

  it("is standalone: no script at all, no src= and no external URL", () => {
    const html = renderBacktestHtml(run());
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\ssrc\s*=/i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/\/\/[a-z0-9.-]+\.[a-z]{2,}/i); // protocol-relative
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain("default-src 'none'");
    // the charts are inline SVG
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(3);
  });

  it("includes every metric label with its stored value, and the trade rows", () => {
    const html = renderBacktestHtml(run());
    for (const m of ALL_METRICS) expect(html, m.label).toContain(`>${escapeHtml(m.label)}</th>`);
    expect(html).toMatch(/>Sharpe ratio<\/th><td class="r">1\.23<\/td>/);
    expect(html).toContain("1.23%</td>"); // total return 0.012345
    expect(html).toContain("3.21%</td>"); // max drawdown %
    expect(html).toContain("12d</td>"); // max drawdown duration
    expect(html).toContain("13.50 USD</td>"); // total commission
    // one row per trade, with prices on the tick grid
    const body = html.slice(html.indexOf("<h2>Trades (3)</h2>"));
    expect(body.match(/<tr><td class="r dim">/g)?.length).toBe(3);
    expect(body).toContain("17,000.25");
    expect(body).toContain("+1,000.00");
    expect(body).toContain("-765.50");
    expect(body).toContain(">short<");
    // monthly heatmap with the compounded year: 1.01 * 0.995 * 1.0073 - 1 = 1.2272 %
    expect(html).toContain(">1.0</td>");
    expect(html).toContain(">-0.5</td>");
    expect(html).toContain(">1.2</td>");
  });

  it("shows infinite ratios as ∞ and missing metrics as —", () => {
    const html = renderBacktestHtml(run({ metrics: metrics({ profitFactor: null, profitFactorInfinite: true, calmar: null, sortino: undefined }) }));
    expect(html).toMatch(/>Profit factor<\/th><td class="r">∞<\/td>/);
    expect(html).toMatch(/>Calmar ratio<\/th><td class="r">∞<\/td>/);
    expect(html).toMatch(/>Sortino ratio<\/th><td class="r">—<\/td>/);
  });

  it("renders a run with no trades", () => {
    const html = renderBacktestHtml(run({ trades: [], fills: 0, metrics: metrics({ trades: 0, winningTrades: 0, losingTrades: 0, winRate: 0, profitFactor: 0, payoffRatio: 0 }) }));
    expect(html).toContain("<h2>Trades (0)</h2>");
    expect(html).toContain("The strategy closed no trade in this run.");
    expect(html).toContain("No closed trades, so no distribution.");
    for (const m of ALL_METRICS) expect(html).toContain(`>${escapeHtml(m.label)}</th>`);
    expect(html).toMatch(/<\/html>$/);
  });

  it("renders an empty, failed run without charts and a cancelled run with its note", () => {
    const failed = renderBacktestHtml(run({ status: "failed", metrics: null, error: "boom", trades: [], equity: [], monthly: [], prices: [] }));
    expect(failed).not.toContain("<svg ");
    expect(failed).toContain("Configuration");
    const cancelled = renderBacktestHtml(run({ status: "cancelled" }));
    expect(cancelled).toContain("Cancelled before the end of the data");
  });
});
