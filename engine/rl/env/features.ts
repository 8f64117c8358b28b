/**
 * Observation features for the trading environment, computed once per
 * dataset into a Float32Array matrix (bars x features, row-major) WITHOUT
 * look-ahead:
 *
 * - every raw feature at bar t is a function of bars 0..t only (bar t's
 *   close is known when the decision at bar t is taken; the order fills at
 *   bar t+1's open). Indicators come from the trading core
 *   (engine/core/indicators.ts) and are fed bar by bar like a strategy's;
 * - normalisation uses statistics of the PAST only: an expanding (or
 *   exponentially weighted) mean and variance up to and including bar t, or
 *   fixed statistics of a span that lies in the training data (the caller
 *   guarantees it ends before anything that is evaluated);
 * - a non-finite value after the warm-up stops the build with an error that
 *   names the feature, the bar index and its time.
 *
 * checkLookAhead (./lookahead.ts) verifies the first property mechanically.
 */
import { createIndicator, type IndicatorSpec, INDICATOR_INPUTS, INDICATOR_OUTPUTS } from "../../core/indicators";
import { tzOffset } from "../../data/tz";
import type { BarColumns } from "../../data/types";

/** How an indicator's value becomes a (roughly stationary) feature. */
export type IndicatorTransform =
  /** The value as is (oscillators: RSI, stochastic, ADX). */
  | "raw"
  /** log(close / value): price-level indicators (moving averages, bands, VWAP, Donchian). */
  | "log_ratio"
  /** value / close: price-difference indicators (ATR, MACD). */
  | "per_close"
  /** value(t) - value(t-1): cumulative indicators (OBV). */
  | "diff";

export type FeatureSpec = (
  | { kind: "logret"; lag?: number }
  | { kind: "volatility"; period: number }
  | { kind: "range" }
  | { kind: "logvolume"; period?: number }
  | { kind: "indicator"; spec: IndicatorSpec; output?: string; transform?: IndicatorTransform }
  | { kind: "time_of_day"; timeZone?: string }
  /**
   * Anything else: `compute` fills out[0..bars.length) from the bars. It must
   * use bars 0..t only for out[t] (checkLookAhead verifies it does).
   */
  | { kind: "custom"; name: string; compute: (bars: BarColumns, out: Float64Array) => void }
) & {
  /** Column name (default derived from the spec). */
  name?: string;
  /** Normalise this feature (default true; time of day is never normalised). */
  normalize?: boolean;
};

export type NormSpec =
  /** Running mean and variance of the feature over bars [first defined .. t]. */
  | { kind: "expanding"; minCount?: number }
  /** Exponentially weighted mean and variance up to t. */
  | { kind: "ewm"; halflife: number; minCount?: number }
  /** Fixed statistics of bars [from, to): a span of the TRAINING data (rows before `to` are in-sample). */
  | { kind: "fixed"; from: number; to: number }
  | { kind: "none" };

export interface FeatureSetSpec {
  features: FeatureSpec[];
  norm?: NormSpec;
  /** Normalised values are clipped to [-clip, clip] (default 5). */
  clip?: number;
}

/** Per-column statistics used by fixed normalisation (and reported for the others: the last values). */
export interface NormStats {
  mean: Float64Array;
  std: Float64Array;
}

export interface FeatureMatrix {
  /** length x width, row-major: row t holds the features of bar t. */
  data: Float32Array;
  length: number;
  width: number;
  names: string[];
  /** First bar whose row is fully defined (indicators warmed up, normaliser ready). Rows before it are 0. */
  validFrom: number;
  /** For fixed normalisation: the statistics used (pass them back to rebuild identically on other bars). */
  stats: NormStats | null;
  spec: FeatureSetSpec;
}

export class FeatureError extends Error {
  constructor(
    readonly feature: string,
    readonly bar: number,
    readonly ts: number,
    message: string,
    /** The feature is undefined only on the last bars: it needs the future. */
    readonly lookAhead = false,
  ) {
    super(message);
    this.name = "FeatureError";
  }
}

const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : String(t));

