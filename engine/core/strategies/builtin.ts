/**
 * Built-in strategies. Each sees the market only through its StrategyContext
 * (indicators registered with the engine, its position, its orders).
 */
import { tzOffset } from "../../data/tz";
import type { IndicatorHandle } from "../indicator-registry";
import type { Strategy, StrategyContext } from "../ports";

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

export interface ParamDef {
  name: string;
  type: "int" | "number" | "bool" | "enum" | "time";
  default: ParamValue;
  min?: number;
  max?: number;
  options?: readonly string[];
  description: string;
}

export interface StrategyDef {
  id: string;
  name: string;
  description: string;
  params: readonly ParamDef[];
  /** Cross-field checks; returns [field, message] or null. */
  check?(p: Params): [string, string] | null;
  create(p: Params): Strategy;
}

const num = (p: Params, k: string) => p[k] as number;

/** Target position helper: sends the market order that moves the position to `target`. */
function goTo(ctx: StrategyContext, target: number, tag: string): void {
  const diff = target - ctx.position.qty;
  if (diff === 0) return;
  ctx.exec.submit({ side: diff > 0 ? "buy" : "sell", qty: Math.abs(diff), type: "market", tag });
}

/**
 * SMA crossover, as backtrader computes it: SMA = fsum(window)/period;
 * the cross compares the last NON-ZERO difference fast-slow before this bar
 * with this bar's difference (backtrader's CrossOver / NonZeroDifference).
 * long_only (backtrader's SmaCross example): buy `size` on an up-cross when
 * flat, close on a down-cross. long_short: hold +size / -size.
 */
export class SmaCross implements Strategy {
  readonly name = "sma-cross";
  private fast!: IndicatorHandle;
  private slow!: IndicatorHandle;
  private nzd = NaN;
  constructor(private readonly p: { fast: number; slow: number; size: number; mode: string }) {}
  onStart(ctx: StrategyContext): void {
    this.fast = ctx.data.indicator({ kind: "sma", period: this.p.fast });
    this.slow = ctx.data.indicator({ kind: "sma", period: this.p.slow });
    this.nzd = NaN;
  }
  onBar(ctx: StrategyContext): void {
    const f = this.fast.value;
    const s = this.slow.value;
    if (f !== f || s !== s) return; // NaN: warming up
    const d = f - s;
    const prev = this.nzd;
    this.nzd = d !== 0 || prev !== prev ? d : prev;
    if (prev !== prev) return; // first bar with both averages: seeds the difference
    const up = prev < 0 && f > s;
    const down = prev > 0 && f < s;
    if (!up && !down) return;
    const pos = ctx.position.qty;
    if (this.p.mode === "long_short") {
      goTo(ctx, up ? this.p.size : -this.p.size, up ? "cross-up" : "cross-down");
    } else if (pos === 0) {
      if (up) ctx.exec.submit({ side: "buy", qty: this.p.size, type: "market", tag: "cross-up" });
    } else if (down) {
      goTo(ctx, 0, "cross-down");
    }
  }
}

/** RSI mean reversion: long below `lower`, short above `upper` (if allowed), exit when RSI crosses `exit`. */
export class RsiMeanReversion implements Strategy {
  readonly name = "rsi-reversion";
  private rsi!: IndicatorHandle;
  constructor(private readonly p: { period: number; lower: number; upper: number; exit: number; size: number; allowShort: boolean }) {}
  onStart(ctx: StrategyContext): void {
    this.rsi = ctx.data.indicator({ kind: "rsi", period: this.p.period });
  }
  onBar(ctx: StrategyContext): void {
    const r = this.rsi.value;
    if (r !== r) return;
    const pos = ctx.position.qty;
    if (ctx.exec.openOrders().length) return;
    if (pos === 0) {
      if (r < this.p.lower) goTo(ctx, this.p.size, "rsi-oversold");
      else if (this.p.allowShort && r > this.p.upper) goTo(ctx, -this.p.size, "rsi-overbought");
    } else if (pos > 0 && r >= this.p.exit) goTo(ctx, 0, "rsi-exit");
    else if (pos < 0 && r <= this.p.exit) goTo(ctx, 0, "rsi-exit");
  }
}

