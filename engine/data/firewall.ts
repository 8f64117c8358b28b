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
  /**
   * Compute the flags (zero volume, off tick, jump, outside session); default
   * true. Consumers that never show them (a backtest reading a file) skip the
   * work: what is accepted or quarantined does not depend on flags.
   */
  flags?: boolean;
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
    this.med = medianInPlace(xs);
    for (let i = 0; i < n; i++) xs[i] = Math.abs(xs[i]! - this.med);
    // A floor keeps perfectly flat stretches from flagging the first tick of movement.
    this.scale = Math.max(1.4826 * medianInPlace(xs), 1e-6);
    this.sinceRefresh = 0;
  }
}

/** k-th smallest of a[lo..hi] (inclusive), partially reordering a (Hoare quickselect, median-of-3 pivot). */
function selectKth(a: Float64Array, k: number, lo: number, hi: number): number {
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    const x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Median of xs in expected O(n); reorders xs. The same value sorting would give. */
export function medianInPlace(xs: Float64Array): number {
  const n = xs.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  const upper = selectKth(xs, mid, 0, n - 1);
  if (n % 2 === 1) return upper;
  // after selection every element left of mid is <= upper: the lower middle is their maximum
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if (xs[i]! > lower) lower = xs[i]!;
  return (lower + upper) / 2;
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
  const quarantined: QuarantinedRow[] = [];
  const ok = new Int32Array(n);
  // Each pass is its own function: one hot loop per function keeps V8's
  // on-stack replacement from deoptimising on code the loop has not reached.
  const m = validateRows(bars, opts.nowMs, ok, quarantined, lines, raw);
  const ts = bars.ts;
  let sorted = true;
  for (let k = 1; k < m; k++) {
    if (ts[ok[k]!]! < ts[ok[k - 1]!]!) {
      sorted = false;
      break;
    }
  }
  let order = ok.subarray(0, m);
  // Stable sort of accepted rows by time.
  if (!sorted) order = Int32Array.from(Array.from(order).sort((a, b) => ts[a]! - ts[b]! || a - b));
  const flags = opts.flags === false ? new Uint8Array(order.length) : flagRows(bars, order, opts, jumps);
  return { order, flags, quarantined, identity: sorted && m === n };
}

function validateRows(bars: BarColumns, nowMs: number, ok: Int32Array, quarantined: QuarantinedRow[], lines: Int32Array, raw: (i: number) => string): number {
  const n = bars.length;
  const { ts, open, high, low, close, volume } = bars;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const o = open[i]!;
    const h = high[i]!;
    const l = low[i]!;
    const c = close[i]!;
    const v = volume[i]!;
    const t = ts[i]!;
    // all finite, positive, consistent: the common case, one branch
    if (o > 0 && h < Infinity && l > 0 && h >= l && o >= l && o <= h && c >= l && c <= h && v >= 0 && v < Infinity && !(t > nowMs)) {
      ok[m++] = i;
      continue;
    }
    const [reason, detail] = rejectReason(o, h, l, c, v, t, nowMs);
    quarantined.push({ line: lines[i]!, raw: raw(i), reason, detail });
  }
  return m;
}

function rejectReason(o: number, h: number, l: number, c: number, v: number, t: number, nowMs: number): [QuarantineReason, string] {
  if (!Number.isFinite(o) || !Number.isFinite(h) || !Number.isFinite(l) || !Number.isFinite(c)) return ["non_finite_price", `prices must be finite numbers: open=${o} high=${h} low=${l} close=${c}`];
  if (!(o > 0 && h > 0 && l > 0 && c > 0)) return ["non_positive_price", `prices must be positive: open=${o} high=${h} low=${l} close=${c}`];
  if (h < l) return ["high_below_low", `high ${h} is below low ${l}`];
  if (o < l || o > h) return ["open_outside_range", `open ${o} is outside [low ${l}, high ${h}]`];
  if (c < l || c > h) return ["close_outside_range", `close ${c} is outside [low ${l}, high ${h}]`];
  if (!Number.isFinite(v) || v < 0) return ["negative_volume", `volume must be zero or more, got ${v}`];
  return ["future_timestamp", `timestamp ${new Date(t).toISOString()} is in the future`];
}

function flagRows(bars: BarColumns, order: Int32Array, opts: FirewallOptions, jumps: JumpDetector): Uint8Array {
  const { ts, open, high, low, close, volume } = bars;
  const flags = new Uint8Array(order.length);
  const inv = opts.tickSize > 0 ? 1 / opts.tickSize : 0;
  const cal = opts.calendar;
  const daily = opts.daily;
  // memo of the last open session [sStart, sEnd): most bars fall inside it
  let sStart = Infinity;
  let sEnd = -Infinity;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    let f = 0;
    if (volume[i] === 0) f |= FLAGS.zero_volume;
    if (inv > 0) {
      const q1 = open[i]! * inv, q2 = high[i]! * inv, q3 = low[i]! * inv, q4 = close[i]! * inv;
      if (Math.abs(q1 - Math.round(q1)) > 1e-6 || Math.abs(q2 - Math.round(q2)) > 1e-6 || Math.abs(q3 - Math.round(q3)) > 1e-6 || Math.abs(q4 - Math.round(q4)) > 1e-6) f |= FLAGS.off_tick;
    }
    if (jumps.push(close[i]!)) f |= FLAGS.price_jump;
    const t = ts[i]!;
    let inSession: boolean;
    if (daily) inSession = cal.tradingDay(t) === t;
    else if (t >= sStart && t < sEnd) inSession = true;
    else {
      const s = cal.sessionOf(t);
      inSession = s !== undefined;
      if (s) {
        sStart = s.start;
        sEnd = s.end;
      }
    }
    if (!inSession) f |= FLAGS.outside_session;
    flags[k] = f;
  }
  return flags;
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
