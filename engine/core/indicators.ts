/**
 * Streaming technical indicators. Pure: no I/O, no imports outside engine/core.
 *
 * Every indicator is a class doing O(1) work per update (Donchian and
 * Stochastic: amortised O(1) with monotonic deques), with no allocation in
 * update(): state lives in numbers and preallocated Float64Array ring buffers.
 *
 * Uniform API
 * - Value indicators (SMA, EMA, WMA, RSI, MACD, Bollinger): `update(x)`.
 *   Bar indicators (ATR, Stochastic, VWAP, ADX, OBV, Donchian):
 *   `update(high, low, close, volume?)`.
 * - update() returns the primary output (`outputs[0]`), NaN until `ready`.
 * - `warmup`: how many leading updates return NaN (TA-Lib's "lookback"); the
 *   (warmup + 1)-th update returns the first value. SMA(3) of 1,2,3,4 gives
 *   NaN, NaN, 2, 3: warmup = 2.
 * - `ready`: true once every output is defined. Multi-output indicators are
 *   all-or-nothing (as TA-Lib's and backtrader's minimum period): e.g. MACD's
 *   line is NaN until its signal line exists, so a strategy never sees a
 *   partially defined indicator.
 * - `read(name)` reads an output by name (names in INDICATOR_OUTPUTS). On
 *   multi-output indicators the same names are getters, e.g. `macd.signal`,
 *   `bb.upper`, `adx.plusDI`.
 * - `reset()` returns the indicator to its freshly constructed state.
 *
 * Arithmetic follows backtrader (which the engine's backtests are checked
 * against) and is equivalent to TA-Lib's conventions up to rounding:
 * - Simple averages are fsum(window) / period (backtrader's `math.fsum`),
 *   computed with the exact rolling sum of ./exact-sum: bit-identical to
 *   backtrader's SMA and drift-free over any run length.
 * - Exponential smoothing: seed = SMA of the first `period` inputs, then
 *   prev * (1 - alpha) + x * alpha. EMA: alpha = 2 / (period + 1). Wilder
 *   (RSI, ATR, ADX): alpha = 1 / period, the same as TA-Lib's
 *   (prev * (period - 1) + x) / period.
 * Inputs are expected finite; a NaN input makes recursive indicators NaN
 * until reset() (window indicators recover once it leaves the window).
 */
import { RollingSum, fsum } from "./exact-sum";

// ---------------------------------------------------------------------------
// Kinds, outputs, specs, validation
// ---------------------------------------------------------------------------

export const INDICATOR_KINDS = [
  "sma",
  "ema",
  "wma",
  "rsi",
  "macd",
  "bollinger",
  "atr",
  "stochastic",
  "vwap",
  "adx",
  "obv",
  "donchian",
] as const;
export type IndicatorKind = (typeof INDICATOR_KINDS)[number];

/** Output names per kind; the first is the primary output (`value`, update()'s result). */
export const INDICATOR_OUTPUTS = {
  sma: ["sma"],
  ema: ["ema"],
  wma: ["wma"],
  rsi: ["rsi"],
  macd: ["macd", "signal", "histogram"],
  bollinger: ["middle", "upper", "lower"],
  atr: ["atr"],
  stochastic: ["k", "d"],
  vwap: ["vwap"],
  adx: ["adx", "plusDI", "minusDI"],
  obv: ["obv"],
  donchian: ["middle", "upper", "lower"],
} as const satisfies { readonly [K in IndicatorKind]: readonly string[] };
export type IndicatorOutput<K extends IndicatorKind = IndicatorKind> = (typeof INDICATOR_OUTPUTS)[K][number];

/** What update() takes: one number, or a bar (high, low, close, volume). */
export const INDICATOR_INPUTS = {
  sma: "value",
  ema: "value",
  wma: "value",
  rsi: "value",
  macd: "value",
  bollinger: "value",
  atr: "bar",
  stochastic: "bar",
  vwap: "bar",
  adx: "bar",
  obv: "bar",
  donchian: "bar",
} as const satisfies { readonly [K in IndicatorKind]: "value" | "bar" };

export type SmaSpec = { kind: "sma"; period: number };
export type EmaSpec = { kind: "ema"; period: number };
export type WmaSpec = { kind: "wma"; period: number };
export type RsiSpec = { kind: "rsi"; period: number };
/** fast < slow; signal = EMA period of the MACD line. */
export type MacdSpec = { kind: "macd"; fast: number; slow: number; signal: number };
/** k = standard-deviation multiplier (backtrader's devfactor, TA-Lib's nbdev). */
export type BollingerSpec = { kind: "bollinger"; period: number; k: number };
export type AtrSpec = { kind: "atr"; period: number };
/** period = %K lookback; kSmoothing = SMA of raw %K (1 = fast stochastic); dPeriod = SMA of %K. */
export type StochasticSpec = { kind: "stochastic"; period: number; kSmoothing: number; dPeriod: number };
export type VwapSpec = { kind: "vwap" };
export type AdxSpec = { kind: "adx"; period: number };
export type ObvSpec = { kind: "obv" };
export type DonchianSpec = { kind: "donchian"; period: number };

export type IndicatorSpec =
  | SmaSpec
  | EmaSpec
  | WmaSpec
  | RsiSpec
  | MacdSpec
  | BollingerSpec
  | AtrSpec
  | StochasticSpec
  | VwapSpec
  | AdxSpec
  | ObvSpec
  | DonchianSpec;
export type IndicatorSpecOf<K extends IndicatorKind> = Extract<IndicatorSpec, { kind: K }>;

