import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import {
  CsvFormatError,
  type ParseOptions,
  type ParsedBatch,
  type RejectedRow,
  CsvStreamParser,
  ZoneConverter,
  detectLayout,
  parseCsv,
  parseCsvText,
  parseDecimal,
  validateTimeZone,
} from "./csv";

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

interface Row {
  ts: number;
  v: number[]; // bars: o,h,l,c,vol; quotes: bid,ask; trades: price,size,side
  line: number;
  raw: string;
}

interface Flat {
  kind: string;
  rows: Row[];
  rejected: RejectedRow[];
  batches: ParsedBatch[];
}

function flatten(batches: ParsedBatch[]): Flat {
  const rows: Row[] = [];
  const rejected: RejectedRow[] = [];
  let kind = "";
  for (const b of batches) {
    kind = b.kind;
    rejected.push(...b.rejected);
    if (b.kind === "bars") {
      const c = b.bars;
      for (let i = 0; i < c.length; i++) {
        rows.push({ ts: c.ts[i]!, v: [c.open[i]!, c.high[i]!, c.low[i]!, c.close[i]!, c.volume[i]!], line: b.lines[i]!, raw: b.raw(i) });
      }
    } else if (b.kind === "quotes") {
      for (let i = 0; i < b.length; i++) rows.push({ ts: b.ts[i]!, v: [b.bid[i]!, b.ask[i]!], line: b.lines[i]!, raw: b.raw(i) });
    } else {
      for (let i = 0; i < b.length; i++) {
        rows.push({ ts: b.ts[i]!, v: [b.price[i]!, b.size[i]!, b.side[i]!], line: b.lines[i]!, raw: b.raw(i) });
      }
    }
  }
  return { kind, rows, rejected, batches };
}

const parse = (text: string, opts?: ParseOptions): Flat => flatten(parseCsvText(text, opts));
const iso = (ms: number): string => new Date(ms).toISOString();
const isos = (f: Flat): string[] => f.rows.map((r) => iso(r.ts));

async function* chunked(buf: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) {
    // plain Uint8Array copies (not Buffer views) to exercise the conversion too
    yield new Uint8Array(buf.subarray(i, i + size));
  }
}

async function parseStream(text: string | Buffer, chunk: number, opts?: ParseOptions): Promise<Flat> {
  const buf = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  const out: ParsedBatch[] = [];
  for await (const b of parseCsv(chunked(buf, chunk), opts)) out.push(b);
  return flatten(out);
}

function comparable(f: Flat) {
  return { kind: f.kind, rows: f.rows, rejected: f.rejected };
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectFormatError(fn: () => unknown, message: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CsvFormatError);
  expect((err as Error).message).toMatch(message);
}

// ---------------------------------------------------------------------------
// header detection
// ---------------------------------------------------------------------------

