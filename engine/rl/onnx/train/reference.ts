/**
 * The same PPO minibatch update on the plain-TypeScript path (engine/rl/nn:
 * Mlp forward/backward, categorical head, CleanRL's losses, clip_grad_norm_,
 * Adam), as engine/rl/algos/ppo.ts's minibatchStep does it. Used by the tests
 * (equivalence of the ONNX training graph with the plain path) and by
 * engine/bench/rl-train-graph.ts (timing).
 */
import type { Activation } from "../../nn/activations";
import { categoricalBackward, categoricalForward, meanStd, ppoPolicyLoss, ppoValueLoss } from "../../nn/losses";
import { Mlp, type MlpWorkspace } from "../../nn/mlp";
import { Adam, clipGradNorm } from "../../nn/optim";

export interface PlainPpoOptions {
  obsSize: number;
  hidden: number[];
  activation: Activation;
  numActions: number;
  /** Largest minibatch. */
  maxBatch: number;
  clipCoef?: number;
  entCoef?: number;
  vfCoef?: number;
  clipVloss?: boolean;
  normAdv?: boolean;
  maxGradNorm?: number;
  lr?: number;
  eps?: number;
}

export interface PpoBatch {
  obs: Float64Array;
  actions: Int32Array;
  oldLogp: Float64Array;
  advantages: Float64Array;
  returns: Float64Array;
  oldValues: Float64Array;
}

export class PlainPpo {
  readonly actor: Mlp;
  readonly critic: Mlp;
  /** [actor, critic] in the Mlp layout (the same as the ONNX nets' flat layout). */
  readonly params: Float64Array;
  readonly grads: Float64Array;
  readonly adam: Adam;
  readonly o: Required<Omit<PlainPpoOptions, "hidden" | "activation">> & { hidden: number[]; activation: Activation };
  private readonly aws: MlpWorkspace;
  private readonly cws: MlpWorkspace;
  private readonly logp: Float64Array;
  private readonly newLogp: Float64Array;
  private readonly ent: Float64Array;
  private readonly dNewLogp: Float64Array;
  private readonly dEnt: Float64Array;
  private readonly dLogits: Float64Array;
  private readonly dV: Float64Array;
  private readonly adv: Float64Array;

  constructor(opts: PlainPpoOptions) {
    this.o = { clipCoef: 0.2, entCoef: 0.01, vfCoef: 0.5, clipVloss: true, normAdv: true, maxGradNorm: 0.5, lr: 2.5e-4, eps: 1e-5, ...opts };
    const { obsSize: O, numActions: A, maxBatch: M } = opts;
    this.actor = new Mlp({ sizes: [O, ...opts.hidden, A], hidden: opts.activation });
    this.critic = new Mlp({ sizes: [O, ...opts.hidden, 1], hidden: opts.activation });
    this.params = new Float64Array(this.actor.numParams + this.critic.numParams);
    this.grads = new Float64Array(this.params.length);
    this.adam = new Adam(this.params.length, { lr: this.o.lr, eps: this.o.eps });
    this.aws = this.actor.workspace(M);
    this.cws = this.critic.workspace(M);
    this.logp = new Float64Array(M * A);
    this.newLogp = new Float64Array(M);
    this.ent = new Float64Array(M);
    this.dNewLogp = new Float64Array(M);
    this.dEnt = new Float64Array(M);
    this.dLogits = new Float64Array(M * A);
    this.dV = new Float64Array(M);
    this.adv = new Float64Array(M);
  }

  /** Loss, metrics and (into this.grads) the gradient for a minibatch of n rows. */
  lossAndGrad(b: PpoBatch, n: number): Record<string, number> {
    const { o } = this;
    const A = o.numActions;
    const na = this.actor.numParams;
    const pa = this.params.subarray(0, na);
    const pc = this.params.subarray(na);
    const ga = this.grads.subarray(0, na);
    const gc = this.grads.subarray(na);
    this.grads.fill(0);
    const adv = this.adv;
    for (let k = 0; k < n; k++) adv[k] = b.advantages[k]!;
    if (o.normAdv) {
      const { mean, std } = meanStd(adv, n);
      for (let k = 0; k < n; k++) adv[k] = (adv[k]! - mean) / (std + 1e-8);
    }
    const logits = this.actor.forward(pa, b.obs, n, this.aws);
    categoricalForward(logits, b.actions, this.logp, this.newLogp, this.ent, n, A);
    const pst = ppoPolicyLoss(this.newLogp, b.oldLogp, adv, n, o.clipCoef, this.dNewLogp);
    let ent = 0;
    for (let k = 0; k < n; k++) ent += this.ent[k]!;
    ent /= n;
    this.dEnt.fill(-o.entCoef / n);
    categoricalBackward(this.logp, b.actions, this.ent, this.dNewLogp, this.dEnt, this.dLogits, n, A);
    this.actor.backward(pa, ga, this.aws, n, this.dLogits);
    const v = this.critic.forward(pc, b.obs, n, this.cws);
    const vLoss = ppoValueLoss(v, b.oldValues, b.returns, n, o.clipVloss ? o.clipCoef : null, this.dV);
    for (let k = 0; k < n; k++) this.dV[k] = this.dV[k]! * o.vfCoef;
    this.critic.backward(pc, gc, this.cws, n, this.dV);
    const loss = pst.loss - o.entCoef * ent + o.vfCoef * vLoss;
    return { loss, pg_loss: pst.loss, v_loss: vLoss, entropy: ent, approx_kl: pst.approxKl, old_approx_kl: pst.oldApproxKl, clip_frac: pst.clipFrac };
  }

  /** One update: gradient, global-norm clipping, Adam. */
  update(b: PpoBatch, n: number): Record<string, number> {
    const m = this.lossAndGrad(b, n);
    m.grad_norm = clipGradNorm(this.grads, this.o.maxGradNorm);
    this.adam.update(this.params, this.grads);
    return m;
  }
}
