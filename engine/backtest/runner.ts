/**
 * A configured backtest from end to end: validated configuration, bars from a
 * CSV file (parser + firewall) or the store, the instrument, the strategy, the
 * core's event loop, metrics and a JSON-safe report. Used by the CLI, the
 * engine's backtest service and the optimisers.
 */
import { z } from "zod";
import { calendarFor, sessionAtOrAfter } from "../data/calendar";
import { BUILTIN_INSTRUMENTS } from "../data/instruments";
import { validateTimeZone } from "../data/csv";
import { type BarColumns, type CalendarId, type Instrument, TIMEFRAME_MS, TIMEFRAMES, type Timeframe } from "../data/types";
import { type BacktestOptions, type BacktestResult, runBacktest } from "../core/backtest";
import type { CommissionModel, SlippageModel } from "../core/costs";
import { computeMetrics, drawdownSeries, type Metrics, monthlyReturns } from "../core/metrics";
import type { Strategy } from "../core/ports";
import { findStrategy, ParamError, type Params, resolveParams } from "../core/strategies/builtin";
import type { CoreInstrument, Trade } from "../core/types";

export const ParamValueSchema = z.union([z.string(), z.number(), z.boolean()]);

export const CommissionSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("none") }),
  z.object({ kind: z.literal("per_contract"), amount: z.number().min(0) }),
  z.object({ kind: z.literal("percent"), percent: z.number().min(0).max(99) }),
  z.object({ kind: z.literal("per_fill"), amount: z.number().min(0) }),
]);

export const BacktestConfigSchema = z.object({
  data: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("csv"), path: z.string().min(1, "data path is empty"), timeZone: z.string().default("UTC") }),
    z.object({ kind: z.literal("series"), symbol: z.string().min(1), timeframe: z.enum(TIMEFRAMES) }),
  ]),
  /** Built-in id (sma-cross, rsi-reversion, orb, bollinger-breakout), builder:<name>[@version] or model:<modelId> (a registered RL model). */
  strategy: z.string().min(1),
  params: z.record(z.string(), ParamValueSchema).default({}),
  /** "unit" (point value 1, no tick grid) or an instrument symbol. Default: the series' symbol, or unit for files. */
  instrument: z.string().optional(),
  size: z.number().positive("size must be positive").optional(),
  cash: z.number().positive("cash must be positive").default(100_000),
  commission: CommissionSchema.optional(),
  slippage: z
    .discriminatedUnion("kind", [z.object({ kind: z.literal("none") }), z.object({ kind: z.literal("ticks"), ticks: z.number().min(0) }), z.object({ kind: z.literal("percent"), percent: z.number().min(0).max(99) })])
    .default({ kind: "none" }),
  sameBarPolicy: z.enum(["stop_first", "target_first"]).default("stop_first"),
  /** Time zone for session logic in strategies (e.g. the 09:30 open). */
  strategyTimeZone: z.string().default("America/New_York"),
  from: z.number().optional(),
  to: z.number().optional(),
  /** Stop the whole thing after this many ms of wall time (0 = no limit). */
  timeoutMs: z.number().min(0).default(0),
});
export type BacktestConfigInput = z.input<typeof BacktestConfigSchema>;
export type BacktestConfig = z.output<typeof BacktestConfigSchema>;

export class BacktestInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message.startsWith(`${field}:`) ? message : `${field}: ${message}`);
    this.name = "BacktestInputError";
  }
}

/** Approximate CME initial margins per contract (USD), used when an instrument has none. Editable per run later. */
export const DEFAULT_FUTURES_MARGIN: Record<string, number> = { NQ: 19_000, MNQ: 1_900, ES: 13_000, MES: 1_300, "6E": 2_500 };

export function coreInstrument(i: Instrument): CoreInstrument {
  const margin = DEFAULT_FUTURES_MARGIN[i.symbol];
  if (i.kind === "future") return { symbol: i.symbol, tickSize: i.tickSize, pointValue: i.pointValue, currency: i.currency, ...(margin !== undefined ? { marginPerContract: margin } : {}) };
  // spot and index: fully paid; perpetuals: 10x leverage
  return { symbol: i.symbol, tickSize: i.tickSize, pointValue: i.pointValue, currency: i.currency, marginRate: i.kind === "perpetual" ? 0.1 : 1 };
}

export const UNIT_INSTRUMENT: CoreInstrument = { symbol: "UNIT", tickSize: 0, pointValue: 1, currency: "USD", marginRate: 1 };

/** A builder strategy compiled to the Strategy interface, looked up by name and optional version. */
export type BuilderResolver = (name: string, version?: number) => Promise<{ name: string; version: number; create(): Strategy }>;

