/**
 * Multi-layer perceptron on one flat parameter vector.
 *
 * PARAMETER LAYOUT (read by the ONNX exporter): for sizes [n0, n1, ..., nL] the vector is
 *   [W1 (n0 x n1, row-major), b1 (n1), W2 (n1 x n2), b2 (n2), ..., WL (n(L-1) x nL), bL (nL)]
 * with W[i][j] = params[wOff + i*nOut + j] (i = input unit, j = output unit), so layer l computes
 * y = act(x W + b) — ONNX MatMul(x, W) then Add(b). `layers[l].wOff / bOff` give the offsets.
 * Hidden layers use `hidden`; the last layer uses `output` (default linear).
 *
 * Several networks can share one flat vector (e.g. PPO's actor then critic): give each a
 * subarray view (Float64Array.prototype.subarray shares memory), and one Adam / one gradient clip
 * works on the whole vector.
 *
 * Batched forward/backward reuse a workspace (no allocation per call). backward() ACCUMULATES
 * parameter gradients, so zero them first (grads.fill(0)).
 */
import { type Activation, activateInPlace, activationBackward } from "./activations";
import { denseBackward, denseForward, type Vec } from "./dense";
import type { Rng } from "../rng";

export interface MlpSpec {
  /** widths from input to output, e.g. [4, 64, 64, 2] */
  sizes: readonly number[];
  /** activation after every hidden layer */
  hidden: Activation;
  /** activation after the last layer (default linear) */
  output?: Activation;
}

export interface DenseLayout {
  nIn: number;
  nOut: number;
  /** offset of W (nIn x nOut row-major) in the parameter vector */
  wOff: number;
  /** offset of b (nOut) in the parameter vector */
  bOff: number;
  act: Activation;
}

export class MlpWorkspace {
  /** the input of the last forward (referenced, not copied) */
  input: Vec = new Float64Array(0);
  /** outputs of each layer after activation, maxBatch x width */
  readonly acts: Vec[];
  readonly dz: Vec;
  readonly dx: Vec;
  constructor(
    readonly mlp: Mlp,
    readonly maxBatch: number,
  ) {
    this.acts = mlp.layers.map((l) => new Float64Array(maxBatch * l.nOut));
    const widest = Math.max(...mlp.spec.sizes);
    this.dz = new Float64Array(maxBatch * widest);
    this.dx = new Float64Array(maxBatch * widest);
  }
  /** the output of the last forward, maxBatch x outSize (the first batch rows are valid) */
  get out(): Vec {
    return this.acts[this.acts.length - 1]!;
  }
}

export class Mlp {
  readonly spec: Readonly<MlpSpec>;
  readonly layers: readonly DenseLayout[];
  readonly numParams: number;
  readonly inSize: number;
  readonly outSize: number;

  constructor(spec: MlpSpec) {
    if (spec.sizes.length < 2) throw new RangeError("an MLP needs at least an input and an output size");
    for (const s of spec.sizes) if (!Number.isInteger(s) || s < 1) throw new RangeError(`layer sizes must be positive integers, got ${spec.sizes.join("x")}`);
    this.spec = { sizes: [...spec.sizes], hidden: spec.hidden, output: spec.output ?? "linear" };
    const layers: DenseLayout[] = [];
    let off = 0;
    for (let l = 0; l + 1 < spec.sizes.length; l++) {
      const nIn = spec.sizes[l]!,
        nOut = spec.sizes[l + 1]!;
      layers.push({ nIn, nOut, wOff: off, bOff: off + nIn * nOut, act: l + 2 === spec.sizes.length ? (spec.output ?? "linear") : spec.hidden });
      off += nIn * nOut + nOut;
    }
    this.layers = layers;
    this.numParams = off;
    this.inSize = spec.sizes[0]!;
    this.outSize = spec.sizes[spec.sizes.length - 1]!;
  }

  workspace(maxBatch: number): MlpWorkspace {
    return new MlpWorkspace(this, maxBatch);
  }

  /**
   * CleanRL's layer_init: orthogonal weights (torch.nn.init.orthogonal_) scaled by `hiddenGain` for
   * hidden layers and `outputGain` for the last layer, zero biases. PPO uses sqrt(2) / 0.01 (policy)
   * / 1.0 (value).
   */
  initOrthogonal(params: Vec, rng: Rng, hiddenGain = Math.SQRT2, outputGain = 1): void {
    this.checkParams(params);
    const last = this.layers.length - 1;
    this.layers.forEach((l, k) => {
      orthogonalInto(params, l.wOff, l.nIn, l.nOut, k === last ? outputGain : hiddenGain, rng);
      params.fill(0, l.bOff, l.bOff + l.nOut);
    });
  }

