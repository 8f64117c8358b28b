/**
 * Exact binary checkpoints: a JSON header plus raw typed-array blobs, so weights, Adam moments,
 * replay buffers and RNG states round-trip bit for bit (no decimal text for floats).
 *
 * Format (little-endian):
 *   bytes 0..3   "TFCK"
 *   bytes 4..7   u32 format version (1)
 *   bytes 8..11  u32 header length H
 *   bytes 12..   header: UTF-8 JSON { meta, arrays: [{ name, dtype, length, offset }] }
 *   then zero padding to a multiple of 8, then the blobs, each 8-byte aligned; `offset` counts
 *   from the start of the blob area.
 * `meta` is any JSON value (numbers in it must be finite; use arrays for exact floats).
 */

export type TypedArray = Float64Array | Float32Array | Int32Array | Uint32Array | Uint8Array;
type DType = "f64" | "f32" | "i32" | "u32" | "u8";

const MAGIC = "TFCK";
const VERSION = 1;

function dtypeOf(a: TypedArray): DType {
  if (a instanceof Float64Array) return "f64";
  if (a instanceof Float32Array) return "f32";
  if (a instanceof Int32Array) return "i32";
  if (a instanceof Uint32Array) return "u32";
  if (a instanceof Uint8Array) return "u8";
  throw new TypeError("unsupported array type in checkpoint");
}

const CTORS = { f64: Float64Array, f32: Float32Array, i32: Int32Array, u32: Uint32Array, u8: Uint8Array } as const;

export interface Checkpoint<M = unknown> {
  meta: M;
  arrays: Record<string, TypedArray>;
}

const align8 = (n: number) => (n + 7) & ~7;

export function packCheckpoint(meta: unknown, arrays: Record<string, TypedArray>): Buffer {
  const entries: { name: string; dtype: DType; length: number; offset: number }[] = [];
  let off = 0;
  for (const [name, a] of Object.entries(arrays)) {
    entries.push({ name, dtype: dtypeOf(a), length: a.length, offset: off });
    off = align8(off + a.byteLength);
  }
  const header = Buffer.from(JSON.stringify({ meta, arrays: entries }), "utf8");
  const blobStart = align8(12 + header.length);
  const buf = Buffer.alloc(blobStart + off);
  buf.write(MAGIC, 0, "latin1");
  buf.writeUInt32LE(VERSION, 4);
  buf.writeUInt32LE(header.length, 8);
  header.copy(buf, 12);
  const le = isLittleEndian();
  for (const e of entries) {
    const a = arrays[e.name]!;
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    if (!le) throw new Error("checkpoints are written little-endian; this machine is big-endian");
    buf.set(bytes, blobStart + e.offset);
  }
  return buf;
}

export function unpackCheckpoint<M = unknown>(buf: Uint8Array): Checkpoint<M> {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12 || b.toString("latin1", 0, 4) !== MAGIC) throw new Error("not a TradeForge RL checkpoint (bad magic)");
  const version = b.readUInt32LE(4);
  if (version !== VERSION) throw new Error(`unsupported checkpoint version ${version}`);
  const hlen = b.readUInt32LE(8);
  const header = JSON.parse(b.toString("utf8", 12, 12 + hlen)) as { meta: M; arrays: { name: string; dtype: DType; length: number; offset: number }[] };
  const blobStart = align8(12 + hlen);
  const arrays: Record<string, TypedArray> = {};
  for (const e of header.arrays) {
    const C = CTORS[e.dtype];
    if (!C) throw new Error(`checkpoint array ${e.name}: unknown dtype ${e.dtype}`);
    const start = blobStart + e.offset;
    const nbytes = e.length * C.BYTES_PER_ELEMENT;
    if (start + nbytes > b.length) throw new Error(`checkpoint array ${e.name} is truncated`);
    // copy into a fresh, aligned buffer
    const out = new C(e.length);
    new Uint8Array(out.buffer).set(b.subarray(start, start + nbytes));
    arrays[e.name] = out;
  }
  return { meta: header.meta, arrays };
}

/** A named array of the expected type, or an error naming it. */
export function expectArray<T extends TypedArray>(ck: Checkpoint, name: string, ctor: { new (n: number): T }, length?: number): T {
  const a = ck.arrays[name];
  if (!(a instanceof ctor)) throw new Error(`checkpoint is missing array '${name}'`);
  if (length !== undefined && a.length !== length) throw new Error(`checkpoint array '${name}' has ${a.length} entries, expected ${length}`);
  return a;
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/**
 * Weights plus Adam state (m, v, step) in one exact checkpoint: restoring both lets training
 * continue bit-identically. `meta` is stored alongside (JSON).
 */
export function packParamsAndAdam(params: Float64Array, adam: { step: number; m: Float64Array; v: Float64Array }, meta: Record<string, unknown> = {}): Buffer {
  return packCheckpoint({ ...meta, adamStep: adam.step }, { params, "adam.m": adam.m, "adam.v": adam.v });
}

/** Restores packParamsAndAdam output into params and adam (sizes must match); returns the meta. */
export function unpackParamsAndAdam(buf: Uint8Array, params: Float64Array, adam: { setState(s: { step: number; m: Float64Array; v: Float64Array }): void }): Record<string, unknown> {
  const ck = unpackCheckpoint<Record<string, unknown> & { adamStep: number }>(buf);
  params.set(expectArray(ck, "params", Float64Array, params.length));
  adam.setState({ step: ck.meta.adamStep, m: expectArray(ck, "adam.m", Float64Array), v: expectArray(ck, "adam.v", Float64Array) });
  return ck.meta;
}
