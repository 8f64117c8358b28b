/**
 * Streaming CSV reader for market data (bars, quote ticks, trade ticks) in the
 * common vendor layouts. Hot path of the importer: it works on bytes, creates no
 * string per field (only for rows it rejects, or numbers it cannot parse exactly
 * on the fast path) and converts local times with a per-day offset cache instead
 * of calling Intl per row.
 *
 * Rows come out in FILE order; sorting and price sanity checks belong to the
 * caller (the firewall). Every non-blank data line becomes either a parsed row
 * or a RejectedRow.
 *
 * Pure: no I/O besides what the caller feeds in. Node built-ins only.
 */
import { Buffer } from "node:buffer";
import type { BarColumns } from "./types";
import { tzOffset, zoneFormatter } from "./tz";

export type CsvKind = "bars" | "quotes" | "trades";

/** Layout problems (bad header, unknown zone, not a CSV): thrown before any row is returned. */
export class CsvFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CsvFormatError";
  }
}

export interface CsvLayout {
  kind: CsvKind;
  delimiter: string;
  /** Header names as found (trimmed, unquoted, original case). */
  columns: string[];
  /** 1 name, or 2 (date + time) when the timestamp is split across two columns. */
  timestampColumns: string[];
  /**
   * Field index per role. Always `timestamp` (single column) or `date` + `time`;
   * bars: open, high, low, close, volume?; quotes: bid, ask; trades: price, size,
   * and side? or is_buyer_maker? (Binance: true means the aggressor sold).
   */
  mapping: Record<string, number>;
  hasVolume: boolean;
}

export interface ParseOptions {
  /** IANA zone for timestamps without offset; default "UTC". */
  timeZone?: string;
  /** Default: auto-detect from the header. */
  kind?: CsvKind;
  /** Maximum rows (parsed + rejected) per batch; default 65536. */
  batchRows?: number;
  /**
   * Reuse the arrays of returned batches: a batch is then valid only until the
   * next push()/end() call. For consumers that copy each batch out at once
   * (it saves allocating and collecting a batch per 64k rows).
   */
  reuseBatches?: boolean;
  /**
   * With reuseBatches: called once a chunk passed to push() is referenced by
   * no batch any more, so the caller may read the next chunk into it.
   */
  onChunkReleased?: (chunk: Buffer) => void;
}

export interface RejectedRow {
  line: number;
  raw: string;
  reason: "unparsable_row" | "unparsable_timestamp";
  detail: string;
}

export interface BatchBase {
  /** 1-based file line of each parsed row (header = line 1). */
  lines: Int32Array;
  rejected: RejectedRow[];
  /** Cumulative bytes of the source consumed when this batch was cut. */
  bytesRead: number;
  /** Raw text of parsed row i, without the line ending. */
  raw(i: number): string;
  /** The layout the file was read with (same object for every batch of a stream). */
  layout: CsvLayout;
}
export interface BarBatch extends BatchBase {
  kind: "bars";
  bars: BarColumns;
}
export interface QuoteBatch extends BatchBase {
  kind: "quotes";
  length: number;
  ts: Float64Array;
  bid: Float64Array;
  ask: Float64Array;
}
export interface TradeBatch extends BatchBase {
  kind: "trades";
  length: number;
  ts: Float64Array;
  price: Float64Array;
  size: Float64Array;
  /** 1 buy, -1 sell, 0 unknown (aggressor side). */
  side: Int8Array;
}
export type ParsedBatch = BarBatch | QuoteBatch | TradeBatch;

const DEFAULT_BATCH_ROWS = 65536;

// ---------------------------------------------------------------------------
// Header detection
// ---------------------------------------------------------------------------

/** Timestamp names preferred over date/time, in priority order. */
const TS_PRIMARY = [
  "timestamp",
  "timestamp_utc",
  "open_time",
  "datetime",
  "date_time",
  "datetime_utc",
  "date_time_utc",
  "ts",
  "ts_event",
  "gmt_time",
  "time_utc",
  "transact_time",
  "ts_recv",
  "local_time",
];
const TS_DATE = ["date", "day", "trade_date"];
const TS_TIME = ["time"];

const BAR_ALIASES = {
  open: ["open", "o", "open_price", "openprice", "price_open"],
  high: ["high", "h", "high_price", "highprice", "price_high", "max"],
  low: ["low", "l", "low_price", "lowprice", "price_low", "min"],
  close: ["close", "c", "close_price", "closeprice", "price_close", "last"],
} as const;
const VOLUME_ALIASES = ["volume", "vol", "v", "volume_base", "base_volume", "tickvol", "tick_volume", "total_volume"];
const QUOTE_ALIASES = {
  bid: ["bid", "bid_price", "bidprice", "best_bid", "bid_px", "bid_px_00"],
  ask: ["ask", "ask_price", "askprice", "best_ask", "ask_px", "ask_px_00", "offer"],
} as const;
const TRADE_ALIASES = {
  price: ["price", "last", "last_price", "trade_price", "px"],
  size: ["size", "qty", "quantity", "amount", "volume", "last_size", "trade_size", "vol"],
} as const;
const SIDE_ALIASES = ["side", "aggressor", "aggressor_side", "taker_side"];
const BUYER_MAKER_ALIASES = ["is_buyer_maker", "isbuyermaker", "buyer_maker"];

