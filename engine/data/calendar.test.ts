import { describe, expect, it } from "vitest";
import { calendarFor, findGaps, localToUtc, sessionAtOrAfter, tzOffset, type Session, type TradingCalendar } from "./calendar";

const H = 3_600_000;
const M = 60_000;
const D = 86_400_000;
const utc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);
const day = (y: number, mo: number, d: number) => Date.UTC(y, mo - 1, d);
const iso = (s: Session | undefined) => s && { start: new Date(s.start).toISOString(), end: new Date(s.end).toISOString(), day: new Date(s.day).toISOString().slice(0, 10) };

const cme = calendarFor("cme-globex");
const nyse = calendarFor("us-equity");
const crypto = calendarFor("24x7");

describe("time zone helpers", () => {
  it("reads Chicago offsets in winter and summer", () => {
    expect(tzOffset("America/Chicago", utc(2024, 1, 8, 12))).toBe(-6 * H);
    expect(tzOffset("America/Chicago", utc(2024, 7, 8, 12))).toBe(-5 * H);
    expect(tzOffset("UTC", utc(2024, 7, 8, 12))).toBe(0);
  });

  it("maps wall clock to UTC, including the DST edges", () => {
    expect(localToUtc("America/Chicago", utc(2024, 1, 8, 17))).toBe(utc(2024, 1, 8, 23));
    expect(localToUtc("America/Chicago", utc(2024, 7, 8, 17))).toBe(utc(2024, 7, 8, 22));
    // 2024-03-10 02:30 does not exist in Chicago: resolves to 03:30 CDT = 08:30Z
    expect(localToUtc("America/Chicago", utc(2024, 3, 10, 2, 30))).toBe(utc(2024, 3, 10, 8, 30));
    // 2024-11-03 01:30 happens twice: the earlier one (CDT) = 06:30Z
    expect(localToUtc("America/Chicago", utc(2024, 11, 3, 1, 30))).toBe(utc(2024, 11, 3, 6, 30));
  });
});