/** Customary defaults (TA-Lib / backtrader), e.g. for a strategy builder's form. */
export const INDICATOR_DEFAULTS: { readonly [K in IndicatorKind]: IndicatorSpecOf<K> } = {
  sma: { kind: "sma", period: 30 },
  ema: { kind: "ema", period: 30 },
  wma: { kind: "wma", period: 30 },
  rsi: { kind: "rsi", period: 14 },
  macd: { kind: "macd", fast: 12, slow: 26, signal: 9 },
  bollinger: { kind: "bollinger", period: 20, k: 2 },
  atr: { kind: "atr", period: 14 },
  stochastic: { kind: "stochastic", period: 14, kSmoothing: 3, dPeriod: 3 },
  vwap: { kind: "vwap" },
  adx: { kind: "adx", period: 14 },
  obv: { kind: "obv" },
  donchian: { kind: "donchian", period: 20 },
};

/** Largest accepted period (ring buffers are allocated up front). */
export const MAX_PERIOD = 1_000_000;

/** One numeric spec field: integers (periods) or finite numbers (multipliers), with a lower bound. */
export type ParamRule = { readonly name: string; readonly type: "int" | "number"; readonly min: number };

/** Parameters per kind, in spec order. */
export const INDICATOR_PARAMS: { readonly [K in IndicatorKind]: readonly ParamRule[] } = {
  sma: [{ name: "period", type: "int", min: 1 }],
  ema: [{ name: "period", type: "int", min: 1 }],
  wma: [{ name: "period", type: "int", min: 1 }],
  rsi: [{ name: "period", type: "int", min: 1 }],
  macd: [
    { name: "fast", type: "int", min: 1 },
    { name: "slow", type: "int", min: 2 },
    { name: "signal", type: "int", min: 1 },
  ],
  bollinger: [
    { name: "period", type: "int", min: 1 },
    { name: "k", type: "number", min: 0 },
  ],
  atr: [{ name: "period", type: "int", min: 1 }],
  stochastic: [
    { name: "period", type: "int", min: 1 },
    { name: "kSmoothing", type: "int", min: 1 },
    { name: "dPeriod", type: "int", min: 1 },
  ],
  vwap: [],
  adx: [{ name: "period", type: "int", min: 1 }],
  obv: [],
  donchian: [{ name: "period", type: "int", min: 1 }],
};

function isKind(k: unknown): k is IndicatorKind {
  return typeof k === "string" && (INDICATOR_KINDS as readonly string[]).includes(k);
}

function checkParam(rule: ParamRule, v: unknown): string | null {
  const { name, type, min } = rule;
  if (type === "int") {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) return `${name} must be an integer >= ${min}`;
    if (v > MAX_PERIOD) return `${name} must be <= ${MAX_PERIOD}`;
  } else if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
    return `${name} must be a finite number >= ${min}`;
  }
  return null;
}

/**
 * Checks a spec (e.g. parsed JSON from a strategy builder). Returns null when
 * valid, else a message naming the bad field, e.g. "period must be an integer >= 1".
 */
export function validateIndicatorSpec(spec: unknown): string | null {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) return "spec must be an object";
  const s = spec as Record<string, unknown>;
  if (!isKind(s.kind)) return `kind must be one of: ${INDICATOR_KINDS.join(", ")}`;
  const rules = INDICATOR_PARAMS[s.kind];
  for (const rule of rules) {
    const msg = checkParam(rule, s[rule.name]);
    if (msg) return msg;
  }
  for (const key of Object.keys(s)) {
    if (key !== "kind" && !rules.some((r) => r.name === key)) return `${key} is not a parameter of ${s.kind}`;
  }
  if (s.kind === "macd" && (s.slow as number) <= (s.fast as number)) return "slow must be greater than fast";
  return null;
}

function requireParam(name: string, v: number, min = 1): void {
  const msg = checkParam({ name, type: "int", min }, v);
  if (msg) throw new RangeError(msg);
}

function unknownOutput(kind: IndicatorKind, output: string): never {
  throw new RangeError(`${kind} has no output "${output}" (outputs: ${INDICATOR_OUTPUTS[kind].join(", ")})`);
}

// ---------------------------------------------------------------------------
// Common interface
// ---------------------------------------------------------------------------

export interface IndicatorBase {
  readonly kind: IndicatorKind;
  readonly input: "value" | "bar";
  readonly outputs: readonly string[];
  /** Leading updates that return NaN. */
  readonly warmup: number;
  /** True once every output is defined. */
  readonly ready: boolean;
  /** Primary output (outputs[0]); NaN until ready. */
  readonly value: number;
  /** An output by name; throws RangeError for a name not in `outputs`. */
  read(output: string): number;
  reset(): void;
}
export interface ValueIndicator extends IndicatorBase {
  readonly input: "value";
  update(x: number): number;
}
export interface BarIndicator extends IndicatorBase {
  readonly input: "bar";
  update(high: number, low: number, close: number, volume?: number): number;
}
export type Indicator = ValueIndicator | BarIndicator;

// ---------------------------------------------------------------------------
// Internal building blocks
// ---------------------------------------------------------------------------

/**
 * Exponential smoothing seeded with the simple average of the first `period`
 * inputs (fsum / period), then prev * (1 - alpha) + x * alpha: backtrader's
 * ExponentialSmoothing, which EMA (alpha = 2/(period+1)) and Wilder's
 * smoothing (SMMA, alpha = 1/period) are built on.
 */
class SeededSmoothing {
  readonly period: number;
  readonly alpha: number;
  private readonly alpha1: number;
  private readonly seedSum = new RollingSum();
  private readonly seedBuf: Float64Array;
  private n = 0;
  private v = NaN;