/** A sensible default feature set: returns, volatility, range, core indicators, time of day. */
export function defaultFeatureSet(): FeatureSetSpec {
  return {
    features: [
      { kind: "logret", lag: 1 },
      { kind: "logret", lag: 5 },
      { kind: "logret", lag: 20 },
      { kind: "volatility", period: 20 },
      { kind: "range" },
      { kind: "indicator", spec: { kind: "rsi", period: 14 } },
      { kind: "indicator", spec: { kind: "atr", period: 14 } },
      { kind: "indicator", spec: { kind: "macd", fast: 12, slow: 26, signal: 9 }, output: "histogram" },
      { kind: "indicator", spec: { kind: "sma", period: 30 } },
      { kind: "time_of_day" },
    ],
    norm: { kind: "expanding", minCount: 50 },
    clip: 5,
  };
}

function defaultTransform(kind: IndicatorSpec["kind"]): IndicatorTransform {
  switch (kind) {
    case "sma":
    case "ema":
    case "wma":
    case "bollinger":
    case "vwap":
    case "donchian":
      return "log_ratio";
    case "atr":
    case "macd":
      return "per_close";
    case "obv":
      return "diff";
    default:
      return "raw";
  }
}

function indicatorName(spec: IndicatorSpec): string {
  const params = Object.entries(spec)
    .filter(([k]) => k !== "kind")
    .map(([, v]) => String(v));
  return params.length ? `${spec.kind}(${params.join(",")})` : spec.kind;
}

/** Column names a feature spec expands to. */
export function featureColumns(f: FeatureSpec): string[] {
  switch (f.kind) {
    case "logret":
      return [f.name ?? `logret(${f.lag ?? 1})`];
    case "volatility":
      return [f.name ?? `vol(${f.period})`];
    case "range":
      return [f.name ?? "range"];
    case "logvolume":
      return [f.name ?? `logvol(${f.period ?? 20})`];
    case "indicator": {
      const out = f.output ?? INDICATOR_OUTPUTS[f.spec.kind][0];
      const base = f.name ?? `${indicatorName(f.spec)}${out !== INDICATOR_OUTPUTS[f.spec.kind][0] ? "." + out : ""}`;
      return [base];
    }
    case "time_of_day":
      return [`${f.name ?? "tod"}.sin`, `${f.name ?? "tod"}.cos`];
    case "custom":
      return [f.name];
  }
}

/** Validate a feature set; returns field-level messages (empty when fine). */
export function validateFeatureSet(spec: FeatureSetSpec): { field: string; message: string }[] {
  const errs: { field: string; message: string }[] = [];
  const int = (v: unknown, min: number) => typeof v === "number" && Number.isInteger(v) && v >= min;
  if (!Array.isArray(spec.features) || spec.features.length === 0) errs.push({ field: "features", message: "at least one feature is needed" });
  const seen = new Set<string>();
  (spec.features ?? []).forEach((f, i) => {
    const field = `features.${i}`;
    switch (f.kind) {
      case "logret":
        if (f.lag !== undefined && !int(f.lag, 1)) errs.push({ field: `${field}.lag`, message: `lag must be an integer >= 1, got ${f.lag}` });
        break;
      case "volatility":
        if (!int(f.period, 2)) errs.push({ field: `${field}.period`, message: `period must be an integer >= 2, got ${f.period}` });
        break;
      case "logvolume":
        if (f.period !== undefined && !int(f.period, 1)) errs.push({ field: `${field}.period`, message: `period must be an integer >= 1, got ${f.period}` });
        break;
      case "indicator": {
        const outs = INDICATOR_OUTPUTS[f.spec?.kind] as readonly string[] | undefined;
        if (!outs) errs.push({ field: `${field}.spec.kind`, message: `unknown indicator ${String(f.spec?.kind)}` });
        else if (f.output !== undefined && !outs.includes(f.output)) errs.push({ field: `${field}.output`, message: `${f.spec.kind} has no output ${f.output} (outputs: ${outs.join(", ")})` });
        else {
          try {
            createIndicator(f.spec);
          } catch (e) {
            errs.push({ field: `${field}.spec`, message: (e as Error).message });
          }
        }
        break;
      }
      case "time_of_day":
        if (f.timeZone !== undefined) {
          try {
            new Intl.DateTimeFormat("en-US", { timeZone: f.timeZone });
          } catch {
            errs.push({ field: `${field}.timeZone`, message: `unknown time zone ${f.timeZone}` });
          }
        }
        break;
      case "custom":
        if (!f.name) errs.push({ field: `${field}.name`, message: "a custom feature needs a name" });
        if (typeof f.compute !== "function") errs.push({ field: `${field}.compute`, message: "a custom feature needs a compute function" });
        break;
      case "range":
        break;
      default:
        errs.push({ field: `${field}.kind`, message: `unknown feature kind ${String((f as { kind: unknown }).kind)}` });
    }
    if (f.kind !== "custom" || f.name) {
      for (const c of featureColumns(f)) {
        if (seen.has(c)) errs.push({ field: `${field}.name`, message: `duplicate feature column ${c}` });
        seen.add(c);
      }
    }
  });
  const n = spec.norm;
  if (n) {
    if (n.kind === "expanding" && n.minCount !== undefined && !int(n.minCount, 1)) errs.push({ field: "norm.minCount", message: `minCount must be an integer >= 1, got ${n.minCount}` });
    if (n.kind === "ewm") {
      if (!(n.halflife > 0) || !Number.isFinite(n.halflife)) errs.push({ field: "norm.halflife", message: `halflife must be > 0, got ${n.halflife}` });
      if (n.minCount !== undefined && !int(n.minCount, 1)) errs.push({ field: "norm.minCount", message: `minCount must be an integer >= 1, got ${n.minCount}` });
    }
    if (n.kind === "fixed" && !(int(n.from, 0) && int(n.to, 1) && n.to > n.from + 1)) errs.push({ field: "norm.to", message: `fixed normalisation needs integer bars from < to - 1, got [${n.from}, ${n.to})` });
  }
  if (spec.clip !== undefined && !(spec.clip > 0)) errs.push({ field: "clip", message: `clip must be > 0, got ${spec.clip}` });
  return errs;
}