describe("cme-globex calendar", () => {
  it("is shared per id and names its zone", () => {
    expect(calendarFor("cme-globex")).toBe(cme);
    expect(cme.id).toBe("cme-globex");
    expect(cme.timeZone).toBe("America/Chicago");
  });

  it("winter session: Sunday 17:00 CST (23:00Z) to Monday 16:00 CST (22:00Z), labelled Monday", () => {
    const s = cme.sessionOf(utc(2024, 1, 8, 12));
    expect(iso(s)).toEqual({ start: "2024-01-07T23:00:00.000Z", end: "2024-01-08T22:00:00.000Z", day: "2024-01-08" });
  });

  it("summer session: Sunday 17:00 CDT (22:00Z) to Monday 16:00 CDT (21:00Z)", () => {
    const s = cme.sessionOf(utc(2024, 7, 8, 12));
    expect(iso(s)).toEqual({ start: "2024-07-07T22:00:00.000Z", end: "2024-07-08T21:00:00.000Z", day: "2024-07-08" });
  });

  it("the Sunday evening open belongs to Monday's trading day", () => {
    expect(cme.isOpen(utc(2024, 1, 7, 22, 59))).toBe(false); // Sunday 16:59 CST
    expect(cme.isOpen(utc(2024, 1, 7, 23, 0))).toBe(true); // Sunday 17:00 CST
    expect(cme.tradingDay(utc(2024, 1, 7, 23, 0))).toBe(day(2024, 1, 8));
    expect(cme.sessionOf(utc(2024, 1, 7, 23, 30))?.day).toBe(day(2024, 1, 8));
  });

  it("closes Friday 16:00 and stays closed on Saturday", () => {
    // Friday 2024-01-12: Thursday 17:00 CST -> Friday 16:00 CST
    expect(iso(cme.sessionOf(utc(2024, 1, 12, 12)))).toEqual({ start: "2024-01-11T23:00:00.000Z", end: "2024-01-12T22:00:00.000Z", day: "2024-01-12" });
    expect(cme.isOpen(utc(2024, 1, 12, 21, 59))).toBe(true);
    expect(cme.isOpen(utc(2024, 1, 12, 22, 0))).toBe(false);
    expect(cme.isOpen(utc(2024, 1, 12, 23, 30))).toBe(false); // no Friday evening reopen
    expect(cme.isOpen(utc(2024, 1, 13, 12))).toBe(false); // Saturday
    expect(cme.sessionOf(utc(2024, 1, 13, 12))).toBeUndefined();
    expect(cme.isOpen(utc(2024, 1, 14, 12))).toBe(false); // Sunday morning
  });

  it("is closed in the daily break 16:00-17:00 Monday to Thursday", () => {
    expect(cme.isOpen(utc(2024, 1, 9, 21, 59))).toBe(true); // Tue 15:59 CST
    expect(cme.isOpen(utc(2024, 1, 9, 22, 0))).toBe(false); // Tue 16:00
    expect(cme.isOpen(utc(2024, 1, 9, 22, 59))).toBe(false);
    expect(cme.isOpen(utc(2024, 1, 9, 23, 0))).toBe(true); // Tue 17:00 -> Wednesday's session
    expect(cme.isOpen(utc(2024, 7, 9, 21, 30))).toBe(false); // Tue 16:30 CDT
    expect(cme.isOpen(utc(2024, 7, 9, 22, 0))).toBe(true); // Tue 17:00 CDT
  });

  it("tradingDay in the break or on the weekend is the next session's label", () => {
    expect(cme.tradingDay(utc(2024, 1, 9, 22, 30))).toBe(day(2024, 1, 10)); // Tue break -> Wed
    expect(cme.tradingDay(utc(2024, 1, 9, 23, 30))).toBe(day(2024, 1, 10)); // Tue evening -> Wed
    expect(cme.tradingDay(utc(2024, 1, 9, 12))).toBe(day(2024, 1, 9));
    expect(cme.tradingDay(utc(2024, 1, 12, 22, 0))).toBe(day(2024, 1, 15)); // Fri close -> Mon
    expect(cme.tradingDay(utc(2024, 1, 13, 12))).toBe(day(2024, 1, 15)); // Sat -> Mon
    expect(cme.tradingDay(utc(2024, 1, 14, 22, 59))).toBe(day(2024, 1, 15)); // Sun before open -> Mon
  });

  it("spring-forward week (2024-03-10): right UTC bounds on both sides, sessions stay 23 h, weekend 48 h", () => {
    const ss = cme.sessions(utc(2024, 3, 8), utc(2024, 3, 12));
    expect(ss.map(iso)).toEqual([
      { start: "2024-03-07T23:00:00.000Z", end: "2024-03-08T22:00:00.000Z", day: "2024-03-08" }, // Fri, CST
      { start: "2024-03-10T22:00:00.000Z", end: "2024-03-11T21:00:00.000Z", day: "2024-03-11" }, // Mon, CDT
      { start: "2024-03-11T22:00:00.000Z", end: "2024-03-12T21:00:00.000Z", day: "2024-03-12" },
    ]);
    expect(ss.map((s) => (s.end - s.start) / H)).toEqual([23, 23, 23]);
    expect((ss[1]!.start - ss[0]!.end) / H).toBe(48);
    expect(cme.isOpen(utc(2024, 3, 10, 22, 30))).toBe(true); // Sun 17:30 CDT (would be 16:30 in CST)
  });

  it("fall-back week (2024-11-03): right UTC bounds on both sides, weekend 50 h", () => {
    const ss = cme.sessions(utc(2024, 11, 1), utc(2024, 11, 5));
    expect(ss.map(iso)).toEqual([
      { start: "2024-10-31T22:00:00.000Z", end: "2024-11-01T21:00:00.000Z", day: "2024-11-01" }, // Fri, CDT
      { start: "2024-11-03T23:00:00.000Z", end: "2024-11-04T22:00:00.000Z", day: "2024-11-04" }, // Mon, CST
      { start: "2024-11-04T23:00:00.000Z", end: "2024-11-05T22:00:00.000Z", day: "2024-11-05" },
    ]);
    expect((ss[1]!.start - ss[0]!.end) / H).toBe(50);
    expect(cme.isOpen(utc(2024, 11, 3, 22, 30))).toBe(false); // Sun 16:30 CST
  });

  it("a whole year: 5 sessions a week, each 23 h, 1 h breaks, in order", () => {
    const ss = cme.sessions(utc(2024, 1, 1), utc(2024, 12, 31, 12));
    expect(ss.length).toBe(262); // weekdays in 2024 (no holidays modelled); the first starts 2023-12-31
    expect(ss[0]!.day).toBe(day(2024, 1, 1));
    expect(ss[261]!.day).toBe(day(2024, 12, 31));
    for (let i = 0; i < ss.length; i++) {
      const s = ss[i]!;
      expect(s.end - s.start).toBe(23 * H);
      const wd = new Date(s.day).getUTCDay();
      expect(wd >= 1 && wd <= 5).toBe(true);
      const prev = ss[i - 1];
      if (!prev) continue;
      expect(s.day - prev.day).toBe(wd === 1 ? 3 * D : D);
      if (wd === 1) expect([48 * H, 49 * H, 50 * H]).toContain(s.start - prev.end);
      else expect(s.start - prev.end).toBe(H);
    }
  });

  it("sessions() returns those intersecting [from, to)", () => {
    const mon = cme.sessionOf(utc(2024, 1, 8, 12))!;
    expect(cme.sessions(mon.start, mon.end)).toEqual([mon]);
    expect(cme.sessions(mon.end - 1, mon.end)).toEqual([mon]);
    expect(cme.sessions(mon.end, mon.end + H)).toEqual([]); // the break
    expect(cme.sessions(utc(2024, 1, 13), utc(2024, 1, 14, 23))).toEqual([]); // weekend
    expect(cme.sessions(5, 5)).toEqual([]);
    expect(sessionAtOrAfter(cme, utc(2024, 1, 13))?.day).toBe(day(2024, 1, 15));
  });
});