  constructor(period: number, alpha: number) {
    this.period = period;
    this.alpha = alpha;
    this.alpha1 = 1 - alpha;
    this.seedBuf = new Float64Array(period);
  }

  update(x: number): number {
    const p = this.period;
    const n = ++this.n;
    if (n > p) return (this.v = this.v * this.alpha1 + x * this.alpha);
    this.seedBuf[n - 1] = x;
    this.seedSum.add(x);
    if (n < p) return NaN;
    const s = this.seedSum.exact ? this.seedSum.value : fsum(this.seedBuf);
    return (this.v = s / p);
  }

  get value(): number {
    return this.v;
  }
  get ready(): boolean {
    return this.n >= this.period;
  }
  reset(): void {
    this.seedSum.reset();
    this.n = 0;
    this.v = NaN;
  }
}

/**
 * Sliding max (isMax) or min over the last `period` values: a monotonic deque
 * in fixed ring buffers, amortised O(1) per push.
 */
class MonotonicWindow {
  private readonly period: number;
  private readonly isMax: boolean;
  private readonly vals: Float64Array;
  private readonly idx: Float64Array;
  private head = 0;
  private size = 0;
  private t = 0;

  constructor(period: number, isMax: boolean) {
    this.period = period;
    this.isMax = isMax;
    this.vals = new Float64Array(period);
    this.idx = new Float64Array(period);
  }

  push(x: number): number {
    const cap = this.period;
    const vals = this.vals;
    const t = this.t++;
    // The window slides by one, so at most the front can expire.
    if (this.size > 0 && this.idx[this.head]! <= t - cap) {
      this.head = this.head + 1 === cap ? 0 : this.head + 1;
      this.size--;
    }
    while (this.size > 0) {
      let b = this.head + this.size - 1;
      if (b >= cap) b -= cap;
      const bv = vals[b]!;
      if (this.isMax ? bv <= x : bv >= x) this.size--;
      else break;
    }
    let pos = this.head + this.size;
    if (pos >= cap) pos -= cap;
    vals[pos] = x;
    this.idx[pos] = t;
    this.size++;
    return vals[this.head]!;
  }

  get value(): number {
    return this.size > 0 ? this.vals[this.head]! : NaN;
  }
  reset(): void {
    this.head = 0;
    this.size = 0;
    this.t = 0;
  }
}

// ---------------------------------------------------------------------------
// Value indicators
// ---------------------------------------------------------------------------

/**
 * Simple moving average, exactly as backtrader: `math.fsum(window) / period`.
 * The window sum is an exact rolling double-double (./exact-sum), so the result
 * is bit-identical to fsum/period at every step and never drifts. If the
 * window's dynamic range ever exceeds ~105 bits (or holds a NaN/Infinity) the
 * sum is rebuilt from the ring buffer, falling back to an O(period) fsum while
 * such values remain in the window.
 *
 * Note: fsum/period of a constant series is the constant itself whenever
 * fl(period * c) / period == c, which holds for prices with few binary digits
 * (e.g. 4321.25, any period) and for most (c, period) pairs, but not all:
 * SMA(3) of constant 0.1 is 0.30000000000000004 / 3 = 0.10000000000000002,
 * exactly as in backtrader. Either way it is the same value forever.
 */
export class SMA implements ValueIndicator {
  readonly kind = "sma" as const;
  readonly input = "value" as const;
  readonly outputs = INDICATOR_OUTPUTS.sma;
  readonly period: number;
  readonly warmup: number;
  private readonly buf: Float64Array;
  private readonly sum = new RollingSum();
  private head = 0;
  private count = 0;
  private v = NaN;

  constructor(period: number) {
    requireParam("period", period);
    this.period = period;
    this.warmup = period - 1;
    this.buf = new Float64Array(period);
  }

  update(x: number): number {
    const p = this.period;
    const buf = this.buf;
    const h = this.head;
    const sum = this.sum;
    if (this.count === p) sum.replace(x, buf[h]!);
    else {
      sum.add(x);
      this.count++;
    }
    buf[h] = x;
    this.head = h + 1 === p ? 0 : h + 1;
    if (this.count < p) return NaN;
    return (this.v = (sum.exact ? sum.value : this.resync()) / p);
  }

  /** Rebuilds the sum from the buffer; fsum if even that is not exact. */
  private resync(): number {
    const sum = this.sum;
    sum.reset();
    const buf = this.buf;
    for (let i = 0; i < buf.length; i++) sum.add(buf[i]!);
    return sum.exact ? sum.value : fsum(buf);
  }

  get value(): number {
    return this.v;
  }
  get ready(): boolean {
    return this.count === this.period;
  }
  read(output: string): number {
    if (output === "sma") return this.v;
    return unknownOutput(this.kind, output);
  }
  reset(): void {
    this.sum.reset();
    this.head = 0;
    this.count = 0;
    this.v = NaN;
  }
}

/**
 * Exponential moving average, TA-Lib/backtrader convention: seeded with the
 * SMA of the first `period` inputs (first value at input `period`), then
 * prev * (1 - alpha) + x * alpha with alpha = 2 / (period + 1).
 */
export class EMA implements ValueIndicator {
  readonly kind = "ema" as const;
  readonly input = "value" as const;
  readonly outputs = INDICATOR_OUTPUTS.ema;
  readonly period: number;
  readonly warmup: number;
  readonly alpha: number;
  private readonly s: SeededSmoothing;