  /**
   * torch.nn.Linear's default initialisation (what CleanRL's DQN QNetwork uses): weights and biases
   * uniform in [-1/sqrt(nIn), 1/sqrt(nIn)) (kaiming_uniform with a = sqrt(5)).
   */
  initTorchDefault(params: Vec, rng: Rng): void {
    this.checkParams(params);
    for (const l of this.layers) {
      const bound = 1 / Math.sqrt(l.nIn);
      for (let k = 0; k < l.nIn * l.nOut; k++) params[l.wOff + k] = rng.uniformRange(-bound, bound);
      for (let k = 0; k < l.nOut; k++) params[l.bOff + k] = rng.uniformRange(-bound, bound);
    }
  }

  /** Forward pass of `batch` rows of x (batch x inSize); returns ws.out. */
  forward(params: Vec, x: Vec, batch: number, ws: MlpWorkspace): Vec {
    if (batch > ws.maxBatch) throw new RangeError(`batch ${batch} exceeds the workspace's ${ws.maxBatch}`);
    ws.input = x;
    let inp = x;
    for (let l = 0; l < this.layers.length; l++) {
      const L = this.layers[l]!;
      const y = ws.acts[l]!;
      denseForward(params, L.wOff, L.bOff, inp, y, batch, L.nIn, L.nOut);
      activateInPlace(L.act, y, batch * L.nOut);
      inp = y;
    }
    return ws.out;
  }

  /**
   * Backward pass for the last forward on ws: dOut is d(loss)/d(output) (batch x outSize, after the
   * output activation). Parameter gradients accumulate into grads; d(loss)/d(input) is written to
   * dInput when given.
   */
  backward(params: Vec, grads: Vec, ws: MlpWorkspace, batch: number, dOut: Vec, dInput: Vec | null = null): void {
    let d: Vec = dOut;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const L = this.layers[l]!;
      let dz: Vec;
      if (L.act === "linear" && d !== ws.dx) dz = d;
      else {
        // (a linear hidden layer copies, because dx is about to be overwritten)
        activationBackward(L.act, ws.acts[l]!, d, ws.dz, batch * L.nOut);
        dz = ws.dz;
      }
      const xin = l === 0 ? ws.input : ws.acts[l - 1]!;
      const dxTarget = l === 0 ? dInput : ws.dx;
      denseBackward(params, grads, L.wOff, L.bOff, xin, dz, dxTarget, batch, L.nIn, L.nOut);
      d = ws.dx;
    }
  }

  /** Convenience (allocates): outputs for `batch` rows of x. */
  predict(params: Vec, x: Vec, batch = x.length / this.inSize): Float64Array {
    const ws = this.workspace(batch);
    return this.forward(params, x, batch, ws).slice(0, batch * this.outSize);
  }

  private checkParams(params: Vec): void {
    if (params.length !== this.numParams) throw new RangeError(`parameter vector has ${params.length} entries, the MLP needs ${this.numParams}`);
  }
}

/**
 * torch.nn.init.orthogonal_ for a torch weight of shape (rows = nOut, cols = nIn), written into our
 * nIn x nOut layout (the transpose). A (max x min) matrix of standard normals is QR-factorised
 * (modified Gram–Schmidt, applied twice for accuracy; R's diagonal is positive, which is torch's
 * sign correction), giving orthonormal rows or columns, whichever are fewer, times `gain`.
 */
export function orthogonalInto(params: Vec, wOff: number, nIn: number, nOut: number, gain: number, rng: Rng): void {
  const rows = nOut,
    cols = nIn;
  const m = Math.max(rows, cols),
    n = Math.min(rows, cols);
  // torch fills (rows x cols) row-major with normals and transposes when rows < cols: build A (m x n)
  const A = new Float64Array(m * n);
  const flat = new Float64Array(rows * cols);
  for (let k = 0; k < flat.length; k++) flat[k] = rng.normal();
  if (rows >= cols) A.set(flat);
  else for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) A[c * n + r] = flat[r * cols + c]!;
  // Gram–Schmidt on the columns of A (column k: A[i*n + k])
  for (let k = 0; k < n; k++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let q = 0; q < k; q++) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += A[i * n + q]! * A[i * n + k]!;
        for (let i = 0; i < m; i++) A[i * n + k] = A[i * n + k]! - dot * A[i * n + q]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += A[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > 1e-12)) throw new Error("orthogonal init: degenerate random matrix");
    for (let i = 0; i < m; i++) A[i * n + k] = A[i * n + k]! / norm;
  }
  // torch weight T (rows x cols) = A when rows >= cols, else A^T; our W[i][j] = T[j][i]
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const t = rows >= cols ? A[r * n + c]! : A[c * n + r]!;
      params[wOff + c * nOut + r] = gain * t;
    }
}
