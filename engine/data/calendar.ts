/**
 * Trading calendars: when a market is open, which trading day an instant belongs
 * to, and where the expected-but-missing bars of a series are. Pure: no I/O.
 *
 * Times are UTC epoch ms. Local exchange hours are turned into UTC with Intl only
 * (no date library). Intl is slow, so every session is computed once per label
 * day and cached; lookups for a bar are then a few Map hits, never an Intl call.
 *
 * Exchange HOLIDAYS ARE NOT MODELLED (Christmas, Thanksgiving, early closes...):
 * every weekday session exists. Weekends and daily breaks are modelled.
 */
import type { CalendarId } from "./types";

export const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** A trading session: [start, end) in UTC ms; day = label, 00:00 UTC of the label date. */
export interface Session {
  start: number;
  end: number;
  day: number;
}

export interface TradingCalendar {
  id: CalendarId;
  timeZone: string;
  /** The instant ts lies inside a session. */
  isOpen(ts: number): boolean;
  /** Label of the session containing ts; for ts outside any session, the label of the NEXT session. */
  tradingDay(ts: number): number;
  /** The session containing ts. */
  sessionOf(ts: number): Session | undefined;
  /** Sessions intersecting [from, to), in order. */
  sessions(from: number, to: number): Session[];
}

// ---------------------------------------------------------------------------
// Time zones (Intl only)

export { tzOffset } from "./tz";
import { tzOffset } from "./tz";

/**
 * The UTC instant at which the wall clock of `timeZone` shows `wall` (a local
 * date-time written as if it were UTC ms). Ambiguous times (autumn fall-back)
 * resolve to the earlier instant; non-existent times (spring-forward gap)
 * resolve to the instant the clock jumps past them (02:30 -> 03:30 new time).
 */
export function localToUtc(timeZone: string, wall: number): number {
  const o1 = tzOffset(timeZone, wall);
  const u1 = wall - o1;
  const o2 = tzOffset(timeZone, u1);
  if (o2 === o1) return u1;
  const u2 = wall - o2;
  const o3 = tzOffset(timeZone, u2);
  if (o3 === o2) return u2;
  return Math.max(u1, u2);
}

// ---------------------------------------------------------------------------
// Calendars built from a daily pattern of local hours

interface DailySpec {
  id: CalendarId;
  timeZone: string;
  /** Weekdays (0 = Sunday, UTC weekday of the label date) that have a session. */
  labelWeekdays: readonly number[];
  /** Session opens on label date + startDayOffset days at startMin local minutes... */
  startDayOffset: number;
  startMin: number;
  /** ...and closes on the label date at endMin local minutes (1440 = next midnight). */
  endMin: number;
}

/** Longest run of label days without a session that lookups will skip over. */
const MAX_CLOSED_DAYS = 16;
/** Bound on cached sessions per calendar (about 270 years of days). */
const MAX_CACHE = 100_000;

class DailyCalendar implements TradingCalendar {
  readonly id: CalendarId;
  readonly timeZone: string;
  private readonly open: boolean[];
  private readonly cache = new Map<number, Session | null>();

  constructor(private readonly spec: DailySpec) {
    this.id = spec.id;
    this.timeZone = spec.timeZone;
    this.open = [0, 1, 2, 3, 4, 5, 6].map((w) => spec.labelWeekdays.includes(w));
  }