describe("detectLayout", () => {
  it("recognises timestamp_utc bars with volume", () => {
    const l = detectLayout("timestamp_utc,open,high,low,close,volume");
    expect(l).toEqual({
      kind: "bars",
      delimiter: ",",
      columns: ["timestamp_utc", "open", "high", "low", "close", "volume"],
      timestampColumns: ["timestamp_utc"],
      mapping: { timestamp: 0, open: 1, high: 2, low: 3, close: 4, volume: 5 },
      hasVolume: true,
    });
  });

  it("recognises Binance klines (open_time, extra columns ignored)", () => {
    const l = detectLayout(
      "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore",
    );
    expect(l.kind).toBe("bars");
    expect(l.timestampColumns).toEqual(["open_time"]);
    expect(l.mapping).toEqual({ timestamp: 0, open: 1, high: 2, low: 3, close: 4, volume: 5 });
  });

  it("combines separate date and time columns", () => {
    const l = detectLayout("Date,Time,Open,High,Low,Close,Volume");
    expect(l.timestampColumns).toEqual(["Date", "Time"]);
    expect(l.mapping).toMatchObject({ date: 0, time: 1, open: 2, close: 5, volume: 6 });
    expect(l.mapping.timestamp).toBeUndefined();
  });

  it("prefers timestamp/datetime/open_time over date and time", () => {
    expect(detectLayout("date,time,datetime,open,high,low,close").mapping.timestamp).toBe(2);
    expect(detectLayout("date,timestamp,open,high,low,close").timestampColumns).toEqual(["timestamp"]);
    expect(detectLayout("time,open_time,open,high,low,close").timestampColumns).toEqual(["open_time"]);
    // a lone date column is the timestamp
    expect(detectLayout("date,open,high,low,close,adjclose,volume").mapping).toEqual({
      timestamp: 0,
      open: 1,
      high: 2,
      low: 3,
      close: 4,
      volume: 6,
    });
  });

  it("accepts aliases, any case, spaces, quotes, a BOM and MetaTrader-style <NAMES>", () => {
    const l = detectLayout('\uFEFF "TS" , O ,H,L,C, "Vol" ');
    expect(l.columns).toEqual(["TS", "O", "H", "L", "C", "Vol"]);
    expect(l.mapping).toEqual({ timestamp: 0, open: 1, high: 2, low: 3, close: 4, volume: 5 });
    const mt = detectLayout("<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>");
    expect(mt.delimiter).toBe("\t");
    expect(mt.mapping).toMatchObject({ date: 0, time: 1, open: 2, high: 3, low: 4, close: 5, volume: 7 });
    expect(detectLayout("Open Time;Open Price;High Price;Low Price;Close Price").mapping).toEqual({
      timestamp: 0,
      open: 1,
      high: 2,
      low: 3,
      close: 4,
    });
    expect(detectLayout("datetime,open,high,low,close,base_volume,quote_volume").mapping.volume).toBe(5);
  });

  it("detects comma, semicolon and tab delimiters", () => {
    expect(detectLayout("timestamp,open,high,low,close").delimiter).toBe(",");
    expect(detectLayout("timestamp;open;high;low;close").delimiter).toBe(";");
    expect(detectLayout("timestamp\topen\thigh\tlow\tclose").delimiter).toBe("\t");
  });

  it("marks a missing volume column", () => {
    const l = detectLayout("timestamp,open,high,low,close");
    expect(l.hasVolume).toBe(false);
    expect(l.mapping.volume).toBeUndefined();
  });

  it("auto-detects quotes and trades, and bars take precedence", () => {
    expect(detectLayout("timestamp,bid,ask").kind).toBe("quotes");
    expect(detectLayout("ts,bid_price,ask_price").mapping).toEqual({ timestamp: 0, bid: 1, ask: 2 });
    const t = detectLayout("time,price,size,side");
    expect(t.kind).toBe("trades");
    expect(t.mapping).toEqual({ timestamp: 0, price: 1, size: 2, side: 3 });
    const binance = detectLayout("id,price,qty,quote_qty,time,is_buyer_maker");
    expect(binance.kind).toBe("trades");
    expect(binance.mapping).toEqual({ timestamp: 4, price: 1, size: 2, is_buyer_maker: 5 });
    expect(detectLayout("timestamp,last,quantity").mapping).toEqual({ timestamp: 0, price: 1, size: 2 });
    expect(detectLayout("timestamp,open,high,low,close,bid,ask").kind).toBe("bars");
    expect(detectLayout("timestamp,open,high,low,close,bid,ask", "quotes").mapping).toEqual({ timestamp: 0, bid: 5, ask: 6 });
  });

  it("names what it found and what it expected when the header is not recognised", () => {
    expectFormatError(
      () => detectLayout("a,b,c"),
      /^no recognizable header: expected a timestamp column \(timestamp, timestamp_utc, open_time, .*\) and open\/high\/low\/close, bid\/ask or price\/size; found: a, b, c$/,
    );
    expectFormatError(() => detectLayout("open,high,low,close"), /expected a timestamp column.*found: open, high, low, close/);
    expectFormatError(() => detectLayout("1704067200000,42283.58,42554.57,42261.02,42475.23"), /first line looks like data/);
    expectFormatError(
      () => detectLayout("timestamp,price,size", "bars"),
      /bars file needs open, high, low and close.*looks like trades/,
    );
  });
});

// ---------------------------------------------------------------------------
// bar files in vendor layouts
// ---------------------------------------------------------------------------