  constructor(period: number) {
    requireParam("period", period);
    this.period = period;
    this.warmup = period - 1;
    this.alpha = 2 / (1 + period);
    this.s = new SeededSmoothing(period, this.alpha);
  }
  update(x: number): number {
    return this.s.update(x);
  }
  get value(): number {
    return this.s.value;
  }
  get ready(): boolean {
    return this.s.ready;
  }
  read(output: string): number {
    if (output === "ema") return this.s.value;
    return unknownOutput(this.kind, output);
  }
  reset(): void {
    this.s.reset();
  }
}

/**
 * Linearly weighted moving average: sum(i * x_i) / (period * (period + 1) / 2),
 * newest weight = period. The numerator is kept exactly (double-double with
 * exact products) and updated as N' = N - S + period * x, so there is no drift;
 * value = fl(N) / denominator. (backtrader computes coef * fsum(x_i * i): equal
 * to within an ulp or two, not bit-identical.)
 */
export class WMA implements ValueIndicator {
  readonly kind = "wma" as const;
  readonly input = "value" as const;
  readonly outputs = INDICATOR_OUTPUTS.wma;
  readonly period: number;
  readonly warmup: number;
  private readonly denom: number;
  private readonly buf: Float64Array;
  private readonly sum = new RollingSum();
  private readonly num = new RollingSum();
  private head = 0;
  private count = 0;
  private v = NaN;

  constructor(period: number) {
    requireParam("period", period);
    this.period = period;
    this.warmup = period - 1;
    this.denom = (period * (period + 1)) / 2;
    this.buf = new Float64Array(period);
  }

  update(x: number): number {
    const p = this.period;
    const h = this.head;
    const num = this.num;
    const sum = this.sum;
    if (this.count === p) {
      // Every weight drops by one (the oldest value's weight reaches 0).
      num.addSum(sum, -1);
      num.addProduct(p, x);
      sum.remove(this.buf[h]!);
    } else {
      this.count++;
      num.addProduct(this.count, x);
    }
    sum.add(x);
    this.buf[h] = x;
    this.head = h + 1 === p ? 0 : h + 1;
    if (this.count < p) return NaN;
    if (!num.exact || !sum.exact) this.resync();
    return (this.v = num.value / this.denom);
  }

  private resync(): void {
    const p = this.period;
    this.num.reset();
    this.sum.reset();
    // Oldest value sits at head (the slot written next).
    for (let i = 0; i < p; i++) {
      let j = this.head + i;
      if (j >= p) j -= p;
      const x = this.buf[j]!;
      this.num.addProduct(i + 1, x);
      this.sum.add(x);
    }
  }

  get value(): number {
    return this.v;
  }
  get ready(): boolean {
    return this.count === this.period;
  }
  read(output: string): number {
    if (output === "wma") return this.v;
    return unknownOutput(this.kind, output);
  }
  reset(): void {
    this.sum.reset();
    this.num.reset();
    this.head = 0;
    this.count = 0;
    this.v = NaN;
  }
}

/**
 * Relative strength index, Wilder / TA-Lib / backtrader convention: gains and
 * losses of close-to-close changes, each Wilder-smoothed (seed = simple average
 * of the first `period` changes, then alpha = 1/period); first value at input
 * `period` (warmup = period). RSI = 100 - 100 / (1 + avgGain / avgLoss).
 * avgLoss = 0 gives 100 (50 when avgGain is 0 too: a flat window), as
 * backtrader's safediv intends (TA-Lib gives 0 for a flat window).
 */
export class RSI implements ValueIndicator {
  readonly kind = "rsi" as const;
  readonly input = "value" as const;
  readonly outputs = INDICATOR_OUTPUTS.rsi;
  readonly period: number;
  readonly warmup: number;
  private readonly gain: SeededSmoothing;
  private readonly loss: SeededSmoothing;
  private prev = NaN;
  private n = 0;
  private v = NaN;

  constructor(period: number) {
    requireParam("period", period);
    this.period = period;
    this.warmup = period;
    this.gain = new SeededSmoothing(period, 1 / period);
    this.loss = new SeededSmoothing(period, 1 / period);
  }

  update(x: number): number {
    const n = ++this.n;
    const prev = this.prev;
    this.prev = x;
    if (n === 1) return NaN;
    const d = x - prev;
    const g = this.gain.update(d > 0 ? d : 0);
    const l = this.loss.update(d < 0 ? -d : 0);
    if (n <= this.period) return NaN;
    if (l === 0) return (this.v = g === 0 ? 50 : 100);
    return (this.v = 100 - 100 / (1 + g / l));
  }

  get value(): number {
    return this.v;
  }
  get ready(): boolean {
    return this.n > this.period;
  }
  read(output: string): number {
    if (output === "rsi") return this.v;
    return unknownOutput(this.kind, output);
  }
  reset(): void {
    this.gain.reset();
    this.loss.reset();
    this.prev = NaN;
    this.n = 0;
    this.v = NaN;
  }
}

/**
 * MACD, backtrader convention: macd = EMA(fast) - EMA(slow), each EMA seeded
 * independently with its own SMA; signal = EMA(signal) of the macd line (seeded
 * with the SMA of its first `signal` values); histogram = macd - signal.
 * All outputs appear together at input slow + signal - 1
 * (warmup = slow + signal - 2, as TA-Lib's lookback). TA-Lib instead starts the
 * fast EMA's seed at the same bar as the slow one, so its first values differ
 * slightly (the difference decays geometrically).
 */
export class MACD implements ValueIndicator {
  readonly kind = "macd" as const;
  readonly input = "value" as const;
  readonly outputs = INDICATOR_OUTPUTS.macd;
  readonly fast: number;
  readonly slow: number;
  readonly signalPeriod: number;
  readonly warmup: number;
  private readonly fastEma: SeededSmoothing;
  private readonly slowEma: SeededSmoothing;
  private readonly signalEma: SeededSmoothing;
  private m = NaN;
  private s = NaN;
  private h = NaN;