/**
 * A registered trading model as a strategy source (engine/rl/model-strategy.ts
 * ModelPolicy has this shape). `prepare` gets the whole loaded series (its
 * features are past-only, so bars before the range are warm-up) and returns a
 * factory of strategies deciding from bar index span.from.
 */
export interface ModelStrategySource {
  id: string;
  name: string;
  prepare(bars: BarColumns, market: { instrument: CoreInstrument; barMs: number; calendar: CalendarId; commission: CommissionModel; slippage: SlippageModel }, span: { from: number; to: number }): () => Strategy;
  /** Releases the model (inference sessions). */
  dispose(): Promise<void>;
}

/** A registered model by id; throws (with a message for the user) when there is none or it cannot trade. */
export type ModelResolver = (id: string) => Promise<ModelStrategySource>;

export interface RunnerDeps {
  /** Bars of a stored series (needed for data.kind = "series"). */
  loadSeries?: (symbol: string, timeframe: Timeframe, range: { from?: number; to?: number }) => Promise<{ bars: BarColumns; instrument: Instrument }>;
  /** Instrument by symbol (defaults to the built-ins). */
  instrument?: (symbol: string) => Promise<Instrument | undefined>;
  builder?: BuilderResolver;
  model?: ModelResolver;
  readCsv?: typeof import("./csv-bars").readCsvBars;
}

export interface RunnerHooks {
  onProgress?: (done: number, total: number) => void;
  shouldStop?: () => boolean;
}

export interface EquityPoint {
  t: number;
  equity: number;
  low: number;
  dd: number;
}

export interface PriceBar {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
}

export interface BacktestReport {
  strategy: { id: string; name: string; params: Params };
  instrument: CoreInstrument;
  data: {
    source: string;
    symbol: string;
    timeframe: string;
    barMs: number;
    firstTs: number;
    lastTs: number;
    bars: number;
    rowsRead?: number;
    quarantined?: number;
    duplicates?: number;
    reasons?: Record<string, number>;
  };
  cash: number;
  /** The costs the run actually used (the instrument's default commission when none was given). */
  costs: { commission: CommissionModel; slippage: SlippageModel; sameBarPolicy: string };
  fills: number;
  finalValue: number;
  finalPosition: number;
  metrics: Metrics;
  trades: Trade[];
  equity: EquityPoint[];
  monthly: { year: number; month: number; ret: number }[];
  prices: PriceBar[];
  elapsedMs: number;
  barsPerSecond: number;
  aborted: boolean;
}

function parseConfig(input: unknown): BacktestConfig {
  const r = BacktestConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.join(".") || "config";
    throw new BacktestInputError(field, `${field}: ${issue.message}`);
  }
  return r.data;
}

function indexRange(ts: Float64Array, n: number, from?: number, to?: number): [number, number] {
  let lo = 0;
  let hi = n;
  if (from !== undefined) {
    let a = 0, b = n;
    while (a < b) {
      const m = (a + b) >> 1;
      if (ts[m]! < from) a = m + 1;
      else b = m;
    }
    lo = a;
  }
  if (to !== undefined) {
    let a = lo, b = n;
    while (a < b) {
      const m = (a + b) >> 1;
      if (ts[m]! <= to) a = m + 1;
      else b = m;
    }
    hi = a;
  }
  return [lo, hi];
}

const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : String(t));

export interface PreparedBacktest {
  config: BacktestConfig;
  bars: BarColumns;
  from: number;
  to: number;
  barMs: number;
  symbol: string;
  timeframe: string;
  calendar: CalendarId;
  instrument: CoreInstrument;
  strategyId: string;
  strategyName: string;
  params: Params;
  create: () => Strategy;
  commission: CommissionModel;
  dataInfo: Partial<BacktestReport["data"]>;
  /** Frees what the strategy holds (a model's inference sessions); call once the runs are over. Absent when there is nothing to free. */
  release?: () => Promise<void>;
}

/**
 * Validate the configuration and load the data; throws BacktestInputError
 * naming the field. A prepared model strategy holds inference sessions:
 * call `release` when done with it (runConfiguredBacktest does).
 */
export async function prepareBacktest(input: unknown, deps: RunnerDeps = {}): Promise<PreparedBacktest> {
  const cfg = parseConfig(input);
  let model: ModelStrategySource | null = null;
  try {
    return await prepareWith(cfg, deps, (m) => (model = m));
  } catch (e) {
    await (model as ModelStrategySource | null)?.dispose().catch(() => {});
    throw e;
  }
}

