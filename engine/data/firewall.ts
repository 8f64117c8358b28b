/**
 * The data firewall for bars. Each parsed row is either accepted (possibly
 * with flags) or quarantined with a typed reason; nothing is dropped silently.
 * Duplicate checks against stored rows happen when rows are merged into the
 * store (engine/store/bars.ts), which quarantines "duplicate_conflict".
 * Pure: no I/O; "now" comes from the caller.
 */
import type { TradingCalendar } from "./calendar";
import type { BarColumns } from "./types";

export const QUARANTINE_REASONS = [
  "unparsable_row",
  "unparsable_timestamp",
  "non_finite_price",
  "non_positive_price",
  "high_below_low",
  "open_outside_range",
  "close_outside_range",
  "negative_volume",
  "future_timestamp",
  "duplicate_conflict",
] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/** Bit flags kept with each stored row. */
export const FLAGS = { zero_volume: 1, off_tick: 2, price_jump: 4, outside_session: 8 } as const;
export type FlagName = keyof typeof FLAGS;
export const FLAG_NAMES = Object.keys(FLAGS) as FlagName[];

export interface QuarantinedRow {
  line: number;
  raw: string;
  reason: QuarantineReason;
  detail: string;
}

export interface FirewallOptions {
  tickSize: number; // 0 = no tick grid
  calendar: TradingCalendar;
  nowMs: number;
  /** true for daily bars whose ts is the trading-day label (00:00 UTC). */
  daily: boolean;
  /** A close-to-close log return beyond this many robust deviations is flagged. */
  jumpThreshold?: number;
}

/**
 * Flags price jumps: |r - median| > k * 1.4826 * MAD over the last `window`
 * (256) log returns. The median and MAD are refreshed every `refresh` (512)
 * rows so the cost stays O(1) amortised per row. Carries state across batches.
 */
export class JumpDetector {
  private readonly returns: Float64Array;
  private readonly scratch: Float64Array;
  private n = 0;
  private pos = 0;
  private sinceRefresh = Infinity;
  private med = 0;
  private scale = 0;
  private prevClose = NaN;

  constructor(
    private readonly k = 10,
    private readonly window = 256,
    private readonly refresh = 512,
    private readonly minSamples = 32,
  ) {
    this.returns = new Float64Array(window);
    this.scratch = new Float64Array(window);
  }

  /** Feeds the next close (in time order); returns true if it is a jump. */
  push(close: number): boolean {
    const prev = this.prevClose;
    this.prevClose = close;
    if (!(prev > 0) || !(close > 0)) return false;
    const r = Math.log(close / prev);
    let jump = false;
    if (this.n >= this.minSamples) {
      if (this.sinceRefresh >= this.refresh || this.n < this.window) this.recompute();
      jump = this.scale > 0 && Math.abs(r - this.med) > this.k * this.scale;
    }
    this.returns[this.pos] = r;
    this.pos = (this.pos + 1) % this.window;
    if (this.n < this.window) this.n++;
    this.sinceRefresh++;
    return jump;
  }

  private recompute(): void {
    const n = this.n;
    const xs = this.scratch.subarray(0, n);
    xs.set(this.returns.subarray(0, n));
    xs.sort(); // typed-array sort is numeric
    this.med = medianOf(xs);
    for (let i = 0; i < n; i++) xs[i] = Math.abs(xs[i]! - this.med);
    xs.sort();
    // A floor keeps perfectly flat stretches from flagging the first tick of movement.
    this.scale = Math.max(1.4826 * medianOf(xs), 1e-6);
    this.sinceRefresh = 0;
  }
}

function medianOf(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}


/** Off the tick grid: more than a millionth of a tick away (floating-point noise is not a violation). */

export interface ScreenResult {
  /** Indices into the batch of accepted rows, sorted by ts (stable). */
  order: Int32Array;
  /** True when order is 0..n-1 (nothing quarantined, already in time order). */
  identity: boolean;
  /** Flags of each accepted row, aligned with `order`. */
  flags: Uint8Array;
  quarantined: QuarantinedRow[];
}

