/**
 * Columnar chunk codec. A chunk holds n rows of one series as consecutive
 * little-endian float64 columns followed by one uint8 column per extra byte
 * field (always the flags byte; trades add a side byte):
 *
 *   bars:   ts | open | high | low | close | volume | flags      49 bytes/row
 *   quotes: ts | bid | ask | flags                              25 bytes/row
 *   trades: ts | price | size | side | flags                    26 bytes/row
 *
 * Decoding copies whole columns with memcpy-like TypedArray.set; no per-row work.
 */
export type SeriesKind = "bars" | "quotes" | "trades";

export const FLOAT_COLUMNS: Record<SeriesKind, readonly string[]> = {
  bars: ["ts", "open", "high", "low", "close", "volume"],
  quotes: ["ts", "bid", "ask"],
  trades: ["ts", "price", "size"],
};
export const BYTE_COLUMNS: Record<SeriesKind, readonly string[]> = {
  bars: ["flags"],
  quotes: ["flags"],
  trades: ["side", "flags"],
};

export function bytesPerRow(kind: SeriesKind): number {
  return FLOAT_COLUMNS[kind].length * 8 + BYTE_COLUMNS[kind].length;
}

/** Rows of one kind as named columns; float columns are Float64Array, byte columns Int8Array/Uint8Array. */
export interface Columns {
  length: number;
  f: Float64Array[]; // in FLOAT_COLUMNS order
  b: Uint8Array[]; // in BYTE_COLUMNS order (side is stored as uint8 of the int8 value)
}

export function allocColumns(kind: SeriesKind, capacity: number): Columns {
  return {
    length: 0,
    f: FLOAT_COLUMNS[kind].map(() => new Float64Array(capacity)),
    b: BYTE_COLUMNS[kind].map(() => new Uint8Array(capacity)),
  };
}

/** Encodes rows [from, from+n) of cols. */
export function encodeChunk(kind: SeriesKind, cols: Columns, from: number, n: number): Buffer {
  const out = Buffer.allocUnsafe(n * bytesPerRow(kind));
  let off = 0;
  for (const col of cols.f) {
    const bytes = new Uint8Array(col.buffer, col.byteOffset + from * 8, n * 8);
    out.set(bytes, off);
    off += n * 8;
  }
  for (const col of cols.b) {
    out.set(col.subarray(from, from + n), off);
    off += n;
  }
  return out;
}

/** Decodes a chunk of n rows into cols at row offset `at` (cols must have room). */
export function decodeChunkInto(kind: SeriesKind, data: Uint8Array, n: number, cols: Columns, at: number): void {
  const expected = n * bytesPerRow(kind);
  if (data.length !== expected) throw new Error(`corrupt chunk: ${data.length} bytes for ${n} ${kind} rows (expected ${expected})`);
  let off = 0;
  for (const col of cols.f) {
    const target = new Uint8Array(col.buffer, col.byteOffset + at * 8, n * 8);
    target.set(data.subarray(off, off + n * 8));
    off += n * 8;
  }
  for (const col of cols.b) {
    col.set(data.subarray(off, off + n), at);
    off += n;
  }
}

/** Bucket width in ms for a series: about 4096 rows per chunk for bars, one hour for ticks. */
export function bucketMs(kind: SeriesKind, stepMs: number | undefined): number {
  if (kind !== "bars" || stepMs === undefined) return 3_600_000;
  return stepMs * 4096;
}