  constructor(fast: number, slow: number, signal: number) {
    requireParam("fast", fast);
    requireParam("slow", slow, 2);
    requireParam("signal", signal);
    if (slow <= fast) throw new RangeError("slow must be greater than fast");
    this.fast = fast;
    this.slow = slow;
    this.signalPeriod = signal;
    this.warmup = slow + signal - 2;
    this.fastEma = new SeededSmoothing(fast, 2 / (1 + fast));
    this.slowEma = new SeededSmoothing(slow, 2 / (1 + slow));
    this.signalEma = new SeededSmoothing(signal, 2 / (1 + signal));
  }

  update(x: number): number {
    const f = this.fastEma.update(x);
    const sl = this.slowEma.update(x);
    if (!this.slowEma.ready) return NaN;
    const m = f - sl;
    const s = this.signalEma.update(m);
    if (!this.signalEma.ready) return NaN;
    this.s = s;
    this.h = m - s;
    return (this.m = m);
  }

  get value(): number {
    return this.m;
  }
  /** The MACD line (fast EMA - slow EMA). */
  get macd(): number {
    return this.m;
  }
  get signal(): number {
    return this.s;
  }
  get histogram(): number {
    return this.h;
  }
  get ready(): boolean {
    return this.signalEma.ready;
  }
  read(output: string): number {
    switch (output) {
      case "macd":
        return this.m;
      case "signal":
        return this.s;
      case "histogram":
        return this.h;
    }
    return unknownOutput(this.kind, output);
  }
  reset(): void {
    this.fastEma.reset();
    this.slowEma.reset();
    this.signalEma.reset();
    this.m = NaN;
    this.s = NaN;
    this.h = NaN;
  }
}

/**
 * Bollinger Bands, backtrader/TA-Lib convention: middle = SMA(period) (exactly
 * backtrader's fsum / period), upper/lower = middle ± k * population standard
 * deviation (divide by period, not period - 1).
 *
 * Variance without cancellation or drift: the window keeps exact rolling sums of
 * x and of x² (x² split exactly into fl(x²) + error, two exact sums). Each
 * update, with r = the newest input, T = Σ(x - r)² is evaluated exactly as the
 * correctly rounded fsum of the error-free expansion of Q - 2rS + n·r², and
 * D = S - n·r likewise; M2 = T - D²/n, clamped at 0. T is a sum of squares
 * about a point inside the data's range, so there is no catastrophic
 * cancellation (unlike E[x²] - E[x]²), nothing accumulates across updates,
 * and a constant window gives T = D = 0: width exactly 0.
 */
export class Bollinger implements ValueIndicator {
  readonly kind = "bollinger" as const;
  readonly input = "value" as const;
  readonly outputs = INDICATOR_OUTPUTS.bollinger;
  readonly period: number;
  readonly k: number;
  readonly warmup: number;
  private readonly buf: Float64Array;
  private readonly s1 = new RollingSum();
  private readonly s2 = new RollingSum();
  private readonly s2e = new RollingSum();
  private readonly terms = new Float64Array(12);
  private head = 0;
  private count = 0;
  private mid = NaN;
  private sd = NaN;
  private up = NaN;
  private lo = NaN;

  constructor(period: number, k: number) {
    requireParam("period", period);
    if (!(Number.isFinite(k) && k >= 0)) throw new RangeError("k must be a finite number >= 0");
    this.period = period;
    this.k = k;
    this.warmup = period - 1;
    this.buf = new Float64Array(period);
  }

  private addSquare(x: number, sign: 1 | -1): void {
    // Exact x² = sq + err (Dekker); both parts go into their own exact sum.
    const sq = x * x;
    const t = 134217729 * x;
    const xh = t - (t - x);
    const xl = x - xh;
    const err = xh * xh - sq + 2 * xh * xl + xl * xl;
    this.s2.add(sign * sq);
    this.s2e.add(sign * err);
  }

  update(x: number): number {
    const p = this.period;
    const h = this.head;
    this.s1.add(x);
    this.addSquare(x, 1);
    if (this.count === p) {
      const old = this.buf[h]!;
      this.s1.remove(old);
      this.addSquare(old, -1);
    } else this.count++;
    this.buf[h] = x;
    this.head = h + 1 === p ? 0 : h + 1;
    if (this.count < p) return NaN;
    if (!this.s1.exact || !this.s2.exact || !this.s2e.exact) this.resync();

    const s1 = this.s1;
    const mid = (s1.exact ? s1.value : fsum(this.buf)) / p;

    // Error-free expansion of T = Q - 2 r S + p r² and D = S - p r.
    const r = x;
    const tm = this.terms;
    tm[0] = this.s2.hi;
    tm[1] = this.s2.lo;
    tm[2] = this.s2e.hi;
    tm[3] = this.s2e.lo;
    twoProductInto(tm, 4, -2 * r, s1.hi);
    twoProductInto(tm, 6, -2 * r, s1.lo);
    const rr = r * r;
    const t = 134217729 * r;
    const rh = t - (t - r);
    const rl = r - rh;
    const rre = rh * rh - rr + 2 * rh * rl + rl * rl;
    twoProductInto(tm, 8, p, rr);
    twoProductInto(tm, 10, p, rre);
    const T = fsum(tm);
    tm[0] = s1.hi;
    tm[1] = s1.lo;
    twoProductInto(tm, 2, -p, r);
    const D = fsum(tm, 0, 4);
    let m2 = T - (D * D) / p;
    if (!(m2 > 0)) m2 = m2 === m2 ? 0 : m2;
    const sd = Math.sqrt(m2 / p);
    const w = this.k * sd;
    this.sd = sd;
    this.up = mid + w;
    this.lo = mid - w;
    return (this.mid = mid);
  }