describe("us-equity calendar", () => {
  it("09:30-16:00 New York, labelled with the date, winter and summer", () => {
    expect(iso(nyse.sessionOf(utc(2024, 1, 8, 15)))).toEqual({ start: "2024-01-08T14:30:00.000Z", end: "2024-01-08T21:00:00.000Z", day: "2024-01-08" });
    expect(iso(nyse.sessionOf(utc(2024, 7, 8, 15)))).toEqual({ start: "2024-07-08T13:30:00.000Z", end: "2024-07-08T20:00:00.000Z", day: "2024-07-08" });
    expect(nyse.timeZone).toBe("America/New_York");
  });

  it("closed outside hours and on weekends; tradingDay points at the next session", () => {
    expect(nyse.isOpen(utc(2024, 1, 8, 14, 29))).toBe(false);
    expect(nyse.isOpen(utc(2024, 1, 8, 14, 30))).toBe(true);
    expect(nyse.isOpen(utc(2024, 1, 8, 21, 0))).toBe(false);
    expect(nyse.isOpen(utc(2024, 1, 13, 15))).toBe(false); // Saturday
    expect(nyse.tradingDay(utc(2024, 1, 8, 14))).toBe(day(2024, 1, 8)); // pre-open
    expect(nyse.tradingDay(utc(2024, 1, 8, 21, 30))).toBe(day(2024, 1, 9)); // after close
    expect(nyse.tradingDay(utc(2024, 1, 12, 21, 30))).toBe(day(2024, 1, 15)); // Friday after close -> Monday
    expect(nyse.tradingDay(utc(2024, 1, 13, 15))).toBe(day(2024, 1, 15)); // Saturday
  });

  it("keeps 6.5 h sessions across the DST switch", () => {
    const ss = nyse.sessions(utc(2024, 3, 8), utc(2024, 3, 12));
    expect(ss.map(iso)).toEqual([
      { start: "2024-03-08T14:30:00.000Z", end: "2024-03-08T21:00:00.000Z", day: "2024-03-08" },
      { start: "2024-03-11T13:30:00.000Z", end: "2024-03-11T20:00:00.000Z", day: "2024-03-11" },
    ]);
  });
});

