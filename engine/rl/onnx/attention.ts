/**
 * A transformer-attention encoder over the observation window, emitted as an
 * ONNX graph:
 *
 *   obs [batch, window x features + extra]
 *   -> the window part reshaped to [batch, window, features]
 *   -> input projection x W_in + b_in                       [batch, window, d]
 *   -> + sinusoidal positional encoding (constant)          (Vaswani et al. 2017)
 *   -> multi-head self-attention: Q, K, V projections, softmax(Q K^T / sqrt(d/h)) V
 *      per head, heads concatenated, output projection, residual connection
 *   -> layer normalisation over d (LayerNormalization, opset 17)
 *   -> mean pooling over the window                          [batch, d]
 *   -> concatenated with the extra (account) features        [batch, d + extra]
 *   -> an MLP head                                           [batch, outputs]
 *
 * Outputs "out" and, optionally, "attention" [batch, heads, window, window]
 * (the attention map the network view shows) and "encoding" [batch, d + extra]
 * (the head MLP's input).
 *
 * Parameter layout (flat, float): W_in (features x d), b_in (d), W_q (d x d),
 * b_q, W_k, b_k, W_v, b_v, W_o (d x d), b_o, gamma (d), beta (d), then the
 * head MLP's parameters in the MLP layout (./mlp.ts). Weight matrices are
 * row-major with y = x W + b.
 */
import { Graph } from "./graph";
import { type Activation, appendMlp, mlpParamCount, type OutputActivation } from "./mlp";

export interface AttentionSpec {
  window: number;
  features: number;
  /** Features after the window in each observation (the environment's account features: 2). */
  extra: number;
  dModel: number;
  heads: number;
  /** Head MLP: [hidden..., outputs]; its input is dModel + extra. */
  head: number[];
  activation: Activation;
  outputActivation?: OutputActivation;
}

export function validateAttentionSpec(s: AttentionSpec): string | null {
  const int = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!int(s.window, 1)) return `window: must be an integer >= 1, got ${s.window}`;
  if (!int(s.features, 1)) return `features: must be an integer >= 1, got ${s.features}`;
  if (!int(s.extra, 0)) return `extra: must be an integer >= 0, got ${s.extra}`;
  if (!int(s.dModel, 1)) return `dModel: must be an integer >= 1, got ${s.dModel}`;
  if (!int(s.heads, 1) || s.dModel % s.heads !== 0) return `heads: must divide dModel (${s.dModel}), got ${s.heads}`;
  if (!Array.isArray(s.head) || s.head.length < 1 || !s.head.every((x) => int(x, 1))) return `head: must be a list of layer sizes ending with the outputs, got ${JSON.stringify(s.head)}`;
  return null;
}

/** Sizes of the head MLP (input dModel + extra). */
export function headSizes(s: AttentionSpec): number[] {
  return [s.dModel + s.extra, ...s.head];
}

export function attentionParamCount(s: AttentionSpec): number {
  const d = s.dModel;
  return s.features * d + d + 4 * (d * d + d) + 2 * d + mlpParamCount(headSizes(s));
}

/** Offsets of each block in the flat parameter array. */
export function attentionLayout(s: AttentionSpec): Record<"Win" | "bin" | "Wq" | "bq" | "Wk" | "bk" | "Wv" | "bv" | "Wo" | "bo" | "gamma" | "beta" | "head", number> {
  const d = s.dModel;
  let o = 0;
  const at = (n: number) => {
    const r = o;
    o += n;
    return r;
  };
  return {
    Win: at(s.features * d),
    bin: at(d),
    Wq: at(d * d),
    bq: at(d),
    Wk: at(d * d),
    bk: at(d),
    Wv: at(d * d),
    bv: at(d),
    Wo: at(d * d),
    bo: at(d),
    gamma: at(d),
    beta: at(d),
    head: at(mlpParamCount(headSizes(s))),
  };
}

