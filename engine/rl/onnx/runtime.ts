/**
 * Running emitted graphs with onnxruntime-node.
 *
 * Execution provider: chosen automatically. CUDA when the installed
 * onnxruntime-node lists it AND a session can actually be created on it (the
 * CUDA provider's binaries are not in the npm package; they need a GPU, the
 * CUDA 12 runtime and `--onnxruntime-node-install=cuda12`), else the CPU
 * provider. The choice and the reason are returned (`provider`, `note`) so
 * the UI can show them; a requested GPU that is not there is a note, never
 * an error.
 *
 * Inference: `run` (batched) and `runOne` (one observation) through the
 * public async API; `runSync` / `runOneSync` through the package's native
 * binding directly, synchronously (the public API defers every call with
 * setImmediate, which costs more than a tiny model's compute). Inputs are
 * reused tensors over caller-owned buffers: no allocation per call on our side.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";

export type Device = "auto" | "cpu" | "cuda";
export type Provider = "cpu" | "cuda";

export interface ProviderChoice {
  provider: Provider;
  requested: Device;
  /** Why this provider (e.g. "CUDA not available: ..."), null when nothing to say. */
  note: string | null;
}

export interface ModelOptions {
  device?: Device;
  /** Intra-op threads (default 1: tiny models, and the other core runs the environment). */
  threads?: number;
}

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: ort.InferenceSession.SessionOptions): void;
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, ort.Tensor | null>, options: ort.InferenceSession.RunOptions): Record<string, ort.Tensor>;
  dispose(): void;
}
interface NativeBinding {
  InferenceSession: new () => NativeSession;
}

let native: NativeBinding | null | undefined;
/** onnxruntime-node's native binding (a synchronous session), or null when it cannot be loaded. */
function nativeBinding(): NativeBinding | null {
  if (native !== undefined) return native;
  try {
    const req = createRequire(import.meta.url);
    const mod = req("onnxruntime-node/dist/binding.js") as { binding: NativeBinding; initOrt: () => void };
    mod.initOrt();
    native = mod.binding;
  } catch {
    native = null;
  }
  return native;
}

function sessionOptions(provider: Provider, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    logSeverityLevel: 3,
  };
}