describe("24x7 calendar", () => {
  it("always open; sessions are UTC days labelled with the date", () => {
    const t = utc(2024, 1, 13, 15, 7); // a Saturday
    expect(crypto.isOpen(t)).toBe(true);
    expect(crypto.tradingDay(t)).toBe(day(2024, 1, 13));
    expect(crypto.sessionOf(t)).toEqual({ start: day(2024, 1, 13), end: day(2024, 1, 14), day: day(2024, 1, 13) });
    expect(crypto.tradingDay(day(2024, 1, 14))).toBe(day(2024, 1, 14));
    expect(crypto.tradingDay(day(2024, 1, 14) - 1)).toBe(day(2024, 1, 13));
    expect(crypto.sessions(utc(2024, 1, 1, 12), utc(2024, 1, 4)).map((s) => s.day)).toEqual([day(2024, 1, 1), day(2024, 1, 2), day(2024, 1, 3)]);
  });
});

// ---------------------------------------------------------------------------

/** Bar starts every stepMs in each [from, to) range. */
function series(ranges: [number, number][], stepMs: number, drop: (t: number) => boolean = () => false): Float64Array {
  const out: number[] = [];
  for (const [from, to] of ranges) for (let t = from; t < to; t += stepMs) if (!drop(t)) out.push(t);
  return Float64Array.from(out);
}

