/**
 * Bars for a backtest straight from a CSV file, through the importer's own
 * parser and data firewall (nothing stored). Every row read is accepted or
 * quarantined; exact duplicate rows are dropped and counted, duplicates with
 * other values are quarantined (duplicate_conflict), out-of-order rows sorted.
 *
 * Large uncompressed files are read in two halves at once: this thread
 * parses the first half while a worker thread parses the second (split at a
 * line break, the header given to both), so both cores work. The jump
 * detector of the firewall restarts at the split (it needs 32 rows to
 * judge), which can only change a flag, never what is accepted.
 */
import { createReadStream, openSync, readSync, closeSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
import type { QuarantinedRow } from "../data/firewall";
import { TIMEFRAME_MS, type BarColumns, type CalendarId, type Timeframe } from "../data/types";
import { screenedBars } from "../store/bar-pipeline";
import { startWorker } from "../runtime/workers";

export interface CsvBarsOptions {
  timeZone?: string;
  tickSize: number;
  calendar: CalendarId;
  nowMs?: number;
  /** Use a worker thread for the second half of large files (default true). */
  parallel?: boolean;
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

const PARALLEL_MIN_BYTES = 8 << 20;

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
  for await (const s of screenedBars(source, { timeZone: opts.timeZone, reuseBatches: true, onChunkReleased }, { tickSize: opts.tickSize, calendar: opts.calendar, nowMs: opts.nowMs ?? Date.now(), daily: false })) {
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

/** End of the header line (first non-blank line), and the first line break at or after the middle. */
function splitPoints(path: string, size: number): { header: string; split: number } | null {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(Math.min(size, 1 << 16));
    readSync(fd, head, 0, head.length, 0);
    let s = 0;
    let headerEnd = -1;
    while (s < head.length) {
      const nl = head.indexOf(10, s);
      if (nl < 0) return null;
      if (head.toString("utf8", s, nl).trim() !== "") {
        headerEnd = nl + 1;
        break;
      }
      s = nl + 1;
    }
    if (headerEnd < 0) return null;
    const header = head.toString("utf8", s, headerEnd);
    const mid = headerEnd + Math.floor((size - headerEnd) / 2);
    const probe = Buffer.alloc(1 << 16);
    const got = readSync(fd, probe, 0, probe.length, mid);
    const nl = probe.subarray(0, got).indexOf(10);
    if (nl < 0) return null;
    return { header, split: mid + nl + 1 };
  } finally {
    closeSync(fd);
  }
}

function countLines(path: string, end: number): number {
  const fd = openSync(path, "r");
  const buf = Buffer.alloc(1 << 20);
  let lines = 0;
  try {
    for (let pos = 0; pos < end; ) {
      const got = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (got <= 0) break;
      for (let i = buf.indexOf(10, 0); i >= 0 && i < got; i = buf.indexOf(10, i + 1)) lines++;
      pos += got;
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}

/** Resolved lazily: this module is also bundled into the worker, where import.meta.url does not exist. */
const workerEntry = () => fileURLToPath(new URL("./csv-worker.ts", import.meta.url));

async function collectParallel(path: string, size: number, opts: CsvBarsOptions): Promise<Collected | null> {
  const sp = splitPoints(path, size);
  if (!sp) return null;
  const { header, split } = sp;
  const nowMs = opts.nowMs ?? Date.now();
  const workerOpts = { timeZone: opts.timeZone, tickSize: opts.tickSize, calendar: opts.calendar, nowMs };
  const worker = await startWorker(workerEntry(), { workerData: { path, start: split, end: size, header, opts: workerOpts } });
  const fromWorker = new Promise<Collected>((resolve, reject) => {
    worker.once("message", (m: { ok: true; result: Collected } | { ok: false; error: string }) => (m.ok ? resolve(m.result) : reject(new Error(m.error))));
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`csv worker exited with ${code}`)));
  });
  fromWorker.catch(() => {});
  let first: Collected;
  try {
    const r = pooledFileReader(path, 0, split);
    first = await collectBars(r.chunks, { ...opts, nowMs }, split, undefined, r.release);
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  const second = await fromWorker.finally(() => void worker.terminate());
  // worker line numbers count its own header as line 1
  if (second.samples.length) {
    const offset = countLines(path, split) - 1;
    for (const q of second.samples) q.line += offset;
  }
  const n = first.n + second.n;
  const cols = first.cols.map((c, k) => {
    if (c.length >= n) {
      c.set(second.cols[k]!.subarray(0, second.n), first.n);
      return c;
    }
    const out = new Float64Array(n);
    out.set(c.subarray(0, first.n));
    out.set(second.cols[k]!.subarray(0, second.n), first.n);
    return out;
  }) as Collected["cols"];
  const reasons = { ...first.reasons };
  for (const [r, k] of Object.entries(second.reasons)) reasons[r] = (reasons[r] ?? 0) + k;
  const sorted = first.sorted && second.sorted && (first.n === 0 || second.n === 0 || second.cols[0][0]! >= first.cols[0][first.n - 1]!);
  return { cols, n, rowsRead: first.rowsRead + second.rowsRead, quarantined: first.quarantined + second.quarantined, reasons, samples: [...first.samples, ...second.samples].slice(0, 20), sorted };
}

export async function readCsvBars(path: string, opts: CsvBarsOptions): Promise<CsvBars> {
  const gz = path.endsWith(".gz");
  const size = gz ? 0 : statSync(path).size;
  let c: Collected | null = null;
  if (!gz && size >= PARALLEL_MIN_BYTES && opts.parallel === true) c = await collectParallel(path, size, opts);
  if (!c) {
    if (gz) c = await collectBars(createReadStream(path, { highWaterMark: 1 << 20 }).pipe(createGunzip()), opts, 0);
    else {
      const r = pooledFileReader(path);
      c = await collectBars(r.chunks, opts, size, undefined, r.release);
    }
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