let cudaProbe: Promise<string | null> | undefined;
/** null when CUDA sessions can be created, else the reason they cannot. Probed once per process. */
export function cudaUnavailableReason(): Promise<string | null> {
  cudaProbe ??= (async () => {
    const listed = ort.listSupportedBackends().find((b) => b.name === "cuda");
    if (!listed) return "this onnxruntime-node build has no CUDA provider";
    // the provider library ships separately from the npm package: no file, no CUDA (and no error spam from trying)
    const req = createRequire(import.meta.url);
    const dir = join(dirname(req.resolve("onnxruntime-node/package.json")), "bin", "napi-v6", process.platform, process.arch);
    if (!existsSync(join(dir, process.platform === "win32" ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so"))) {
      return "the CUDA execution provider is not installed (onnxruntime-node installs it with --onnxruntime-node-install=cuda12 on a machine with CUDA 12)";
    }
    try {
      // a one-node model: Identity
      const { Graph } = await import("./graph");
      const g = new Graph("probe");
      const x = g.input("x", "float32", [1]);
      g.output(g.op("Identity", [x], [1], {}, "y"));
      const s = await ort.InferenceSession.create(g.toBytes(), sessionOptions("cuda", 1));
      await s.release();
      return null;
    } catch (e) {
      const msg = (e as Error).message.split("\n")[0] ?? String(e);
      return `CUDA provider not usable (${listed.bundled ? "" : "its binaries are not installed; "}${msg.slice(0, 200)})`;
    }
  })();
  return cudaProbe;
}

/** Decide the execution provider for a requested device. */
export async function chooseProvider(device: Device = "auto"): Promise<ProviderChoice> {
  if (device === "cpu") return { provider: "cpu", requested: device, note: null };
  const why = await cudaUnavailableReason();
  if (why === null) return { provider: "cuda", requested: device, note: null };
  return { provider: "cpu", requested: device, note: device === "cuda" ? `GPU requested but not available, using the CPU: ${why}` : `no usable GPU: ${why}` };
}

export class OrtModel {
  readonly session: ort.InferenceSession;
  readonly choice: ProviderChoice;
  readonly inputName: string;
  readonly outputNames: readonly string[];
  readonly inputSize: number;
  private readonly bytes: Uint8Array;
  private readonly threads: number;
  private nativeSession: NativeSession | null = null;
  private readonly oneBuf: Float32Array;
  private readonly oneTensor: ort.Tensor;
  private batchTensor: ort.Tensor | null = null;
  private batchBuf: Float32Array | null = null;
  private readonly fetches: Record<string, null>;

  private constructor(session: ort.InferenceSession, choice: ProviderChoice, bytes: Uint8Array, inputSize: number, threads: number) {
    this.session = session;
    this.choice = choice;
    this.bytes = bytes;
    this.threads = threads;
    this.inputName = session.inputNames[0]!;
    this.outputNames = session.outputNames;
    this.inputSize = inputSize;
    this.oneBuf = new Float32Array(inputSize);
    this.oneTensor = new ort.Tensor("float32", this.oneBuf, [1, inputSize]);
    this.fetches = Object.fromEntries(this.outputNames.map((n) => [n, null]));
  }

  get provider(): Provider {
    return this.choice.provider;
  }

  /** A session over model bytes whose first input is [batch, inputSize] float32. */
  static async create(bytes: Uint8Array, inputSize: number, opts: ModelOptions = {}): Promise<OrtModel> {
    const threads = opts.threads ?? 1;
    const choice = await chooseProvider(opts.device ?? "auto");
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, sessionOptions(choice.provider, threads));
    } catch (e) {
      if (choice.provider === "cpu") throw e;
      session = await ort.InferenceSession.create(bytes, sessionOptions("cpu", threads));
      choice.provider = "cpu";
      choice.note = `CUDA session failed, using the CPU: ${(e as Error).message.slice(0, 200)}`;
    }
    return new OrtModel(session, choice, bytes, inputSize, threads);
  }

  private batchInput(x: Float32Array, n: number): ort.Tensor {
    const len = n * this.inputSize;
    if (x.length < len) throw new RangeError(`input: ${x.length} values for ${n} x ${this.inputSize}`);
    // a tensor over the caller's buffer when it is exactly the batch; else a reused copy buffer
    if (x.length === len) return new ort.Tensor("float32", x, [n, this.inputSize]);
    if (!this.batchBuf || this.batchBuf.length !== len) {
      this.batchBuf = new Float32Array(len);
      this.batchTensor = new ort.Tensor("float32", this.batchBuf, [n, this.inputSize]);
    }
    this.batchBuf.set(x.subarray(0, len));
    return this.batchTensor!;
  }

  /** Batched inference (public async API): x holds n observations row-major. Returns every output. */
  async run(x: Float32Array, n: number): Promise<Record<string, Float32Array>> {
    const res = await this.session.run({ [this.inputName]: this.batchInput(x, n) });
    return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.data as Float32Array]));
  }

  /** One observation (public async API); returns the first output. */
  async runOne(obs: ArrayLike<number>, off = 0): Promise<Float32Array> {
    for (let k = 0; k < this.inputSize; k++) this.oneBuf[k] = obs[off + k]!;
    const res = await this.session.run({ [this.inputName]: this.oneTensor });
    return res[this.outputNames[0]!]!.data as Float32Array;
  }

  private nativeRun(feed: ort.Tensor): Record<string, ort.Tensor> {
    if (!this.nativeSession) {
      const b = nativeBinding();
      if (!b) throw new Error("onnxruntime-node's native binding could not be loaded: use run()/runOne()");
      const s = new b.InferenceSession();
      s.loadModel(this.bytes.buffer as ArrayBuffer, this.bytes.byteOffset, this.bytes.byteLength, sessionOptions(this.choice.provider, this.threads));
      this.nativeSession = s;
    }
    return this.nativeSession.run({ [this.inputName]: feed }, this.fetches, {});
  }

  /** Batched inference, synchronous (native binding). */
  runSync(x: Float32Array, n: number): Record<string, Float32Array> {
    const res = this.nativeRun(this.batchInput(x, n));
    return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.data as Float32Array]));
  }

  /** One observation, synchronous (native binding); returns the first output. */
  runOneSync(obs: ArrayLike<number>, off = 0): Float32Array {
    for (let k = 0; k < this.inputSize; k++) this.oneBuf[k] = obs[off + k]!;
    return this.nativeRun(this.oneTensor)[this.outputNames[0]!]!.data as Float32Array;
  }

  async dispose(): Promise<void> {
    this.nativeSession?.dispose();
    this.nativeSession = null;
    await this.session.release();
  }
}

/** Whether the synchronous native path is available in this process. */
export function hasSyncInference(): boolean {
  return nativeBinding() !== null;
}