async function prepareWith(cfg: BacktestConfig, deps: RunnerDeps, holdModel: (m: ModelStrategySource) => void): Promise<PreparedBacktest> {
  if (cfg.from !== undefined && cfg.to !== undefined && cfg.from > cfg.to) throw new BacktestInputError("from", `from (${iso(cfg.from)}) is after to (${iso(cfg.to)})`);
  try {
    validateTimeZone(cfg.strategyTimeZone);
  } catch (e) {
    throw new BacktestInputError("strategyTimeZone", (e as Error).message);
  }
  const findInstrument = deps.instrument ?? (async (s: string) => BUILTIN_INSTRUMENTS.find((i) => i.symbol === s));

  // strategy first: cheap to check, and a typo should not cost a file read
  let strategyId = cfg.strategy;
  let strategyName: string;
  let params: Params;
  let create: () => Strategy;
  const sizeParam: Params = cfg.size !== undefined ? { size: cfg.size } : {};
  let model: ModelStrategySource | null = null;
  if (cfg.strategy.startsWith("builder:")) {
    if (!deps.builder) throw new BacktestInputError("strategy", "builder strategies need the database (run through the app or the engine)");
    const m = /^builder:([^@]+)(?:@(\d+))?$/.exec(cfg.strategy);
    if (!m) throw new BacktestInputError("strategy", `strategy: expected builder:<name> or builder:<name>@<version>, got ${cfg.strategy}`);
    if (Object.keys(cfg.params).length) throw new BacktestInputError("params", "builder strategies take no --param; edit the spec instead");
    const b = await deps.builder(m[1]!, m[2] ? Number(m[2]) : undefined).catch((e: Error) => {
      throw new BacktestInputError("strategy", e.message);
    });
    strategyId = `builder:${b.name}@${b.version}`;
    strategyName = b.name;
    params = {};
    create = b.create;
  } else if (cfg.strategy.startsWith("model:")) {
    const id = cfg.strategy.slice("model:".length).trim();
    if (!id) throw new BacktestInputError("strategy", "strategy: expected model:<modelId>");
    const unknown = Object.keys(cfg.params)[0];
    if (unknown !== undefined) throw new BacktestInputError(`params.${unknown}`, `unknown parameter '${unknown}' for strategy model:${id} (a model strategy takes no parameters)`);
    if (cfg.size !== undefined) throw new BacktestInputError("size", "size: a model strategy trades the contract size it was trained with; leave size out");
    if (!deps.model) throw new BacktestInputError("strategy", "model strategies need the database (run through the app, the engine or the CLI with DATABASE_URL)");
    const m = await deps.model(id).catch((e: Error) => {
      throw new BacktestInputError("strategy", e.message);
    });
    holdModel(m);
    model = m;
    strategyId = `model:${m.id}`;
    strategyName = m.name;
    params = {};
    create = () => {
      throw new Error("model strategy used before its data was loaded");
    };
  } else {
    try {
      const def = findStrategy(cfg.strategy);
      params = resolveParams(def, { ...cfg.params, ...sizeParam });
      strategyName = def.name;
      create = () => def.create(params);
    } catch (e) {
      if (e instanceof ParamError) throw new BacktestInputError(e.field === "strategy" ? "strategy" : `params.${e.field}`, e.message);
      throw e;
    }
  }

  let bars: BarColumns;
  let symbol: string;
  let timeframe: string;
  let barMs: number;
  let calendar: CalendarId = "24x7";
  let inst: CoreInstrument;
  let dataInfo: Partial<BacktestReport["data"]>;
  let instrumentDefault: Instrument | undefined;
  if (cfg.data.kind === "csv") {
    try {
      validateTimeZone(cfg.data.timeZone);
    } catch (e) {
      throw new BacktestInputError("data.timeZone", (e as Error).message);
    }
    const instName = cfg.instrument ?? "unit";
    instrumentDefault = instName === "unit" ? undefined : await findInstrument(instName);
    if (instName !== "unit" && !instrumentDefault) throw new BacktestInputError("instrument", `unknown instrument ${instName} (use unit or a symbol from Markets)`);
    const read = deps.readCsv ?? (await import("./csv-bars")).readCsvBars;
    const { existsSync } = await import("node:fs");
    if (!existsSync(cfg.data.path)) throw new BacktestInputError("data", `data file not found: ${cfg.data.path}`);
    calendar = instrumentDefault?.calendar ?? "24x7";
    let csv;
    try {
      csv = await read(cfg.data.path, { timeZone: cfg.data.timeZone, tickSize: instrumentDefault?.tickSize ?? 0, calendar });
    } catch (e) {
      throw new BacktestInputError("data", `${cfg.data.path}: ${(e as Error).message}`);
    }
    bars = csv.bars;
    symbol = instrumentDefault?.symbol ?? "UNIT";
    barMs = csv.stepMs || 60_000;
    timeframe = csv.timeframe ?? `${Math.round(barMs / 1000)}s`;
    dataInfo = { source: `file:${cfg.data.path}`, rowsRead: csv.rowsRead, quarantined: csv.quarantined, duplicates: csv.duplicates, reasons: csv.reasons };
  } else {
    if (!deps.loadSeries) throw new BacktestInputError("data", "stored series need the database (run through the app, the engine or the CLI with DATABASE_URL)");
    // a model's features are past-only with expanding normalisation: load the series from its start, so every
    // decision sees the same features whatever the range (bars before `from` are warm-up, never traded)
    const loaded = await deps.loadSeries(cfg.data.symbol, cfg.data.timeframe, { from: model ? undefined : cfg.from, to: cfg.to }).catch((e: Error) => {
      throw new BacktestInputError("data", e.message);
    });
    bars = loaded.bars;
    symbol = cfg.data.symbol;
    timeframe = cfg.data.timeframe;
    barMs = TIMEFRAME_MS[cfg.data.timeframe];
    calendar = loaded.instrument.calendar;
    const instName = cfg.instrument ?? symbol;
    instrumentDefault = instName === "unit" ? undefined : instName === symbol ? loaded.instrument : await findInstrument(instName);
    if (instName !== "unit" && !instrumentDefault) throw new BacktestInputError("instrument", `unknown instrument ${instName}`);
    dataInfo = { source: `series:${symbol}:${timeframe}` };
  }
  inst = instrumentDefault ? coreInstrument(instrumentDefault) : { ...UNIT_INSTRUMENT };
  if (bars.length === 0) {
    if (cfg.from !== undefined || cfg.to !== undefined) throw new BacktestInputError(cfg.from !== undefined ? "from" : "to", `no bars between ${cfg.from !== undefined ? iso(cfg.from) : "the start"} and ${cfg.to !== undefined ? iso(cfg.to) : "the end"}`);
    throw new BacktestInputError("data", "the data holds no valid bars");
  }
  const [from, to] = indexRange(bars.ts, bars.length, cfg.from, cfg.to);
  if (to <= from) {
    throw new BacktestInputError(cfg.from !== undefined ? "from" : "to", `no bars between ${cfg.from !== undefined ? iso(cfg.from) : "the start"} and ${cfg.to !== undefined ? iso(cfg.to) : "the end"} (data spans ${iso(bars.ts[0]!)} to ${iso(bars.ts[bars.length - 1]!)})`);
  }
  if (strategyId === "orb") {
    params = { ...params, barMinutes: Math.max(1, Math.round(barMs / 60_000)) };
    const def = findStrategy("orb");
    create = () => def.create(params);
  }
  const commission: CommissionModel =
    cfg.commission ?? (instrumentDefault ? (instrumentDefault.commissionType === "percent" ? { kind: "percent", percent: instrumentDefault.commission } : { kind: "per_contract", amount: instrumentDefault.commission }) : { kind: "none" });
  let release: (() => Promise<void>) | undefined;
  if (model) {
    const m: ModelStrategySource = model;
    try {
      create = m.prepare(bars, { instrument: inst, barMs, calendar, commission, slippage: cfg.slippage as SlippageModel }, { from, to });
    } catch (e) {
      throw new BacktestInputError("data", `model ${m.name}: ${(e as Error).message}`);
    }
    release = () => m.dispose();
  }
  return { config: cfg, bars, from, to, barMs, symbol, timeframe, calendar, instrument: inst, strategyId, strategyName: strategyName!, params: params!, create: create!, commission, dataInfo, ...(release ? { release } : {}) };
}

