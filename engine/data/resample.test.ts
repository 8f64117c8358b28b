import { describe, expect, it } from "vitest";
import { calendarFor } from "./calendar";
import { resample } from "./resample";
import { emptyBars, type BarColumns, type Timeframe } from "./types";

const M = 60_000;
const H = 3_600_000;
const utc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);
const z = (t: number) => new Date(t).toISOString();

const cme = calendarFor("cme-globex");
const nyse = calendarFor("us-equity");
const crypto = calendarFor("24x7");

type Row = [ts: number, open: number, high: number, low: number, close: number, volume: number];

function cols(rows: Row[]): BarColumns {
  const c = emptyBars(rows.length);
  rows.forEach(([t, o, h, l, cl, v], i) => {
    c.ts[i] = t;
    c.open[i] = o;
    c.high[i] = h;
    c.low[i] = l;
    c.close[i] = cl;
    c.volume[i] = v;
  });
  c.length = rows.length;
  return c;
}

/** Output as rows with ISO times, for readable assertions. */
function rows(c: BarColumns): [string, number, number, number, number, number][] {
  const out: [string, number, number, number, number, number][] = [];
  for (let i = 0; i < c.length; i++) out.push([z(c.ts[i]!), c.open[i]!, c.high[i]!, c.low[i]!, c.close[i]!, c.volume[i]!]);
  return out;
}

/** 1m bars every minute of [from, to); bar k (counting on from `k0`) is o=k, h=k+0.5, l=k-0.5, c=k+0.25, v=1. */
function minutes(ranges: [number, number][], k0 = 0): Row[] {
  const out: Row[] = [];
  let k = k0;
  for (const [from, to] of ranges) for (let t = from; t < to; t += M, k++) out.push([t, k, k + 0.5, k - 0.5, k + 0.25, 1]);
  return out;
}