  private resync(): void {
    this.s1.reset();
    this.s2.reset();
    this.s2e.reset();
    const buf = this.buf;
    for (let i = 0; i < buf.length; i++) {
      this.s1.add(buf[i]!);
      this.addSquare(buf[i]!, 1);
    }
  }

  get value(): number {
    return this.mid;
  }
  get middle(): number {
    return this.mid;
  }
  get upper(): number {
    return this.up;
  }
  get lower(): number {
    return this.lo;
  }
  /** Population standard deviation of the window (NaN until ready). */
  get stdDev(): number {
    return this.sd;
  }
  get ready(): boolean {
    return this.count === this.period;
  }
  read(output: string): number {
    switch (output) {
      case "middle":
        return this.mid;
      case "upper":
        return this.up;
      case "lower":
        return this.lo;
    }
    return unknownOutput(this.kind, output);
  }
  reset(): void {
    this.s1.reset();
    this.s2.reset();
    this.s2e.reset();
    this.head = 0;
    this.count = 0;
    this.mid = NaN;
    this.sd = NaN;
    this.up = NaN;
    this.lo = NaN;
  }
}

/** Writes the exact product a * b as two doubles at out[i], out[i + 1]. */
function twoProductInto(out: Float64Array, i: number, a: number, b: number): void {
  const p = a * b;
  let t = 134217729 * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = 134217729 * b;
  const bh = t - (t - b);
  const bl = b - bh;
  out[i] = p;
  out[i + 1] = ah * bh - p + ah * bl + al * bh + al * bl;
}

// ---------------------------------------------------------------------------
// Bar indicators
// ---------------------------------------------------------------------------

/**
 * Average true range, Wilder / TA-Lib / backtrader convention. True range needs
 * the previous close, so the first bar gives none; TR = max(high, prevClose) -
 * min(low, prevClose). ATR = Wilder smoothing of TR seeded with the simple
 * average of the first `period` TRs: first value at bar `period` (warmup = period).
 */
export class ATR implements BarIndicator {
  readonly kind = "atr" as const;
  readonly input = "bar" as const;
  readonly outputs = INDICATOR_OUTPUTS.atr;
  readonly period: number;
  readonly warmup: number;
  private readonly s: SeededSmoothing;
  private prevClose = NaN;
  private n = 0;
  private tr = NaN;

  constructor(period: number) {
    requireParam("period", period);
    this.period = period;
    this.warmup = period;
    this.s = new SeededSmoothing(period, 1 / period);
  }

  update(high: number, low: number, close: number, _volume?: number): number {
    const pc = this.prevClose;
    this.prevClose = close;
    if (++this.n === 1) return NaN;
    const tr = (high > pc ? high : pc) - (low < pc ? low : pc);
    this.tr = tr;
    return this.s.update(tr);
  }

  get value(): number {
    return this.s.value;
  }
  /** The latest true range (NaN on the first bar). */
  get trueRange(): number {
    return this.tr;
  }
  get ready(): boolean {
    return this.s.ready;
  }
  read(output: string): number {
    if (output === "atr") return this.s.value;
    return unknownOutput(this.kind, output);
  }
  reset(): void {
    this.s.reset();
    this.prevClose = NaN;
    this.n = 0;
    this.tr = NaN;
  }
}

/**
 * Stochastic oscillator (full/slow form, TA-Lib STOCH and backtrader
 * Stochastic with SMA smoothing): raw %K = 100 * ((close - LL) / (HH - LL))
 * over the last `period` bars (current bar included; 0 when HH = LL, as
 * TA-Lib); %K = SMA(kSmoothing) of raw %K (kSmoothing = 1: fast stochastic);
 * %D = SMA(dPeriod) of %K. warmup = period + kSmoothing + dPeriod - 3.
 */
export class Stochastic implements BarIndicator {
  readonly kind = "stochastic" as const;
  readonly input = "bar" as const;
  readonly outputs = INDICATOR_OUTPUTS.stochastic;
  readonly period: number;
  readonly kSmoothing: number;
  readonly dPeriod: number;
  readonly warmup: number;
  private readonly hh: MonotonicWindow;
  private readonly ll: MonotonicWindow;
  private readonly kSma: SMA;
  private readonly dSma: SMA;
  private n = 0;
  private kv = NaN;
  private dv = NaN;

  constructor(period: number, kSmoothing: number, dPeriod: number) {
    requireParam("period", period);
    requireParam("kSmoothing", kSmoothing);
    requireParam("dPeriod", dPeriod);
    this.period = period;
    this.kSmoothing = kSmoothing;
    this.dPeriod = dPeriod;
    this.warmup = period + kSmoothing + dPeriod - 3;
    this.hh = new MonotonicWindow(period, true);
    this.ll = new MonotonicWindow(period, false);
    this.kSma = new SMA(kSmoothing);
    this.dSma = new SMA(dPeriod);
  }

  update(high: number, low: number, close: number, _volume?: number): number {
    const hh = this.hh.push(high);
    const ll = this.ll.push(low);
    if (++this.n < this.period) return NaN;
    const den = hh - ll;
    const raw = den === 0 ? 0 : 100 * ((close - ll) / den);
    const k = this.kSma.update(raw);
    if (!this.kSma.ready) return NaN;
    const d = this.dSma.update(k);
    if (!this.dSma.ready) return NaN;
    this.dv = d;
    return (this.kv = k);
  }