// ---------------------------------------------------------------------------
// Raw features: out[t] depends on bars 0..t only

function logret(b: BarColumns, n: number, lag: number, out: Float64Array): void {
  const c = b.close;
  for (let t = 0; t < n; t++) out[t] = t >= lag ? Math.log(c[t]! / c[t - lag]!) : NaN;
}

function volatility(b: BarColumns, n: number, period: number, out: Float64Array): void {
  const c = b.close;
  const r = new Float64Array(n);
  r[0] = NaN;
  for (let t = 1; t < n; t++) r[t] = Math.log(c[t]! / c[t - 1]!);
  for (let t = 0; t < n; t++) {
    if (t < period) {
      out[t] = NaN;
      continue;
    }
    // sample std of the last `period` one-bar returns, two passes (exact enough, no drift)
    let m = 0;
    for (let k = t - period + 1; k <= t; k++) m += r[k]!;
    m /= period;
    let v = 0;
    for (let k = t - period + 1; k <= t; k++) {
      const d = r[k]! - m;
      v += d * d;
    }
    out[t] = Math.sqrt(v / (period - 1));
  }
}

function range(b: BarColumns, n: number, out: Float64Array): void {
  for (let t = 0; t < n; t++) out[t] = Math.log(b.high[t]! / b.low[t]!);
}

function logvolume(b: BarColumns, n: number, period: number, out: Float64Array): void {
  const v = b.volume;
  for (let t = 0; t < n; t++) {
    if (t < period - 1) {
      out[t] = NaN;
      continue;
    }
    let s = 0;
    for (let k = t - period + 1; k <= t; k++) s += v[k]!;
    out[t] = Math.log((v[t]! + 1) / (s / period + 1));
  }
}

function indicator(b: BarColumns, n: number, f: Extract<FeatureSpec, { kind: "indicator" }>, out: Float64Array): void {
  const ind = createIndicator(f.spec) as unknown as {
    update(a: number, b?: number, c?: number, d?: number): number;
    read(o: string): number;
    value: number;
  };
  const output = f.output ?? INDICATOR_OUTPUTS[f.spec.kind][0];
  const primary = output === INDICATOR_OUTPUTS[f.spec.kind][0];
  const bar = INDICATOR_INPUTS[f.spec.kind] === "bar";
  const tr = f.transform ?? defaultTransform(f.spec.kind);
  const { high, low, close, volume } = b;
  let prev = NaN;
  for (let t = 0; t < n; t++) {
    const c = close[t]!;
    if (bar) ind.update(high[t]!, low[t]!, c, volume[t]!);
    else ind.update(c);
    const v = primary ? ind.value : ind.read(output);
    let x: number;
    switch (tr) {
      case "raw":
        x = v;
        break;
      case "log_ratio":
        x = Math.log(c / v);
        break;
      case "per_close":
        x = v / c;
        break;
      case "diff":
        x = v - prev;
        break;
    }
    prev = v;
    out[t] = x;
  }
}