describe("resample: fixtures", () => {
  it("1m -> 5m with known OHLCV (24x7, plain UTC alignment)", () => {
    const t = (mi: number) => utc(2024, 1, 1, 0, mi);
    const src = cols([
      [t(0), 10, 11, 9, 10.5, 1],
      [t(1), 10.5, 12, 10, 11, 2],
      [t(2), 11, 11.5, 8, 9, 3],
      [t(3), 9, 10, 9, 9.5, 4],
      [t(4), 9.5, 9.8, 9.2, 9.7, 5],
      [t(5), 9.7, 10, 9.6, 9.9, 6],
      [t(6), 9.9, 13, 9.9, 12, 7],
      [t(7), 12, 12, 11, 11.5, 8],
      [t(8), 11.5, 11.6, 7, 7.5, 9],
      [t(9), 7.5, 8, 7.4, 7.9, 10],
      [t(12), 8, 8.5, 7.9, 8.2, 11], // 00:10 and 00:11 missing: the 00:10 bar still exists, no bar at 00:15
    ]);
    expect(rows(resample(src, "1m", "5m", crypto))).toEqual([
      ["2024-01-01T00:00:00.000Z", 10, 12, 8, 9.7, 15],
      ["2024-01-01T00:05:00.000Z", 9.7, 13, 7, 7.9, 40],
      ["2024-01-01T00:10:00.000Z", 8, 8.5, 7.9, 8.2, 11],
    ]);
  });

  it("1m -> 1h across the CME daily break: nothing invented in the break", () => {
    // Tue 2024-01-09 15:00-15:59 CST and 17:00-17:59 CST (Wednesday's session)
    const src = cols(minutes([[utc(2024, 1, 9, 21), utc(2024, 1, 9, 22)], [utc(2024, 1, 9, 23), utc(2024, 1, 10, 0)]]));
    expect(rows(resample(src, "1m", "1h", cme))).toEqual([
      ["2024-01-09T21:00:00.000Z", 0, 59.5, -0.5, 59.25, 60],
      ["2024-01-09T23:00:00.000Z", 60, 119.5, 59.5, 119.25, 60],
    ]);
  });

  it("1m -> 1h on us-equity: anchored at 09:30, the last bucket cut at 16:00", () => {
    // Mon 2024-01-08, whole session 09:30-16:00 EST = 14:30Z-21:00Z, 390 bars
    const out = resample(cols(minutes([[utc(2024, 1, 8, 14, 30), utc(2024, 1, 8, 21)]])), "1m", "1h", nyse);
    expect(rows(out).map((r) => r[0].slice(11, 16))).toEqual(["14:30", "15:30", "16:30", "17:30", "18:30", "19:30", "20:30"]);
    expect(Array.from(out.volume.subarray(0, out.length))).toEqual([60, 60, 60, 60, 60, 60, 30]);
    expect(rows(out)[6]).toEqual(["2024-01-08T20:30:00.000Z", 360, 389.5, 359.5, 389.25, 30]);
  });

  it("1m -> 4h on CME anchors at 17:00 Chicago time; 13:00 bucket covers 13:00-16:00 (winter)", () => {
    // Monday 2024-01-08 session: Sun 17:00 CST (23:00Z) -> Mon 16:00 CST (22:00Z), 1380 bars
    const out = resample(cols(minutes([[utc(2024, 1, 7, 23), utc(2024, 1, 8, 22)]])), "1m", "4h", cme);
    expect(rows(out)).toEqual([
      ["2024-01-07T23:00:00.000Z", 0, 239.5, -0.5, 239.25, 240], // 17:00 CST
      ["2024-01-08T03:00:00.000Z", 240, 479.5, 239.5, 479.25, 240], // 21:00
      ["2024-01-08T07:00:00.000Z", 480, 719.5, 479.5, 719.25, 240], // 01:00
      ["2024-01-08T11:00:00.000Z", 720, 959.5, 719.5, 959.25, 240], // 05:00
      ["2024-01-08T15:00:00.000Z", 960, 1199.5, 959.5, 1199.25, 240], // 09:00
      ["2024-01-08T19:00:00.000Z", 1200, 1379.5, 1199.5, 1379.25, 180], // 13:00-16:00
    ]);
  });

  it("1m -> 4h on CME in summer anchors at 17:00 CDT = 22:00Z", () => {
    const out = resample(cols(minutes([[utc(2024, 7, 7, 22), utc(2024, 7, 8, 21)]])), "1m", "4h", cme);
    expect(rows(out).map((r) => [r[0], r[5]])).toEqual([
      ["2024-07-07T22:00:00.000Z", 240],
      ["2024-07-08T02:00:00.000Z", 240],
      ["2024-07-08T06:00:00.000Z", 240],
      ["2024-07-08T10:00:00.000Z", 240],
      ["2024-07-08T14:00:00.000Z", 240],
      ["2024-07-08T18:00:00.000Z", 180],
    ]);
  });

  it("1m -> 1d on CME: Sunday evening joins Monday, labelled Monday; break and weekend bars go to the next day", () => {
    const src = cols([
      [utc(2024, 1, 12, 21, 59), 5, 6, 4, 5.5, 2], // Fri 15:59 CST: Friday
      [utc(2024, 1, 13, 12), 7, 7, 7, 7, 1], // Saturday (closed): next trading day = Monday
      ...minutes([[utc(2024, 1, 14, 23), utc(2024, 1, 15, 0)]], 100), // Sun 17:00-17:59 CST: Monday, k = 100..159
      ...minutes([[utc(2024, 1, 15, 14), utc(2024, 1, 15, 14, 5)]], 200), // Mon morning, k = 200..204
      [utc(2024, 1, 15, 22, 30), 300, 301, 299, 300, 3], // Mon 16:30 CST, in the break: Tuesday
      [utc(2024, 1, 16, 0), 310, 320, 305, 315, 4], // Mon 18:00 CST: Tuesday
    ]);
    expect(rows(resample(src, "1m", "1d", cme))).toEqual([
      ["2024-01-12T00:00:00.000Z", 5, 6, 4, 5.5, 2],
      ["2024-01-15T00:00:00.000Z", 7, 204.5, 7, 204.25, 1 + 60 + 5],
      ["2024-01-16T00:00:00.000Z", 300, 320, 299, 315, 7],
    ]);
  });

  it("a DST week (2024-03-10): Sunday 17:00 CDT is 22:00Z and opens Monday's session", () => {
    const src = cols([
      ...minutes([[utc(2024, 3, 8, 21), utc(2024, 3, 8, 22)]]), // Fri 15:00-15:59 CST, k = 0..59
      [utc(2024, 3, 10, 21, 30), 50, 51, 49, 50, 9], // Sun 16:30 CDT: closed
      ...minutes([[utc(2024, 3, 10, 22), utc(2024, 3, 10, 22, 10)]], 60), // Sun 17:00-17:09 CDT, k = 60..69
    ]);
    expect(rows(resample(src, "1m", "4h", cme))).toEqual([
      ["2024-03-08T19:00:00.000Z", 0, 59.5, -0.5, 59.25, 60], // 13:00 CST bucket of Friday's session
      ["2024-03-10T20:00:00.000Z", 50, 51, 49, 50, 9], // outside: floored to 4h UTC
      ["2024-03-10T22:00:00.000Z", 60, 69.5, 59.5, 69.25, 10], // Monday's session opens 17:00 CDT
    ]);
    expect(rows(resample(src, "1m", "1h", cme)).map((r) => [r[0], r[5]])).toEqual([
      ["2024-03-08T21:00:00.000Z", 60],
      ["2024-03-10T21:00:00.000Z", 9],
      ["2024-03-10T22:00:00.000Z", 10],
    ]);
    expect(rows(resample(src, "1m", "1d", cme)).map((r) => [r[0], r[5]])).toEqual([
      ["2024-03-08T00:00:00.000Z", 60],
      ["2024-03-11T00:00:00.000Z", 19],
    ]);
  });

  it("24x7 1m -> 1d splits at UTC midnight and sums volume", () => {
    const src = cols([
      [utc(2024, 1, 1, 23, 58), 1, 2, 0.5, 1.5, 1],
      [utc(2024, 1, 1, 23, 59), 1.5, 3, 1, 2, 2],
      [utc(2024, 1, 2, 0, 0), 2, 2.5, 1.8, 2.2, 3],
      [utc(2024, 1, 2, 0, 1), 2.2, 2.4, 0.1, 0.2, 4],
    ]);
    expect(rows(resample(src, "1m", "1d", crypto))).toEqual([
      ["2024-01-01T00:00:00.000Z", 1, 3, 0.5, 2, 3],
      ["2024-01-02T00:00:00.000Z", 2, 2.5, 0.1, 0.2, 7],
    ]);
  });

  it("keeps bars outside sessions in their own buckets, never in a session bucket", () => {
    // us-equity Mon 2024-01-08, session 14:30Z-21:00Z
    const src = cols([
      [utc(2024, 1, 8, 14, 27), 1, 1, 1, 1, 1], // 09:27 EST pre-market
      [utc(2024, 1, 8, 14, 28), 2, 2, 2, 2, 1],
      ...minutes([[utc(2024, 1, 8, 14, 30), utc(2024, 1, 8, 14, 37)]], 10), // k = 10..16
      [utc(2024, 1, 8, 21, 0), 3, 3, 3, 3, 1], // 16:00 post-market
      [utc(2024, 1, 8, 21, 7), 4, 4, 4, 4, 1],
    ]);
    const out = resample(src, "1m", "5m", nyse);
    expect(rows(out)).toEqual([
      ["2024-01-08T14:25:00.000Z", 1, 2, 1, 2, 2],
      ["2024-01-08T14:30:00.000Z", 10, 14.5, 9.5, 14.25, 5],
      ["2024-01-08T14:35:00.000Z", 15, 16.5, 14.5, 16.25, 2],
      ["2024-01-08T21:00:00.000Z", 3, 3, 3, 3, 1],
      ["2024-01-08T21:05:00.000Z", 4, 4, 4, 4, 1],
    ]);
    let total = 0;
    for (let i = 0; i < out.length; i++) total += out.volume[i]!;
    expect(total).toBe(src.length);
  });

  it("an outside bucket never starts before the end of the preceding session", () => {
    const src = cols([
      ...minutes([[utc(2024, 1, 8, 14, 30), utc(2024, 1, 8, 14, 32)]]),
      [utc(2024, 1, 8, 21, 10), 5, 5, 5, 5, 1], // 16:10 EST: 4h UTC floor is 20:00Z, inside the session -> 21:00Z
      [utc(2024, 1, 9, 14, 0), 6, 6, 6, 6, 1], // next morning pre-market: 12:00Z
    ]);
    expect(rows(resample(src, "1m", "4h", nyse)).map((r) => r[0])).toEqual(["2024-01-08T14:30:00.000Z", "2024-01-08T21:00:00.000Z", "2024-01-09T12:00:00.000Z"]);
    // a CME break bar stays alone between the 15:00 and 17:00 buckets
    const brk = cols([
      [utc(2024, 1, 9, 21, 59), 1, 1, 1, 1, 1],
      [utc(2024, 1, 9, 22, 30), 2, 2, 2, 2, 1],
      [utc(2024, 1, 9, 23, 0), 3, 3, 3, 3, 1],
    ]);
    expect(rows(resample(brk, "1m", "1h", cme))).toEqual([
      ["2024-01-09T21:00:00.000Z", 1, 1, 1, 1, 1],
      ["2024-01-09T22:00:00.000Z", 2, 2, 2, 2, 1],
      ["2024-01-09T23:00:00.000Z", 3, 3, 3, 3, 1],
    ]);
  });

  it("accepts larger sources and 1d -> 1d", () => {
    const src = cols(minutes([[utc(2024, 1, 7, 23), utc(2024, 1, 8, 22)]]));
    const h1 = resample(src, "1m", "1h", cme);
    expect(h1.length).toBe(23);
    expect(rows(resample(h1, "1h", "4h", cme))).toEqual(rows(resample(src, "1m", "4h", cme)));
    const d1 = resample(h1, "1h", "1d", cme);
    expect(rows(d1)).toEqual([["2024-01-08T00:00:00.000Z", 0, 1379.5, -0.5, 1379.25, 1380]]);
    expect(rows(resample(d1, "1d", "1d", cme))).toEqual(rows(d1));
    expect(resample(emptyBars(0), "1m", "5m", cme).length).toBe(0);
  });

  it("rejects a smaller or unknown target and unsorted input", () => {
    const src = cols(minutes([[utc(2024, 1, 8, 14, 30), utc(2024, 1, 8, 14, 40)]]));
    expect(() => resample(src, "5m", "1m", cme)).toThrow(/target timeframe 1m is smaller than source timeframe 5m/);
    expect(() => resample(src, "1h", "15m", cme)).toThrow(/smaller/);
    expect(() => resample(src, "1m", "7m" as Timeframe, cme)).toThrow(/unknown target timeframe "7m"/);
    const bad = cols([[utc(2024, 1, 8, 15), 1, 1, 1, 1, 1], [utc(2024, 1, 8, 14), 1, 1, 1, 1, 1]]);
    expect(() => resample(bad, "1m", "5m", cme)).toThrow(/sorted/);
  });
});