describe("parseCsvText: bars", () => {
  it("reads timestamp_utc ISO rows with Z", () => {
    const f = parse("timestamp_utc,open,high,low,close,volume\n2024-01-02T14:30:00Z,16800.25,16801.5,16799.75,16800.5,123\n");
    expect(f.kind).toBe("bars");
    expect(f.rows).toEqual([
      { ts: Date.UTC(2024, 0, 2, 14, 30), v: [16800.25, 16801.5, 16799.75, 16800.5, 123], line: 2, raw: "2024-01-02T14:30:00Z,16800.25,16801.5,16799.75,16800.5,123" },
    ]);
  });

  it("reads Binance klines: epoch ms open_time and extra columns", () => {
    const f = parse(
      "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n" +
        "1704067200000,42283.58000000,42554.57000000,42261.02000000,42475.23000000,1271.68108000,1704070799999,53957248.97382180,47134,682.57911000,28959859.26321940,0\n" +
        "1704070800000,42475.23000000,42775.00000000,42431.65000000,42613.56000000,1196.37856000,1704074399999,50929969.58495000,42700,629.03124000,26777497.23648360,0\n",
    );
    expect(isos(f)).toEqual(["2024-01-01T00:00:00.000Z", "2024-01-01T01:00:00.000Z"]);
    expect(f.rows[0]!.v).toEqual([42283.58, 42554.57, 42261.02, 42475.23, 1271.68108]);
    expect(f.rows[1]!.v).toEqual([42475.23, 42775, 42431.65, 42613.56, 1196.37856]);
  });

  it("combines date + time columns", () => {
    const f = parse("Date,Time,Open,High,Low,Close,Volume\n2024-01-02,09:30:00,1,2,0.5,1.5,10\n2024/01/02,09:31,1,2,0.5,1.5,11\n");
    expect(isos(f)).toEqual(["2024-01-02T09:30:00.000Z", "2024-01-02T09:31:00.000Z"]);
  });

  it("keeps date-only daily rows at 00:00 UTC of the date, whatever the zone", () => {
    const text =
      "date,open,high,low,close,adjclose,volume\n" +
      "2000-01-03,1469.250000,1478.000000,1438.359985,1455.219971,1455.219971,931800000\n" +
      "2000-01-04,1455.219971,1455.219971,1397.430054,1399.420044,1399.420044,1009000000\n";
    for (const timeZone of ["UTC", "America/New_York", "Asia/Tokyo"]) {
      const f = parse(text, { timeZone });
      expect(isos(f)).toEqual(["2000-01-03T00:00:00.000Z", "2000-01-04T00:00:00.000Z"]);
      expect(f.rows[0]!.v).toEqual([1469.25, 1478, 1438.359985, 1455.219971, 931800000]);
    }
  });

  it("reads semicolon and tab separated files", () => {
    const semi = parse("Timestamp;Open;High;Low;Close;Volume\n2024-01-02 09:30:00;1.5;2.5;0.5;2;7\n");
    const tab = parse("timestamp\topen\thigh\tlow\tclose\tvolume\n2024-01-02 09:30:00\t1.5\t2.5\t0.5\t2\t7\n");
    for (const f of [semi, tab]) {
      expect(f.rows.map((r) => [iso(r.ts), ...r.v])).toEqual([["2024-01-02T09:30:00.000Z", 1.5, 2.5, 0.5, 2, 7]]);
    }
  });

  it("tolerates a BOM, CRLF line endings, quoted fields and padded fields", () => {
    const f = parse(
      '\uFEFF"timestamp","open","high","low","close","volume"\r\n' +
        '"2024-01-02 09:30:00","1.25","2.5","0.75","2","100"\r\n' +
        "2024-01-02 09:31:00 , 1.5 ,+2.5, 0.5 ,2 , 7\r\n",
    );
    expect(f.rejected).toEqual([]);
    expect(f.rows.map((r) => r.v)).toEqual([
      [1.25, 2.5, 0.75, 2, 100],
      [1.5, 2.5, 0.5, 2, 7],
    ]);
    expect(f.rows[0]!.raw).toBe('"2024-01-02 09:30:00","1.25","2.5","0.75","2","100"');
    expect(isos(f)).toEqual(["2024-01-02T09:30:00.000Z", "2024-01-02T09:31:00.000Z"]);
  });

  it("sets volume to 0 when there is no volume column, or the field is empty", () => {
    const f = parse("timestamp,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n");
    expect(f.rows[0]!.v).toEqual([1, 2, 0.5, 1.5, 0]);
    expect(f.batches[0]!.layout.hasVolume).toBe(false);
    const g = parse("timestamp,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,\n2024-01-03,1,2,0.5,1.5,x\n");
    expect(g.rows.map((r) => r.v[4])).toEqual([0]);
    expect(g.rejected[0]).toMatchObject({ line: 3, reason: "unparsable_row", detail: 'volume is not a number: "x"' });
  });

  it("passes odd but numeric values through (the firewall judges them)", () => {
    const f = parse("timestamp,open,high,low,close,volume\n2024-01-02,-1,0.5,3,0,-7\n");
    expect(f.rejected).toEqual([]);
    expect(f.rows[0]!.v).toEqual([-1, 0.5, 3, 0, -7]);
  });

  it("returns rows in file order, not sorted", () => {
    const f = parse("ts,o,h,l,c\n2024-01-03,1,1,1,1\n2024-01-01,2,2,2,2\n2024-01-02,3,3,3,3\n");
    expect(isos(f).map((s) => s.slice(0, 10))).toEqual(["2024-01-03", "2024-01-01", "2024-01-02"]);
  });

  it("accepts a forced kind", () => {
    const f = parse("timestamp,open,high,low,close,bid,ask\n2024-01-02,1,2,0.5,1.5,9,10\n", { kind: "quotes" });
    expect(f.kind).toBe("quotes");
    expect(f.rows[0]!.v).toEqual([9, 10]);
  });
});

// ---------------------------------------------------------------------------
// timestamps
// ---------------------------------------------------------------------------

function tsOf(value: string, opts?: ParseOptions): number | RejectedRow {
  const f = parse(`timestamp,price,size\n${value.includes(",") ? `"${value}"` : value},1,1\n`, opts);
  return f.rows.length === 1 ? f.rows[0]!.ts : f.rejected[0]!;
}

