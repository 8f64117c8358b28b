/**
 * The backtest report as the UI and the HTML export see it: a typed view of a
 * stored run (engine/store/backtests.ts getRun), metric labels and formats,
 * the monthly-returns grid, the trade P&L histogram and trade-to-candle
 * snapping. Pure: no React, no I/O, usable on the server and in the browser.
 * Every figure comes from the stored run; nothing here invents a value.
 */
import { fmtTs } from "@/app/(app)/markets/format";
import type { BacktestRunDetail } from "@/engine/store/backtests";

export type RunStatus = "running" | "done" | "failed" | "cancelled";

export interface TradeRow {
  side: "long" | "short";
  qty: number;
  entryTs: number;
  exitTs: number;
  entryPrice: number;
  exitPrice: number;
  /** Net of commissions. */
  pnl: number;
  commission: number;
  bars: number;
}

export interface EquityRow {
  /** Start of the (downsampled) bucket, epoch ms. */
  t: number;
  /** Equity at the bucket's last bar. */
  equity: number;
  low: number;
  /** Deepest fraction below the running peak in the bucket (0.2 = 20 %). */
  dd: number;
}

export interface MonthRow {
  year: number;
  /** 1..12 */
  month: number;
  ret: number;
}

export interface PriceRow {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
}

export type ParamValue = string | number | boolean;

export interface RunConfigView {
  strategy: string | null;
  params: Record<string, ParamValue>;
  instrument: string | null;
  size: number | null;
  cash: number | null;
  commission: { kind: string; amount?: number; percent?: number } | null;
  slippage: { kind: string; ticks?: number; percent?: number } | null;
  sameBarPolicy: string | null;
  strategyTimeZone: string | null;
  from: number | null;
  to: number | null;
}

export interface InstrumentView {
  symbol: string;
  tickSize: number;
  pointValue: number;
  currency: string;
  marginPerContract: number | null;
  marginRate: number | null;
}

export interface RunView {
  id: string;
  status: RunStatus;
  strategy: string;
  symbol: string;
  timeframe: string;
  source: string;
  firstTs: number | null;
  lastTs: number | null;
  bars: number;
  fills: number;
  finalValue: number | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
  config: RunConfigView;
  /** Every stored metric (engine/core/metrics.ts) plus the run's extras; null for failed or running runs. */
  metrics: Record<string, unknown> | null;
  strategyName: string | null;
  /** Parameters as the strategy resolved them (defaults filled in), else the configured ones. */
  params: Record<string, ParamValue>;
  instrument: InstrumentView | null;
  currency: string;
  barMs: number | null;
  trades: TradeRow[];
  equity: EquityRow[];
  monthly: MonthRow[];
  prices: PriceRow[];
  /** Entries of the stored arrays that were not well-formed and are left out. */
  dropped: { trades: number; equity: number; monthly: number; prices: number };
}

// ------------------------------------------------------------------ parsing

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const fin = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const numOrNull = (v: unknown): number | null => (fin(v) ? v : null);
const strOrNull = (v: unknown): string | null => (typeof v === "string" ? v : null);

function paramsOf(v: unknown): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  if (!isObj(v)) return out;
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === "string" || typeof x === "boolean" || fin(x)) out[k] = x;
  }
  return out;
}

function parseList<T>(raw: readonly unknown[], pick: (r: Record<string, unknown>) => T | null): { rows: T[]; dropped: number } {
  const rows: T[] = [];
  let dropped = 0;
  for (const r of raw) {
    const v = isObj(r) ? pick(r) : null;
    if (v === null) dropped++;
    else rows.push(v);
  }
  return { rows, dropped };
}

function parseTrade(r: Record<string, unknown>): TradeRow | null {
  const { qty, entryTs, exitTs, entryPrice, exitPrice, pnl, commission, bars } = r;
  if (r.side !== "long" && r.side !== "short") return null;
  if (!fin(qty) || !fin(entryTs) || !fin(exitTs) || !fin(entryPrice) || !fin(exitPrice) || !fin(pnl) || !fin(commission) || !fin(bars)) return null;
  return { side: r.side, qty, entryTs, exitTs, entryPrice, exitPrice, pnl, commission, bars };
}

function parseEquity(r: Record<string, unknown>): EquityRow | null {
  const { t, equity, low, dd } = r;
  if (!fin(t) || !fin(equity)) return null;
  return { t, equity, low: fin(low) ? low : equity, dd: fin(dd) ? dd : 0 };
}