  get value(): number {
    return this.kv;
  }
  get k(): number {
    return this.kv;
  }
  get d(): number {
    return this.dv;
  }
  get ready(): boolean {
    return this.dSma.ready;
  }
  read(output: string): number {
    if (output === "k") return this.kv;
    if (output === "d") return this.dv;
    return unknownOutput(this.kind, output);
  }
  reset(): void {
    this.hh.reset();
    this.ll.reset();
    this.kSma.reset();
    this.dSma.reset();
    this.n = 0;
    this.kv = NaN;
    this.dv = NaN;
  }
}

/**
 * Session-anchored volume-weighted average price: Σ(typical · volume) / Σvolume
 * with typical = (high + low + close) / 3, accumulated from the start of the
 * session. Anchor either by calling reset() at each session start, or by
 * passing a session key (e.g. the trading day) as the 5th argument: when it
 * differs from the previous bar's key the sums restart with this bar (a bar
 * without a key stays in the current session). Sums are double-double (exact
 * products), so long sessions do not drift. NaN until the session has traded
 * volume (warmup = 0: the first bar with volume > 0 is valid). Volume is
 * required: a bar without one makes the session's VWAP NaN.
 */
export class VWAP implements BarIndicator {
  readonly kind = "vwap" as const;
  readonly input = "bar" as const;
  readonly outputs = INDICATOR_OUTPUTS.vwap;
  readonly warmup = 0;
  private readonly pv = new RollingSum();
  private readonly vol = new RollingSum();
  private session: string | number | undefined = undefined;
  private v = NaN;

  update(high: number, low: number, close: number, volume: number = NaN, session?: string | number): number {
    if (session !== undefined) {
      if (session !== this.session) {
        this.pv.reset();
        this.vol.reset();
        this.v = NaN;
      }
      this.session = session;
    }
    this.pv.addProduct((high + low + close) / 3, volume);
    this.vol.add(volume);
    const cv = this.vol.value;
    return (this.v = cv > 0 ? this.pv.value / cv : NaN);
  }

  /** Starts a new session (clears the sums and the remembered session key). */
  reset(): void {
    this.pv.reset();
    this.vol.reset();
    this.session = undefined;
    this.v = NaN;
  }
  get value(): number {
    return this.v;
  }
  get ready(): boolean {
    return this.v === this.v;
  }
  /** Cumulative volume of the current session. */
  get volume(): number {
    return this.vol.value;
  }
  read(output: string): number {
    if (output === "vwap") return this.v;
    return unknownOutput(this.kind, output);
  }
}

/**
 * Average directional index with +DI / -DI: Wilder / backtrader convention.
 * upMove = high - prevHigh, downMove = prevLow - low; +DM = upMove if
 * upMove > downMove and > 0, else 0 (-DM symmetric); TR as ATR. +DM, -DM and TR
 * are Wilder-smoothed (seeded with simple averages of the first `period`
 * values, from bar 1); +DI = 100 · avg(+DM) / ATR (0 when ATR = 0);
 * DX = |+DI - -DI| / (+DI + -DI) (0 when both are 0); ADX = 100 · Wilder(DX),
 * seeded with the average of the first `period` DX. All outputs appear at bar
 * 2·period - 1 (warmup = 2·period - 1, TA-Lib's ADX lookback). TA-Lib seeds its
 * DM/TR sums with period - 1 values (then one Wilder step), so its first values
 * differ slightly from Wilder's book, backtrader and this class.
 */
export class ADX implements BarIndicator {
  readonly kind = "adx" as const;
  readonly input = "bar" as const;
  readonly outputs = INDICATOR_OUTPUTS.adx;
  readonly period: number;
  readonly warmup: number;
  private readonly trS: SeededSmoothing;
  private readonly pS: SeededSmoothing;
  private readonly mS: SeededSmoothing;
  private readonly dxS: SeededSmoothing;
  private prevHigh = NaN;
  private prevLow = NaN;
  private prevClose = NaN;
  private n = 0;
  private a = NaN;
  private pdi = NaN;
  private mdi = NaN;

  constructor(period: number) {
    requireParam("period", period);
    this.period = period;
    this.warmup = 2 * period - 1;
    const alpha = 1 / period;
    this.trS = new SeededSmoothing(period, alpha);
    this.pS = new SeededSmoothing(period, alpha);
    this.mS = new SeededSmoothing(period, alpha);
    this.dxS = new SeededSmoothing(period, alpha);
  }

  update(high: number, low: number, close: number, _volume?: number): number {
    const ph = this.prevHigh;
    const pl = this.prevLow;
    const pc = this.prevClose;
    this.prevHigh = high;
    this.prevLow = low;
    this.prevClose = close;
    if (++this.n === 1) return NaN;
    const upMove = high - ph;
    const downMove = pl - low;
    const pdm = upMove > downMove && upMove > 0 ? upMove : 0;
    const mdm = downMove > upMove && downMove > 0 ? downMove : 0;
    const tr = (high > pc ? high : pc) - (low < pc ? low : pc);
    const atr = this.trS.update(tr);
    const ap = this.pS.update(pdm);
    const am = this.mS.update(mdm);
    if (!this.trS.ready) return NaN;
    const pdi = atr === 0 ? 0 : (100 * ap) / atr;
    const mdi = atr === 0 ? 0 : (100 * am) / atr;
    const sum = pdi + mdi;
    const dx = sum === 0 ? 0 : Math.abs(pdi - mdi) / sum;
    const adx = this.dxS.update(dx);
    if (!this.dxS.ready) return NaN;
    this.pdi = pdi;
    this.mdi = mdi;
    return (this.a = 100 * adx);
  }