  /** Session labelled with day index d (days since 1970-01-01), or null if none. Cached. */
  sessionForDay(d: number): Session | null {
    const hit = this.cache.get(d);
    if (hit !== undefined) return hit;
    let s: Session | null = null;
    const weekday = (((d + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    if (this.open[weekday]) {
      const { timeZone, startDayOffset, startMin, endMin } = this.spec;
      const start = localToUtc(timeZone, (d + startDayOffset) * DAY_MS + startMin * MINUTE_MS);
      const end = localToUtc(timeZone, d * DAY_MS + endMin * MINUTE_MS);
      if (end > start) s = Object.freeze({ start, end, day: d * DAY_MS });
    }
    if (this.cache.size >= MAX_CACHE) this.cache.clear();
    this.cache.set(d, s);
    return s;
  }

  /** The first session whose end is after ts: the one containing ts, else the next to open. */
  sessionAtOrAfter(ts: number): Session | undefined {
    // Memo for sorted scans: the last answer holds for every ts in [memoLo, memo.end).
    const memo = this.memo;
    if (memo !== undefined && ts >= this.memoLo && ts < memo.end) return memo;
    const found = this.findAtOrAfter(ts);
    if (found) {
      this.memo = found;
      this.memoLo = Math.min(ts, found.start);
    }
    return found;
  }

  private memo: Session | undefined;
  private memoLo = Infinity;

  private findAtOrAfter(ts: number): Session | undefined {
    if (!Number.isFinite(ts)) return undefined;
    // A session closes at most 36 h after 00:00 UTC of its label (endMin <= 24 h,
    // UTC offset >= -12 h), so every label before d0 has ended by ts.
    const d0 = Math.floor(ts / DAY_MS) - 2;
    for (let d = d0; d < d0 + 3 + MAX_CLOSED_DAYS; d++) {
      const s = this.sessionForDay(d);
      if (s && s.end > ts) return s;
    }
    return undefined;
  }

  isOpen(ts: number): boolean {
    const s = this.sessionAtOrAfter(ts);
    return s !== undefined && s.start <= ts;
  }

  tradingDay(ts: number): number {
    const s = this.sessionAtOrAfter(ts);
    if (!s) throw new Error(`${this.id}: no trading session found at or after ${ts}`);
    return s.day;
  }

  sessionOf(ts: number): Session | undefined {
    const s = this.sessionAtOrAfter(ts);
    return s && s.start <= ts ? s : undefined;
  }

  sessions(from: number, to: number): Session[] {
    if (!Number.isFinite(from) || !Number.isFinite(to)) throw new RangeError(`${this.id}: sessions(${from}, ${to}) needs finite bounds`);
    const out: Session[] = [];
    if (!(to > from)) return out;
    const first = this.sessionAtOrAfter(from);
    if (!first) return out;
    let closedRun = 0;
    for (let d = first.day / DAY_MS; closedRun <= MAX_CLOSED_DAYS; d++) {
      const s = this.sessionForDay(d);
      if (!s) {
        closedRun++;
        continue;
      }
      if (s.start >= to) break;
      closedRun = 0;
      out.push(s);
    }
    return out;
  }
}

const SPECS: Record<CalendarId, DailySpec> = {
  // CME Globex equity-index / FX futures: Sunday 17:00 to Friday 16:00 Chicago time,
  // daily break 16:00-17:00 Monday to Thursday. A session runs 17:00 of the previous
  // calendar day to 16:00 and is labelled with the day it ends (Monday to Friday).
  "cme-globex": { id: "cme-globex", timeZone: "America/Chicago", labelWeekdays: [1, 2, 3, 4, 5], startDayOffset: -1, startMin: 17 * 60, endMin: 16 * 60 },
  // Crypto and the like: UTC calendar days, every day.
  "24x7": { id: "24x7", timeZone: "UTC", labelWeekdays: [0, 1, 2, 3, 4, 5, 6], startDayOffset: 0, startMin: 0, endMin: 24 * 60 },
  // NYSE regular trading hours, no pre/post market.
  "us-equity": { id: "us-equity", timeZone: "America/New_York", labelWeekdays: [1, 2, 3, 4, 5], startDayOffset: 0, startMin: 9 * 60 + 30, endMin: 16 * 60 },
};

const instances = new Map<CalendarId, DailyCalendar>();

/** The calendar for an id. Instances are shared, so their session caches are too. */
export function calendarFor(id: CalendarId): TradingCalendar {
  let cal = instances.get(id);
  if (!cal) {
    const spec = SPECS[id] as DailySpec | undefined;
    if (!spec) throw new Error(`unknown trading calendar: ${String(id)}`);
    cal = new DailyCalendar(spec);
    instances.set(id, cal);
  }
  return cal;
}

/**
 * The session containing ts, else the next one to open (the first session whose
 * end is after ts); undefined if none within about a year. Fast for built-in
 * calendars; other TradingCalendar implementations go through sessions().
 */
export function sessionAtOrAfter(cal: TradingCalendar, ts: number): Session | undefined {
  if (cal instanceof DailyCalendar) return cal.sessionAtOrAfter(ts);
  if (!Number.isFinite(ts)) return undefined;
  for (let w = 8 * DAY_MS; w <= 512 * DAY_MS; w *= 4) {
    const s = cal.sessions(ts, ts + w)[0];
    if (s) return s;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Gaps

/** [from, to) in UTC ms covering expected-but-absent bar starts; missingBars of them. */
export interface Gap {
  from: number;
  to: number;
  missingBars: number;
}

/**
 * Runs of expected bar starts that are missing while the calendar is open,
 * between the first and the last bar of a sorted series of bar START times.
 *
 * Intraday (stepMs < 1 day): each session is cut into slots [start + k*step,
 * start + (k+1)*step) (the last one cut at the session end); a slot is present
 * when some bar starts inside it (so bars off the session grid still count).
 * A gap never contains closed time: a hole that runs into a break or a weekend
 * is reported as one gap per session, but holes in back-to-back sessions (24x7
 * midnight) are merged. Bars outside any session are ignored.
 *
 * Daily (stepMs >= 1 day, ts = label date 00:00 UTC): one bar expected per
 * trading-day label; consecutive missing labels form one gap [first missing
 * label, last missing label + 1 day) (it may span a weekend; missingBars counts
 * only trading days).
 *
 * At most maxGaps gaps are returned; each returned gap is complete.
 */
export function findGaps(ts: Float64Array, length: number, stepMs: number, cal: TradingCalendar, maxGaps = 1000): Gap[] {
  if (!(stepMs > 0) || !Number.isFinite(stepMs)) throw new RangeError(`findGaps: stepMs must be a positive number, got ${stepMs}`);
  const n = Math.min(length, ts.length);
  const gaps: Gap[] = [];
  if (n < 2 || !(maxGaps >= 1)) return gaps;
  const first = ts[0]!;
  const last = ts[n - 1]!;
  if (!Number.isFinite(first) || !Number.isFinite(last) || last <= first) return gaps;

  /** Adds a gap, merging with a gap that ends where it starts. False when the cap is hit. */
  const add = (from: number, to: number, missing: number): boolean => {
    const prev = gaps[gaps.length - 1];
    if (prev && prev.to === from) {
      prev.to = to;
      prev.missingBars += missing;
      return true;
    }
    if (gaps.length >= maxGaps) return false;
    gaps.push({ from, to, missingBars: missing });
    return true;
  };

  if (stepMs >= DAY_MS) {
    const firstDay = Math.floor(first / DAY_MS) * DAY_MS;
    const lastDay = Math.floor(last / DAY_MS) * DAY_MS;
    let i = 0;
    let runFrom = NaN;
    let runTo = NaN;
    let runCount = 0;
    for (const s of cal.sessions(firstDay - 3 * DAY_MS, lastDay + 3 * DAY_MS)) {
      const label = s.day;
      if (label < firstDay || label > lastDay) continue;
      while (i < n && Math.floor(ts[i]! / DAY_MS) * DAY_MS < label) i++;
      const present = i < n && Math.floor(ts[i]! / DAY_MS) * DAY_MS === label;
      if (!present) {
        if (runCount === 0) runFrom = label;
        runTo = label + DAY_MS;
        runCount++;
      } else if (runCount > 0) {
        if (!add(runFrom, runTo, runCount)) return gaps;
        runCount = 0;
      }
    }
    if (runCount > 0) add(runFrom, runTo, runCount);
    return gaps;
  }

  let i = 0;
  for (const s of cal.sessions(first, last + 1)) {
    const slots = Math.ceil((s.end - s.start) / stepMs);
    const kLo = first > s.start ? Math.floor((first - s.start) / stepMs) : 0;
    const kHi = last < s.end ? Math.floor((last - s.start) / stepMs) : slots - 1;
    const emit = (a: number, b: number): boolean =>
      add(s.start + a * stepMs, Math.min(s.start + (b + 1) * stepMs, s.end), b - a + 1);
    while (i < n && ts[i]! < s.start) i++;
    let expect = kLo; // first slot not yet seen
    for (; i < n; i++) {
      const t = ts[i]!;
      if (t >= s.end) break;
      const k = Math.floor((t - s.start) / stepMs);
      if (k > expect && expect <= kHi && !emit(expect, Math.min(k - 1, kHi))) return gaps;
      if (k >= expect) expect = k + 1;
    }
    if (expect <= kHi && !emit(expect, kHi)) return gaps;
  }
  return gaps;
}