describe("timestamps", () => {
  it("parses ISO-like forms", () => {
    const base = Date.UTC(2024, 0, 2, 9, 30, 15);
    const cases: [string, number][] = [
      ["2024-01-02", Date.UTC(2024, 0, 2)],
      ["2024-01-02 09:30", Date.UTC(2024, 0, 2, 9, 30)],
      ["2024-01-02 09:30:15", base],
      ["2024-01-02T09:30:15", base],
      ["2024-01-02T09:30:15Z", base],
      ["2024-01-02 09:30:15.5", base + 500],
      ["2024-01-02T09:30:15.123Z", base + 123],
      ["2024-01-02 09:30:15.123456", base + 123.456],
      ["2024-01-02T09:30:15.123456789Z", base + 123.456789],
      ["2024-01-02T09:30:15+00:00", base],
      ["2024-01-02T04:30:15-05:00", base],
      ["2024-01-02T15:00:15+0530", base],
      ["2024-01-02T10:30:15+01", base],
      ["2024-01-02 09:30:15 UTC", base],
      ["2024/01/02 09:30:15", base],
      ["2024/1/2 9:30:15", base],
      ["2024.01.02 09:30:15", base],
      ["20240102", Date.UTC(2024, 0, 2)],
      ["20240102 09:30:15", base],
      ["20240102 093015", base],
      ["01/02/2024", Date.UTC(2024, 0, 2)],
      ["01/02/2024 09:30", Date.UTC(2024, 0, 2, 9, 30)],
      ["1/2/2024 9:30:15", base],
      ["1/2/2024 9:30:15 PM", base + 12 * 3_600_000],
      ["1/2/2024 12:05:00 AM", Date.UTC(2024, 0, 2, 0, 5)],
      ["02.01.2024 09:30:15.000", base],
    ];
    for (const [text, want] of cases) {
      const got = tsOf(text);
      expect(typeof got === "number" ? iso(got) + (got % 1 ? ` +${(got % 1).toFixed(6)}` : "") : got, text).toBe(
        iso(want) + (want % 1 ? ` +${(want % 1).toFixed(6)}` : ""),
      );
      if (typeof got === "number") expect(Math.abs(got - want), text).toBeLessThan(1e-3);
    }
  });

  it("detects epoch units by magnitude: s, ms, us, ns", () => {
    const ms = Date.UTC(2024, 0, 2, 9, 30, 15, 123);
    expect(tsOf("1704187815")).toBe(ms - 123);
    expect(tsOf("1704187815.123")).toBe(ms);
    expect(tsOf("1704187815.5")).toBe(ms - 123 + 500);
    expect(tsOf("1704187815123")).toBe(ms);
    expect(tsOf("1704187815123456")).toBeCloseTo(ms + 0.456, 6);
    const ns = tsOf("1704187815123456789") as number;
    expect(Math.floor(ns)).toBe(ms);
    expect(ns - ms).toBeCloseTo(0.456789, 3);
    // Unix epoch start and a 2001 ns value (precision beyond 2^53 handled as digits)
    expect(tsOf("0")).toBe(0);
    expect(tsOf("1000000000000000001")).toBe(1_000_000_000_000);
  });

  it("converts America/New_York local times to UTC with winter and summer offsets", () => {
    const opts = { timeZone: "America/New_York" };
    expect(iso(tsOf("2024-01-02 09:30:00", opts) as number)).toBe("2024-01-02T14:30:00.000Z");
    expect(iso(tsOf("2024-07-01 09:30:00", opts) as number)).toBe("2024-07-01T13:30:00.000Z");
    expect(iso(tsOf("07/01/2024 4:00 PM", opts) as number)).toBe("2024-07-01T20:00:00.000Z");
    // explicit offsets and epochs ignore the zone
    expect(iso(tsOf("2024-07-01T09:30:00Z", opts) as number)).toBe("2024-07-01T09:30:00.000Z");
    expect(iso(tsOf("2024-07-01T09:30:00+00:00", opts) as number)).toBe("2024-07-01T09:30:00.000Z");
    expect(tsOf("1704187815123", opts)).toBe(1704187815123);
    // date + time columns are local too
    const f = parse("date,time,open,high,low,close\n2024-01-02,09:30,1,1,1,1\n", opts);
    expect(isos(f)).toEqual(["2024-01-02T14:30:00.000Z"]);
  });

  it("converts other zones, including half-hour offsets and half-hour DST shifts", () => {
    expect(iso(tsOf("2024-01-02 09:30:00", { timeZone: "Asia/Kolkata" }) as number)).toBe("2024-01-02T04:00:00.000Z");
    expect(iso(tsOf("2024-06-03 09:00:00", { timeZone: "Europe/London" }) as number)).toBe("2024-06-03T08:00:00.000Z");
    // Lord Howe moves from +10:30 to +11:00 at 02:00 local on 2024-10-06: 02:00-02:29 do not exist.
    const lh = { timeZone: "Australia/Lord_Howe" };
    expect(iso(tsOf("2024-10-06 01:59:00", lh) as number)).toBe("2024-10-05T15:29:00.000Z");
    expect((tsOf("2024-10-06 02:15:00", lh) as RejectedRow).reason).toBe("unparsable_timestamp");
    expect(iso(tsOf("2024-10-06 02:30:00", lh) as number)).toBe("2024-10-05T15:30:00.000Z");
  });

  it("rejects local times in the spring-forward gap", () => {
    const f = parse(
      "timestamp,open,high,low,close\n2024-03-10 01:59:00,1,1,1,1\n2024-03-10 02:00:00,1,1,1,1\n2024-03-10 02:30:00,1,1,1,1\n2024-03-10 03:00:00,1,1,1,1\n",
      { timeZone: "America/New_York" },
    );
    expect(isos(f)).toEqual(["2024-03-10T06:59:00.000Z", "2024-03-10T07:00:00.000Z"]);
    expect(f.rejected.map((r) => [r.line, r.reason])).toEqual([
      [3, "unparsable_timestamp"],
      [4, "unparsable_timestamp"],
    ]);
    expect(f.rejected[0]!.detail).toBe(
      'local time "2024-03-10 02:00:00" does not exist in America/New_York (skipped by a daylight-saving change)',
    );
  });

  it("maps a minute series through the fall-back hour to strictly increasing UTC times", () => {
    // 2024-11-03 America/New_York: 01:00-01:59 happens twice (EDT, then EST).
    const lines = ["timestamp,open,high,low,close"];
    const local = (h: number, m: number) => `2024-11-03 ${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:00`;
    for (let m = 30; m < 60; m++) lines.push(`${local(0, m)},1,1,1,1`);
    for (let m = 0; m < 60; m++) lines.push(`${local(1, m)},1,1,1,1`); // EDT
    for (let m = 0; m < 60; m++) lines.push(`${local(1, m)},1,1,1,1`); // EST
    for (let m = 0; m < 30; m++) lines.push(`${local(2, m)},1,1,1,1`);
    const f = parse(lines.join("\n") + "\n", { timeZone: "America/New_York", batchRows: 17 });
    expect(f.rejected).toEqual([]);
    expect(f.rows.length).toBe(180);
    const ts = f.rows.map((r) => r.ts);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBe(60_000);
    expect(iso(ts[0]!)).toBe("2024-11-03T04:30:00.000Z");
    expect(iso(ts[30]!)).toBe("2024-11-03T05:00:00.000Z"); // first 01:00 is EDT
    expect(iso(ts[90]!)).toBe("2024-11-03T06:00:00.000Z"); // second 01:00 is EST
    expect(iso(ts[179]!)).toBe("2024-11-03T07:29:00.000Z");
  });

  it("maps an hourly series through the fall-back hour to strictly increasing UTC times", () => {
    const f = parse(
      "timestamp,open,high,low,close\n2024-11-03 00:00,1,1,1,1\n2024-11-03 01:00,1,1,1,1\n2024-11-03 01:00,1,1,1,1\n2024-11-03 02:00,1,1,1,1\n",
      { timeZone: "America/New_York" },
    );
    expect(isos(f)).toEqual(["2024-11-03T04:00:00.000Z", "2024-11-03T05:00:00.000Z", "2024-11-03T06:00:00.000Z", "2024-11-03T07:00:00.000Z"]);
  });

  it("takes the earlier instant for an ambiguous time without a later predecessor", () => {
    expect(iso(tsOf("2024-11-03 01:30:00", { timeZone: "America/New_York" }) as number)).toBe("2024-11-03T05:30:00.000Z");
  });

  it("rejects invalid dates and times as unparsable_timestamp", () => {
    for (const bad of [
      "2023-02-30",
      "2023-02-29",
      "2024-13-01",
      "2024-00-10",
      "2024-01-32",
      "2024-01-02 25:00",
      "2024-01-02 24:00:00",
      "2024-01-02 12:60",
      "2024-01-02 12:30:61",
      "13/01/2024",
      "2024-01-02T09:30:00+25:00",
      "2024-01-02 09:30:00 EST",
      "yesterday",
      "",
      "1.2.3",
    ]) {
      const got = tsOf(bad);
      expect(typeof got, bad).toBe("object");
      expect((got as RejectedRow).reason, bad).toBe("unparsable_timestamp");
      expect((got as RejectedRow).detail, bad).toMatch(/^timestamp /);
    }
    expect((tsOf("2023-02-30") as RejectedRow).detail).toBe('timestamp is not a valid calendar date: "2023-02-30"');
    expect((tsOf("2024-01-02 25:00") as RejectedRow).detail).toBe('timestamp has an invalid time of day: "2024-01-02 25:00"');
    expect(typeof tsOf("2024-02-29")).toBe("number");
    expect(typeof tsOf("2000-02-29")).toBe("number");
  });
});

