/**
 * Multi-layer perceptrons: the ONNX emitter and a plain-TypeScript forward
 * pass for tiny models (an ORT call has a fixed cost of microseconds; for a
 * 2x64 MLP the plain loop is faster, see engine/bench/rl-env.ts).
 *
 * Parameter layout (flat, float): for each layer l with sizes[l] inputs and
 * sizes[l+1] outputs: W_l (sizes[l] x sizes[l+1], row-major, so y = x W_l + b_l),
 * then b_l (sizes[l+1]). Hidden layers use `activation`; the last layer
 * uses `outputActivation` (default none: logits / values).
 */
import { Graph, type Shape } from "./graph";

export type Activation = "tanh" | "relu";
export type OutputActivation = "none" | "tanh" | "softmax";

export interface MlpSpec {
  /** [inputs, hidden..., outputs] */
  sizes: number[];
  activation: Activation;
  outputActivation?: OutputActivation;
}

export function validateMlpSpec(spec: MlpSpec): string | null {
  if (!Array.isArray(spec.sizes) || spec.sizes.length < 2) return "sizes: need at least [inputs, outputs]";
  for (const [i, s] of spec.sizes.entries()) if (!(Number.isInteger(s) && s >= 1)) return `sizes.${i}: must be an integer >= 1, got ${s}`;
  if (spec.activation !== "tanh" && spec.activation !== "relu") return `activation: must be tanh or relu, got ${String(spec.activation)}`;
  return null;
}

export function mlpParamCount(sizes: number[]): number {
  let n = 0;
  for (let l = 0; l + 1 < sizes.length; l++) n += sizes[l]! * sizes[l + 1]! + sizes[l + 1]!;
  return n;
}

/** Offsets of W_l and b_l in the flat layout. */
export function mlpLayout(sizes: number[]): { w: number; b: number; rows: number; cols: number }[] {
  const out: { w: number; b: number; rows: number; cols: number }[] = [];
  let off = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const rows = sizes[l]!;
    const cols = sizes[l + 1]!;
    out.push({ w: off, b: off + rows * cols, rows, cols });
    off += rows * cols + cols;
  }
  return out;
}

/**
 * Append an MLP to a graph: x [batch, sizes[0]] -> [batch, sizes.at(-1)].
 * Weights become initializers named `${prefix}.W{l}` / `${prefix}.b{l}`.
 */
export function appendMlp(g: Graph, x: string, spec: MlpSpec, params: ArrayLike<number>, prefix = "mlp", batch: string | number = "batch"): string {
  const err = validateMlpSpec(spec);
  if (err) throw new RangeError(`mlp ${err}`);
  const need = mlpParamCount(spec.sizes);
  if (params.length !== need) throw new RangeError(`mlp params: expected ${need} values for sizes [${spec.sizes.join(", ")}], got ${params.length}`);
  const layout = mlpLayout(spec.sizes);
  const flat = params instanceof Float32Array || params instanceof Float64Array ? params : Float64Array.from(params as ArrayLike<number>);
  let h = x;
  layout.forEach((L, l) => {
    const w = g.floats(`${prefix}.W${l}`, flat.subarray(L.w, L.w + L.rows * L.cols), [L.rows, L.cols]);
    const b = g.floats(`${prefix}.b${l}`, flat.subarray(L.b, L.b + L.cols), [L.cols]);
    const shape: Shape = [batch, L.cols];
    h = g.gemm(h, w, b, shape);
    const last = l === layout.length - 1;
    if (!last) h = g.activation(spec.activation, h);
    else if (spec.outputActivation === "tanh") h = g.activation("tanh", h);
    else if (spec.outputActivation === "softmax") h = g.softmax(h, -1);
  });
  return h;
}

/** A whole model: input "obs" [batch, in] -> output "out" [batch, out]. */
export function emitMlp(spec: MlpSpec, params: ArrayLike<number>, opts: { input?: string; output?: string } = {}): Graph {
  const g = new Graph("mlp");
  const x = g.input(opts.input ?? "obs", "float32", ["batch", spec.sizes[0]!]);
  const y = appendMlp(g, x, spec, params);
  const out = g.op("Identity", [y], ["batch", spec.sizes.at(-1)!], {}, opts.output ?? "out");
  g.output(out);
  return g;
}

/**
 * Plain-TypeScript forward pass with the same layout, float64 arithmetic,
 * preallocated buffers (no allocation per call).
 */