  get value(): number {
    return this.a;
  }
  get adx(): number {
    return this.a;
  }
  get plusDI(): number {
    return this.pdi;
  }
  get minusDI(): number {
    return this.mdi;
  }
  get ready(): boolean {
    return this.dxS.ready;
  }
  read(output: string): number {
    switch (output) {
      case "adx":
        return this.a;
      case "plusDI":
        return this.pdi;
      case "minusDI":
        return this.mdi;
    }
    return unknownOutput(this.kind, output);
  }
  reset(): void {
    this.trS.reset();
    this.pS.reset();
    this.mS.reset();
    this.dxS.reset();
    this.prevHigh = NaN;
    this.prevLow = NaN;
    this.prevClose = NaN;
    this.n = 0;
    this.a = NaN;
    this.pdi = NaN;
    this.mdi = NaN;
  }
}

/**
 * On-balance volume: starts at 0 on the first bar, then adds the bar's volume
 * when close > previous close and subtracts it when close < previous close
 * (unchanged otherwise). warmup = 0. TA-Lib starts at the first bar's volume
 * instead: a constant offset. The running total is an exact double-double sum.
 */
export class OBV implements BarIndicator {
  readonly kind = "obv" as const;
  readonly input = "bar" as const;
  readonly outputs = INDICATOR_OUTPUTS.obv;
  readonly warmup = 0;
  private readonly sum = new RollingSum();
  private prevClose = NaN;
  private n = 0;
  private v = NaN;

  update(_high: number, _low: number, close: number, volume: number = NaN): number {
    const pc = this.prevClose;
    this.prevClose = close;
    if (++this.n > 1) {
      if (close > pc) this.sum.add(volume);
      else if (close < pc) this.sum.remove(volume);
    }
    return (this.v = this.sum.value);
  }

  get value(): number {
    return this.v;
  }
  get ready(): boolean {
    return this.n > 0;
  }
  read(output: string): number {
    if (output === "obv") return this.v;
    return unknownOutput(this.kind, output);
  }
  reset(): void {
    this.sum.reset();
    this.prevClose = NaN;
    this.n = 0;
    this.v = NaN;
  }
}

/**
 * Donchian channel over the last `period` bars, current bar included:
 * upper = highest high, lower = lowest low, middle = (upper + lower) / 2.
 * Monotonic deques: amortised O(1). warmup = period - 1. (Breakout rules that
 * compare against the channel of the *previous* bars should read it before
 * updating with the current bar.)
 */
export class Donchian implements BarIndicator {
  readonly kind = "donchian" as const;
  readonly input = "bar" as const;
  readonly outputs = INDICATOR_OUTPUTS.donchian;
  readonly period: number;
  readonly warmup: number;
  private readonly hh: MonotonicWindow;
  private readonly ll: MonotonicWindow;
  private n = 0;
  private up = NaN;
  private lo = NaN;
  private mid = NaN;

  constructor(period: number) {
    requireParam("period", period);
    this.period = period;
    this.warmup = period - 1;
    this.hh = new MonotonicWindow(period, true);
    this.ll = new MonotonicWindow(period, false);
  }

  update(high: number, low: number, _close?: number, _volume?: number): number {
    const u = this.hh.push(high);
    const l = this.ll.push(low);
    if (++this.n < this.period) return NaN;
    this.up = u;
    this.lo = l;
    return (this.mid = (u + l) / 2);
  }

  get value(): number {
    return this.mid;
  }
  get middle(): number {
    return this.mid;
  }
  get upper(): number {
    return this.up;
  }
  get lower(): number {
    return this.lo;
  }
  get ready(): boolean {
    return this.n >= this.period;
  }
  read(output: string): number {
    switch (output) {
      case "middle":
        return this.mid;
      case "upper":
        return this.up;
      case "lower":
        return this.lo;
    }
    return unknownOutput(this.kind, output);
  }
  reset(): void {
    this.hh.reset();
    this.ll.reset();
    this.n = 0;
    this.up = NaN;
    this.lo = NaN;
    this.mid = NaN;
  }
}

// ---------------------------------------------------------------------------
// Factory
// ---------------------------------------------------------------------------

export type IndicatorByKind = {
  sma: SMA;
  ema: EMA;
  wma: WMA;
  rsi: RSI;
  macd: MACD;
  bollinger: Bollinger;
  atr: ATR;
  stochastic: Stochastic;
  vwap: VWAP;
  adx: ADX;
  obv: OBV;
  donchian: Donchian;
};

/** Builds the indicator a spec describes; throws RangeError (the validation message) on a bad spec. */
export function createIndicator<S extends IndicatorSpec>(spec: S): IndicatorByKind[S["kind"]];
export function createIndicator(spec: IndicatorSpec): Indicator {
  const msg = validateIndicatorSpec(spec);
  if (msg) throw new RangeError(`invalid indicator spec: ${msg}`);
  switch (spec.kind) {
    case "sma":
      return new SMA(spec.period);
    case "ema":
      return new EMA(spec.period);
    case "wma":
      return new WMA(spec.period);
    case "rsi":
      return new RSI(spec.period);
    case "macd":
      return new MACD(spec.fast, spec.slow, spec.signal);
    case "bollinger":
      return new Bollinger(spec.period, spec.k);
    case "atr":
      return new ATR(spec.period);
    case "stochastic":
      return new Stochastic(spec.period, spec.kSmoothing, spec.dPeriod);
    case "vwap":
      return new VWAP();
    case "adx":
      return new ADX(spec.period);
    case "obv":
      return new OBV();
    case "donchian":
      return new Donchian(spec.period);
  }
}