describe("ZoneConverter", () => {
  it("matches Intl for every quarter hour of a DST year (non-gap, non-ambiguous times)", () => {
    const z = new ZoneConverter("Europe/Berlin");
    const fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: "Europe/Berlin",
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    let checked = 0;
    for (let u = Date.UTC(2023, 0, 1); u < Date.UTC(2024, 0, 1); u += 15 * 60_000) {
      const p = Object.fromEntries(fmt.formatToParts(u).map((x) => [x.type, Number(x.value)]));
      const local = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!);
      expect(z.toUtc(local, u - 1)).toBe(u);
      checked++;
    }
    expect(checked).toBe(365 * 96);
  });
});

// ---------------------------------------------------------------------------
// quotes and trades
// ---------------------------------------------------------------------------

describe("quotes and trades", () => {
  it("reads a quotes file", () => {
    const f = parse("ts,bid_price,ask_price\n1704187815123,16800.25,16800.5\n1704187815200,16800.5,16800.75\n");
    expect(f.kind).toBe("quotes");
    expect(f.rows.map((r) => [r.ts, ...r.v])).toEqual([
      [1704187815123, 16800.25, 16800.5],
      [1704187815200, 16800.5, 16800.75],
    ]);
  });

  it("reads a trades file with a side column", () => {
    const f = parse(
      "timestamp,price,size,side\n" +
        "2024-01-02T09:30:00.001Z,100.5,2,buy\n" +
        "2024-01-02T09:30:00.002Z,100.25,1,SELL\n" +
        "2024-01-02T09:30:00.003Z,100.5,3,B\n" +
        "2024-01-02T09:30:00.004Z,100.5,3,s\n" +
        "2024-01-02T09:30:00.005Z,100.5,3,1\n" +
        "2024-01-02T09:30:00.006Z,100.5,3,-1\n" +
        "2024-01-02T09:30:00.007Z,100.5,3,\n" +
        "2024-01-02T09:30:00.008Z,100.5,3,N\n",
    );
    expect(f.kind).toBe("trades");
    expect(f.rows.map((r) => r.v[2])).toEqual([1, -1, 1, -1, 1, -1, 0, 0]);
    expect(f.rows[1]!.v.slice(0, 2)).toEqual([100.25, 1]);
  });

  it("reads Binance trades: is_buyer_maker true means the aggressor sold", () => {
    const f = parse(
      "id,price,qty,quote_qty,time,is_buyer_maker\n" +
        "3350089090,42283.58000000,0.00050000,21.14179000,1704067200002,true\n" +
        "3350089091,42283.59000000,0.00118000,49.89463620,1704067200007,false\n",
    );
    expect(f.rows.map((r) => [r.ts, ...r.v])).toEqual([
      [1704067200002, 42283.58, 0.0005, -1],
      [1704067200007, 42283.59, 0.00118, 1],
    ]);
  });

  it("sets side 0 when the file has no side column", () => {
    const f = parse("time,last,amount\n2024-01-02 09:30:00,5,1\n");
    expect(f.rows[0]!.v).toEqual([5, 1, 0]);
  });
});