/** Bollinger breakout: long on a close above the upper band, short below the lower (if allowed); exit on a close back through the middle. */
export class BollingerBreakout implements Strategy {
  readonly name = "bollinger-breakout";
  private bb!: IndicatorHandle;
  constructor(private readonly p: { period: number; k: number; size: number; allowShort: boolean }) {}
  onStart(ctx: StrategyContext): void {
    this.bb = ctx.data.indicator({ kind: "bollinger", period: this.p.period, k: this.p.k });
  }
  onBar(ctx: StrategyContext): void {
    if (!this.bb.ready) return;
    const c = ctx.data.close();
    const up = this.bb.read("upper");
    const lo = this.bb.read("lower");
    const mid = this.bb.read("middle");
    const pos = ctx.position.qty;
    if (ctx.exec.openOrders().length) return;
    if (pos === 0) {
      if (c > up) goTo(ctx, this.p.size, "bb-up");
      else if (this.p.allowShort && c < lo) goTo(ctx, -this.p.size, "bb-down");
    } else if ((pos > 0 && c < mid) || (pos < 0 && c > mid)) goTo(ctx, 0, "bb-exit");
  }
}

/** Minutes since local midnight in `zone` for a UTC instant; offsets cached per UTC hour. */
class LocalTime {
  private hour = NaN;
  private off = 0;
  constructor(private readonly zone: string) {}
  minutes(ts: number): number {
    const h = Math.floor(ts / 3_600_000);
    if (h !== this.hour) {
      this.hour = h;
      this.off = tzOffset(this.zone, ts);
    }
    const local = ts + this.off;
    return Math.floor((((local % 86_400_000) + 86_400_000) % 86_400_000) / 60_000);
  }
  day(ts: number): number {
    this.minutes(ts);
    return Math.floor((ts + this.off) / 86_400_000);
  }
}

export function parseHhMm(s: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m) return NaN;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  return h < 24 && mi < 60 ? h * 60 + mi : NaN;
}

/**
 * Opening-range breakout (NQ's 09:30 New York open by default): the range is
 * the high and low of the bars starting in [open, open + rangeMinutes). After
 * it, the first close above the range high buys (below the low sells, if
 * allowed) with a bracket: stop-loss at the other side of the range,
 * take-profit at `target` x the range height. One entry per day; flat at
 * `exitTime` local.
 */
export class OpeningRangeBreakout implements Strategy {
  readonly name = "orb";
  private lt!: LocalTime;
  private day = NaN;
  private hi = -Infinity;
  private lo = Infinity;
  private traded = false;
  private readonly openMin: number;
  private readonly exitMin: number;
  constructor(private readonly p: { rangeMinutes: number; size: number; target: number; allowShort: boolean; open: string; exit: string; barMinutes: number }) {
    this.openMin = parseHhMm(p.open);
    this.exitMin = parseHhMm(p.exit);
  }
  onStart(ctx: StrategyContext): void {
    this.lt = new LocalTime(ctx.timeZone === "UTC" ? "America/New_York" : ctx.timeZone);
  }
  onBar(ctx: StrategyContext): void {
    const t = ctx.data.time();
    const m = this.lt.minutes(t);
    const day = this.lt.day(t);
    if (day !== this.day) {
      this.day = day;
      this.hi = -Infinity;
      this.lo = Infinity;
      this.traded = false;
    }
    const rangeEnd = this.openMin + this.p.rangeMinutes;
    if (m >= this.openMin && m < rangeEnd) {
      this.hi = Math.max(this.hi, ctx.data.high());
      this.lo = Math.min(this.lo, ctx.data.low());
      return;
    }
    const closeMin = m + this.p.barMinutes; // this bar's close, local minutes
    if (closeMin >= this.exitMin || m < this.openMin) {
      if (ctx.position.qty !== 0 || ctx.exec.openOrders().length) {
        ctx.exec.cancelAll();
        if (ctx.position.qty !== 0) goTo(ctx, 0, "orb-session-exit");
      }
      return;
    }
    if (this.traded || !(this.hi > this.lo) || ctx.position.qty !== 0) return;
    const c = ctx.data.close();
    const height = this.hi - this.lo;
    if (c > this.hi) {
      this.traded = true;
      ctx.exec.submitBracket({ entry: { side: "buy", qty: this.p.size, type: "market" }, stopLoss: this.lo, takeProfit: c + this.p.target * height, tag: "orb-long" });
    } else if (this.p.allowShort && c < this.lo) {
      this.traded = true;
      ctx.exec.submitBracket({ entry: { side: "sell", qty: this.p.size, type: "market" }, stopLoss: this.hi, takeProfit: c - this.p.target * height, tag: "orb-short" });
    }
  }
}

