/**
 * Loss graphs: forward pass of the network(s) over a flat parameter input
 * (./nets.ts), then the loss, as one ONNX graph that ./step.ts extends with the
 * backward pass and the optimiser. The formulas are CleanRL's (ppo.py,
 * dqn.py) and the plain-TypeScript ones of engine/rl/nn/losses.ts.
 *
 * Every loss graph has the flat input `params` [P], per-row batch inputs whose
 * first dimension is the symbolic "batch" (one session serves any minibatch
 * size), scalar hyperparameter inputs (shape [], so schedules need no new
 * session), and named scalar metric outputs, among them "loss".
 */
import { Graph } from "../graph";
import { FlatParams, type NetSpec, netInputSize, netOutputSize, netParamCount } from "./nets";
import { Ops } from "./ops";

export interface LossGraph {
  g: Graph;
  flat: FlatParams;
  /** The scalar to minimise. */
  loss: string;
  /** Scalar metrics by output name (includes "loss"); values are graph values. */
  metrics: Record<string, string>;
  /** Scalar hyperparameter inputs and their defaults. */
  hyper: Record<string, number>;
}

const B = "batch";

function metricOutputs(o: Ops, m: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) out[k] = o.named(v, k, []);
  return out;
}

// ------------------------------------------------------------------ PPO

export type PpoModel = { actor: NetSpec; critic: NetSpec } | { shared: NetSpec };

export interface PpoLossOptions {
  numActions: number;
  /** CleanRL clip_vloss (default true). */
  clipVloss?: boolean;
  /** Normalise advantages inside the graph over the minibatch (mean, unbiased std + 1e-8; default true). */
  normAdv?: boolean;
}

export function ppoParamCount(model: PpoModel): number {
  return "shared" in model ? netParamCount(model.shared) : netParamCount(model.actor) + netParamCount(model.critic);
}

export function ppoObsSize(model: PpoModel): number {
  return netInputSize("shared" in model ? model.shared : model.actor);
}

/**
 * PPO (clipped surrogate, clipped value loss, entropy bonus) for discrete actions:
 *
 *   inputs  params [P], obs [batch, O], actions [batch] int32, old_logp, advantages,
 *           returns, old_values [batch]; clip_coef, ent_coef, vf_coef []
 *   logp = LogSoftmax(actor(obs)); new_logp = logp[action]; H = -sum p logp
 *   r = exp(new_logp - old_logp); A = (adv - mean) / (std + 1e-8)   (normAdv)
 *   pg = mean(max(-A r, -A clip(r, 1-c, 1+c)))
 *   v_loss = 0.5 mean(max((v-R)^2, (oldV + clip(v-oldV, -c, c) - R)^2))   (clipVloss; else 0.5 mean((v-R)^2))
 *   loss = pg - ent_coef mean(H) + vf_coef v_loss
 *   metrics loss, pg_loss, v_loss, entropy, approx_kl = mean((r-1) - log r),
 *           old_approx_kl = mean(-log r), clip_frac = mean(|r-1| > c)
 *
 * The model is an actor and a critic (parameters: actor then critic) or one
 * shared network whose first numActions outputs are the logits and the last the value.
 */
export function ppoLossGraph(model: PpoModel, opts: PpoLossOptions): LossGraph {
  const A = opts.numActions;
  const clipVloss = opts.clipVloss ?? true;
  const normAdv = opts.normAdv ?? true;
  const g = new Graph("ppo_loss");
  const o = new Ops(g);
  const flat = new FlatParams(g, ppoParamCount(model));
  const O = ppoObsSize(model);
  const obs = g.input("obs", "float32", [B, O]);
  let logits: string;
  let value: string;
  if ("shared" in model) {
    if (netOutputSize(model.shared) !== A + 1) throw new RangeError(`ppo: a shared network needs numActions + 1 = ${A + 1} outputs, has ${netOutputSize(model.shared)}`);
    const out = flat.net(model.shared, obs, "net");
    logits = o.slice(out, [0], [A], [1]);
    value = o.slice(out, [A], [A + 1], [1]);
  } else {
    if (netOutputSize(model.actor) !== A) throw new RangeError(`ppo: the actor needs numActions = ${A} outputs, has ${netOutputSize(model.actor)}`);
    if (netOutputSize(model.critic) !== 1) throw new RangeError(`ppo: the critic needs 1 output, has ${netOutputSize(model.critic)}`);
    if (netInputSize(model.critic) !== O) throw new RangeError(`ppo: actor and critic inputs differ (${O} vs ${netInputSize(model.critic)})`);
    logits = flat.net(model.actor, obs, "actor");
    value = flat.net(model.critic, obs, "critic");
  }
  flat.check();
  const actions = g.input("actions", "int32", [B]);
  const oldLogp = g.input("old_logp", "float32", [B]);
  const adv = g.input("advantages", "float32", [B]);
  const ret = g.input("returns", "float32", [B]);
  const oldV = g.input("old_values", "float32", [B]);
  const clip = g.input("clip_coef", "float32", []);
  const entCoef = g.input("ent_coef", "float32", []);
  const vfCoef = g.input("vf_coef", "float32", []);

  // policy: log-probabilities, the chosen action's, entropy
  const logp = o.logSoftmax(logits, 1);
  const newLogp = o.squeeze(o.gatherElements(logp, o.unsqueeze(actions, [1]), 1), [1]);
  const entropyRows = o.neg(o.sum(o.mul(o.exp(logp), logp), [1]));
  const logRatio = o.sub(newLogp, oldLogp);
  const ratio = o.exp(logRatio);

  let a = adv;
  if (normAdv) {
    const centred = o.sub(adv, o.mean(adv));
    const std = o.sqrt(o.div(o.sumSquares(centred), o.sub(o.count(adv), o.scalar(1))));
    a = o.div(centred, o.add(std, o.scalar(1e-8)));
  }
  const one = o.scalar(1);
  const negA = o.neg(a);
  const pg1 = o.mul(negA, ratio);
  const pg2 = o.mul(negA, o.clip(ratio, o.sub(one, clip), o.add(one, clip)));
  const pgLoss = o.mean(o.max(pg1, pg2));

  // value
  const v = o.squeeze(value, [1]);
  const dv = o.sub(v, ret);
  const vUnclipped = o.mul(dv, dv);
  let vRows = vUnclipped;
  if (clipVloss) {
    const vClipped = o.add(oldV, o.clip(o.sub(v, oldV), o.neg(clip), clip));
    const dc = o.sub(vClipped, ret);
    vRows = o.max(vUnclipped, o.mul(dc, dc));
  }
  const vLoss = o.mul(o.scalar(0.5), o.mean(vRows));
  const entropy = o.mean(entropyRows);
  const loss = o.add(o.sub(pgLoss, o.mul(entCoef, entropy)), o.mul(vfCoef, vLoss));

  // diagnostics (not differentiated)
  const approxKl = o.mean(o.sub(o.sub(ratio, one), logRatio));
  const oldApproxKl = o.mean(o.neg(logRatio));
  const clipFrac = o.mean(o.castFloat(o.cmp("Greater", o.abs(o.sub(ratio, one)), clip)));
  const metrics = metricOutputs(o, { loss, pg_loss: pgLoss, v_loss: vLoss, entropy, approx_kl: approxKl, old_approx_kl: oldApproxKl, clip_frac: clipFrac });
  return { g, flat, loss, metrics, hyper: { clip_coef: 0.2, ent_coef: 0.01, vf_coef: 0.5 } };
}