// ---------------------------------------------------------------------------
// Randomized check against a naive reference that does not use calendar.ts

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const clocks = new Map<string, Intl.DateTimeFormat>();
/** Local weekday (0 = Sunday) and minute of day, straight from Intl. */
function localClock(t: number, timeZone: string): { wd: number; min: number } {
  let f = clocks.get(timeZone);
  if (!f) clocks.set(timeZone, (f = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", hour: "numeric", minute: "numeric", hourCycle: "h23" })));
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, x.value]));
  return { wd: WEEKDAYS.indexOf(p.weekday!), min: Number(p.hour) * 60 + Number(p.minute) };
}

/** Start (UTC ms) of the session containing minute-aligned t, from local wall-clock rules; null when closed. */
function naiveSessionStart(t: number, cal: "cme-globex" | "us-equity"): number | null {
  if (cal === "cme-globex") {
    const { wd, min } = localClock(t, "America/Chicago");
    const closed = wd === 6 || (wd === 0 && min < 1020) || (wd === 5 && min >= 960) || (min >= 960 && min < 1020);
    if (closed) return null;
    return t - (min >= 1020 ? min - 1020 : min + 420) * M; // no DST switch happens inside a session
  }
  const { wd, min } = localClock(t, "America/New_York");
  if (wd === 0 || wd === 6 || min < 570 || min >= 960) return null;
  return t - (min - 570) * M;
}