function splitHeader(line: string, delim: string): string[] {
  const out: string[] = [];
  let cur = "";
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '"') q = !q;
    else if (ch === delim && !q) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function cleanName(raw: string): string {
  return raw.trim().replace(/^["']+|["']+$/g, "").trim();
}

/** Lower case, `<DATE>` -> `date`, inner spaces/hyphens/dots -> `_`. */
function normName(clean: string): string {
  return clean
    .toLowerCase()
    .replace(/^<(.*)>$/, "$1")
    .trim()
    .replace(/[\s\-.]+/g, "_");
}

function detectDelimiter(line: string): string {
  const counts = new Map<string, number>([
    [",", 0],
    [";", 0],
    ["\t", 0],
    ["|", 0],
  ]);
  let q = false;
  for (const ch of line) {
    if (ch === '"') q = !q;
    else if (!q && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ",";
  let bestN = 0;
  for (const [d, n] of counts) {
    if (n > bestN) {
      best = d;
      bestN = n;
    }
  }
  return best;
}

function findFirst(names: string[], aliases: readonly string[]): number {
  for (const a of aliases) {
    const i = names.indexOf(a);
    if (i >= 0) return i;
  }
  return -1;
}

const EXPECTED =
  "expected a timestamp column (timestamp, timestamp_utc, open_time, datetime, date, time) and open/high/low/close, bid/ask or price/size";

/**
 * Recognise a header line: delimiter, timestamp column(s), and the columns for
 * `kind` (auto-detected when omitted: bars, else quotes, else trades).
 */
export function detectLayout(headerLine: string, kind?: CsvKind): CsvLayout {
  let line = headerLine;
  if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
  line = line.replace(/[\r\n]+$/, "");
  const delimiter = detectDelimiter(line);
  const columns = splitHeader(line, delimiter).map(cleanName);
  const names = columns.map(normName);
  const found = columns.length > 0 && columns.some((c) => c !== "") ? columns.join(", ") : "(nothing)";
  const looksLikeData = /^\s*["']?[+-]?\d/.test(columns[0] ?? "");
  const noHeader = (why: string): CsvFormatError =>
    new CsvFormatError(
      `no recognizable header: ${why}; found: ${found}` +
        (looksLikeData ? " (the first line looks like data: files without a header line are not supported)" : ""),
    );

  // Columns present per kind.
  const bar = {
    open: findFirst(names, BAR_ALIASES.open),
    high: findFirst(names, BAR_ALIASES.high),
    low: findFirst(names, BAR_ALIASES.low),
    close: findFirst(names, BAR_ALIASES.close),
  };
  const quote = { bid: findFirst(names, QUOTE_ALIASES.bid), ask: findFirst(names, QUOTE_ALIASES.ask) };
  const trade = { price: findFirst(names, TRADE_ALIASES.price), size: findFirst(names, TRADE_ALIASES.size) };
  const hasBars = bar.open >= 0 && bar.high >= 0 && bar.low >= 0 && bar.close >= 0;
  const hasQuotes = quote.bid >= 0 && quote.ask >= 0;
  const hasTrades = trade.price >= 0 && trade.size >= 0;

  // Timestamp column(s).
  const mapping: Record<string, number> = {};
  const timestampColumns: string[] = [];
  const primary = findFirst(names, TS_PRIMARY);
  const dateCol = findFirst(names, TS_DATE);
  const timeCol = findFirst(names, TS_TIME);
  if (primary >= 0) {
    mapping.timestamp = primary;
    timestampColumns.push(columns[primary]!);
  } else if (dateCol >= 0 && timeCol >= 0) {
    mapping.date = dateCol;
    mapping.time = timeCol;
    timestampColumns.push(columns[dateCol]!, columns[timeCol]!);
  } else if (dateCol >= 0 || timeCol >= 0) {
    const i = dateCol >= 0 ? dateCol : timeCol;
    mapping.timestamp = i;
    timestampColumns.push(columns[i]!);
  }

  let k: CsvKind;
  if (kind) k = kind;
  else if (hasBars) k = "bars";
  else if (hasQuotes) k = "quotes";
  else if (hasTrades) k = "trades";
  else throw noHeader(EXPECTED);

  if (timestampColumns.length === 0) {
    throw noHeader("expected a timestamp column (timestamp, timestamp_utc, open_time, datetime, date, time, ts)");
  }

  const looksLike = hasBars ? "bars (open/high/low/close)" : hasQuotes ? "quotes (bid/ask)" : hasTrades ? "trades (price/size)" : "";
  const wrongKind = (why: string): CsvFormatError =>
    noHeader(looksLike && kind ? `${why}; the header looks like ${looksLike}, not ${kind}` : why);

  let hasVolume = false;
  if (k === "bars") {
    const missing = (Object.keys(bar) as (keyof typeof bar)[]).filter((n) => bar[n] < 0);
    if (missing.length) throw wrongKind(`a bars file needs open, high, low and close columns, missing ${missing.join(", ")}`);
    Object.assign(mapping, bar);
    const vol = findFirst(names, VOLUME_ALIASES);
    if (vol >= 0) {
      mapping.volume = vol;
      hasVolume = true;
    }
  } else if (k === "quotes") {
    const missing = (Object.keys(quote) as (keyof typeof quote)[]).filter((n) => quote[n] < 0);
    if (missing.length) throw wrongKind(`a quotes file needs bid and ask columns, missing ${missing.join(", ")}`);
    Object.assign(mapping, quote);
  } else {
    const missing = (Object.keys(trade) as (keyof typeof trade)[]).filter((n) => trade[n] < 0);
    if (missing.length) throw wrongKind(`a trades file needs price and size columns, missing ${missing.join(", ")}`);
    Object.assign(mapping, trade);
    hasVolume = true;
    const side = findFirst(names, SIDE_ALIASES);
    const maker = findFirst(names, BUYER_MAKER_ALIASES);
    if (side >= 0) mapping.side = side;
    else if (maker >= 0) mapping.is_buyer_maker = maker;
  }
  return { kind: k, delimiter, columns, timestampColumns, mapping, hasVolume };
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

const POW10 = new Float64Array(23);
for (let i = 0, p = 1; i < 23; i++, p *= 10) POW10[i] = p;

function latin1(b: Buffer, s: number, e: number): string {
  return b.toString("latin1", s, e);
}

/**
 * Decimal number in b[s, e): surrounding spaces/tabs/double quotes allowed,
 * leading +/-, fraction, exponent. NaN when empty or not a number.
 * Fast path: <= 15 significant digits and <= 22 fraction digits gives
 * mantissa / 10^scale, which is correctly rounded and so equal to Number(text).
 */
export function parseDecimal(b: Buffer, s: number, e: number): number {
  let c = b[s];
  while (s < e && (c === 32 || c === 34 || c === 9)) c = b[++s];
  c = b[e - 1];
  while (e > s && (c === 32 || c === 34 || c === 9)) c = b[--e - 1];
  if (s >= e) return NaN;
  const s0 = s;
  let neg = false;
  c = b[s];
  if (c === 45) {
    neg = true;
    s++;
  } else if (c === 43) s++;
  let m = 0;
  let sig = 0;
  let scale = 0;
  let dot = false;
  let any = false;
  for (; s < e; s++) {
    const d = b[s]! - 48;
    if (d >= 0 && d <= 9) {
      any = true;
      if (sig !== 0 || d !== 0) sig++;
      m = m * 10 + d;
      if (dot) scale++;
    } else if (d === -2 && !dot) {
      dot = true; // '.'
    } else if ((d === 53 || d === 21) && any) {
      // 'e' / 'E': exponent, validate then let Number() do the rounding
      let p = s + 1;
      if (p < e && (b[p] === 43 || b[p] === 45)) p++;
      if (p >= e) return NaN;
      for (; p < e; p++) {
        const x = b[p]! - 48;
        if (x < 0 || x > 9) return NaN;
      }
      const v = Number(latin1(b, s0, e));
      return v === Infinity || v === -Infinity ? NaN : v;
    } else return NaN;
  }
  if (!any) return NaN;
  if (sig <= 15 && scale <= 22) {
    const v = scale === 0 ? m : m / POW10[scale]!;
    return neg ? -v : v;
  }
  const v = Number(latin1(b, s0, e));
  return v === Infinity || v === -Infinity ? NaN : v;
}

function isBlankField(b: Buffer, s: number, e: number): boolean {
  for (; s < e; s++) {
    const c = b[s];
    if (c !== 32 && c !== 9 && c !== 34) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------

const TS_BAD = -1;
/** Absolute instant: epoch number or explicit offset/Z. */
const TS_ABS = 0;
/** Wall-clock time without offset: convert from the stream's zone. */
const TS_LOCAL = 1;
/** Date only: 00:00 UTC of that date, never shifted. */
const TS_DATEONLY = 2;

const DAY_MS = 86_400_000;

// Scratch results (no allocation per row).
let R_MS = 0;
let R_ERR = "";
let SV = 0;
let SN = 0;

const ERR_FORMAT = "is not a recognized date/time";
const ERR_DATE = "is not a valid calendar date";
const ERR_TIME = "has an invalid time of day";
const ERR_OFFSET = "has an invalid UTC offset";
const ERR_EPOCH = "is an epoch number out of range";
const ERR_EMPTY = "is empty";

function digits(b: Buffer, p: number, e: number): number {
  let v = 0;
  let n = 0;
  while (p < e) {
    const d = b[p]! - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    p++;
    n++;
  }
  SV = v;
  SN = n;
  return p;
}

const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  if (d <= MONTH_DAYS[m]!) return true;
  return m === 2 && d === 29 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
function daysFromCivil(y: number, m: number, d: number): number {
  if (m <= 2) y -= 1;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

// Last date -> days memo (consecutive rows mostly share the date).
let memoY = -1;
let memoM = -1;
let memoD = -1;
let memoDays = 0;
function days(y: number, m: number, d: number): number {
  if (y === memoY && m === memoM && d === memoD) return memoDays;
  memoY = y;
  memoM = m;
  memoD = d;
  memoDays = daysFromCivil(y, m, d);
  return memoDays;
}

/** Epoch number in b[s, e) (integer digits [s, ie), fraction after '.'): unit by magnitude. */
function parseEpoch(b: Buffer, s: number, ie: number, e: number): number {
  const n = ie - s;
  let v = 0;
  for (let p = s; p < ie; p++) v = v * 10 + (b[p]! - 48);
  if (n > 20) {
    R_ERR = ERR_EPOCH;
    return TS_BAD;
  }
  // Fraction digits of the unit.
  let frac = 0;
  if (ie < e) {
    let scale = 1;
    for (let p = ie + 1; p < e && scale < 1e15; p++) {
      frac = frac * 10 + (b[p]! - 48);
      scale *= 10;
    }
    frac /= scale;
  }
  if (v <= 1e11) {
    // seconds: split the fraction to keep whole milliseconds exact
    let ms = 0;
    let sub = 0;
    let subScale = 1;
    if (ie < e) {
      let k = 0;
      for (let p = ie + 1; p < e; p++, k++) {
        const d = b[p]! - 48;
        if (k < 3) ms = ms * 10 + d;
        else if (k < 12) {
          sub = sub * 10 + d;
          subScale *= 10;
        }
      }
      if (k < 3) ms *= POW10[3 - k]!;
    }
    R_MS = v * 1000 + ms + sub / subScale;
  } else if (v <= 1e14) {
    R_MS = v + frac;
  } else if (v <= 1e17) {
    // microseconds: whole ms from the leading digits (exact), rest as fraction
    let hi = 0;
    for (let p = s; p < ie - 3; p++) hi = hi * 10 + (b[p]! - 48);
    const lo = (b[ie - 3]! - 48) * 100 + (b[ie - 2]! - 48) * 10 + (b[ie - 1]! - 48);
    R_MS = hi + (lo + frac) / 1000;
  } else {
    let hi = 0;
    for (let p = s; p < ie - 6; p++) hi = hi * 10 + (b[p]! - 48);
    let lo = 0;
    for (let p = ie - 6; p < ie; p++) lo = lo * 10 + (b[p]! - 48);
    R_MS = hi + lo / 1e6;
  }
  return TS_ABS;
}

/**
 * Time of day at b[p, e): `H:MM[:SS[.f]]` or `HHMM[SS[.f]]`, optional AM/PM,
 * optional `Z`, `UTC`, `GMT`, `+HH:MM`, `+HHMM`, `+HH`. Adds to `base` (ms of the
 * date) and returns TS_LOCAL or TS_ABS with R_MS set.
 */
function parseTimePart(b: Buffer, p: number, e: number, base: number): number {
  p = digits(b, p, e);
  let h = 0;
  let mi = 0;
  let sec = 0;
  if (SN === 1 || SN === 2) {
    h = SV;
    if (p >= e || b[p] !== 58) {
      R_ERR = ERR_FORMAT;
      return TS_BAD;
    }
    p = digits(b, p + 1, e);
    if (SN !== 2) {
      R_ERR = ERR_FORMAT;
      return TS_BAD;
    }
    mi = SV;
    if (b[p] === 58 && p < e) {
      p = digits(b, p + 1, e);
      if (SN !== 2) {
        R_ERR = ERR_FORMAT;
        return TS_BAD;
      }
      sec = SV;
    }
  } else if (SN === 4) {
    h = Math.floor(SV / 100);
    mi = SV % 100;
  } else if (SN === 6) {
    h = Math.floor(SV / 10000);
    mi = Math.floor(SV / 100) % 100;
    sec = SV % 100;
  } else {
    R_ERR = ERR_FORMAT;
    return TS_BAD;
  }
  let fracMs = 0;
  if (p < e && (b[p] === 46 || b[p] === 44)) {
    p++;
    let k = 0;
    let ms = 0;
    let sub = 0;
    let subScale = 1;
    while (p < e) {
      const d = b[p]! - 48;
      if (d < 0 || d > 9) break;
      if (k < 3) ms = ms * 10 + d;
      else if (k < 12) {
        sub = sub * 10 + d;
        subScale *= 10;
      }
      k++;
      p++;
    }
    if (k === 0) {
      R_ERR = ERR_FORMAT;
      return TS_BAD;
    }
    if (k < 3) ms *= POW10[3 - k]!;
    fracMs = ms + sub / subScale;
  }
  while (p < e && b[p] === 32) p++;
  // AM / PM
  if (p + 1 < e && ((b[p]! | 32) === 97 || (b[p]! | 32) === 112) && (b[p + 1]! | 32) === 109) {
    if (h < 1 || h > 12) {
      R_ERR = ERR_TIME;
      return TS_BAD;
    }
    h = (h % 12) + ((b[p]! | 32) === 112 ? 12 : 0);
    p += 2;
    while (p < e && b[p] === 32) p++;
  }
  if (h > 23 || mi > 59 || sec > 59) {
    R_ERR = ERR_TIME;
    return TS_BAD;
  }
  const wall = base + h * 3_600_000 + mi * 60_000 + sec * 1000 + fracMs;
  if (p === e) {
    R_MS = wall;
    return TS_LOCAL;
  }
  // Offset.
  let c = b[p]!;
  let off = 0;
  if (c === 90 || c === 122) {
    p++; // Z
  } else if (
    p + 2 < e &&
    (((c | 32) === 117 && (b[p + 1]! | 32) === 116 && (b[p + 2]! | 32) === 99) ||
      ((c | 32) === 103 && (b[p + 1]! | 32) === 109 && (b[p + 2]! | 32) === 116))
  ) {
    p += 3; // UTC / GMT
    c = b[p] ?? 0;
  }
  if (p < e && (c === 43 || c === 45)) {
    const sign = c === 45 ? -1 : 1;
    p = digits(b, p + 1, e);
    const on = SN as number; // (TS keeps an earlier narrowing of SN across the call)
    let oh: number;
    let om = 0;
    if (on === 1 || on === 2) {
      oh = SV;
      if (p < e && b[p] === 58) {
        p = digits(b, p + 1, e);
        if (SN !== 2) {
          R_ERR = ERR_OFFSET;
          return TS_BAD;
        }
        om = SV;
      }
    } else if (on === 4) {
      oh = Math.floor(SV / 100);
      om = SV % 100;
    } else {
      R_ERR = ERR_OFFSET;
      return TS_BAD;
    }
    if (oh > 18 || om > 59) {
      R_ERR = ERR_OFFSET;
      return TS_BAD;
    }
    off = sign * (oh * 3_600_000 + om * 60_000);
  }
  if (p !== e) {
    R_ERR = ERR_FORMAT;
    return TS_BAD;
  }
  R_MS = wall - off;
  return TS_ABS;
}

/** Two ASCII digits at b[i], or -1. */
function d2(b: Buffer, i: number): number {
  const x = b[i]! - 48;
  const y = b[i + 1]! - 48;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

function trimStart(b: Buffer, s: number, e: number): number {
  while (s < e) {
    const c = b[s];
    if (c === 32 || c === 34 || c === 9) s++;
    else break;
  }
  return s;
}
function trimEnd(b: Buffer, s: number, e: number): number {
  while (e > s) {
    const c = b[e - 1];
    if (c === 32 || c === 34 || c === 9) e--;
    else break;
  }
  return e;
}

/**
 * Date part at b[s, e): YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD, MM/DD/YYYY,
 * DD.MM.YYYY. Sets SV to days since epoch and returns the position after it, or -1.
 */
function parseDatePart(b: Buffer, s: number, e: number): number {
  let p = digits(b, s, e);
  const n1 = SN;
  const v1 = SV;
  const sep = p < e ? b[p]! : 0;
  let y: number;
  let mo: number;
  let d: number;
  if (n1 === 4 && (sep === 45 || sep === 47 || sep === 46)) {
    y = v1;
    p = digits(b, p + 1, e);
    if (SN < 1 || SN > 2 || b[p] !== sep || p >= e) {
      R_ERR = ERR_FORMAT;
      return -1;
    }
    mo = SV;
    p = digits(b, p + 1, e);
    if (SN < 1 || SN > 2) {
      R_ERR = ERR_FORMAT;
      return -1;
    }
    d = SV;
  } else if (n1 === 8) {
    y = Math.floor(v1 / 10000);
    mo = Math.floor(v1 / 100) % 100;
    d = v1 % 100;
  } else if ((n1 === 1 || n1 === 2) && (sep === 47 || sep === 46)) {
    p = digits(b, p + 1, e);
    if (SN < 1 || SN > 2 || b[p] !== sep || p >= e) {
      R_ERR = ERR_FORMAT;
      return -1;
    }
    const v2 = SV;
    p = digits(b, p + 1, e);
    if (SN !== 4) {
      R_ERR = ERR_FORMAT;
      return -1;
    }
    y = SV;
    if (sep === 47) {
      mo = v1; // US: MM/DD/YYYY
      d = v2;
    } else {
      d = v1; // European: DD.MM.YYYY
      mo = v2;
    }
  } else {
    R_ERR = ERR_FORMAT;
    return -1;
  }
  if (!validDate(y, mo, d)) {
    R_ERR = ERR_DATE;
    return -1;
  }
  SV = days(y, mo, d);
  return p;
}

/** One timestamp field. Returns TS_* with R_MS set, or TS_BAD with R_ERR. */
let LAST_DATE_KEY = -1;
let LAST_DAY_MS = 0;

function parseTimestamp(b: Buffer, s: number, e: number): number {
  s = trimStart(b, s, e);
  e = trimEnd(b, s, e);
  if (s >= e) {
    R_ERR = ERR_EMPTY;
    return TS_BAD;
  }
  // Fast path: exactly "YYYY-MM-DD HH:MM:SS" (or with T).
  if (e - s === 19 && b[s + 4] === 45 && b[s + 7] === 45 && b[s + 13] === 58 && b[s + 16] === 58) {
    const t = b[s + 10];
    if (t === 32 || t === 84) {
      const y = d2(b, s) * 100 + d2(b, s + 2);
      const mo = d2(b, s + 5);
      const d = d2(b, s + 8);
      const h = d2(b, s + 11);
      const mi = d2(b, s + 14);
      const sec = d2(b, s + 17);
      if (y >= 0 && mo >= 0 && d >= 0 && h >= 0 && h < 24 && mi >= 0 && mi < 60 && sec >= 0 && sec < 60) {
        // consecutive rows mostly share the date: reuse its day number
        const key = y * 10000 + mo * 100 + d;
        if (key !== LAST_DATE_KEY && validDate(y, mo, d)) {
          LAST_DATE_KEY = key;
          LAST_DAY_MS = days(y, mo, d) * DAY_MS;
        }
        if (key === LAST_DATE_KEY) {
          R_MS = LAST_DAY_MS + h * 3_600_000 + mi * 60_000 + sec * 1000;
          return TS_LOCAL;
        }
        // an invalid date: the general path below reports the problem
      }
      // otherwise the general path below reports the problem
    }
  }
  // Pure number (optionally with a fraction): epoch, unless it is a YYYYMMDD date.
  const ie = digits(b, s, e);
  const n1 = SN;
  if (n1 === 0) {
    R_ERR = ERR_FORMAT;
    return TS_BAD;
  }
  if (ie === e) {
    if (n1 === 8) {
      const v = SV;
      const y = Math.floor(v / 10000);
      if (y >= 1900 && y <= 2200) {
        if (parseDatePart(b, s, e) < 0) return TS_BAD;
        R_MS = SV * DAY_MS;
        return TS_DATEONLY;
      }
    }
    return parseEpoch(b, s, ie, e);
  }
  if (b[ie] === 46 && n1 > 2 && n1 !== 4 && digits(b, ie + 1, e) === e && SN > 0) {
    return parseEpoch(b, s, ie, e);
  }
  let p = parseDatePart(b, s, e);
  if (p < 0) return TS_BAD;
  const base = SV * DAY_MS;
  if (p === e) {
    R_MS = base;
    return TS_DATEONLY;
  }
  const c = b[p];
  if (c === 84 || c === 116) p++;
  else if (c === 32) {
    while (p < e && b[p] === 32) p++;
  } else {
    R_ERR = ERR_FORMAT;
    return TS_BAD;
  }
  return parseTimePart(b, p, e, base);
}

/** Date in one column, time of day in another. */
function parseDateAndTime(b: Buffer, ds: number, de: number, ts: number, te: number): number {
  ds = trimStart(b, ds, de);
  de = trimEnd(b, ds, de);
  ts = trimStart(b, ts, te);
  te = trimEnd(b, ts, te);
  if (ds >= de) {
    R_ERR = ERR_EMPTY;
    return TS_BAD;
  }
  const p = parseDatePart(b, ds, de);
  if (p < 0) return TS_BAD;
  if (p !== de) {
    // The date column holds a full timestamp already: use it when the time column is empty.
    if (ts < te) {
      R_ERR = ERR_FORMAT;
      return TS_BAD;
    }
    return parseTimestamp(b, ds, de);
  }
  const base = SV * DAY_MS;
  if (ts >= te) {
    R_MS = base;
    return TS_DATEONLY;
  }
  return parseTimePart(b, ts, te, base);
}

// ---------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------

/** Throws CsvFormatError for a zone Intl does not know. */
export function validateTimeZone(tz: string): void {
  try {
    if (typeof tz !== "string" || tz.trim() === "") throw new RangeError("empty");
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch {
    throw new CsvFormatError(`unknown time zone "${String(tz)}"`);
  }
}

const UTC_IDS = new Set(["UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu", "Etc/UCT", "UCT"]);

interface DayZone {
  /** Offset (local - UTC, ms) before the transition, and after it. */
  before: number;
  after: number;
  /** UTC instant (ms) of the transition; irrelevant when before === after. */
  at: number;
}

/**
 * Local wall time -> UTC for one IANA zone. Offsets come from Intl once per local
 * day (two calls, plus a binary search on the rare days around a transition) and
 * are cached; converting a row is then arithmetic.
 */
export class ZoneConverter {
  readonly zone: string;
  private readonly cache = new Map<number, DayZone>();
  private day = NaN;
  private before = 0;
  private after = 0;
  private at = 0;
  /** Set by toUtc when the local time was ambiguous (fall-back hour). */
  ambiguous = false;

  constructor(zone: string) {
    validateTimeZone(zone);
    this.zone = zoneFormatter(zone).resolvedOptions().timeZone;
  }

  get isUtc(): boolean {
    return UTC_IDS.has(this.zone);
  }

  /** Offset local - UTC in ms at UTC instant u (whole seconds). */
  offsetAt(u: number): number {
    return tzOffset(this.zone, u);
  }

  private load(day: number): void {
    let z = this.cache.get(day);
    if (!z) {
      // Candidates for any local time of this day lie within [d0 - 16h, d0 + 40h] (|offset| <= 16h).
      const a = day * DAY_MS - 16 * 3_600_000;
      const b = (day + 1) * DAY_MS + 16 * 3_600_000;
      const before = this.offsetAt(a);
      const after = this.offsetAt(b);
      let at = 0;
      if (before !== after) {
        let lo = a / 1000;
        let hi = b / 1000;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (this.offsetAt(mid * 1000) === before) lo = mid;
          else hi = mid;
        }
        at = hi * 1000;
      }
      z = { before, after, at };
      if (this.cache.size > 200_000) this.cache.clear();
      this.cache.set(day, z);
    }
    this.day = day;
    this.before = z.before;
    this.after = z.after;
    this.at = z.at;
  }

  /**
   * UTC ms of a local wall time (given as ms "as if UTC"). NaN when the local time
   * does not exist (spring-forward gap). Ambiguous times (fall-back) give the
   * earlier instant unless it is <= prev, then the later one.
   */
  toUtc(local: number, prev: number): number {
    const day = Math.floor(local / DAY_MS);
    if (day !== this.day) this.load(day);
    const before = this.before;
    if (before === this.after) {
      this.ambiguous = false;
      return local - before;
    }
    const u1 = local - before;
    const u2 = local - this.after;
    const ok1 = u1 < this.at;
    const ok2 = u2 >= this.at;
    if (ok1 && ok2) {
      this.ambiguous = true;
      const early = u1 < u2 ? u1 : u2;
      const late = u1 < u2 ? u2 : u1;
      return early <= prev ? late : early;
    }
    this.ambiguous = false;
    if (ok1) return u1;
    if (ok2) return u2;
    return NaN;
  }
}

// ---------------------------------------------------------------------------
// Streaming parser
// ---------------------------------------------------------------------------

const K_BARS = 0;
const K_QUOTES = 1;
const K_TRADES = 2;

class BatchBuilder {
  n = 0;
  rejected: RejectedRow[] = [];
  readonly lines: Int32Array;
  readonly rowBuf: Int32Array;
  readonly rowStart: Int32Array;
  readonly rowEnd: Int32Array;
  bufs: Buffer[] = [];
  /** ts first, then the numeric columns in the kind's order. */
  readonly cols: Float64Array[];
  readonly side: Int8Array | null;

  constructor(cap: number, nCols: number, withSide: boolean) {
    this.lines = new Int32Array(cap);
    this.rowBuf = new Int32Array(cap);
    this.rowStart = new Int32Array(cap);
    this.rowEnd = new Int32Array(cap);
    this.cols = [];
    for (let i = 0; i < nCols; i++) this.cols.push(new Float64Array(cap));
    this.side = withSide ? new Int8Array(cap) : null;
  }
}

/**
 * Synchronous push parser behind parseCsv / parseCsvText: feed chunks with push(),
 * then call end(); each returns the batches completed by that call.
 */
export class CsvStreamParser {
  private readonly opts: ParseOptions;
  private readonly cap: number;
  private readonly zone: ZoneConverter | null;
  private readonly zoneName: string;

  layout: CsvLayout | null = null;
  private headerText = "";
  private kindCode = K_BARS;
  private delim = 44;
  private need = 0;
  private tsIdx = -1;
  private dateIdx = -1;
  private timeIdx = -1;
  private numIdx = new Int32Array(0);
  private numNames: string[] = [];
  /** Index in numIdx of an optional column (bars volume): empty -> 0. -1 if none. */
  private optionalNum = -1;
  private sideIdx = -1;
  private sideInvert = false;
  private fs = new Int32Array(0);
  private fe = new Int32Array(0);
  /** Per field index up to `need`: column in the batch (1..) for numeric fields, 0 otherwise. */
  private roles = new Int8Array(0);

  private lineNo = 0;
  private prevTs = -Infinity;
  private totalIn = 0;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private batch: BatchBuilder | null = null;
  private out: ParsedBatch[] = [];
  private ended = false;

  constructor(opts: ParseOptions = {}) {
    this.opts = opts;
    const cap = opts.batchRows ?? DEFAULT_BATCH_ROWS;
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`batchRows must be a positive integer, got ${cap}`);
    this.cap = cap;
    const tz = opts.timeZone ?? "UTC";
    const zone = new ZoneConverter(tz); // validates
    this.zoneName = zone.zone;
    this.zone = zone.isUtc ? null : zone;
  }

  /** Feed the next chunk of the file. Returns the batches it completed. */
  push(chunk: Uint8Array): ParsedBatch[] {
    if (this.ended) throw new Error("CsvStreamParser: push after end");
    this.recycle();
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const len = buf.length;
    const before = this.totalIn;
    this.totalIn += len;
    if (len === 0) return this.take();
    let pos = 0;
    if (this.pendingLen > 0) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        this.pending.push(buf);
        this.pendingLen += len;
        this.holdPending(buf);
        return this.take();
      }
      this.pending.push(buf.subarray(0, nl + 1));
      const line = Buffer.concat(this.pending, this.pendingLen + nl + 1);
      this.pending = [];
      this.pendingLen = 0;
      this.dropPending();
      this.process(line, 0, line.length, before + nl + 1 - line.length);
      pos = nl + 1;
    }
    const last = buf.lastIndexOf(10);
    if (last >= pos) {
      this.process(buf, pos, last + 1, before);
      pos = last + 1;
    }
    if (pos < len) {
      this.pending.push(buf.subarray(pos));
      this.pendingLen += len - pos;
      this.holdPending(buf);
    }
    return this.take();
  }

  /** End of input: parses a last line without line ending and flushes the last batch. */
  end(): ParsedBatch[] {
    if (this.ended) return this.take();
    this.recycle();
    this.ended = true;
    if (this.pendingLen > 0) {
      const line = Buffer.concat(this.pending, this.pendingLen);
      this.pending = [];
      this.pendingLen = 0;
      this.dropPending();
      this.process(line, 0, line.length, this.totalIn - line.length);
    }
    if (!this.layout) throw new CsvFormatError("empty file: no header line");
    const b = this.batch;
    if (b && b.n + b.rejected.length > 0) this.flush(this.totalIn);
    return this.take();
  }

  private take(): ParsedBatch[] {
    if (this.out.length === 0) return [];
    const o = this.out;
    this.out = [];
    return o;
  }

  private setup(line: string): void {
    const layout = detectLayout(line, this.opts.kind);
    this.layout = layout;
    this.headerText = line.replace(/^\uFEFF/, "").trim();
    this.delim = layout.delimiter.charCodeAt(0);
    const m = layout.mapping;
    let names: string[];
    if (layout.kind === "bars") {
      this.kindCode = K_BARS;
      names = layout.hasVolume ? ["open", "high", "low", "close", "volume"] : ["open", "high", "low", "close"];
      this.optionalNum = layout.hasVolume ? 4 : -1;
    } else if (layout.kind === "quotes") {
      this.kindCode = K_QUOTES;
      names = ["bid", "ask"];
    } else {
      this.kindCode = K_TRADES;
      names = ["price", "size"];
      if (m.side !== undefined) this.sideIdx = m.side;
      else if (m.is_buyer_maker !== undefined) {
        this.sideIdx = m.is_buyer_maker;
        this.sideInvert = true;
      }
    }
    this.numIdx = Int32Array.from(names.map((n) => m[n]!));
    this.numNames = names.map((n) => layout.columns[m[n]!] ?? n);
    if (m.timestamp !== undefined) this.tsIdx = m.timestamp;
    else {
      this.dateIdx = m.date!;
      this.timeIdx = m.time!;
    }
    const need = Math.max(this.tsIdx, this.dateIdx, this.timeIdx, this.sideIdx, ...this.numIdx) + 1;
    this.need = need;
    this.fs = new Int32Array(need + 1);
    this.fe = new Int32Array(need + 1);
    this.roles = new Int8Array(need);
    this.numIdx.forEach((ci, j) => {
      this.roles[ci] = j + 1;
    });
    this.batch = this.newBatch();
  }

  private newBatch(): BatchBuilder {
    const spare = this.spare.pop();
    if (spare) {
      spare.n = 0;
      spare.rejected = [];
      spare.bufs = [];
      return spare;
    }
    const nCols = this.kindCode === K_BARS ? 6 : 3;
    return new BatchBuilder(this.cap, nCols, this.kindCode === K_TRADES);
  }

  /** Batches handed out since the last push (reusable from the next one when reuseBatches). */
  private handedOut: BatchBuilder[] = [];
  private spare: BatchBuilder[] = [];

  private recycle(): void {
    if (!this.opts.reuseBatches || this.handedOut.length === 0) return;
    for (const b of this.handedOut) {
      this.spare.push(b);
      this.release(b.bufs);
    }
    this.handedOut = [];
  }

  /** References to each pushed chunk from batches (only tracked with onChunkReleased). */
  private readonly refs = new Map<Buffer, number>();

  private pendingChunks: Buffer[] = [];
  private holdPending(buf: Buffer): void {
    if (!this.opts.onChunkReleased) return;
    this.retain(buf);
    this.pendingChunks.push(buf);
  }
  private dropPending(): void {
    if (this.pendingChunks.length === 0) return;
    const held = this.pendingChunks;
    this.pendingChunks = [];
    this.release(held);
  }

  private retain(buf: Buffer): void {
    if (this.opts.onChunkReleased) this.refs.set(buf, (this.refs.get(buf) ?? 0) + 1);
  }

  private release(bufs: Buffer[]): void {
    const cb = this.opts.onChunkReleased;
    if (!cb) return;
    for (const buf of bufs) {
      const n = (this.refs.get(buf) ?? 1) - 1;
      if (n > 0) this.refs.set(buf, n);
      else {
        this.refs.delete(buf);
        cb(buf);
      }
    }
  }

  private flush(bytesRead: number): void {
    const b = this.batch!;
    const layout = this.layout!;
    const n = b.n;
    const bufs = b.bufs;
    const rowBuf = b.rowBuf;
    const rowStart = b.rowStart;
    const rowEnd = b.rowEnd;
    const raw = (i: number): string => {
      if (!(i >= 0 && i < n)) throw new RangeError(`row ${i} out of range 0..${n - 1}`);
      return bufs[rowBuf[i]!]!.toString("utf8", rowStart[i]!, rowEnd[i]!);
    };
    const lines = b.lines.subarray(0, n);
    const c = b.cols.map((a) => a.subarray(0, n));
    const base = { lines, rejected: b.rejected, bytesRead, raw, layout };
    let out: ParsedBatch;
    if (this.kindCode === K_BARS) {
      out = {
        ...base,
        kind: "bars",
        bars: { length: n, ts: c[0]!, open: c[1]!, high: c[2]!, low: c[3]!, close: c[4]!, volume: c[5]! },
      };
    } else if (this.kindCode === K_QUOTES) {
      out = { ...base, kind: "quotes", length: n, ts: c[0]!, bid: c[1]!, ask: c[2]! };
    } else {
      out = { ...base, kind: "trades", length: n, ts: c[0]!, price: c[1]!, size: c[2]!, side: b.side!.subarray(0, n) };
    }
    this.out.push(out);
    if (this.opts.reuseBatches) this.handedOut.push(b);
    this.batch = this.newBatch();
  }

  private reject(buf: Buffer, ls: number, le: number, reason: RejectedRow["reason"], detail: string): void {
    const raw = buf.toString("utf8", ls, le);
    if (raw.trim() === this.headerText) {
      reason = "unparsable_row";
      detail = "header line repeated mid-file";
    }
    this.batch!.rejected.push({ line: this.lineNo, raw, reason, detail });
  }

  private fieldText(buf: Buffer, s: number, e: number): string {
    return buf.toString("utf8", trimStart(buf, s, e), trimEnd(buf, s, e));
  }

  /** Complete lines in buf[start, end); `absBase` is the stream offset of buf[0]. */
  private process(buf: Buffer, start: number, end: number, absBase: number): void {
    let p = start;
    // Header: first non-blank line.
    while (!this.layout && p < end) {
      let nl = buf.indexOf(10, p);
      if (nl < 0 || nl >= end) nl = end;
      const ls = p;
      p = nl + 1;
      this.lineNo++;
      if (this.lineNo === 1 && nl - ls >= 2) {
        const b0 = buf[ls];
        const b1 = buf[ls + 1];
        if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) {
          throw new CsvFormatError("the file is UTF-16 encoded; save it as UTF-8 (or ASCII) CSV");
        }
        if (b0 === 0x1f && b1 === 0x8b) throw new CsvFormatError("the file is gzip-compressed; decompress it first");
        if (b0 === 0x50 && b1 === 0x4b) throw new CsvFormatError("the file is a ZIP archive; extract the CSV first");
      }
      const text = buf.toString("utf8", ls, nl).replace(/^\uFEFF/, "").replace(/\r$/, "");
      if (text.trim() === "") continue;
      if (text.includes("\r")) {
        throw new CsvFormatError("the file uses CR-only line endings (old Mac format); convert it to LF or CRLF line endings");
      }
      this.setup(text);
    }
    if (!this.layout || p >= end) return;

    const zone = this.zone;
    const cap = this.cap;
    const delim = this.delim;
    const need = this.need;
    const FS = this.fs;
    const FE = this.fe;
    const tsIdx = this.tsIdx;
    const dateIdx = this.dateIdx;
    const timeIdx = this.timeIdx;
    const numIdx = this.numIdx;
    const nNum = numIdx.length;
    const optionalNum = this.optionalNum;
    const sideIdx = this.sideIdx;
    const sideInvert = this.sideInvert;
    let lineNo = this.lineNo;
    let prevTs = this.prevTs;
    let b = this.batch!;
    let cols = b.cols;
    let bufIdx = b.bufs.push(buf) - 1;
    this.retain(buf);

    // Fast path (every line in the region ends with \n, so scans cannot run off the buffer):
    // unquoted fields, plain decimals (-?digits[.digits], <= 15 digits) parsed in the same
    // pass that finds the delimiters. Anything else goes through the general path.
    const fastOk = buf[end - 1] === 10;
    const roles = this.roles;

    while (p < end) {
      const ls = p;
      const row = b.n;
      let nl = -1;
      if (fastOk) {
        let q = ls;
        for (let f = 0; ; ) {
          FS[f] = q;
          const role = roles[f]!;
          let c = buf[q]!;
          if (role > 0) {
            let neg = false;
            if (c === 45) {
              neg = true;
              c = buf[++q]!;
            }
            let m = 0;
            let n = 0;
            let scale = 0;
            let dot = 0;
            for (;;) {
              const d = c - 48;
              if (d >= 0 && d <= 9) {
                m = m * 10 + d;
                n++;
                scale += dot;
              } else if (c === 46 && dot === 0) dot = 1;
              else break;
              c = buf[++q]!;
            }
            if (n === 0 || n > 15) break;
            const v = scale === 0 ? m : m / POW10[scale]!;
            cols[role]![row] = neg ? -v : v;
          } else {
            while (c !== delim && c !== 10 && c !== 13 && c !== 34) c = buf[++q]!;
            if (c === 34) break;
          }
          FE[f] = q;
          if (++f === need) {
            if (c === 10) nl = q;
            else if (c === 13) {
              if (buf[q + 1] === 10) nl = q + 1;
            } else if (c === delim) nl = buf.indexOf(10, q);
            break;
          }
          if (c !== delim) break;
          q++;
        }
      }

      let le: number;
      let numBad = "";
      if (nl < 0) {
        // General path: quotes, spaces, exponents, long numbers, blank lines, errors.
        nl = buf.indexOf(10, p);
        if (nl < 0 || nl >= end) nl = end;
        le = nl;
        if (le > ls && buf[le - 1] === 13) le--;
        p = nl + 1;
        lineNo++;
        if (le === ls) continue;
        const c0 = buf[ls];
        if ((c0 === 32 || c0 === 9 || c0 === 13) && isBlankLine(buf, ls, le)) continue;

        let f = 0;
        let inQ = false;
        FS[0] = ls;
        for (let i = ls; i < le; i++) {
          const c = buf[i];
          if (c === delim) {
            if (!inQ) {
              FE[f] = i;
              if (++f === need) break;
              FS[f] = i + 1;
            }
          } else if (c === 34) inQ = !inQ;
        }
        if (f < need) {
          FE[f] = le;
          f++;
        }
        if (f < need) {
          this.lineNo = lineNo;
          this.reject(buf, ls, le, "unparsable_row", `expected at least ${need} fields, found ${f}`);
          if (b.n + b.rejected.length === cap) {
            this.flush(absBase + p);
            b = this.batch!;
            cols = b.cols;
            bufIdx = b.bufs.push(buf) - 1;
        this.retain(buf);
            this.retain(buf);
          }
          continue;
        }
        for (let j = 0; j < nNum; j++) {
          const ci = numIdx[j]!;
          const v = parseDecimal(buf, FS[ci]!, FE[ci]!);
          if (v !== v) {
            if (j === optionalNum && isBlankField(buf, FS[ci]!, FE[ci]!)) {
              cols[j + 1]![row] = 0;
              continue;
            }
            numBad = `${this.numNames[j]} is not a number: "${this.fieldText(buf, FS[ci]!, FE[ci]!)}"`;
            break;
          }
          cols[j + 1]![row] = v;
        }
      } else {
        le = nl;
        if (buf[le - 1] === 13) le--;
        p = nl + 1;
        lineNo++;
      }

      // Timestamp.
      let kind: number;
      if (tsIdx >= 0) kind = parseTimestamp(buf, FS[tsIdx]!, FE[tsIdx]!);
      else kind = parseDateAndTime(buf, FS[dateIdx]!, FE[dateIdx]!, FS[timeIdx]!, FE[timeIdx]!);
      let ts = R_MS;
      let bad = "";
      let reason: RejectedRow["reason"] = "unparsable_timestamp";
      if (kind === TS_BAD) {
        bad = `${this.tsLabel()} ${R_ERR}: "${this.tsText(buf)}"`;
      } else if (kind === TS_LOCAL && zone !== null) {
        ts = zone.toUtc(ts, prevTs);
        if (ts !== ts) {
          bad = `local time "${this.tsText(buf)}" does not exist in ${this.zoneName} (skipped by a daylight-saving change)`;
        }
      }
      if (bad === "" && numBad !== "") {
        bad = numBad;
        reason = "unparsable_row";
      }
      if (bad === "") {
        cols[0]![row] = ts;
        if (sideIdx >= 0) {
          b.side![row] = sideInvert
            ? parseBuyerMaker(buf, FS[sideIdx]!, FE[sideIdx]!)
            : parseSide(buf, FS[sideIdx]!, FE[sideIdx]!);
        }
        b.lines[row] = lineNo;
        b.rowBuf[row] = bufIdx;
        b.rowStart[row] = ls;
        b.rowEnd[row] = le;
        b.n = row + 1;
        prevTs = ts;
      } else {
        this.lineNo = lineNo;
        this.reject(buf, ls, le, reason, bad);
      }
      if (b.n + b.rejected.length === cap) {
        this.flush(absBase + p);
        b = this.batch!;
        cols = b.cols;
        bufIdx = b.bufs.push(buf) - 1;
        this.retain(buf);
      }
    }
    this.lineNo = lineNo;
    this.prevTs = prevTs;
  }

  private tsLabel(): string {
    return this.layout!.timestampColumns.join(" + ");
  }

  /** Text of the timestamp field(s) of the current row (fields still in fs/fe). */
  private tsText(buf: Buffer): string {
    if (this.tsIdx >= 0) return this.fieldText(buf, this.fs[this.tsIdx]!, this.fe[this.tsIdx]!);
    const d = this.fieldText(buf, this.fs[this.dateIdx]!, this.fe[this.dateIdx]!);
    const t = this.fieldText(buf, this.fs[this.timeIdx]!, this.fe[this.timeIdx]!);
    return t === "" ? d : `${d} ${t}`;
  }
}

function isBlankLine(b: Buffer, s: number, e: number): boolean {
  for (; s < e; s++) {
    const c = b[s];
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Aggressor side column: "buy", "b", "1", "+1" -> 1; "sell", "s", "-1" -> -1; anything else ("", "n", "bid", "ask", "0") -> 0. */
function parseSide(b: Buffer, s: number, e: number): number {
  s = trimStart(b, s, e);
  e = trimEnd(b, s, e);
  const n = e - s;
  if (n === 0 || n > 4) return 0;
  const c0 = b[s]! | 32;
  if (n === 1) {
    if (c0 === 98 || b[s] === 49) return 1; // b, 1
    if (c0 === 115) return -1; // s
    return 0;
  }
  if (n === 2) {
    if (b[s] === 45 && b[s + 1] === 49) return -1; // -1
    if (b[s] === 43 && b[s + 1] === 49) return 1; // +1
    return 0;
  }
  const c1 = b[s + 1]! | 32;
  const c2 = b[s + 2]! | 32;
  if (n === 3) return c0 === 98 && c1 === 117 && c2 === 121 ? 1 : 0; // buy
  const c3 = b[s + 3]! | 32;
  return c0 === 115 && c1 === 101 && c2 === 108 && c3 === 108 ? -1 : 0; // sell
}

/** Binance is_buyer_maker: "true"/"t"/"1" -> -1 (the aggressor sold), "false"/"f"/"0" -> 1, else 0. */
function parseBuyerMaker(b: Buffer, s: number, e: number): number {
  s = trimStart(b, s, e);
  e = trimEnd(b, s, e);
  const n = e - s;
  if (n === 0) return 0;
  const c0 = b[s]! | 32;
  if (n === 1) {
    if (c0 === 116 || b[s] === 49) return -1;
    if (c0 === 102 || b[s] === 48) return 1;
    return 0;
  }
  const word = b.toString("latin1", s, e).toLowerCase();
  return word === "true" ? -1 : word === "false" ? 1 : 0;
}

/**
 * Stream a CSV file into batches of parsed rows (file order). Throws CsvFormatError
 * for a bad header or time zone before yielding anything.
 */
export async function* parseCsv(source: AsyncIterable<Uint8Array>, opts: ParseOptions = {}): AsyncGenerator<ParsedBatch> {
  const parser = new CsvStreamParser(opts);
  for await (const chunk of source) {
    const done = parser.push(chunk);
    for (const b of done) yield b;
  }
  for (const b of parser.end()) yield b;
}

/** Whole text at once (tests, small files); same semantics as parseCsv. */
export function parseCsvText(text: string, opts: ParseOptions = {}): ParsedBatch[] {
  const parser = new CsvStreamParser(opts);
  const out = parser.push(Buffer.from(text, "utf8"));
  return out.concat(parser.end());
}
