/**
 * Policy and value networks other than the plain-TypeScript MLP: the
 * transformer-attention encoder of ../onnx/attention.ts, described once and
 * used three ways:
 *  - inference during rollouts: ONE float64 ORT session over the flat
 *    parameter vector (`NetsForward`: inputs params [P], obs [batch, O];
 *    one output per network), so the weights change between updates without
 *    a new session;
 *  - training: the same NetSpec inlined into the loss graph (../onnx/train);
 *  - export: emitAttentionEncoder with the trained weights (the registered
 *    model, with the attention map as a second output).
 */
import { type AttentionSpec, attentionLayout, headSizes, validateAttentionSpec } from "../onnx/attention";
import { Graph } from "../onnx/graph";
import { FlatParams, type NetSpec, netOutputSize, netParamCount } from "../onnx/train/nets";
import { GraphSession } from "../onnx/train/session";
import { Mlp, orthogonalInto } from "../nn/mlp";
import type { Rng } from "../rng";
import type { ObsLayout } from "./env";

export type NetworkKind = "mlp" | "attention";

export interface AttentionOptions {
  /** Width of the encoder (the projection of each feature row). */
  dModel: number;
  /** Attention heads (must divide dModel). */
  heads: number;
}

export const ATTENTION_DEFAULTS: AttentionOptions = { dModel: 32, heads: 4 };

/** Errors (field: message) of attention options, empty when valid. */
export function validateAttentionOptions(a: AttentionOptions): string[] {
  const errs: string[] = [];
  if (!Number.isInteger(a.dModel) || a.dModel < 1 || a.dModel > 1024) errs.push(`attention.dModel must be an integer in [1, 1024], got ${a.dModel}`);
  if (!Number.isInteger(a.heads) || a.heads < 1) errs.push(`attention.heads must be a positive integer, got ${a.heads}`);
  else if (Number.isInteger(a.dModel) && a.dModel % a.heads !== 0) errs.push(`attention.heads (${a.heads}) must divide attention.dModel (${a.dModel})`);
  return errs;
}

/** The encoder over an environment's observation window with an MLP head [...hidden, outputs]. */
export function attentionSpecFor(layout: ObsLayout, opts: AttentionOptions, hidden: readonly number[], outputs: number, activation: "tanh" | "relu"): AttentionSpec {
  const spec: AttentionSpec = { window: layout.window, features: layout.features, extra: layout.extra, dModel: opts.dModel, heads: opts.heads, head: [...hidden, outputs], activation };
  const err = validateAttentionSpec(spec);
  if (err) throw new RangeError(`attention ${err}`);
  return spec;
}

/**
 * Initialisation in the spirit of CleanRL's layer_init: the input, query, key,
 * value and output projections orthogonal with gain 1, zero biases, layer norm
 * gamma 1 and beta 0, and the head MLP orthogonal with gain sqrt(2) for hidden
 * layers and `outputGain` for the last (0.01 policy, 1.0 value).
 */
export function initAttention(spec: AttentionSpec, params: Float64Array, rng: Rng, outputGain: number): void {
  const L = attentionLayout(spec);
  const d = spec.dModel;
  params.fill(0);
  orthogonalInto(params, L.Win, spec.features, d, 1, rng);
  for (const off of [L.Wq, L.Wk, L.Wv, L.Wo]) orthogonalInto(params, off, d, d, 1, rng);
  params.fill(1, L.gamma, L.gamma + d);
  const head = new Mlp({ sizes: headSizes(spec), hidden: spec.activation === "relu" ? "relu" : "tanh" });
  head.initOrthogonal(params.subarray(L.head, L.head + head.numParams), rng, Math.SQRT2, outputGain);
}

/** Initialise a network's parameters (MLP: CleanRL's orthogonal init; attention: initAttention). */
export function initNet(n: NetSpec, params: Float64Array, rng: Rng, outputGain: number): void {
  if (params.length !== netParamCount(n)) throw new RangeError(`init: ${params.length} values for a network of ${netParamCount(n)}`);
  if (n.kind === "attention") initAttention(n.attention, params, rng, outputGain);
  else new Mlp({ sizes: n.mlp.sizes, hidden: n.mlp.activation === "relu" ? "relu" : "tanh" }).initOrthogonal(params, rng, Math.SQRT2, outputGain);
}

/**
 * Forward pass of several networks over one flat float64 parameter vector
 * (their parameters concatenated in the order given) on ORT: outputs named
 * after the networks, each [batch, outputs].
 */
export class NetsForward {
  readonly session: GraphSession;
  readonly numParams: number;

  constructor(
    nets: readonly { name: string; net: NetSpec }[],
    readonly obsSize: number,
    provider: "cpu" | "cuda" = "cpu",
  ) {
    const g = new Graph("policy_forward");
    this.numParams = nets.reduce((a, n) => a + netParamCount(n.net), 0);
    const flat = new FlatParams(g, this.numParams);
    const obs = g.input("obs", "float32", ["batch", obsSize]);
    for (const n of nets) {
      const out = flat.net(n.net, obs, n.name);
      g.output(g.op("Identity", [out], ["batch", netOutputSize(n.net)], {}, n.name));
    }
    flat.check();
    this.session = GraphSession.createSync(g, { precision: "float64", threads: 1, provider });
  }

  /** Outputs for `obs` (batch x obsSize, row-major) with parameters `params`. */
  run(params: Float64Array, obs: Float64Array): Record<string, Float64Array> {
    if (params.length !== this.numParams) throw new RangeError(`forward: ${params.length} parameters, the networks have ${this.numParams}`);
    return this.session.run({ params, obs }) as Record<string, Float64Array>;
  }

  dispose(): void {
    void this.session.dispose();
  }
}
