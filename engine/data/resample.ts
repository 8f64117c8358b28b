/**
 * Resampling bars to a larger timeframe along a trading calendar. Pure: no I/O.
 */
import { DAY_MS, sessionAtOrAfter, type Session, type TradingCalendar } from "./calendar";
import { TIMEFRAME_MS, emptyBars, type BarColumns, type Timeframe } from "./types";

/**
 * Aggregates `src` (bars of srcTimeframe, sorted by start time) into bars of `to`.
 *
 * - Intraday targets: buckets are anchored at each session's start and step by
 *   the target size; the last bucket of a session is cut at the session end
 *   (CME 4h: 17:00, 21:00, 01:00, 05:00, 09:00, 13:00-16:00 Chicago time).
 * - A source bar outside every session goes to its own bucket starting at its
 *   start floored to the target size in UTC, but never before the end of the
 *   preceding session (so such a bucket never starts inside a session and
 *   output stays strictly increasing); it never joins a session bucket.
 * - "1d": one bar per cal.tradingDay, ts = the label (00:00 UTC of the day the
 *   session ends). Bars in breaks and weekends go to the NEXT trading day, as
 *   tradingDay says. A "1d" source is taken as already labelled.
 * - open = first open, high = max, low = min, close = last close, volume = sum;
 *   ts = bucket start. Buckets without source bars produce no bar.
 *
 * O(n + sessions spanned): sessions are walked forward, never looked up per bar.
 * The returned arrays may be longer than `length` (see BarColumns).
 * Throws if `to` is smaller than, or not a whole multiple of, srcTimeframe, or
 * if src is not sorted by ts (or has non-finite ts).
 */
export function resample(src: BarColumns, srcTimeframe: Timeframe, to: Timeframe, cal: TradingCalendar): BarColumns {
  const srcMs = TIMEFRAME_MS[srcTimeframe] as number | undefined;
  const toMs = TIMEFRAME_MS[to] as number | undefined;
  if (srcMs === undefined) throw new Error(`resample: unknown source timeframe "${String(srcTimeframe)}"`);
  if (toMs === undefined) throw new Error(`resample: unknown target timeframe "${String(to)}"`);
  if (toMs < srcMs) throw new Error(`resample: target timeframe ${to} is smaller than source timeframe ${srcTimeframe}`);
  if (toMs % srcMs !== 0) throw new Error(`resample: target timeframe ${to} is not a whole multiple of source timeframe ${srcTimeframe}`);

  const n = Math.min(src.length, src.ts.length);
  if (n === 0) return emptyBars(0);

  const sTs = src.ts;
  const sO = src.open;
  const sH = src.high;
  const sL = src.low;
  const sC = src.close;
  const sV = src.volume;

  let cap = Math.min(n, Math.ceil(((n * srcMs) / toMs) * 1.25) + 64);
  let out = emptyBars(cap);
  let oTs = out.ts;
  let oO = out.open;
  let oH = out.high;
  let oL = out.low;
  let oC = out.close;
  let oV = out.volume;
  const daily = to === "1d";
  const srcDaily = srcTimeframe === "1d";

  // The current session: the first one ending after the current bar (contains
  // it, or is the next to open). prevEnd: end of the session before it.
  let cur: Session | undefined = srcDaily ? undefined : sessionAtOrAfter(cal, sTs[0]!);
  let curStart = cur ? cur.start : Infinity;
  let curEnd = cur ? cur.end : Infinity;
  let prevEnd = -Infinity;

  let m = -1; // index of the bar being built
  let bStart = NaN; // its bucket start
  let bIn = false; // whether it is a session bucket
  let prevT = -Infinity;

  for (let i = 0; i < n; i++) {
    const t = sTs[i]!;
    if (!(t >= prevT) || t === Infinity) throw new Error(`resample: src.ts must be finite and sorted ascending (index ${i})`);
    prevT = t;

    let b: number;
    let inS: boolean;
    if (srcDaily) {
      b = Math.floor(t / DAY_MS) * DAY_MS;
      inS = true;
    } else {
      while (t >= curEnd) {
        prevEnd = curEnd;
        cur = sessionAtOrAfter(cal, curEnd);
        curStart = cur ? cur.start : Infinity;
        curEnd = cur ? cur.end : Infinity;
      }
      if (daily) {
        b = cur ? cur.day : Math.floor(t / DAY_MS) * DAY_MS;
        inS = true;
      } else if (t >= curStart) {
        b = curStart + Math.floor((t - curStart) / toMs) * toMs;
        inS = true;
      } else {
        b = Math.floor(t / toMs) * toMs;
        if (b < prevEnd) b = prevEnd;
        inS = false;
      }
    }

    if (b === bStart && inS === bIn) {
      const h = sH[i]!;
      const l = sL[i]!;
      if (h > oH[m]!) oH[m] = h;
      if (l < oL[m]!) oL[m] = l;
      oC[m] = sC[i]!;
      oV[m] = oV[m]! + sV[i]!;
    } else {
      m++;
      if (m >= cap) {
        cap = Math.min(n, cap * 2);
        out = grown(out, cap);
        oTs = out.ts;
        oO = out.open;
        oH = out.high;
        oL = out.low;
        oC = out.close;
        oV = out.volume;
      }
      bStart = b;
      bIn = inS;
      oTs[m] = b;
      oO[m] = sO[i]!;
      oH[m] = sH[i]!;
      oL[m] = sL[i]!;
      oC[m] = sC[i]!;
      oV[m] = sV[i]!;
    }
  }
  out.length = m + 1;
  return out;
}

function grown(c: BarColumns, capacity: number): BarColumns {
  const next = emptyBars(capacity);
  next.ts.set(c.ts);
  next.open.set(c.open);
  next.high.set(c.high);
  next.low.set(c.low);
  next.close.set(c.close);
  next.volume.set(c.volume);
  return next;
}