describe("findGaps", () => {
  // Open minutes by hand: Fri 2024-01-12 14:00-16:00 CST, Sun 17:00 CST -> Mon 16:00, Mon 17:00 -> Tue 20:00 CST (02:00Z)
  const open: [number, number][] = [
    [utc(2024, 1, 12, 20), utc(2024, 1, 12, 22)],
    [utc(2024, 1, 14, 23), utc(2024, 1, 15, 22)],
    [utc(2024, 1, 15, 23), utc(2024, 1, 16, 2)],
  ];

  it("a complete CME 1m series across a weekend and a daily break has no gaps", () => {
    const ts = series(open, M);
    expect(findGaps(ts, ts.length, M, cme)).toEqual([]);
  });

  it("reports exactly a hole inside a CME session", () => {
    const ts = series(open, M, (t) => t >= utc(2024, 1, 15, 15) && t < utc(2024, 1, 15, 15, 8));
    expect(findGaps(ts, ts.length, M, cme)).toEqual([{ from: utc(2024, 1, 15, 15), to: utc(2024, 1, 15, 15, 8), missingBars: 8 }]);
  });

  it("a hole running into the daily break stops at 16:00 and resumes at 17:00 (one gap per session)", () => {
    const ts = series(open, M, (t) => t >= utc(2024, 1, 15, 21, 55) && t < utc(2024, 1, 15, 23, 3));
    expect(findGaps(ts, ts.length, M, cme)).toEqual([
      { from: utc(2024, 1, 15, 21, 55), to: utc(2024, 1, 15, 22), missingBars: 5 },
      { from: utc(2024, 1, 15, 23), to: utc(2024, 1, 15, 23, 3), missingBars: 3 },
    ]);
  });

  it("only looks between the first and the last bar, and ignores bars outside sessions", () => {
    const ts = series([[utc(2024, 1, 15, 10, 30), utc(2024, 1, 15, 11)], [utc(2024, 1, 15, 22, 10), utc(2024, 1, 15, 22, 12)], [utc(2024, 1, 15, 23), utc(2024, 1, 15, 23, 5)]], M);
    expect(findGaps(ts, ts.length, M, cme)).toEqual([{ from: utc(2024, 1, 15, 11), to: utc(2024, 1, 15, 22), missingBars: 660 }]);
    expect(findGaps(ts, 30, M, cme)).toEqual([]); // `length` limits the series
  });

  it("24x7: a hole, and a hole across UTC midnight reported as one", () => {
    const ts = series([[utc(2024, 1, 1), utc(2024, 1, 4)]], H, (t) => t === utc(2024, 1, 2, 5) || t === utc(2024, 1, 2, 6) || t === utc(2024, 1, 2, 23) || t === utc(2024, 1, 3, 0));
    expect(findGaps(ts, ts.length, H, crypto)).toEqual([
      { from: utc(2024, 1, 2, 5), to: utc(2024, 1, 2, 7), missingBars: 2 },
      { from: utc(2024, 1, 2, 23), to: utc(2024, 1, 3, 1), missingBars: 2 },
    ]);
  });

  it("1d: a missing weekday is a gap, weekends are not", () => {
    const labels = [8, 9, 11, 12, 15, 16, 17, 18, 19].map((d) => day(2024, 1, d)); // Wed 10th missing
    const ts = Float64Array.from(labels);
    expect(findGaps(ts, ts.length, D, cme)).toEqual([{ from: day(2024, 1, 10), to: day(2024, 1, 11), missingBars: 1 }]);
    // Friday and Monday missing: one run of 2 trading days
    const ts2 = Float64Array.from([8, 9, 10, 11, 16, 17].map((d) => day(2024, 1, d)));
    expect(findGaps(ts2, ts2.length, D, cme)).toEqual([{ from: day(2024, 1, 12), to: day(2024, 1, 16), missingBars: 2 }]);
    // 24x7 daily bars: weekends are expected
    const ts3 = Float64Array.from([12, 13, 15].map((d) => day(2024, 1, d)));
    expect(findGaps(ts3, ts3.length, D, crypto)).toEqual([{ from: day(2024, 1, 14), to: day(2024, 1, 15), missingBars: 1 }]);
  });

  it("caps the list at maxGaps and keeps each returned gap complete", () => {
    // 24x7 1m: holes of 3 bars at 10:00, 10:10, 10:20
    const holes = [0, 10, 20].map((k) => utc(2024, 1, 1, 10, k));
    const ts = series([[utc(2024, 1, 1, 9), utc(2024, 1, 1, 11)]], M, (t) => holes.some((h) => t >= h && t < h + 3 * M));
    expect(findGaps(ts, ts.length, M, crypto)).toHaveLength(3);
    expect(findGaps(ts, ts.length, M, crypto, 2)).toEqual([
      { from: holes[0], to: holes[0]! + 3 * M, missingBars: 3 },
      { from: holes[1], to: holes[1]! + 3 * M, missingBars: 3 },
    ]);
    // a long hole across 24x7 midnights is still counted whole with maxGaps = 1
    const ts2 = Float64Array.from([utc(2024, 1, 1, 23, 59), utc(2024, 1, 4, 0, 1)]);
    expect(findGaps(ts2, 2, M, crypto, 1)).toEqual([{ from: utc(2024, 1, 2), to: utc(2024, 1, 4, 0, 1), missingBars: 2 * 1440 + 1 }]);
  });

  it("works with a calendar implemented elsewhere", () => {
    const custom: TradingCalendar = { id: "24x7", timeZone: "UTC", isOpen: crypto.isOpen.bind(crypto), tradingDay: crypto.tradingDay.bind(crypto), sessionOf: crypto.sessionOf.bind(crypto), sessions: crypto.sessions.bind(crypto) };
    const ts = series([[utc(2024, 1, 1), utc(2024, 1, 2)]], H, (t) => t === utc(2024, 1, 1, 7));
    expect(findGaps(ts, ts.length, H, custom)).toEqual([{ from: utc(2024, 1, 1, 7), to: utc(2024, 1, 1, 8), missingBars: 1 }]);
    expect(sessionAtOrAfter(custom, utc(2024, 1, 1, 7))?.day).toBe(day(2024, 1, 1));
  });
});
