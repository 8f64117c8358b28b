/**
 * Bars for a backtest straight from a CSV file, through the importer's own
 * parser and data firewall (nothing stored). Every row read is accepted or
 * quarantined; exact duplicate rows are dropped and counted, duplicates with
 * other values are quarantined (duplicate_conflict), out-of-order rows sorted.
 *
 * (Reading the two halves of a file on two threads was built and measured: a
 * worker's cold code made it no faster for one read, and its isolate cost
 * ~80 MB, so reads stay on one thread.)
 */
import { createReadStream, statSync } from "node:fs";
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

/** What one parser (this thread or a worker) collected. */
export interface Collected {
  cols: [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  n: number;
  rowsRead: number;
  quarantined: number;
  reasons: Record<string, number>;
  samples: QuarantinedRow[];
  sorted: boolean;
}

function grow(a: Float64Array, n: number, keep: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a.subarray(0, keep));
  return b;
}

/**
 * Parse + screen a byte stream into columns. `bytesHint` (the stream's size)
 * sizes the columns once from the first batch's bytes per row.
 */
export async function collectBars(source: AsyncIterable<Uint8Array>, opts: CsvBarsOptions, bytesHint: number, into?: Collected["cols"], onChunkReleased?: (chunk: Buffer) => void): Promise<Collected> {
  let cap = into ? into[0].length : 1 << 16;
  let cols = into ?? ([0, 0, 0, 0, 0, 0].map(() => new Float64Array(cap)) as Collected["cols"]);
  let n = 0;
  let rowsRead = 0;
  let quarantined = 0;
  const reasons: Record<string, number> = {};
  const samples: QuarantinedRow[] = [];
  let sorted = true;
  let sized = into !== undefined;
  for await (const s of screenedBars(source, { timeZone: opts.timeZone, reuseBatches: true, onChunkReleased }, { tickSize: opts.tickSize, calendar: opts.calendar, nowMs: opts.nowMs ?? Date.now(), daily: false, flags: false })) {
    rowsRead += s.rowsRead;
    for (const q of s.quarantined) {
      quarantined++;
      reasons[q.reason] = (reasons[q.reason] ?? 0) + 1;
      if (samples.length < 20) samples.push(q);
    }
    const m = s.m;
    if (!sized && bytesHint > 0 && s.bytesRead > 0 && s.rowsRead > 0) {
      sized = true;
      const estimate = Math.ceil((bytesHint / s.bytesRead) * s.rowsRead * 1.02) + 16;
      if (estimate > cap) {
        cap = estimate;
        cols = cols.map((c) => grow(c, cap, n)) as Collected["cols"];
      }
    }
    if (n + m > cap) {
      cap = Math.max(n + m, Math.ceil(cap * 1.5));
      cols = cols.map((c) => grow(c, cap, n)) as Collected["cols"];
    }
    if (m > 0 && n > 0 && s.ts[0]! < cols[0][n - 1]!) sorted = false;
    cols[0].set(s.ts, n);
    cols[1].set(s.open, n);
    cols[2].set(s.high, n);
    cols[3].set(s.low, n);
    cols[4].set(s.close, n);
    cols[5].set(s.volume, n);
    n += m;
  }
  return { cols, n, rowsRead, quarantined, reasons, samples, sorted };
}

const CHUNK = 1 << 20;

/**
 * A byte range of a file as chunks read into a small pool of reused buffers:
 * the parser hands a chunk back (release) once no batch refers to it, so a
 * 1M-row file does not leave ~50 MB of read buffers behind for the GC.
 */
export function pooledFileReader(path: string, start = 0, end = Infinity): { chunks: AsyncIterable<Uint8Array>; release: (chunk: Buffer) => void } {
  const pool: Buffer[] = [];
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const { open } = await import("node:fs/promises");
    const fh = await open(path, "r");
    try {
      for (let pos = start; pos < end; ) {
        const buf = pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
        const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, end - pos), pos);
        if (bytesRead <= 0) break;
        pos += bytesRead;
        yield bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
  }
  return {
    chunks: chunks(),
    release: (chunk) => {
      if (chunk.byteOffset === 0 && chunk.buffer.byteLength === CHUNK && pool.length < 8) pool.push(Buffer.from(chunk.buffer));
    },
  };
}

export async function readCsvBars(path: string, opts: CsvBarsOptions): Promise<CsvBars> {
  const gz = path.endsWith(".gz");
  const size = gz ? 0 : statSync(path).size;
  let c: Collected;
  if (gz) c = await collectBars(createReadStream(path, { highWaterMark: 1 << 20 }).pipe(createGunzip()), opts, 0);
  else {
    const r = pooledFileReader(path);
    c = await collectBars(r.chunks, opts, size, undefined, r.release);
  }
  const [ts, open, high, low, close, volume] = c.cols;
  let quarantined = c.quarantined;
  const reasons = c.reasons;
  let duplicates = 0;
  let cols: BarColumns = { length: c.n, ts, open, high, low, close, volume };
  if (!c.sorted) cols = sortColumns(cols);
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
  return { bars: cols, rowsRead: c.rowsRead, quarantined, duplicates, reasons, samples: c.samples, stepMs, timeframe };
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