/**
 * Screens one batch of bars (in file order). Rows are sorted by time before the
 * jump check; the detector carries over between batches.
 */
export function screenBars(
  bars: BarColumns,
  lines: Int32Array,
  raw: (i: number) => string,
  opts: FirewallOptions,
  jumps: JumpDetector,
): ScreenResult {
  const n = bars.length;
  const { ts, open, high, low, close, volume } = bars;
  const quarantined: QuarantinedRow[] = [];
  const ok = new Int32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const o = open[i]!;
    const h = high[i]!;
    const l = low[i]!;
    const c = close[i]!;
    const v = volume[i]!;
    const t = ts[i]!;
    let reason: QuarantineReason | undefined;
    let detail = "";
    if (!Number.isFinite(o) || !Number.isFinite(h) || !Number.isFinite(l) || !Number.isFinite(c)) {
      reason = "non_finite_price";
      detail = `prices must be finite numbers: open=${o} high=${h} low=${l} close=${c}`;
    } else if (!(o > 0 && h > 0 && l > 0 && c > 0)) {
      reason = "non_positive_price";
      detail = `prices must be positive: open=${o} high=${h} low=${l} close=${c}`;
    } else if (h < l) {
      reason = "high_below_low";
      detail = `high ${h} is below low ${l}`;
    } else if (o < l || o > h) {
      reason = "open_outside_range";
      detail = `open ${o} is outside [low ${l}, high ${h}]`;
    } else if (c < l || c > h) {
      reason = "close_outside_range";
      detail = `close ${c} is outside [low ${l}, high ${h}]`;
    } else if (!Number.isFinite(v) || v < 0) {
      reason = "negative_volume";
      detail = `volume must be zero or more, got ${v}`;
    } else if (t > opts.nowMs) {
      reason = "future_timestamp";
      detail = `timestamp ${new Date(t).toISOString()} is in the future`;
    }
    if (reason) quarantined.push({ line: lines[i]!, raw: raw(i), reason, detail });
    else ok[m++] = i;
  }
  // Stable sort of accepted rows by time.
  let sorted = true;
  for (let k = 1; k < m; k++) {
    if (ts[ok[k]!]! < ts[ok[k - 1]!]!) {
      sorted = false;
      break;
    }
  }
  let order = ok.subarray(0, m);
  if (!sorted) order = Int32Array.from(Array.from(order).sort((a, b) => ts[a]! - ts[b]! || a - b));
  const flags = new Uint8Array(order.length);
  const inv = opts.tickSize > 0 ? 1 / opts.tickSize : 0;
  const offTick = (p: number) => {
    const q = p * inv;
    return Math.abs(q - Math.round(q)) > 1e-6;
  };
  const cal = opts.calendar;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    let f = 0;
    if (volume[i] === 0) f |= FLAGS.zero_volume;
    if (inv > 0 && (offTick(open[i]!) || offTick(high[i]!) || offTick(low[i]!) || offTick(close[i]!))) f |= FLAGS.off_tick;
    if (jumps.push(close[i]!)) f |= FLAGS.price_jump;
    const t = ts[i]!;
    const inSession = opts.daily ? cal.tradingDay(t) === t : cal.isOpen(t);
    if (!inSession) f |= FLAGS.outside_session;
    flags[k] = f;
  }
  return { order, flags, quarantined, identity: sorted && m === n };
}

export function flagCounts(flags: Uint8Array, into: Record<string, number>): number {
  let flagged = 0;
  for (let k = 0; k < flags.length; k++) {
    const f = flags[k]!;
    if (f === 0) continue;
    flagged++;
    for (const name of FLAG_NAMES) if (f & FLAGS[name]) into[name] = (into[name] ?? 0) + 1;
  }
  return flagged;
}