const SIZE: ParamDef = { name: "size", type: "number", default: 1, min: 0, description: "contracts per entry (> 0)" };

export const BUILTIN_STRATEGIES: readonly StrategyDef[] = [
  {
    id: "sma-cross",
    name: "SMA crossover",
    description: "Long when the fast SMA crosses above the slow SMA; out (or short) when it crosses below. Same rule as backtrader's SmaCross.",
    params: [
      { name: "fast", type: "int", default: 10, min: 1, max: 10_000, description: "fast SMA period" },
      { name: "slow", type: "int", default: 30, min: 2, max: 10_000, description: "slow SMA period" },
      SIZE,
      { name: "mode", type: "enum", default: "long_only", options: ["long_only", "long_short"], description: "long only, or always in the market" },
    ],
    check: (p) => (num(p, "fast") >= num(p, "slow") ? ["fast", `fast (${p.fast}) must be less than slow (${p.slow})`] : null),
    create: (p) => new SmaCross({ fast: num(p, "fast"), slow: num(p, "slow"), size: num(p, "size"), mode: String(p.mode) }),
  },
  {
    id: "rsi-reversion",
    name: "RSI mean reversion",
    description: "Long when RSI falls below the lower level, short above the upper (optional); exit when RSI returns to the exit level.",
    params: [
      { name: "period", type: "int", default: 14, min: 2, max: 1000, description: "RSI period" },
      { name: "lower", type: "number", default: 30, min: 0, max: 100, description: "oversold level" },
      { name: "upper", type: "number", default: 70, min: 0, max: 100, description: "overbought level" },
      { name: "exit", type: "number", default: 50, min: 0, max: 100, description: "exit level" },
      SIZE,
      { name: "allowShort", type: "bool", default: true, description: "also trade the overbought side" },
    ],
    check: (p) => (num(p, "lower") >= num(p, "upper") ? ["lower", `lower (${p.lower}) must be less than upper (${p.upper})`] : num(p, "exit") < num(p, "lower") || num(p, "exit") > num(p, "upper") ? ["exit", `exit (${p.exit}) must lie between lower and upper`] : null),
    create: (p) => new RsiMeanReversion({ period: num(p, "period"), lower: num(p, "lower"), upper: num(p, "upper"), exit: num(p, "exit"), size: num(p, "size"), allowShort: Boolean(p.allowShort) }),
  },
  {
    id: "orb",
    name: "Opening-range breakout",
    description: "Trades the break of the first minutes after the open (NQ: 09:30 New York) with a bracket; flat at the exit time.",
    params: [
      { name: "rangeMinutes", type: "int", default: 15, min: 1, max: 390, description: "length of the opening range in minutes" },
      { name: "target", type: "number", default: 2, min: 0.1, max: 100, description: "take-profit in multiples of the range height" },
      SIZE,
      { name: "allowShort", type: "bool", default: true, description: "also trade downside breaks" },
      { name: "open", type: "time", default: "09:30", description: "session open, local time (HH:MM)" },
      { name: "exit", type: "time", default: "15:55", description: "flatten at, local time (HH:MM)" },
      { name: "barMinutes", type: "int", default: 1, min: 1, max: 1440, description: "bar size in minutes (set by the runner)" },
    ],
    check: (p) => (parseHhMm(String(p.exit)) <= parseHhMm(String(p.open)) + num(p, "rangeMinutes") ? ["exit", `exit (${p.exit}) must be after the opening range ends`] : null),
    create: (p) => new OpeningRangeBreakout({ rangeMinutes: num(p, "rangeMinutes"), size: num(p, "size"), target: num(p, "target"), allowShort: Boolean(p.allowShort), open: String(p.open), exit: String(p.exit), barMinutes: num(p, "barMinutes") }),
  },
  {
    id: "bollinger-breakout",
    name: "Bollinger breakout",
    description: "Long on a close above the upper band, short below the lower band (optional); exit on a close back through the middle band.",
    params: [
      { name: "period", type: "int", default: 20, min: 2, max: 10_000, description: "band period" },
      { name: "k", type: "number", default: 2, min: 0.1, max: 10, description: "band width in standard deviations" },
      SIZE,
      { name: "allowShort", type: "bool", default: true, description: "also trade downside breaks" },
    ],
    create: (p) => new BollingerBreakout({ period: num(p, "period"), k: num(p, "k"), size: num(p, "size"), allowShort: Boolean(p.allowShort) }),
  },
];