function parseMonth(r: Record<string, unknown>): MonthRow | null {
  const { year, month, ret } = r;
  if (!fin(year) || !fin(month) || !fin(ret) || month < 1 || month > 12) return null;
  return { year, month, ret };
}

function parsePrice(r: Record<string, unknown>): PriceRow | null {
  const { t, o, h, l, c } = r;
  if (!fin(t) || !fin(o) || !fin(h) || !fin(l) || !fin(c)) return null;
  return { t, o, h, l, c };
}

function parseConfig(v: unknown): RunConfigView {
  const c = isObj(v) ? v : {};
  const com = isObj(c.commission) && typeof c.commission.kind === "string" ? c.commission : null;
  const slip = isObj(c.slippage) && typeof c.slippage.kind === "string" ? c.slippage : null;
  return {
    strategy: strOrNull(c.strategy),
    params: paramsOf(c.params),
    instrument: strOrNull(c.instrument),
    size: numOrNull(c.size),
    cash: numOrNull(c.cash),
    commission: com ? { kind: String(com.kind), ...(fin(com.amount) ? { amount: com.amount } : {}), ...(fin(com.percent) ? { percent: com.percent } : {}) } : null,
    slippage: slip ? { kind: String(slip.kind), ...(fin(slip.ticks) ? { ticks: slip.ticks } : {}), ...(fin(slip.percent) ? { percent: slip.percent } : {}) } : null,
    sameBarPolicy: strOrNull(c.sameBarPolicy),
    strategyTimeZone: strOrNull(c.strategyTimeZone),
    from: numOrNull(c.from),
    to: numOrNull(c.to),
  };
}

function parseInstrument(v: unknown): InstrumentView | null {
  if (!isObj(v) || typeof v.symbol !== "string") return null;
  return {
    symbol: v.symbol,
    tickSize: fin(v.tickSize) ? v.tickSize : 0,
    pointValue: fin(v.pointValue) ? v.pointValue : 1,
    currency: typeof v.currency === "string" ? v.currency : "",
    marginPerContract: numOrNull(v.marginPerContract),
    marginRate: numOrNull(v.marginRate),
  };
}

/** A stored run (getRun / backtest.get) as a typed view; malformed array entries are counted and left out. */
export function toRunView(run: BacktestRunDetail): RunView {
  const m = isObj(run.metrics) ? run.metrics : null;
  const strat = m && isObj(m.strategy) ? m.strategy : null;
  const data = m && isObj(m.data) ? m.data : null;
  const config = parseConfig(run.config);
  const instrument = parseInstrument(m?.instrument);
  const trades = parseList(run.trades ?? [], parseTrade);
  const equity = parseList(run.equity ?? [], parseEquity);
  const monthly = parseList(run.monthly ?? [], parseMonth);
  const prices = parseList(run.prices ?? [], parsePrice);
  const status: RunStatus = run.status === "done" || run.status === "failed" || run.status === "cancelled" ? run.status : "running";
  return {
    id: run.id,
    status,
    strategy: run.strategy,
    symbol: run.symbol,
    timeframe: run.timeframe,
    source: run.source,
    firstTs: run.firstTs,
    lastTs: run.lastTs,
    bars: run.bars,
    fills: run.fills,
    finalValue: run.finalValue,
    error: run.error,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt,
    config,
    metrics: m,
    strategyName: strat && typeof strat.name === "string" ? strat.name : null,
    params: strat && isObj(strat.params) ? paramsOf(strat.params) : config.params,
    instrument,
    currency: instrument?.currency ?? "",
    barMs: data ? numOrNull(data.barMs) : null,
    trades: trades.rows,
    equity: equity.rows,
    monthly: monthly.rows,
    prices: prices.rows.sort((a, b) => a.t - b.t),
    dropped: { trades: trades.dropped, equity: equity.dropped, monthly: monthly.dropped, prices: prices.dropped },
  };
}

// ------------------------------------------------------------------ formatting

const EM = "—";

/** 0.1234 -> "12.34%"; signed adds "+" to positive values. */
export function fmtPct(x: number | null | undefined, digits = 2, signed = false): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return EM;
  const s = (x * 100).toFixed(digits);
  return `${signed && x > 0 ? "+" : ""}${s === `-${(0).toFixed(digits)}` ? (0).toFixed(digits) : s}%`;
}