/** The core loop's options for a prepared backtest (strategy instance, costs, session ends, range). */
export function loopOptions(p: PreparedBacktest, extra: Partial<BacktestOptions> = {}): BacktestOptions {
  const cal = calendarFor(p.calendar);
  return {
    instrument: p.instrument,
    strategy: p.create(),
    cash: p.config.cash,
    barMs: p.barMs,
    commission: p.commission,
    slippage: p.config.slippage as SlippageModel,
    sameBarPolicy: p.config.sameBarPolicy,
    timeZone: p.config.strategyTimeZone,
    sessionEnd: (ts) => sessionAtOrAfter(cal, ts)?.end ?? Math.floor(ts / 86_400_000) * 86_400_000 + 86_400_000,
    from: p.from,
    to: p.to,
    recordFills: false,
    ...extra,
  };
}

/** Run a prepared backtest: the core loop plus metrics. */
export function executePrepared(p: PreparedBacktest, hooks: RunnerHooks = {}, opts: { recordFills?: boolean } = {}): { result: BacktestResult; metrics: Metrics; elapsedMs: number } {
  const started = performance.now();
  const deadline = p.config.timeoutMs > 0 ? started + p.config.timeoutMs : Infinity;
  const result = runBacktest(
    p.bars,
    loopOptions(p, {
      recordFills: opts.recordFills ?? false,
      progressEvery: 65_536,
      onProgress: (done, total) => {
        hooks.onProgress?.(done, total);
        if (performance.now() > deadline) return false;
        return hooks.shouldStop?.() ? false : undefined;
      },
    }),
  );
  const metrics = computeMetrics({
    initialCash: p.config.cash,
    ts: result.ts,
    equity: result.equity,
    exposure: result.exposure,
    barMs: p.barMs,
    calendar: p.calendar,
    trades: result.trades,
  });
  return { result, metrics, elapsedMs: performance.now() - started };
}