function timeOfDay(b: BarColumns, n: number, timeZone: string, sin: Float64Array, cos: Float64Array): void {
  const HOUR = 3_600_000;
  const DAY = 86_400_000;
  // offsets change on hour boundaries at most: one Intl call per hour of data
  let hourKey = NaN;
  let off = 0;
  for (let t = 0; t < n; t++) {
    const ts = b.ts[t]!;
    const h = Math.floor(ts / HOUR);
    if (h !== hourKey) {
      hourKey = h;
      off = tzOffset(timeZone, h * HOUR);
    }
    const local = ts + off;
    const frac = (((local % DAY) + DAY) % DAY) / DAY;
    sin[t] = Math.sin(2 * Math.PI * frac);
    cos[t] = Math.cos(2 * Math.PI * frac);
  }
}

interface Column {
  name: string;
  normalize: boolean;
  values: Float64Array;
}

/** Raw (un-normalised) columns of a feature set, each of length bars.length. */
export function rawFeatureColumns(bars: BarColumns, spec: FeatureSetSpec): Column[] {
  const n = bars.length;
  const cols: Column[] = [];
  for (const f of spec.features) {
    const names = featureColumns(f);
    const norm = f.normalize ?? f.kind !== "time_of_day";
    if (f.kind === "time_of_day") {
      const s = new Float64Array(n);
      const c = new Float64Array(n);
      timeOfDay(bars, n, f.timeZone ?? "UTC", s, c);
      cols.push({ name: names[0]!, normalize: norm, values: s }, { name: names[1]!, normalize: norm, values: c });
      continue;
    }
    const out = new Float64Array(n);
    switch (f.kind) {
      case "logret":
        logret(bars, n, f.lag ?? 1, out);
        break;
      case "volatility":
        volatility(bars, n, f.period, out);
        break;
      case "range":
        range(bars, n, out);
        break;
      case "logvolume":
        logvolume(bars, n, f.period ?? 20, out);
        break;
      case "indicator":
        indicator(bars, n, f, out);
        break;
      case "custom":
        out.fill(NaN);
        f.compute(bars, out);
        break;
    }
    cols.push({ name: names[0]!, normalize: norm, values: out });
  }
  return cols;
}

/**
 * Build the feature matrix of a bar series. `opts.stats` forces the
 * statistics of a fixed normalisation (used to rebuild the same matrix on a
 * truncated series). Throws FeatureError naming the feature and bar when a
 * value is not finite after the warm-up, RangeError for an invalid spec.
 */