// ---------------------------------------------------------------------------
// rows, lines, rejects, batches, streaming
// ---------------------------------------------------------------------------

const MIXED =
  "\uFEFFtimestamp,open,high,low,close,volume,note\r\n" +
  "2024-01-02 09:30:00,16800.25,16801.5,16799.75,16800.5,123,plain\r\n" +
  '"2024-01-02 09:31:00","16800.5","16802","16800","16801.75","98","quoted, with comma"\r\n' +
  "\r\n" +
  "2024-01-02 09:32:00,16801.75,abc,16801,16801.5,50,bad high\n" +
  "2024-02-30 09:33:00,1,2,3,4,5,bad date\n" +
  "2024-01-02 09:34:00,1,2,3\n" +
  "timestamp,open,high,low,close,volume,note\n" +
  "   \n" +
  "2024-01-02 09:35:00, 16801.5 ,1.6802e4,16801.25,16801.75,,ünïcödé ✓\n" +
  "2024-01-02 09:36:00.250,16801.75,16802.5,16801.5,16802,0.000012345678901234567,trailing\n" +
  "2024-01-02 09:37:00,+1,2,1,2,3"; // no final newline

describe("rows, rejects and accounting", () => {
  it("accounts for every data line: parsed + rejected, blank lines skipped", () => {
    const f = parse(MIXED);
    expect(f.rows.map((r) => r.line)).toEqual([2, 3, 10, 11, 12]);
    expect(f.rejected.map((r) => [r.line, r.reason, r.detail])).toEqual([
      [5, "unparsable_row", 'high is not a number: "abc"'],
      [6, "unparsable_timestamp", 'timestamp is not a valid calendar date: "2024-02-30 09:33:00"'],
      [7, "unparsable_row", "expected at least 6 fields, found 4"],
      [8, "unparsable_row", "header line repeated mid-file"],
    ]);
    const dataLines = MIXED.split("\n").slice(1).filter((l) => l.trim() !== "").length;
    expect(f.rows.length + f.rejected.length).toBe(dataLines);
    expect(f.rows[2]!.v).toEqual([16801.5, 16802, 16801.25, 16801.75, 0]);
    expect(f.rows[3]!.v[4]).toBe(Number("0.000012345678901234567"));
    expect(f.rows[3]!.ts).toBe(Date.UTC(2024, 0, 2, 9, 36, 0, 250));
    expect(f.rows[4]!.v).toEqual([1, 2, 1, 2, 3]);
  });

  it("raw(i) gives the row text without the line ending, rejects keep theirs", () => {
    const f = parse(MIXED);
    expect(f.rows[0]!.raw).toBe("2024-01-02 09:30:00,16800.25,16801.5,16799.75,16800.5,123,plain");
    expect(f.rows[1]!.raw).toBe('"2024-01-02 09:31:00","16800.5","16802","16800","16801.75","98","quoted, with comma"');
    expect(f.rows[2]!.raw).toBe("2024-01-02 09:35:00, 16801.5 ,1.6802e4,16801.25,16801.75,,ünïcödé ✓");
    expect(f.rows[4]!.raw).toBe("2024-01-02 09:37:00,+1,2,1,2,3");
    expect(f.rejected[0]!.raw).toBe("2024-01-02 09:32:00,16801.75,abc,16801,16801.5,50,bad high");
    expect(() => f.batches[0]!.raw(99)).toThrow(RangeError);
  });

  it("gives the same result for 1-byte, 7-byte and whole-file chunks", async () => {
    const whole = comparable(parse(MIXED));
    for (const size of [1, 2, 7, 13, 64, 1 << 20]) {
      expect(comparable(await parseStream(MIXED, size)), `chunk ${size}`).toEqual(whole);
    }
  });

  it("gives the same result for chunked input of a larger random file, with small batches", async () => {
    const rnd = prng(42);
    const lines = ["datetime;Open;High;Low;Close;Volume"];
    let t = Date.UTC(2023, 5, 1);
    for (let i = 0; i < 400; i++) {
      const px = (10000 + rnd() * 5000).toFixed(Math.floor(rnd() * 6));
      const ts = rnd() < 0.5 ? new Date(t).toISOString() : String(t);
      lines.push(rnd() < 0.05 ? `${ts};x;1;1;1;1` : `${ts};${px};${px};${px};${px};${Math.floor(rnd() * 1000)}`);
      if (rnd() < 0.05) lines.push("");
      t += 60_000;
    }
    const text = lines.join("\r\n") + "\r\n";
    const whole = comparable(parse(text));
    expect(whole.rows.length + whole.rejected.length).toBe(400);
    expect(whole.rejected.length).toBeGreaterThan(5);
    for (const size of [1, 7, 333]) {
      expect(comparable(await parseStream(text, size, { batchRows: 9 })), `chunk ${size}`).toEqual(whole);
    }
  });

  it("cuts batches of at most batchRows rows (parsed + rejected) with growing bytesRead", () => {
    const rows = ["timestamp,open,high,low,close"];
    for (let i = 0; i < 10; i++) rows.push(`2024-01-02 09:${String(30 + i).padStart(2, "0")}:00,${i},${i},${i},${i}`);
    rows.splice(4, 0, "2024-01-02 09:99:00,1,1,1,1", "");
    rows.push("nope,1,1,1,1", "");
    const text = rows.join("\n");
    const batches = parseCsvText(text, { batchRows: 3 });
    const sizes = batches.map((b) => (b.kind === "bars" ? b.bars.length : 0) + b.rejected.length);
    expect(sizes).toEqual([3, 3, 3, 3]);
    const bytes = batches.map((b) => b.bytesRead);
    for (let i = 1; i < bytes.length; i++) expect(bytes[i]!).toBeGreaterThan(bytes[i - 1]!);
    expect(bytes[bytes.length - 1]).toBe(Buffer.byteLength(text));
    // first batch ends right after the third data row
    expect(bytes[0]).toBe(Buffer.byteLength(rows.slice(0, 4).join("\n") + "\n"));
    const f = flatten(batches);
    expect(f.rows.map((r) => r.v[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(f.rows.map((r) => r.line)).toEqual([2, 3, 4, 7, 8, 9, 10, 11, 12, 13]);
    expect(f.rejected.map((r) => r.line)).toEqual([5, 14]);
    for (const b of batches) {
      if (b.kind !== "bars") throw new Error("bars expected");
      expect(b.lines.length).toBe(b.bars.length);
      expect(b.bars.ts.length).toBe(b.bars.length);
    }
  });

  it("yields nothing for a header-only file and throws for an empty one", () => {
    expect(parseCsvText("timestamp,open,high,low,close\n")).toEqual([]);
    expectFormatError(() => parseCsvText(""), /empty file/);
    expectFormatError(() => parseCsvText("\n\n  \n"), /empty file/);
  });

  it("exposes a synchronous push parser", () => {
    const p = new CsvStreamParser({ batchRows: 2 });
    const out = [
      ...p.push(Buffer.from("timestamp,bid,ask\n2024-01-02,1,")),
      ...p.push(Buffer.from("2\n2024-01-03,2,3\n2024-01-04,3,4")),
      ...p.end(),
    ];
    expect(out.map((b) => (b.kind === "quotes" ? Array.from(b.bid) : []))).toEqual([[1, 2], [3]]);
    expect(() => p.push(Buffer.from("x"))).toThrow(/after end/);
  });
});

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

describe("format errors", () => {
  it("throws CsvFormatError for a bad header before yielding anything", async () => {
    const seen: ParsedBatch[] = [];
    let err: unknown;
    try {
      for await (const b of parseCsv(chunked(Buffer.from("foo,bar\n1,2\n"), 3))) seen.push(b);
    } catch (e) {
      err = e;
    }
    expect(seen).toEqual([]);
    expect(err).toBeInstanceOf(CsvFormatError);
    expect((err as Error).message).toBe(
      "no recognizable header: expected a timestamp column (timestamp, timestamp_utc, open_time, datetime, date, time) and open/high/low/close, bid/ask or price/size; found: foo, bar",
    );
    expectFormatError(() => parseCsvText("timestamp,open,high,low\n"), /no recognizable header.*found: timestamp, open, high, low/);
  });

  it("throws CsvFormatError for an unknown time zone", async () => {
    expectFormatError(() => validateTimeZone("Mars/Olympus_Mons"), /^unknown time zone "Mars\/Olympus_Mons"$/);
    expectFormatError(() => validateTimeZone(""), /^unknown time zone ""$/);
    expect(() => validateTimeZone("America/New_York")).not.toThrow();
    expect(() => validateTimeZone("UTC")).not.toThrow();
    expectFormatError(() => parseCsvText("timestamp,bid,ask\n", { timeZone: "Nowhere/City" }), /unknown time zone "Nowhere\/City"/);
    const it = parseCsv(chunked(Buffer.from("timestamp,bid,ask\n2024-01-02,1,2\n"), 4), { timeZone: "Nowhere/City" });
    await expect(it.next()).rejects.toThrow(CsvFormatError);
  });

  it("recognises files that are not UTF-8 text CSV", () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("timestamp,bid,ask\n", "utf16le")]);
    const p = new CsvStreamParser();
    expectFormatError(() => {
      p.push(utf16);
      p.end();
    }, /UTF-16/);
    const gz = new CsvStreamParser();
    expectFormatError(() => {
      gz.push(Buffer.from([0x1f, 0x8b, 8, 0, 10]));
      gz.end();
    }, /gzip/);
    expectFormatError(() => parseCsvText("timestamp,bid,ask\r2024-01-02,1,2\r"), /CR-only/);
  });

  it("rejects bad batchRows", () => {
    expect(() => parseCsvText("timestamp,bid,ask\n", { batchRows: 0 })).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------
// numbers
// ---------------------------------------------------------------------------

function randomDecimal(rnd: () => number): string {
  const r = rnd();
  const intDigits = Math.floor(rnd() * 12);
  const fracDigits = Math.floor(rnd() * (r < 0.1 ? 25 : 12));
  let s = "";
  for (let i = 0; i < intDigits; i++) s += String(Math.floor(rnd() * 10));
  if (s === "" || rnd() < 0.3) s = s || "0";
  if (fracDigits > 0 || rnd() < 0.05) {
    s += ".";
    for (let i = 0; i < fracDigits; i++) s += String(Math.floor(rnd() * 10));
  }
  if (rnd() < 0.1) s = "0".repeat(Math.floor(rnd() * 4)) + s; // leading zeros
  if (rnd() < 0.05) s += `e${rnd() < 0.5 ? "-" : ""}${Math.floor(rnd() * 30)}`;
  const sign = rnd();
  if (sign < 0.2) s = "-" + s;
  else if (sign < 0.25) s = "+" + s;
  return s;
}

describe("decimal parsing", () => {
  it("equals Number(text) for random decimals (seeded)", () => {
    const rnd = prng(20240102);
    for (let i = 0; i < 50_000; i++) {
      const text = randomDecimal(rnd);
      const buf = Buffer.from(text);
      const want = Number(text);
      const got = parseDecimal(buf, 0, buf.length);
      if (!Object.is(got, want)) expect(`${text} -> ${got}`).toBe(`${text} -> ${want}`);
    }
  });

  it("equals Number(text) through the CSV fast path and the quoted/padded general path", () => {
    const rnd = prng(7);
    const values: string[] = [];
    const lines = ["timestamp,open,high,low,close,volume"];
    for (let i = 0; i < 5000; i++) {
      const v = [randomDecimal(rnd), randomDecimal(rnd), randomDecimal(rnd), randomDecimal(rnd), randomDecimal(rnd)];
      values.push(...v);
      const fields = v.map((x) => (rnd() < 0.1 ? `"${x}"` : rnd() < 0.1 ? ` ${x} ` : x));
      lines.push(`${1704187815000 + i},${fields.join(",")}`);
    }
    const f = parse(lines.join("\n"));
    expect(f.rejected).toEqual([]);
    const got = f.rows.flatMap((r) => r.v);
    for (let i = 0; i < values.length; i++) {
      if (!Object.is(got[i], Number(values[i]))) expect(`${values[i]} -> ${got[i]}`).toBe(`${values[i]} -> ${Number(values[i])}`);
    }
  });

  it("handles signs, spaces, quotes, exponents and rejects non-numbers", () => {
    const p = (s: string) => {
      const b = Buffer.from(s);
      return parseDecimal(b, 0, b.length);
    };
    expect(p("16800.25")).toBe(16800.25);
    expect(p(" -1.5 ")).toBe(-1.5);
    expect(p("+2")).toBe(2);
    expect(p('"3.25"')).toBe(3.25);
    expect(p("1e3")).toBe(1000);
    expect(p("1.5E-2")).toBe(0.015);
    expect(p(".5")).toBe(0.5);
    expect(p("5.")).toBe(5);
    expect(p("12345678901234567890")).toBe(12345678901234567890);
    expect(p("0.1000000000000000055511151231257827")).toBe(0.1);
    for (const bad of ["", " ", "abc", "1.2.3", "1,5", "NaN", "Infinity", "-", ".", "1e", "1e+", "0x10", "1e999", "12a", "--1"]) {
      expect(p(bad), bad).toBeNaN();
    }
  });

  it("rejects rows with empty or non-numeric price fields, naming the column", () => {
    const f = parse("timestamp,open,high,low,close\n2024-01-02,1,,1,1\n2024-01-02,1,1,1,NaN\n2024-01-02,1,1,1,1e999\n");
    expect(f.rows).toEqual([]);
    expect(f.rejected.map((r) => [r.reason, r.detail])).toEqual([
      ["unparsable_row", 'high is not a number: ""'],
      ["unparsable_row", 'close is not a number: "NaN"'],
      ["unparsable_row", 'close is not a number: "1e999"'],
    ]);
  });
});
