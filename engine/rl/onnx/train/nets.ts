/**
 * Networks inside a training graph.
 *
 * A network is described once (NetSpec: the MLP of ../mlp.ts or the attention
 * encoder of ../attention.ts) and emitted by the same code as the inference
 * graph. For training, the emitted graph is copied ("inlined") into the
 * training graph with its trainable initializers replaced by slices of ONE
 * flat parameter input: `params` [P] -> Slice -> Reshape to each tensor's dims.
 * The flat layout is the concatenation of the networks' parameters in
 * definition order, which is exactly the layout the emitters take (mlpLayout /
 * attentionLayout), so a trained flat vector (or a subarray per network) can be
 * handed to emitMlp / emitAttentionEncoder for inference.
 */
import { type AttentionSpec, attentionParamCount, emitAttentionEncoder } from "../attention";
import type { Graph, Initializer } from "../graph";
import { emitMlp, type MlpSpec, mlpParamCount } from "../mlp";

export type NetSpec = { kind: "mlp"; mlp: MlpSpec } | { kind: "attention"; attention: AttentionSpec };

export const mlpNet = (mlp: MlpSpec): NetSpec => ({ kind: "mlp", mlp });
export const attentionNet = (attention: AttentionSpec): NetSpec => ({ kind: "attention", attention });

export function netParamCount(n: NetSpec): number {
  return n.kind === "mlp" ? mlpParamCount(n.mlp.sizes) : attentionParamCount(n.attention);
}

export function netInputSize(n: NetSpec): number {
  if (n.kind === "mlp") return n.mlp.sizes[0]!;
  const a = n.attention;
  return a.window * a.features + a.extra;
}

export function netOutputSize(n: NetSpec): number {
  return n.kind === "mlp" ? n.mlp.sizes.at(-1)! : n.attention.head.at(-1)!;
}

/** The inference graph (input "obs" [batch, in], output "out" [batch, out]) with the given flat parameters. */
export function emitNet(n: NetSpec, params: ArrayLike<number> = new Float32Array(netParamCount(n))): Graph {
  return n.kind === "mlp" ? emitMlp(n.mlp, params) : emitAttentionEncoder(n.attention, params);
}

/**
 * Copy graph `src` into `dst`. Graph inputs of src are mapped through
 * `inputs` (src input name -> dst value), trainable initializers through
 * `param(init)` (returns the dst value to use), constant initializers are
 * copied under a prefixed name, and every node output is renamed with the
 * prefix. Returns the dst names of src's outputs (by src output name).
 */
export function inlineGraph(dst: Graph, src: Graph, opts: { prefix: string; inputs: Record<string, string>; param: (init: Initializer) => string }): Record<string, string> {
  const map = new Map<string, string>();
  const rename = (n: string) => (dst.values.has(`${opts.prefix}/${n}`) ? dst.fresh(`${opts.prefix}/${n}`) : `${opts.prefix}/${n}`);
  for (const i of src.inputs) {
    const to = opts.inputs[i.name];
    if (to === undefined) throw new Error(`inline ${src.name}: no value for input ${i.name}`);
    map.set(i.name, to);
  }
  for (const init of src.initializers.values()) {
    if (init.param) {
      map.set(init.name, opts.param(init));
      continue;
    }
    const name = rename(init.name);
    if (init.dtype === "float32") dst.floats(name, init.data as Float32Array, init.dims, false);
    else if (init.dtype === "int64") dst.int64s(name, Array.from(init.data as BigInt64Array, Number), init.dims);
    else throw new Error(`inline ${src.name}: ${init.dtype} initializer ${init.name} not supported`);
    map.set(init.name, name);
  }
  for (const n of src.nodes) {
    const ins = n.inputs.map((i) => {
      if (i === "") return "";
      const m = map.get(i);
      if (m === undefined) throw new Error(`inline ${src.name}: ${i} undefined`);
      return m;
    });
    const outs = n.outputs.map((o) => {
      const v = src.value(o);
      return { name: rename(o), dtype: v.dtype, shape: v.shape };
    });
    const names = dst.node(n.op, ins, outs, n.attrs, n.domain);
    n.outputs.forEach((o, k) => map.set(o, names[k]!));
  }
  return Object.fromEntries(src.outputs.map((o) => [o.name, map.get(o.name)!]));
}

export interface ParamSlot {
  /** The tensor's value in the training graph (Reshape of a slice of the flat input). */
  value: string;
  /** Name of the initializer it replaces (e.g. "mlp.W0") with the network prefix. */
  name: string;
  offset: number;
  size: number;
  dims: number[];
}

/**
 * The flat parameter input of a training graph and the per-tensor views of it.
 * Call `net()` for each network in order; `size` grows as parameters are taken.
 */
export class FlatParams {
  readonly slots: ParamSlot[] = [];
  readonly input: string;
  private offset = 0;

  constructor(
    readonly g: Graph,
    readonly total: number,
    name = "params",
  ) {
    this.input = g.input(name, "float32", [total]);
  }

  get size(): number {
    return this.offset;
  }

  /** A view of the next `dims`-shaped tensor of the flat input. */
  take(name: string, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (this.offset + size > this.total) throw new RangeError(`flat params: ${name} needs ${size} values at ${this.offset}, only ${this.total} declared`);
    const g = this.g;
    const sl = g.slice(this.input, [this.offset], [this.offset + size], [0], [size]);
    const value = dims.length === 1 ? sl : g.reshape(sl, dims, dims);
    this.slots.push({ value, name, offset: this.offset, size, dims: [...dims] });
    this.offset += size;
    return value;
  }

  /** Inline network `n` applied to `obs`; returns its output value ([batch, out]). */
  net(n: NetSpec, obs: string, prefix: string): string {
    const src = emitNet(n);
    const outs = inlineGraph(this.g, src, { prefix, inputs: { obs }, param: (init) => this.take(`${prefix}/${init.name}`, init.dims) });
    return outs.out!;
  }

  /** Throws unless every declared parameter was taken. */
  check(): void {
    if (this.offset !== this.total) throw new RangeError(`flat params: ${this.total} declared, ${this.offset} used`);
  }

  /** The per-tensor gradient values concatenated into one flat [P] gradient (same layout). */
  flatten(grads: Map<string, string>): string {
    const parts = this.slots.map((s) => {
      const gv = grads.get(s.value);
      if (!gv) throw new Error(`flat params: no gradient for ${s.name}`);
      return s.dims.length === 1 ? gv : this.g.reshape(gv, [-1], [s.size]);
    });
    return parts.length === 1 ? this.g.op("Identity", parts, [this.total]) : this.g.concat(parts, 0, [this.total]);
  }
}