export class ParamError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "ParamError";
  }
}

/** Parameters from strings or values, checked against the definition; errors name the field. */
export function resolveParams(def: StrategyDef, given: Record<string, string | ParamValue>): Params {
  const out: Params = {};
  const known = new Set(def.params.map((d) => d.name));
  for (const k of Object.keys(given)) {
    if (!known.has(k)) throw new ParamError(k, `unknown parameter '${k}' for strategy ${def.id} (known: ${[...known].join(", ")})`);
  }
  for (const d of def.params) {
    const raw = given[d.name];
    let v: ParamValue = raw === undefined ? d.default : raw;
    switch (d.type) {
      case "int":
      case "number": {
        const n = typeof v === "number" ? v : Number(v);
        if (typeof v === "string" && v.trim() === "") throw new ParamError(d.name, `${d.name} must be a number`);
        if (!Number.isFinite(n)) throw new ParamError(d.name, `${d.name} must be a number, got '${String(v)}'`);
        if (d.type === "int" && !Number.isInteger(n)) throw new ParamError(d.name, `${d.name} must be a whole number, got ${n}`);
        if (d.name === "size" && !(n > 0)) throw new ParamError(d.name, `size must be positive, got ${n}`);
        if (d.min !== undefined && n < d.min) throw new ParamError(d.name, `${d.name} must be >= ${d.min}, got ${n}`);
        if (d.max !== undefined && n > d.max) throw new ParamError(d.name, `${d.name} must be <= ${d.max}, got ${n}`);
        v = n;
        break;
      }
      case "bool":
        if (typeof v === "string") {
          if (!/^(true|false|1|0|yes|no)$/i.test(v)) throw new ParamError(d.name, `${d.name} must be true or false, got '${v}'`);
          v = /^(true|1|yes)$/i.test(v);
        }
        break;
      case "enum":
        if (!d.options!.includes(String(v))) throw new ParamError(d.name, `${d.name} must be one of ${d.options!.join(", ")}, got '${String(v)}'`);
        v = String(v);
        break;
      case "time":
        if (Number.isNaN(parseHhMm(String(v)))) throw new ParamError(d.name, `${d.name} must be a time HH:MM, got '${String(v)}'`);
        v = String(v);
        break;
    }
    out[d.name] = v;
  }
  const bad = def.check?.(out);
  if (bad) throw new ParamError(bad[0], bad[1]);
  return out;
}

export function findStrategy(id: string): StrategyDef {
  const def = BUILTIN_STRATEGIES.find((d) => d.id === id);
  if (!def) throw new ParamError("strategy", `unknown strategy '${id}' (built-in: ${BUILTIN_STRATEGIES.map((d) => d.id).join(", ")}; builder strategies: builder:<name>)`);
  return def;
}