export function fmtNum(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return EM;
  return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Currency amount with thousands separators and 2 decimals; the currency code is appended when given. */
export function fmtMoney(x: number | null | undefined, currency = "", signed = false): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return EM;
  const s = fmtNum(x, 2);
  return `${signed && x > 0 ? "+" : ""}${s}${currency ? ` ${currency}` : ""}`;
}

/** A number as written, trimmed of float noise (up to 8 decimals). */
export function fmtPlain(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return EM;
  return String(Number(x.toPrecision(12)));
}

/** Milliseconds as "3d 4h", "5h 12m", "12m", "45s". */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return EM;
  if (ms <= 0) return "0";
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** UTC "YYYY-MM-DD HH:MM" (or the date only). */
export function fmtTime(ms: number | null | undefined, dateOnly = false): string {
  // Markets' fmtTs, guarded against values Date cannot format
  if (ms === null || ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return EM;
  return fmtTs(ms, dateOnly);
}

/** Decimals of a tick size (0.25 -> 2, 0.0001 -> 4); null without a tick grid. */
export function tickDecimals(tick: number): number | null {
  if (!(tick > 0) || !Number.isFinite(tick)) return null;
  for (let d = 0; d <= 10; d++) {
    const scaled = tick * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return d;
  }
  return 10;
}

/** Decimals the prices actually use (2..8), from a sample. */
export function sampleDecimals(values: readonly number[]): number {
  let best = 2;
  const step = Math.max(1, Math.floor(values.length / 300));
  for (let i = 0; i < values.length; i += step) {
    const x = values[i]!;
    let d = 0;
    for (; d < 8; d++) {
      const scaled = Math.abs(x) * 10 ** d;
      if (Math.abs(scaled - Math.round(scaled)) <= Math.max(1e-7, scaled * 1e-14)) break;
    }
    if (d > best) best = d;
  }
  return best;
}

/** Decimals to show prices of this run with: the instrument's tick grid, else what the prices use. */
export function priceDecimals(run: Pick<RunView, "instrument" | "prices" | "trades">): number {
  const t = run.instrument ? tickDecimals(run.instrument.tickSize) : null;
  if (t !== null) return Math.max(t, 0);
  const sample: number[] = [];
  for (const p of run.prices.slice(0, 300)) sample.push(p.o, p.c);
  for (const tr of run.trades.slice(0, 300)) sample.push(tr.entryPrice, tr.exitPrice);
  return sampleDecimals(sample);
}

export function fmtPrice(x: number | null | undefined, decimals: number): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return EM;
  return x.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

// ------------------------------------------------------------------ metrics

export type MetricFormat = "pct" | "ratio" | "money" | "int" | "duration" | "time" | "number" | "ms";

export interface MetricDef {
  key: string;
  label: string;
  fmt: MetricFormat;
  /** Boolean metric that, when true, means the value is +infinity (the value itself is null). */
  infiniteFlag?: string;
  /** A null value means +infinity (overflow) for this metric. */
  nullIsInfinite?: boolean;
  hint?: string;
}

export interface MetricGroup {
  title: string;
  metrics: MetricDef[];
}

/** Every metric of engine/core/metrics.ts, plus the run's own figures, in display order. */
export const METRIC_GROUPS: readonly MetricGroup[] = [
  {
    title: "Returns",
    metrics: [
      { key: "initialCash", label: "Initial cash", fmt: "money" },
      { key: "finalEquity", label: "Final equity", fmt: "money" },
      { key: "totalReturn", label: "Total return", fmt: "pct" },
      { key: "annualizedReturn", label: "Annualised return (CAGR)", fmt: "pct", nullIsInfinite: true },
      { key: "volatility", label: "Volatility (annualised)", fmt: "pct" },
    ],
  },
  {
    title: "Risk-adjusted",
    metrics: [
      { key: "sharpe", label: "Sharpe ratio", fmt: "ratio" },
      { key: "sortino", label: "Sortino ratio", fmt: "ratio" },
      { key: "calmar", label: "Calmar ratio", fmt: "ratio", nullIsInfinite: true },
    ],
  },
  {
    title: "Drawdown and exposure",
    metrics: [
      { key: "maxDrawdownPct", label: "Max drawdown %", fmt: "pct" },
      { key: "maxDrawdown", label: "Max drawdown (currency)", fmt: "money" },
      { key: "maxDrawdownDuration", label: "Max drawdown duration", fmt: "duration" },
      { key: "maxDrawdownDurationBars", label: "Max drawdown duration (bars)", fmt: "int" },
      { key: "exposure", label: "Exposure (time in market)", fmt: "pct" },
    ],
  },
  {
    title: "Trades",
    metrics: [
      { key: "trades", label: "Trades", fmt: "int" },
      { key: "winningTrades", label: "Winning trades", fmt: "int" },
      { key: "losingTrades", label: "Losing trades", fmt: "int" },
      { key: "winRate", label: "Win rate", fmt: "pct" },
      { key: "grossProfit", label: "Gross profit", fmt: "money" },
      { key: "grossLoss", label: "Gross loss", fmt: "money" },
      { key: "profitFactor", label: "Profit factor", fmt: "ratio", infiniteFlag: "profitFactorInfinite" },
      { key: "expectancy", label: "Expectancy (per trade)", fmt: "money" },
      { key: "avgWin", label: "Average win", fmt: "money" },
      { key: "avgLoss", label: "Average loss", fmt: "money" },
      { key: "payoffRatio", label: "Payoff ratio", fmt: "ratio", infiniteFlag: "payoffRatioInfinite" },
      { key: "longestWinningStreak", label: "Longest winning streak", fmt: "int" },
      { key: "longestLosingStreak", label: "Longest losing streak", fmt: "int" },
      { key: "totalCommission", label: "Total commission", fmt: "money" },
    ],
  },
  {
    title: "Span",
    metrics: [
      { key: "bars", label: "Bars", fmt: "int" },
      { key: "startTs", label: "First bar", fmt: "time" },
      { key: "endTs", label: "Last bar", fmt: "time" },
      { key: "years", label: "Span (years)", fmt: "number" },
      { key: "periodsPerYear", label: "Periods per year", fmt: "number" },
    ],
  },
  {
    title: "Run",
    metrics: [
      { key: "finalPosition", label: "Final position (contracts)", fmt: "number" },
      { key: "elapsedMs", label: "Run time", fmt: "ms" },
      { key: "barsPerSecond", label: "Speed (bars/s)", fmt: "int" },
    ],
  },
];

export const ALL_METRICS: readonly MetricDef[] = METRIC_GROUPS.flatMap((g) => g.metrics);

/** Raw numeric value of a metric, or null when missing / not a number. */
export function metricValue(metrics: Record<string, unknown> | null, key: string): number | null {
  const v = metrics?.[key];
  return fin(v) ? v : null;
}

/** A metric as display text: "∞" for the documented infinite cases, "—" when the run does not hold it. */
export function formatMetric(metrics: Record<string, unknown> | null, def: MetricDef, currency = "", dateOnly = false): string {
  if (!metrics || !(def.key in metrics)) return EM;
  const v = metrics[def.key];
  if (def.infiniteFlag && metrics[def.infiniteFlag] === true) return "∞";
  if (v === null && def.nullIsInfinite) return "∞";
  if (!fin(v)) return EM;
  switch (def.fmt) {
    case "pct":
      return fmtPct(v);
    case "ratio":
      return fmtNum(v, 2);
    case "money":
      return fmtMoney(v, currency);
    case "int":
      return Math.round(v).toLocaleString("en-US");
    case "duration":
      return fmtDuration(v);
    case "time":
      return fmtTime(v, dateOnly);
    case "number":
      return fmtNum(v, Number.isInteger(v) ? 0 : 2);
    case "ms":
      return v >= 1000 ? `${fmtNum(v / 1000, 2)} s` : `${fmtNum(v, 0)} ms`;
  }
}

/** The figures for the report's header. */
export const HEADLINE_KEYS = ["finalEquity", "totalReturn", "annualizedReturn", "sharpe", "maxDrawdownPct", "trades", "winRate", "profitFactor"] as const;

export function metricDef(key: string): MetricDef {
  const d = ALL_METRICS.find((m) => m.key === key);
  if (!d) throw new Error(`unknown metric ${key}`);
  return d;
}

// ------------------------------------------------------------------ configuration

export function fmtParams(params: Record<string, ParamValue>): string {
  const entries = Object.entries(params);
  return entries.length ? entries.map(([k, v]) => `${k}=${String(v)}`).join(" ") : "none";
}

export function describeCommission(c: RunConfigView["commission"], currency: string): string {
  if (!c) return "instrument default";
  const cur = currency ? ` ${currency}` : "";
  switch (c.kind) {
    case "none":
      return "none";
    case "per_contract":
      return `${fmtPlain(c.amount)}${cur} per contract per fill`;
    case "percent":
      return `${fmtPlain(c.percent)}% of notional per fill`;
    case "per_fill":
      return `${fmtPlain(c.amount)}${cur} per fill`;
    default:
      return c.kind;
  }
}

export function describeSlippage(s: RunConfigView["slippage"]): string {
  if (!s || s.kind === "none") return "none";
  if (s.kind === "ticks") return `${fmtPlain(s.ticks)} tick${s.ticks === 1 ? "" : "s"} on market and stop fills`;
  if (s.kind === "percent") return `${fmtPlain(s.percent)}% of price on market and stop fills`;
  return s.kind;
}

export function describeSameBar(p: string | null): string {
  if (p === "stop_first") return "stop first (when a bar touches stop and target)";
  if (p === "target_first") return "target first (when a bar touches stop and target)";
  return p ?? EM;
}

export function describeInstrument(i: InstrumentView | null): string {
  if (!i) return EM;
  const margin = i.marginPerContract !== null ? `margin ${fmtMoney(i.marginPerContract, i.currency)}/contract` : i.marginRate !== null ? `margin ${fmtPct(i.marginRate, 0)} of notional` : "";
  return [i.symbol, i.tickSize > 0 ? `tick ${fmtPlain(i.tickSize)}` : "no tick grid", `×${fmtPlain(i.pointValue)} ${i.currency}`.trim(), margin].filter(Boolean).join(" · ");
}

export const isDaily = (run: Pick<RunView, "timeframe">) => run.timeframe === "1d";

/** Configuration lines shown in the report header and the HTML export. */
export function configRows(run: RunView): { label: string; value: string }[] {
  const daily = isDaily(run);
  const c = run.config;
  const range = c.from !== null || c.to !== null ? ` (requested ${c.from !== null ? fmtTime(c.from, daily) : "start"} → ${c.to !== null ? fmtTime(c.to, daily) : "end"})` : "";
  return [
    { label: "Strategy", value: `${run.strategyName ? `${run.strategyName} ` : ""}(${run.strategy})` },
    { label: "Parameters", value: fmtParams(run.params) },
    { label: "Data", value: `${run.symbol} ${run.timeframe} · ${run.source || EM}` },
    { label: "Span", value: `${fmtTime(run.firstTs, daily)} → ${fmtTime(run.lastTs, daily)} · ${run.bars.toLocaleString("en-US")} bars${range}` },
    { label: "Instrument", value: describeInstrument(run.instrument) },
    { label: "Cash", value: fmtMoney(metricValue(run.metrics, "cash") ?? c.cash, run.currency) },
    { label: "Commission", value: describeCommission(c.commission, run.currency) },
    { label: "Slippage", value: describeSlippage(c.slippage) },
    { label: "Same-bar policy", value: describeSameBar(c.sameBarPolicy) },
    ...(c.strategyTimeZone ? [{ label: "Strategy time zone", value: c.strategyTimeZone }] : []),
    { label: "Status", value: `${run.status} · created ${run.createdAt.slice(0, 19).replace("T", " ")}${run.finishedAt ? ` · finished ${run.finishedAt.slice(0, 19).replace("T", " ")}` : ""}` },
  ];
}

// ------------------------------------------------------------------ monthly grid

export interface YearRow {
  year: number;
  /** Index 0..11 = January..December; null = no bars that month. */
  months: (number | null)[];
  /** Months compounded: prod(1 + ret) - 1. */
  total: number;
}

export function monthlyGrid(monthly: readonly MonthRow[]): { years: YearRow[]; maxAbsMonth: number; maxAbsYear: number } {
  const byYear = new Map<number, (number | null)[]>();
  for (const m of monthly) {
    let row = byYear.get(m.year);
    if (!row) byYear.set(m.year, (row = new Array<number | null>(12).fill(null)));
    row[m.month - 1] = m.ret;
  }
  let maxAbsMonth = 0;
  let maxAbsYear = 0;
  const years = [...byYear.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([year, months]) => {
      let g = 1;
      for (const r of months) {
        if (r === null) continue;
        g *= 1 + r;
        maxAbsMonth = Math.max(maxAbsMonth, Math.abs(r));
      }
      const total = g - 1;
      maxAbsYear = Math.max(maxAbsYear, Math.abs(total));
      return { year, months, total };
    });
  return { years, maxAbsMonth, maxAbsYear };
}

/** Background for a return cell: green above zero, red below, stronger with the magnitude (relative to scale). */
export function heatColor(ret: number, scale: number): string {
  if (!Number.isFinite(ret) || ret === 0 || !(scale > 0)) return "transparent";
  const a = 0.1 + 0.6 * Math.min(1, Math.abs(ret) / scale);
  return ret > 0 ? `rgba(63, 208, 138, ${a.toFixed(3)})` : `rgba(239, 91, 91, ${a.toFixed(3)})`;
}

/** A return in a heatmap cell: 0.0123 -> "1.2" (the table states the unit, %). */
export function cellPct(r: number): string {
  if (!Number.isFinite(r)) return EM;
  const s = (r * 100).toFixed(1);
  return s === "-0.0" ? "0.0" : s;
}

export const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

// ------------------------------------------------------------------ P&L histogram

export interface PnlBin {
  lo: number;
  hi: number;
  wins: number;
  losses: number;
  /** pnl exactly 0 */
  even: number;
}

/** 1, 2, 2.5 or 5 times a power of ten, >= x. */
export function niceStep(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  const f = x / p;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return m * p;
}

/**
 * Trade results in equal-width bins whose edges are multiples of the width,
 * so zero is always an edge and no bin mixes winners and losers (breakeven
 * trades sit in the bin starting at 0, counted apart).
 */
export function pnlHistogram(pnls: readonly number[], maxBins = 30): { bins: PnlBin[]; width: number } {
  const xs = pnls.filter((p) => Number.isFinite(p));
  if (xs.length === 0) return { bins: [], width: 0 };
  let min = Infinity;
  let max = -Infinity;
  for (const p of xs) {
    if (p < min) min = p;
    if (p > max) max = p;
  }
  const target = Math.max(5, Math.min(maxBins, Math.round(2 * Math.cbrt(xs.length))));
  const range = max - min;
  const width = range > 0 ? niceStep(range / target) : niceStep(Math.max(Math.abs(max), 1) / 5);
  const start = Math.floor(min / width) * width;
  const count = Math.max(1, Math.floor((max - start) / width) + 1);
  const zeroIdx = Math.round(-start / width); // index of the bin whose lower edge is 0 (may be outside 0..count-1)
  const bins: PnlBin[] = Array.from({ length: count }, (_, k) => ({ lo: start + k * width, hi: start + (k + 1) * width, wins: 0, losses: 0, even: 0 }));
  for (const p of xs) {
    let k = Math.floor((p - start) / width);
    // float noise must not put a loss in a bin at or above zero, or a gain below it
    if (p >= 0 && k < zeroIdx) k = zeroIdx;
    if (p < 0 && k >= zeroIdx) k = zeroIdx - 1;
    k = Math.min(count - 1, Math.max(0, k));
    const b = bins[k]!;
    if (p > 0) b.wins++;
    else if (p < 0) b.losses++;
    else b.even++;
  }
  return { bins, width };
}

// ------------------------------------------------------------------ trades on candles

/** Index of the bucket containing t: the last i with times[i] <= t (binary search); -1 before the first. */
export function bucketIndex(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

export interface TradeMark {
  /** Candle index the fill falls in. */
  index: number;
  kind: "entry" | "exit";
  /** "buy" for a long entry or a short exit, "sell" otherwise. */
  action: "buy" | "sell";
  price: number;
  trade: number;
}

/** Entry and exit fills of each trade, snapped to the candle bucket containing them, ordered by candle. */
export function tradeMarks(prices: readonly PriceRow[], trades: readonly TradeRow[]): TradeMark[] {
  if (prices.length === 0) return [];
  const times = prices.map((p) => p.t);
  const out: TradeMark[] = [];
  trades.forEach((tr, k) => {
    const e = Math.max(0, bucketIndex(times, tr.entryTs));
    const x = Math.max(0, bucketIndex(times, tr.exitTs));
    out.push({ index: e, kind: "entry", action: tr.side === "long" ? "buy" : "sell", price: tr.entryPrice, trade: k });
    out.push({ index: x, kind: "exit", action: tr.side === "long" ? "sell" : "buy", price: tr.exitPrice, trade: k });
  });
  return out.sort((a, b) => a.index - b.index || a.trade - b.trade || (a.kind === "entry" ? -1 : 1));
}
