/**
 * A multi-input ORT session for training / gradient graphs (CPU execution
 * provider). `run` is synchronous, through onnxruntime-node's native binding
 * (as ../runtime.ts does for inference: the public API defers every call with
 * setImmediate); `runAsync` uses the public API. Inputs are given as typed
 * arrays; symbolic dimensions (e.g. "batch") are resolved from the array
 * lengths, so one session serves any batch size.
 */
import { createRequire } from "node:module";
import * as ort from "onnxruntime-node";
import type { Graph, ValueInfo } from "../graph";
import { doubleValues, type Precision, toBytes } from "./encode";

export type FloatArray = Float32Array | Float64Array;
export type FeedArray = Float32Array | Float64Array | Int32Array | BigInt64Array;
export type Feeds = Record<string, FeedArray | number>;

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: ort.InferenceSession.SessionOptions): void;
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, ort.Tensor | null>, options: ort.InferenceSession.RunOptions): Record<string, ort.Tensor>;
  dispose(): void;
}

let native: { InferenceSession: new () => NativeSession } | null | undefined;
function nativeBinding(): { InferenceSession: new () => NativeSession } | null {
  if (native !== undefined) return native;
  try {
    const req = createRequire(import.meta.url);
    const mod = req("onnxruntime-node/dist/binding.js") as { binding: { InferenceSession: new () => NativeSession }; initOrt: () => void };
    mod.initOrt();
    native = mod.binding;
  } catch {
    native = null;
  }
  return native;
}

export interface SessionOptions {
  precision?: Precision;
  /** Intra-op threads (default 1). */
  threads?: number;
  /** Execution provider (default "cpu"); with "cuda", nodes without a CUDA kernel (e.g. some float64 ones) run on the CPU. */
  provider?: "cpu" | "cuda";
}

