/**
 * The network view: a registered policy's layers, weights and the activations
 * it produces for one observation, read back from its ONNX graph (so what is
 * shown is what a bot would run).
 */
import { decodeModel } from "../onnx/proto";

export interface NetworkLayer {
  /** Neurons in this layer. */
  size: number;
  /** Activations for the observation (input layer: the observation itself). */
  activations: number[];
  /** Weights into this layer, [from][to] (absent for the input layer); downsampled beyond 64 x 64. */
  weights?: number[][];
  /** Row/column stride used when downsampling weights. */
  stride?: [number, number];
  activation?: string;
}

export interface NetworkView {
  sizes: number[];
  activation: string;
  output: string;
  layers: NetworkLayer[];
  /** Greedy action (argmax of the output). */
  action: number;
  /**
   * Attention policies: the encoder's shape and its attention weights for this observation,
   * maps[head][query][key] over the window (positions oldest first; each query row sums to 1).
   * `layers` then start at the encoding (pooled encoder output + the extra features) and
   * continue through the head MLP.
   */
  attention?: { window: number; features: number; extra: number; dModel: number; heads: number; maps: number[][][] };
}

/** A registered network's description (hyperparams.network; older MLP models lack kind and obsSize). */
export interface NetworkSpecLike {
  kind?: "mlp" | "attention";
  obsSize?: number;
  sizes: number[];
  activation: string;
  output: string;
  attention?: { window: number; features: number; extra: number; dModel: number; heads: number };
}

/** The observation size a registered network takes. */
export function networkObsSize(spec: NetworkSpecLike): number {
  return spec.obsSize ?? (spec.kind === "attention" && spec.attention ? spec.attention.window * spec.attention.features + spec.attention.extra : spec.sizes[0]!);
}

/**
 * The network view of any registered policy: MLPs are computed here from the
 * graph's weights (networkView); attention policies run their own ONNX graph
 * on ORT for the attention map and the encoding, and the head MLP is drawn
 * from its weights like an MLP.
 */
export async function networkViewOf(bytes: Uint8Array, spec: NetworkSpecLike, obs: ArrayLike<number>, dueling = false): Promise<NetworkView> {
  if (spec.kind !== "attention") return networkView(bytes, spec, obs, dueling);
  const a = spec.attention;
  if (!a) throw new Error("the model's attention description is missing");
  const O = networkObsSize(spec);
  if (obs.length !== O) throw new RangeError(`the observation has ${obs.length} values; the network takes ${O}`);
  const { OrtModel } = await import("../onnx/runtime");
  const model = await OrtModel.create(bytes, O, { device: "cpu" });
  try {
    const out = await model.run(Float32Array.from(obs, Number), 1);
    const enc = out.encoding;
    const attn = out.attention;
    if (!enc || !attn) throw new Error("the model's graph has no attention/encoding outputs");
    const view = networkView(bytes, spec, enc, dueling);
    const W = a.window;
    const maps: number[][][] = [];
    for (let h = 0; h < a.heads; h++) {
      const rows: number[][] = [];
      for (let q = 0; q < W; q++) rows.push(Array.from(attn.subarray((h * W + q) * W, (h * W + q + 1) * W)));
      maps.push(rows);
    }
    return { ...view, attention: { ...a, maps } };
  } finally {
    await model.dispose();
  }
}

function tensorFloats(t: { floatData?: number[] | null; rawData?: Uint8Array | null; dims?: (number | { toNumber(): number })[] | null }): Float32Array {
  if (t.floatData && t.floatData.length) return Float32Array.from(t.floatData);
  const raw = t.rawData!;
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  return new Float32Array(copy.buffer);
}

/** Weights of an MLP policy (or an attention policy's head) from its ONNX initializers "<prefix>.W<l>" / "<prefix>.b<l>". */
export function mlpWeightsFromOnnx(bytes: Uint8Array, layers: number): { W: Float32Array[]; b: Float32Array[] } {
  const model = decodeModel(bytes);
  const inits = model.graph!.initializer ?? [];
  const byName = new Map(inits.map((t) => [String(t.name), t]));
  const W: Float32Array[] = [];
  const b: Float32Array[] = [];
  for (let l = 0; l < layers; l++) {
    const w = [...byName.keys()].find((n) => n.endsWith(`.W${l}`));
    const bb = [...byName.keys()].find((n) => n.endsWith(`.b${l}`));
    if (!w || !bb) throw new Error(`the model has no weights for layer ${l}`);
    W.push(tensorFloats(byName.get(w) as never));
    b.push(tensorFloats(byName.get(bb) as never));
  }
  return { W, b };
}

/** The view of an MLP for input `obs` (for an attention policy: of its head MLP for the encoding). */
export function networkView(bytes: Uint8Array, spec: { sizes: number[]; activation: string; output: string }, obs: ArrayLike<number>, dueling = false): NetworkView {
  const sizes = spec.sizes;
  if (obs.length !== sizes[0]) throw new RangeError(`the observation has ${obs.length} values; the network takes ${sizes[0]}`);
  const { W, b } = mlpWeightsFromOnnx(bytes, sizes.length - 1);
  const layers: NetworkLayer[] = [{ size: sizes[0]!, activations: Array.from(obs, Number) }];
  let x = Float64Array.from(obs, Number);
  for (let l = 0; l < sizes.length - 1; l++) {
    const rows = sizes[l]!;
    const cols = sizes[l + 1]!;
    const y = new Float64Array(cols);
    for (let j = 0; j < cols; j++) {
      let s = b[l]![j]!;
      for (let i = 0; i < rows; i++) s += x[i]! * W[l]![i * cols + j]!;
      y[j] = s;
    }
    const last = l === sizes.length - 2;
    if (!last) for (let j = 0; j < cols; j++) y[j] = spec.activation === "relu" ? Math.max(0, y[j]!) : Math.tanh(y[j]!);
    const sr = Math.max(1, Math.ceil(rows / 64));
    const sc = Math.max(1, Math.ceil(cols / 64));
    const weights: number[][] = [];
    for (let i = 0; i < rows; i += sr) {
      const row: number[] = [];
      for (let j = 0; j < cols; j += sc) row.push(W[l]![i * cols + j]!);
      weights.push(row);
    }
    layers.push({ size: cols, activations: Array.from(y), weights, stride: [sr, sc], activation: last ? "none" : spec.activation });
    x = y;
  }
  let out = x;
  if (dueling) {
    const A = out.length - 1;
    let mean = 0;
    for (let k = 1; k <= A; k++) mean += out[k]!;
    mean /= A;
    out = Float64Array.from({ length: A }, (_, k) => x[0]! + x[k + 1]! - mean);
  }
  let action = 0;
  for (let k = 1; k < out.length; k++) if (out[k]! > out[action]!) action = k;
  return { sizes, activation: spec.activation, output: spec.output, layers, action };
}