// ------------------------------------------------------------------ DQN

export interface DqnLossOptions {
  numActions: number;
  /** Dueling head: the network outputs [V, A_1 .. A_n] and Q = V + A - mean(A) (engine/rl/nn duelingForward). */
  dueling?: boolean;
  /** "mse" (CleanRL's dqn.py, default) or "huber" (torch smooth_l1_loss with beta = huberDelta). */
  loss?: "mse" | "huber";
  huberDelta?: number;
}

/** Q-values [batch, numActions] of a DQN network output (dueling combine when asked). */
export function appendQ(o: Ops, raw: string, numActions: number, dueling: boolean): string {
  if (!dueling) return raw;
  const v = o.slice(raw, [0], [1], [1]);
  const adv = o.slice(raw, [1], [numActions + 1], [1]);
  return o.sub(o.add(v, adv), o.mean(adv, [1], true));
}

/**
 * DQN regression of Q(s, a) on targets computed outside the graph (e.g.
 * r + gamma^n (1 - done) Q_target(s', argmax_a Q_online(s', a)) for double DQN):
 *
 *   inputs  params [P], obs [batch, O], actions [batch] int32, targets [batch]
 *   q_sa = Q(obs)[action];  loss = mean(mse or smooth_l1(q_sa - target))
 *   metrics loss, q_mean = mean(q_sa)
 */
export function dqnLossGraph(net: NetSpec, opts: DqnLossOptions): LossGraph {
  const nA = opts.numActions;
  const dueling = opts.dueling ?? false;
  if (netOutputSize(net) !== nA + (dueling ? 1 : 0)) throw new RangeError(`dqn: the network needs ${nA + (dueling ? 1 : 0)} outputs, has ${netOutputSize(net)}`);
  const g = new Graph("dqn_loss");
  const o = new Ops(g);
  const flat = new FlatParams(g, netParamCount(net));
  const obs = g.input("obs", "float32", [B, netInputSize(net)]);
  const q = appendQ(o, flat.net(net, obs, "q"), nA, dueling);
  flat.check();
  const actions = g.input("actions", "int32", [B]);
  const targets = g.input("targets", "float32", [B]);
  const qsa = o.squeeze(o.gatherElements(q, o.unsqueeze(actions, [1]), 1), [1]);
  const d = o.sub(qsa, targets);
  let rows: string;
  if ((opts.loss ?? "mse") === "mse") rows = o.mul(d, d);
  else {
    const delta = opts.huberDelta ?? 1;
    const ad = o.abs(d);
    const quad = o.mul(o.mul(d, d), o.scalar(0.5 / delta));
    const lin = o.sub(ad, o.scalar(0.5 * delta));
    rows = o.where(o.cmp("Less", ad, o.scalar(delta)), quad, lin);
  }
  const loss = o.mean(rows);
  const metrics = metricOutputs(o, { loss, q_mean: o.mean(qsa) });
  return { g, flat, loss, metrics, hyper: {} };
}

// ------------------------------------------------------------------ regression (tests, toy problems)

/** Mean squared error of net(x) against y [batch, out]: inputs params, x, y. */
export function mseLossGraph(net: NetSpec): LossGraph {
  const g = new Graph("mse_loss");
  const o = new Ops(g);
  const flat = new FlatParams(g, netParamCount(net));
  const x = g.input("x", "float32", [B, netInputSize(net)]);
  const y = g.input("y", "float32", [B, netOutputSize(net)]);
  const pred = flat.net(net, x, "net");
  flat.check();
  const d = o.sub(pred, y);
  const loss = o.mean(o.mul(d, d));
  return { g, flat, loss, metrics: metricOutputs(o, { loss }), hyper: {} };
}