function ortOptions(threads: number, provider: "cpu" | "cuda" = "cpu"): ort.InferenceSession.SessionOptions {
  return { executionProviders: provider === "cuda" ? ["cuda", "cpu"] : ["cpu"], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all", logSeverityLevel: 3 };
}

export class GraphSession {
  readonly precision: Precision;
  readonly inputs: readonly ValueInfo[];
  readonly outputNames: readonly string[];
  private readonly fetches: Record<string, null>;
  private readonly scalarBufs = new Map<string, { buf: FloatArray; tensor: ort.Tensor }>();
  /** Inputs that are DOUBLE in every encoding (markDouble). */
  private readonly doubles: ReadonlySet<string>;

  private constructor(
    private readonly nativeSession: NativeSession | null,
    private readonly session: ort.InferenceSession | null,
    g: Graph,
    precision: Precision,
  ) {
    this.precision = precision;
    this.inputs = g.inputs.map((v) => ({ ...v }));
    this.doubles = new Set(doubleValues(g));
    this.outputNames = g.outputs.map((o) => o.name);
    this.fetches = Object.fromEntries(this.outputNames.map((n) => [n, null]));
  }

  static async create(g: Graph, opts: SessionOptions = {}): Promise<GraphSession> {
    const precision = opts.precision ?? "float32";
    const bytes = toBytes(g, precision);
    const b = nativeBinding();
    const o = ortOptions(opts.threads ?? 1, opts.provider);
    if (b) {
      const s = new b.InferenceSession();
      s.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, o);
      return new GraphSession(s, null, g, precision);
    }
    return new GraphSession(null, await ort.InferenceSession.create(bytes, o), g, precision);
  }

  /** Synchronous creation through the native binding; throws when the binding cannot be loaded (use create()). */
  static createSync(g: Graph, opts: SessionOptions = {}): GraphSession {
    const b = nativeBinding();
    if (!b) throw new Error("onnxruntime-node's native binding is not available: use GraphSession.create()");
    const precision = opts.precision ?? "float32";
    const bytes = toBytes(g, precision);
    const s = new b.InferenceSession();
    s.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, ortOptions(opts.threads ?? 1, opts.provider));
    return new GraphSession(s, null, g, precision);
  }

  get sync(): boolean {
    return this.nativeSession !== null;
  }

  private tensor(v: ValueInfo, data: FeedArray | number): ort.Tensor {
    const float = v.dtype === "float32";
    const dbl = this.precision === "float64" || this.doubles.has(v.name);
    const ftype = dbl ? "float64" : "float32";
    if (typeof data === "number") {
      if (!float) throw new TypeError(`input ${v.name}: a number for a ${v.dtype} input`);
      let e = this.scalarBufs.get(v.name);
      if (!e) {
        const buf = dbl ? new Float64Array(1) : new Float32Array(1);
        e = { buf, tensor: new ort.Tensor(ftype, buf, (v.shape ?? []) as number[]) };
        this.scalarBufs.set(v.name, e);
      }
      e.buf[0] = data;
      return e.tensor;
    }
    const shape = v.shape ?? [];
    let known = 1;
    let sym = -1;
    shape.forEach((d, i) => {
      if (typeof d === "number") known *= d;
      else if (sym < 0) sym = i;
      else throw new Error(`input ${v.name}: more than one symbolic dimension`);
    });
    const dims = shape.map((d) => (typeof d === "number" ? d : data.length / known));
    if (sym >= 0 ? data.length % known !== 0 : data.length !== known) throw new RangeError(`input ${v.name}: ${data.length} values for shape [${shape.join(", ")}]`);
    if (float) {
      const want = dbl ? Float64Array : Float32Array;
      if (!(data instanceof want)) throw new TypeError(`input ${v.name}: expected a ${want.name} (${dbl ? "float64" : "float32"} input)`);
      return new ort.Tensor(ftype, data, dims);
    }
    if (v.dtype === "int32") {
      if (!(data instanceof Int32Array)) throw new TypeError(`input ${v.name}: expected an Int32Array`);
      return new ort.Tensor("int32", data, dims);
    }
    if (v.dtype === "int64") {
      if (!(data instanceof BigInt64Array)) throw new TypeError(`input ${v.name}: expected a BigInt64Array`);
      return new ort.Tensor("int64", data, dims);
    }
    throw new TypeError(`input ${v.name}: ${v.dtype} inputs not supported`);
  }

  private feeds(data: Feeds): Record<string, ort.Tensor> {
    const out: Record<string, ort.Tensor> = {};
    for (const v of this.inputs) {
      const d = data[v.name];
      if (d === undefined) throw new Error(`missing input ${v.name}`);
      out[v.name] = this.tensor(v, d);
    }
    return out;
  }

  private outTensors = new Map<string, { buf: FeedArray; tensor: ort.Tensor }>();

  /**
   * Synchronous run (native binding). Returns every output's data. Outputs
   * given in `into` are written into those (caller-owned, right-sized) arrays
   * instead of fresh ones: no allocation per call for large outputs.
   */
  run(data: Feeds, into?: Record<string, FloatArray>): Record<string, FeedArray> {
    if (!this.nativeSession) throw new Error("onnxruntime-node's native binding is not available: use runAsync()");
    let fetches: Record<string, ort.Tensor | null> = this.fetches;
    if (into) {
      fetches = { ...this.fetches };
      for (const [name, buf] of Object.entries(into)) {
        let e = this.outTensors.get(name);
        if (!e || e.buf !== buf) {
          e = { buf, tensor: new ort.Tensor(buf instanceof Float64Array ? "float64" : "float32", buf, [buf.length]) };
          this.outTensors.set(name, e);
        }
        fetches[name] = e.tensor;
      }
    }
    const res = this.nativeSession.run(this.feeds(data), fetches, {});
    const out: Record<string, FeedArray> = {};
    for (const [k, t] of Object.entries(res)) out[k] = t.data as FeedArray;
    return out;
  }

  async runAsync(data: Feeds): Promise<Record<string, FeedArray>> {
    if (!this.session) return this.run(data);
    const res = await this.session.run(this.feeds(data));
    const out: Record<string, FeedArray> = {};
    for (const [k, t] of Object.entries(res)) out[k] = t.data as FeedArray;
    return out;
  }

  async dispose(): Promise<void> {
    this.nativeSession?.dispose();
    await this.session?.release();
  }
}