/** Equity downsampled to at most maxPoints: each point is a bucket's last equity, lowest equity and deepest drawdown. */
export function downsampleEquity(ts: Float64Array, equity: Float64Array, initial: number, maxPoints = 2000): EquityPoint[] {
  const n = equity.length;
  if (n === 0) return [];
  const dd = drawdownSeries(equity, initial);
  const k = Math.max(1, Math.ceil(n / maxPoints));
  const out: EquityPoint[] = [];
  for (let s = 0; s < n; s += k) {
    const e = Math.min(n, s + k);
    let low = Infinity;
    let worst = 0;
    for (let i = s; i < e; i++) {
      if (equity[i]! < low) low = equity[i]!;
      if (dd[i]! > worst) worst = dd[i]!;
    }
    out.push({ t: ts[s]!, equity: equity[e - 1]!, low, dd: worst });
  }
  return out;
}

function downsamplePrices(b: BarColumns, from: number, to: number, maxBars = 3000): PriceBar[] {
  const n = to - from;
  const k = Math.max(1, Math.ceil(n / maxBars));
  const out: PriceBar[] = [];
  for (let s = from; s < to; s += k) {
    const e = Math.min(to, s + k);
    let h = -Infinity;
    let l = Infinity;
    for (let i = s; i < e; i++) {
      if (b.high[i]! > h) h = b.high[i]!;
      if (b.low[i]! < l) l = b.low[i]!;
    }
    out.push({ t: b.ts[s]!, o: b.open[s]!, h, l, c: b.close[e - 1]! });
  }
  return out;
}

/** Validate, load, run, measure: the whole report. */
export async function runConfiguredBacktest(input: unknown, deps: RunnerDeps = {}, hooks: RunnerHooks = {}): Promise<BacktestReport> {
  const p = await prepareBacktest(input, deps);
  try {
    const { result, metrics, elapsedMs } = executePrepared(p, hooks);
    return buildReport(p, result, metrics, elapsedMs);
  } finally {
    await p.release?.();
  }
}

export function buildReport(p: PreparedBacktest, result: BacktestResult, metrics: Metrics, elapsedMs: number): BacktestReport {
  return {
    strategy: { id: p.strategyId, name: p.strategyName, params: p.params },
    instrument: p.instrument,
    data: {
      source: p.dataInfo.source ?? "",
      symbol: p.symbol,
      timeframe: p.timeframe,
      barMs: p.barMs,
      firstTs: result.startTs,
      lastTs: result.endTs,
      bars: result.bars,
      ...p.dataInfo,
    },
    cash: p.config.cash,
    costs: { commission: p.commission, slippage: p.config.slippage as SlippageModel, sameBarPolicy: p.config.sameBarPolicy },
    fills: result.fillCount,
    finalValue: result.finalValue,
    finalPosition: result.finalPosition,
    metrics,
    trades: result.trades,
    equity: downsampleEquity(result.ts, result.equity, p.config.cash),
    monthly: monthlyReturns(result.ts, result.equity, p.config.cash).map((m) => ({ year: m.year, month: m.month, ret: m.ret })),
    prices: downsamplePrices(p.bars, p.from, p.from + result.bars),
    elapsedMs,
    barsPerSecond: elapsedMs > 0 ? Math.round((result.bars / elapsedMs) * 1000) : 0,
    aborted: result.aborted,
  };
}