export class MlpForward {
  readonly spec: MlpSpec;
  /** Per layer: W transposed (cols x rows, so each output is a contiguous dot product) and b. */
  private readonly wt: Float64Array[];
  private readonly bias: Float64Array[];
  private readonly bufs: Float64Array[];
  readonly out: Float64Array;
  private readonly x0: Float64Array;

  constructor(spec: MlpSpec, params: ArrayLike<number>) {
    const err = validateMlpSpec(spec);
    if (err) throw new RangeError(`mlp ${err}`);
    this.spec = spec;
    const layout = mlpLayout(spec.sizes);
    this.wt = layout.map((L) => new Float64Array(L.rows * L.cols));
    this.bias = layout.map((L) => new Float64Array(L.cols));
    this.bufs = spec.sizes.slice(1).map((n) => new Float64Array(n));
    this.out = this.bufs[this.bufs.length - 1]!;
    this.x0 = new Float64Array(spec.sizes[0]!);
    this.setParams(params);
  }

  /** Replace the parameters (flat layout of ./mlp.ts). */
  setParams(params: ArrayLike<number>): void {
    const need = mlpParamCount(this.spec.sizes);
    if (params.length !== need) throw new RangeError(`mlp params: expected ${need} values for sizes [${this.spec.sizes.join(", ")}], got ${params.length}`);
    mlpLayout(this.spec.sizes).forEach((L, l) => {
      const wt = this.wt[l]!;
      for (let i = 0; i < L.rows; i++) for (let j = 0; j < L.cols; j++) wt[j * L.rows + i] = params[L.w + i * L.cols + j]!;
      const b = this.bias[l]!;
      for (let j = 0; j < L.cols; j++) b[j] = params[L.b + j]!;
    });
  }

  /** Forward one observation x[off .. off + sizes[0]); returns this.out (overwritten by the next call). */
  forward(x: ArrayLike<number>, off = 0): Float64Array {
    // copy the input once so every layer reads a Float64Array (monomorphic loops)
    const x0 = this.x0;
    const n0 = x0.length;
    for (let i = 0; i < n0; i++) x0[i] = x[off + i]!;
    const relu = this.spec.activation === "relu";
    const last = this.wt.length - 1;
    let inp = x0;
    for (let l = 0; l <= last; l++) {
      const wt = this.wt[l]!;
      const b = this.bias[l]!;
      const y = this.bufs[l]!;
      const rows = inp.length;
      const cols = y.length;
      const r4 = rows - (rows & 3);
      for (let j = 0; j < cols; j++) {
        const o = j * rows;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let i = 0;
        for (; i < r4; i += 4) {
          s0 += inp[i]! * wt[o + i]!;
          s1 += inp[i + 1]! * wt[o + i + 1]!;
          s2 += inp[i + 2]! * wt[o + i + 2]!;
          s3 += inp[i + 3]! * wt[o + i + 3]!;
        }
        for (; i < rows; i++) s0 += inp[i]! * wt[o + i]!;
        y[j] = b[j]! + (s0 + s1 + (s2 + s3));
      }
      if (l < last) {
        if (relu) for (let j = 0; j < cols; j++) y[j] = y[j]! > 0 ? y[j]! : 0;
        else for (let j = 0; j < cols; j++) y[j] = tanh(y[j]!);
      } else {
        const oa = this.spec.outputActivation ?? "none";
        if (oa === "tanh") for (let j = 0; j < cols; j++) y[j] = tanh(y[j]!);
        else if (oa === "softmax") {
          let m = -Infinity;
          for (let j = 0; j < cols; j++) if (y[j]! > m) m = y[j]!;
          let s = 0;
          for (let j = 0; j < cols; j++) s += y[j] = Math.exp(y[j]! - m);
          for (let j = 0; j < cols; j++) y[j] = y[j]! / s;
        }
      }
      inp = y;
    }
    return this.out;
  }

  /** Forward `n` observations (row-major [n, in]) into out [n, outputs]. */
  forwardBatch(x: Float32Array | Float64Array, n: number, out: Float32Array | Float64Array): void {
    const inSize = this.spec.sizes[0]!;
    const outSize = this.spec.sizes.at(-1)!;
    for (let k = 0; k < n; k++) {
      const y = this.forward(x, k * inSize);
      for (let j = 0; j < outSize; j++) out[k * outSize + j] = y[j]!;
    }
  }
}

/** tanh via one exp (about twice as fast as Math.tanh in V8; |error| < 1e-15 relative). */
function tanh(x: number): number {
  if (x > 20) return 1;
  if (x < -20) return -1;
  const e = Math.exp(2 * x);
  return (e - 1) / (e + 1);
}