function naiveResample(src: Row[], toMs: number, cal: "cme-globex" | "us-equity"): [string, number, number, number, number, number][] {
  const out: { key: string; ts: number; o: number; h: number; l: number; c: number; v: number }[] = [];
  for (const [t, o, h, l, c, v] of src) {
    const s = naiveSessionStart(t, cal);
    const ts = s === null ? Math.floor(t / toMs) * toMs : s + Math.floor((t - s) / toMs) * toMs;
    const key = `${s === null ? "out" : "in"}:${ts}`;
    const last = out[out.length - 1];
    if (last && last.key === key) {
      last.h = Math.max(last.h, h);
      last.l = Math.min(last.l, l);
      last.c = c;
      last.v += v;
    } else out.push({ key, ts, o, h, l, c, v });
  }
  return out.map((b) => [z(b.ts), b.o, b.h, b.l, b.c, b.v]);
}

function randomMinutes(seed: number, from: number, to: number, cal: "cme-globex" | "us-equity"): Row[] {
  const rnd = mulberry32(seed);
  const out: Row[] = [];
  let p = 100;
  for (let t = from; t < to; t += M) {
    const open = naiveSessionStart(t, cal) !== null;
    if (rnd() >= (open ? 0.7 : 0.03)) continue; // holes in sessions, a few stray bars when closed
    const o = p;
    p = Math.round((p + (rnd() - 0.5) * 2) * 100) / 100;
    const h = Math.max(o, p) + Math.round(rnd() * 100) / 100;
    const l = Math.min(o, p) - Math.round(rnd() * 100) / 100;
    out.push([t, o, h, l, p, 1 + Math.floor(rnd() * 50)]);
  }
  return out;
}

describe("resample: randomized against a naive reference", () => {
  // 2024-03-04 .. 2024-03-16 spans the US spring-forward weekend
  const from = utc(2024, 3, 4);
  const to = utc(2024, 3, 16);

  it.each([
    ["cme-globex", "5m", 1],
    ["cme-globex", "15m", 2],
    ["cme-globex", "1h", 3],
    ["us-equity", "5m", 4],
    ["us-equity", "1h", 5],
  ] as const)("%s 1m -> %s (seed %i)", (id, tf, seed) => {
    const src = randomMinutes(seed, from, to, id);
    expect(src.length).toBeGreaterThan(2000);
    const toMs = { "5m": 5 * M, "15m": 15 * M, "1h": H }[tf];
    const got = rows(resample(cols(src), "1m", tf, calendarFor(id)));
    expect(got).toEqual(naiveResample(src, toMs, id));
  });
});