/** Sinusoidal positional encoding [window, d]: PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(...). */
export function positionalEncoding(window: number, d: number): Float32Array {
  const pe = new Float32Array(window * d);
  for (let p = 0; p < window; p++) {
    for (let i = 0; i < d; i++) {
      const k = Math.floor(i / 2);
      const angle = p / Math.pow(10000, (2 * k) / d);
      pe[p * d + i] = i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return pe;
}

export function emitAttentionEncoder(spec: AttentionSpec, params: ArrayLike<number>, opts: { attentionOutput?: boolean; encodingOutput?: boolean; input?: string; output?: string } = {}): Graph {
  const err = validateAttentionSpec(spec);
  if (err) throw new RangeError(`attention ${err}`);
  const need = attentionParamCount(spec);
  if (params.length !== need) throw new RangeError(`attention params: expected ${need} values, got ${params.length}`);
  const p = params instanceof Float32Array || params instanceof Float64Array ? params : Float64Array.from(params);
  const L = attentionLayout(spec);
  const { window: W, features: F, extra: E, dModel: d, heads: H } = spec;
  const dh = d / H;
  const B = "batch";
  const g = new Graph("attention_encoder");
  const blk = (name: string, off: number, dims: number[]) => g.floats(name, p.subarray(off, off + dims.reduce((a, b) => a * b, 1)), dims);

  const obs = g.input(opts.input ?? "obs", "float32", [B, W * F + E]);
  const seq = E > 0 ? g.slice(obs, [0], [W * F], [1], [B, W * F]) : obs;
  const x = g.reshape(seq, [-1, W, F], [B, W, F]);
  const h = g.add(g.matmul(x, blk("enc.W_in", L.Win, [F, d]), [B, W, d]), blk("enc.b_in", L.bin, [d]));
  const h0 = g.add(h, g.floats("enc.pos", positionalEncoding(W, d), [W, d], false));

  const proj = (name: string, wOff: number, bOff: number) => g.add(g.matmul(h0, blk(`enc.W_${name}`, wOff, [d, d]), [B, W, d]), blk(`enc.b_${name}`, bOff, [d]));
  const split = (t: string, perm: number[], shape: (string | number)[]) => g.transpose(g.reshape(t, [-1, W, H, dh], [B, W, H, dh]), perm, shape);
  const q = split(proj("q", L.Wq, L.bq), [0, 2, 1, 3], [B, H, W, dh]);
  const kT = split(proj("k", L.Wk, L.bk), [0, 2, 3, 1], [B, H, dh, W]);
  const v = split(proj("v", L.Wv, L.bv), [0, 2, 1, 3], [B, H, W, dh]);
  const scores = g.mul(g.matmul(q, kT, [B, H, W, W]), g.scalar(1 / Math.sqrt(dh), "inv_sqrt_dh"));
  const attn = g.op("Softmax", [scores], [B, H, W, W], { axis: { int: -1 } }, "attention");
  const ctx = g.reshape(g.transpose(g.matmul(attn, v, [B, H, W, dh]), [0, 2, 1, 3], [B, W, H, dh]), [-1, W, d], [B, W, d]);
  const o = g.add(g.matmul(ctx, blk("enc.W_o", L.Wo, [d, d]), [B, W, d]), blk("enc.b_o", L.bo, [d]));
  const res = g.add(o, h0);
  const norm = g.layerNorm(res, blk("enc.ln_gamma", L.gamma, [d]), blk("enc.ln_beta", L.beta, [d]));
  const pooled = g.reduceMean(norm, [1], false, [B, d]);
  const z = E > 0 ? g.concat([pooled, g.slice(obs, [W * F], [W * F + E], [1], [B, E])], 1, [B, d + E]) : pooled;
  const hs = headSizes(spec);
  const y = appendMlp(g, z, { sizes: hs, activation: spec.activation, outputActivation: spec.outputActivation }, p.subarray(L.head, L.head + mlpParamCount(hs)), "head");
  const out = g.op("Identity", [y], [B, hs.at(-1)!], {}, opts.output ?? "out");
  g.output(out);
  if (opts.attentionOutput) g.output(attn);
  // the head's input (pooled encoding + extra features), for the network view
  if (opts.encodingOutput) g.output(g.op("Identity", [z], [B, d + E], {}, "encoding"));
  return g;
}
