/**
 * Bars for a backtest straight from a CSV file, through the importer's own
 * parser and data firewall (nothing stored). Every row read is accepted or
 * quarantined; exact duplicate rows are dropped and counted, duplicates with
 * other values are quarantined (duplicate_conflict), out-of-order rows sorted.
 */
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import type { QuarantinedRow } from "../data/firewall";
import { TIMEFRAME_MS, type BarColumns, type CalendarId, type Timeframe } from "../data/types";
import { screenedBars } from "../store/bar-pipeline";

export interface CsvBarsOptions {
  timeZone?: string;
  tickSize: number;
  calendar: CalendarId;
  nowMs?: number;
}

export interface CsvBars {
  bars: BarColumns;
  rowsRead: number;
  quarantined: number;
  duplicates: number;
  reasons: Record<string, number>;
  /** First quarantined rows (up to 20), for the report. */
  samples: QuarantinedRow[];
  /** Median spacing of bar starts, ms. */
  stepMs: number;
  /** The timeframe that spacing matches, if any. */
  timeframe: Timeframe | null;
}

function grow(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

export async function readCsvBars(path: string, opts: CsvBarsOptions): Promise<CsvBars> {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const source = path.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  let cap = 1 << 16;
  const alloc = (k: number): Float64Array => new Float64Array(k);
  let ts = alloc(cap), open = alloc(cap), high = alloc(cap), low = alloc(cap), close = alloc(cap), volume = alloc(cap);
  let n = 0;
  let rowsRead = 0;
  let quarantined = 0;
  const reasons: Record<string, number> = {};
  const samples: QuarantinedRow[] = [];
  let sorted = true;
  const daily = false;
  for await (const s of screenedBars(source, { timeZone: opts.timeZone }, { tickSize: opts.tickSize, calendar: opts.calendar, nowMs: opts.nowMs ?? Date.now(), daily })) {
    rowsRead += s.rowsRead;
    for (const q of s.quarantined) {
      quarantined++;
      reasons[q.reason] = (reasons[q.reason] ?? 0) + 1;
      if (samples.length < 20) samples.push(q);
    }
    const m = s.m;
    if (n + m > cap) {
      cap = Math.max(n + m, cap * 2);
      ts = grow(ts, cap);
      open = grow(open, cap);
      high = grow(high, cap);
      low = grow(low, cap);
      close = grow(close, cap);
      volume = grow(volume, cap);
    }
    if (m > 0 && n > 0 && s.ts[0]! < ts[n - 1]!) sorted = false;
    ts.set(s.ts, n);
    open.set(s.open, n);
    high.set(s.high, n);
    low.set(s.low, n);
    close.set(s.close, n);
    volume.set(s.volume, n);
    n += m;
  }
  let duplicates = 0;
  let cols: BarColumns = { length: n, ts, open, high, low, close, volume };
  if (!sorted) cols = sortColumns(cols);
  // duplicates (same timestamp): identical rows dropped, different values quarantined
  let w = 0;
  for (let r = 0; r < cols.length; r++) {
    if (w > 0 && cols.ts[r] === cols.ts[w - 1]) {
      const same = cols.open[r] === cols.open[w - 1] && cols.high[r] === cols.high[w - 1] && cols.low[r] === cols.low[w - 1] && cols.close[r] === cols.close[w - 1] && cols.volume[r] === cols.volume[w - 1];
      if (same) duplicates++;
      else {
        quarantined++;
        reasons.duplicate_conflict = (reasons.duplicate_conflict ?? 0) + 1;
      }
      continue;
    }
    if (w !== r) {
      cols.ts[w] = cols.ts[r]!;
      cols.open[w] = cols.open[r]!;
      cols.high[w] = cols.high[r]!;
      cols.low[w] = cols.low[r]!;
      cols.close[w] = cols.close[r]!;
      cols.volume[w] = cols.volume[r]!;
    }
    w++;
  }
  cols.length = w;
  const stepMs = medianStep(cols);
  const timeframe = (Object.entries(TIMEFRAME_MS).find(([, ms]) => ms === stepMs)?.[0] as Timeframe | undefined) ?? null;
  return { bars: cols, rowsRead, quarantined, duplicates, reasons, samples, stepMs, timeframe };
}

function sortColumns(c: BarColumns): BarColumns {
  const idx = Array.from({ length: c.length }, (_, i) => i).sort((a, b) => c.ts[a]! - c.ts[b]! || a - b);
  const pick = (a: Float64Array) => Float64Array.from(idx, (i) => a[i]!);
  return { length: c.length, ts: pick(c.ts), open: pick(c.open), high: pick(c.high), low: pick(c.low), close: pick(c.close), volume: pick(c.volume) };
}

/** Median spacing between consecutive bars (sampled), ms; 0 for fewer than 2 bars. */
export function medianStep(c: BarColumns): number {
  if (c.length < 2) return 0;
  const k = Math.min(c.length - 1, 4097);
  const stride = Math.max(1, Math.floor((c.length - 1) / k));
  const d: number[] = [];
  for (let i = 1; i < c.length && d.length < k; i += stride) d.push(c.ts[i]! - c.ts[i - 1]!);
  d.sort((a, b) => a - b);
  return d[d.length >> 1]!;
}