export function buildFeatures(bars: BarColumns, spec: FeatureSetSpec, opts: { stats?: NormStats } = {}): FeatureMatrix {
  const errs = validateFeatureSet(spec);
  if (errs.length) throw new RangeError(errs.map((e) => `${e.field}: ${e.message}`).join("; "));
  const n = bars.length;
  const cols = rawFeatureColumns(bars, spec);
  const F = cols.length;
  const norm: NormSpec = spec.norm ?? { kind: "expanding", minCount: 50 };
  const clip = spec.clip ?? 5;

  // first bar at which each column is defined from then on
  const firstDef = new Int32Array(F);
  for (let j = 0; j < F; j++) {
    const v = cols[j]!.values;
    let first = 0;
    while (first < n && !Number.isFinite(v[first]!)) first++;
    firstDef[j] = first;
    for (let t = first; t < n; t++) {
      if (!Number.isFinite(v[t]!)) {
        const name = cols[j]!.name;
        let tail = t;
        while (tail < n && !Number.isFinite(v[tail]!)) tail++;
        if (tail === n) {
          // undefined only on the last bars: the feature needs bars that do not exist yet
          throw new FeatureError(name, t, bars.ts[t]!, `feature ${name} is undefined on the last ${n - t} bar(s) from bar ${t} (${iso(bars.ts[t]!)}): it reads bars after the current one (look-ahead)`, true);
        }
        throw new FeatureError(name, t, bars.ts[t]!, `feature ${name} is ${v[t]} at bar ${t} (${iso(bars.ts[t]!)}), after its warm-up: check the data (zero or negative prices?)`);
      }
    }
  }

  const data = new Float32Array(n * F);
  let validFrom = 0;
  for (let j = 0; j < F; j++) validFrom = Math.max(validFrom, firstDef[j]!);
  let stats: NormStats | null = null;

  if (norm.kind === "fixed") {
    if (opts.stats) stats = opts.stats;
    else {
      if (norm.to > n) throw new RangeError(`norm.to: fixed normalisation span [${norm.from}, ${norm.to}) is beyond the data (${n} bars)`);
      stats = { mean: new Float64Array(F), std: new Float64Array(F) };
      for (let j = 0; j < F; j++) {
        const v = cols[j]!.values;
        const a = Math.max(norm.from, firstDef[j]!);
        let cnt = 0;
        let m = 0;
        let s2 = 0;
        for (let t = a; t < norm.to; t++) {
          const x = v[t]!;
          cnt++;
          const d = x - m;
          m += d / cnt;
          s2 += d * (x - m);
        }
        if (cnt < 2) throw new RangeError(`norm: feature ${cols[j]!.name} has fewer than 2 defined values in the fixed normalisation span [${norm.from}, ${norm.to})`);
        stats.mean[j] = m;
        stats.std[j] = Math.sqrt(s2 / cnt);
      }
    }
  }
  const minCount = norm.kind === "expanding" || norm.kind === "ewm" ? (norm.minCount ?? 50) : 1;
  if (norm.kind === "expanding" || norm.kind === "ewm") {
    for (let j = 0; j < F; j++) if (cols[j]!.normalize) validFrom = Math.max(validFrom, firstDef[j]! + minCount - 1);
  }
  validFrom = Math.min(validFrom, n);

  for (let j = 0; j < F; j++) {
    const col = cols[j]!;
    const v = col.values;
    const start = firstDef[j]!;
    if (!col.normalize || norm.kind === "none") {
      for (let t = validFrom; t < n; t++) data[t * F + j] = v[t]!;
      continue;
    }
    if (norm.kind === "fixed") {
      const m = stats!.mean[j]!;
      const sd = stats!.std[j]!;
      for (let t = validFrom; t < n; t++) data[t * F + j] = sd > 0 ? clamp((v[t]! - m) / sd, clip) : 0;
      continue;
    }
    // running statistics up to and including t: past only
    let cnt = 0;
    let m = 0;
    let s2 = 0; // expanding: sum of squared deviations (Welford); ewm: variance
    const alpha = norm.kind === "ewm" ? 1 - Math.pow(0.5, 1 / norm.halflife) : 0;
    for (let t = start; t < n; t++) {
      const x = v[t]!;
      cnt++;
      let sd: number;
      if (norm.kind === "expanding") {
        const d = x - m;
        m += d / cnt;
        s2 += d * (x - m);
        sd = Math.sqrt(s2 / cnt);
      } else {
        if (cnt === 1) {
          m = x;
          s2 = 0;
        } else {
          const d = x - m;
          m += alpha * d;
          s2 = (1 - alpha) * (s2 + alpha * d * d);
        }
        sd = Math.sqrt(s2);
      }
      if (t >= validFrom) data[t * F + j] = sd > 0 ? clamp((x - m) / sd, clip) : 0;
    }
  }
  return { data, length: n, width: F, names: cols.map((c) => c.name), validFrom, stats, spec };
}

function clamp(x: number, c: number): number {
  return x > c ? c : x < -c ? -c : x;
}

/** The bars [0, length) of a series as a view (no copy): what was known at bar length-1. */
export function truncateBars(b: BarColumns, length: number): BarColumns {
  const n = Math.max(0, Math.min(length, b.length));
  return { length: n, ts: b.ts.subarray(0, n), open: b.open.subarray(0, n), high: b.high.subarray(0, n), low: b.low.subarray(0, n), close: b.close.subarray(0, n), volume: b.volume.subarray(0, n) };
}
