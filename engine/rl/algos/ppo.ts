/**
 * PPO for discrete actions, following CleanRL's ppo.py (Huang et al., "The 37 Implementation
 * Details of PPO"):
 *  - separate actor and critic MLPs (default 2 x 64 tanh), orthogonal init with gain sqrt(2) for
 *    hidden layers, 0.01 for the policy head, 1.0 for the value head, zero biases;
 *  - rollouts of numSteps per environment over the vectorised env, GAE(lambda) with the done flag
 *    of the next step (truncation is treated as termination, as in CleanRL);
 *  - updateEpochs passes over the batch in numMinibatches shuffled minibatches; per-minibatch
 *    advantage normalisation (unbiased std + 1e-8); clipped surrogate; clipped value loss;
 *    entropy bonus; loss = pg - entCoef * H + vfCoef * v;
 *  - one Adam (eps 1e-5) over actor and critic, global gradient-norm clipping, linear LR annealing,
 *    optional target-KL early stop (checked after each epoch on the last minibatch's approx KL).
 * Defaults are CleanRL's (num_envs 4 comes from the environment given).
 *
 * Backends for the update (`backend`): "ts" runs each minibatch on the plain-TypeScript path
 * (engine/rl/nn: lossAndGrad, clipGradNorm, Adam); "onnx" runs it as ONE float64 ONNX graph
 * through onnxruntime-node (engine/rl/onnx/train: ppoLossGraph + reverse-mode gradient +
 * gradient-norm clipping + Adam, TrainStep), with the annealed learning rate, max_grad_norm and the
 * loss coefficients as graph inputs and the logged metrics (policy / value loss, entropy, approx
 * KL, clip fraction) read from the graph's outputs. Both compute the same function in float64
 * (within ~1e-9); the rollout (batched actor / critic forward), GAE, advantage normalisation and
 * minibatch gathering stay in TypeScript for both. With "onnx" the Adam moments and step live in
 * the TrainStep (`optimizerState()`), `params` stays the canonical copy (pushed into the graph's
 * runner before each update phase, read back after it). If onnxruntime-node's native binding
 * cannot be loaded, an "onnx" run uses "ts" and says so in `backendNote`.
 *
 * Parameters: ONE Float64Array = [actor (Mlp layout), critic (Mlp layout)]; `actorParams()` is the
 * policy the ONNX exporter reads (layout in nn/mlp.ts).
 *
 * Determinism: the environment is reset with `seed`; initialisation, action sampling and minibatch
 * shuffling use the streams Rng.create(seed, "ppo", "init" | "actions" | "minibatches").
 * checkpoint() captures weights, Adam state, RNG states, counters, the environment state, the next
 * observation/done flags and episode statistics at an iteration boundary, so restore() + train
 * continues bit-identically.
 */
import { type Activation } from "../nn/activations";
import { expectArray, packCheckpoint, type TypedArray, unpackCheckpoint } from "../nn/checkpoint";
import { categoricalBackward, categoricalForward, meanStd, ppoPolicyLoss, ppoValueLoss, sampleCategorical } from "../nn/losses";
import { Mlp, type MlpWorkspace } from "../nn/mlp";
import { Adam, clipGradNorm, linearAnneal } from "../nn/optim";
import { ppoLossGraph } from "../onnx/train/losses";
import { attentionNet, mlpNet, type NetSpec, netParamCount } from "../onnx/train/nets";
import { TrainStep } from "../onnx/train/step";
import { Rng, type RngState } from "../rng";
import { assertFinite, checkEnvMatches, envFromCheckpoint, envToCheckpoint, EpisodeStats } from "./common";
import { assertFiniteObs, type VecEnv } from "./env";
import { ATTENTION_DEFAULTS, type AttentionOptions, attentionSpecFor, initNet, NetsForward, type NetworkKind, validateAttentionOptions } from "./policy-nets";

export interface PpoConfig {
  seed: number;
  /** environment steps the LR schedule is planned for (iterations = floor(total / batch)) */
  totalTimesteps: number;
  learningRate: number;
  annealLr: boolean;
  numSteps: number;
  gamma: number;
  gaeLambda: number;
  numMinibatches: number;
  updateEpochs: number;
  normAdv: boolean;
  clipCoef: number;
  clipVloss: boolean;
  entCoef: number;
  vfCoef: number;
  maxGradNorm: number;
  /** null: no KL early stop */
  targetKl: number | null;
  hidden: number[];
  activation: Activation;
  adamEps: number;
  /** where each minibatch update runs: plain TypeScript or one ONNX graph on onnxruntime-node (see above) */
  backend: TrainBackend;
  /**
   * "mlp": actor and critic are MLPs (hidden, activation). "attention": each is a transformer-
   * attention encoder over the observation window (./policy-nets.ts) with an MLP head of `hidden`;
   * needs an environment with a windowed observation (obsLayout) and the "onnx" backend.
   */
  network: NetworkKind;
  attention: AttentionOptions;
}

export type TrainBackend = "ts" | "onnx";

/**
 * The update backend when the configuration names none: "onnx" (measured faster end to end, see
 * bench.ts; kept apart from PPO_DEFAULTS, which lists the algorithm's hyperparameters).
 */
export const PPO_DEFAULT_BACKEND: TrainBackend = "onnx";

export const PPO_DEFAULTS: Omit<PpoConfig, "seed" | "totalTimesteps" | "backend"> = {
  learningRate: 2.5e-4,
  annealLr: true,
  numSteps: 128,
  gamma: 0.99,
  gaeLambda: 0.95,
  numMinibatches: 4,
  updateEpochs: 4,
  normAdv: true,
  clipCoef: 0.2,
  clipVloss: true,
  entCoef: 0.01,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  targetKl: null,
  hidden: [64, 64],
  activation: "tanh",
  adamEps: 1e-5,
  network: "mlp",
  attention: ATTENTION_DEFAULTS,
};

export interface PpoLog {
  iteration: number;
  globalStep: number;
  learningRate: number;
  /** episodes finished during this iteration and their mean return (NaN if none) */
  episodesThisIteration: number;
  episodicReturn: number;
  /** mean return over the last 100 episodes (NaN before the first) */
  meanReturn100: number;
  episodes: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number;
  oldApproxKl: number;
  clipFrac: number;
  explainedVariance: number;
  epochs: number;
  /** environment steps per second since this trainer object started (CleanRL's SPS) */
  stepsPerSecond: number;
}

export function validatePpoConfig(c: PpoConfig, numEnvs: number): string[] {
  const errs: string[] = [];
  const posInt = (k: keyof PpoConfig) => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < 1) errs.push(`${k} must be a positive integer, got ${v}`);
  };
  posInt("numSteps");
  posInt("numMinibatches");
  posInt("updateEpochs");
  posInt("totalTimesteps");
  if (!Number.isInteger(c.seed)) errs.push(`seed must be an integer, got ${c.seed}`);
  const batch = numEnvs * c.numSteps;
  if (Number.isInteger(c.numMinibatches) && batch % c.numMinibatches !== 0) errs.push(`numMinibatches (${c.numMinibatches}) must divide the batch size numEnvs*numSteps = ${batch}`);
  if (c.totalTimesteps < batch) errs.push(`totalTimesteps (${c.totalTimesteps}) must be at least one batch (${batch})`);
  const inRange = (k: keyof PpoConfig, lo: number, hi: number, loOpen = false) => {
    const v = c[k] as number;
    if (!Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi) errs.push(`${k} must be in ${loOpen ? "(" : "["}${lo}, ${hi}], got ${v}`);
  };
  inRange("learningRate", 0, 1, true);
  inRange("gamma", 0, 1);
  inRange("gaeLambda", 0, 1);
  inRange("clipCoef", 0, 10, true);
  inRange("entCoef", 0, 100);
  inRange("vfCoef", 0, 100);
  inRange("maxGradNorm", 0, 1e9, true);
  inRange("adamEps", 0, 1, true);
  if (c.targetKl !== null && !(c.targetKl > 0)) errs.push(`targetKl must be positive or null, got ${c.targetKl}`);
  if (!Array.isArray(c.hidden) || c.hidden.length === 0 || c.hidden.some((h) => !Number.isInteger(h) || h < 1)) errs.push(`hidden must be a non-empty list of positive integers`);
  if (!["tanh", "relu"].includes(c.activation)) errs.push(`activation must be tanh or relu, got ${c.activation}`);
  if (c.backend !== "ts" && c.backend !== "onnx") errs.push(`backend must be ts or onnx, got ${String(c.backend)}`);
  if (c.network !== "mlp" && c.network !== "attention") errs.push(`network must be mlp or attention, got ${String(c.network)}`);
  if (c.network === "attention") {
    errs.push(...validateAttentionOptions(c.attention));
    if (c.backend !== "onnx") errs.push(`backend must be onnx for attention networks (they train through the ONNX graph), got ${c.backend}`);
  }
  return errs;
}

interface PpoMeta {
  kind: "ppo";
  version: 1;
  config: PpoConfig;
  envId: string;
  numEnvs: number;
  obsSize: number;
  numActions: number;
  iteration: number;
  globalStep: number;
  adamStep: number;
  actRng: RngState;
  shuffleRng: RngState;
  episodes: ReturnType<EpisodeStats["getState"]>;
  env: unknown;
}

export class Ppo {
  readonly config: PpoConfig;
  /** The networks as described once (MLP or attention); the ONNX graphs are emitted from these. */
  readonly actorNet: NetSpec;
  readonly criticNet: NetSpec;
  /** The plain-TypeScript MLPs (network "mlp"; null for attention, which runs on ORT). */
  readonly actor: Mlp | null;
  readonly critic: Mlp | null;
  /** Rollout / evaluation forward pass on ORT (network "attention"). */
  private fwd: NetsForward | null = null;
  private readonly actorCount: number;
  /** [actor params, critic params] */
  readonly params: Float64Array;
  readonly grads: Float64Array;
  /** The plain-TypeScript optimiser (backend "ts"; with "onnx" the state is in the TrainStep, see optimizerState()). */
  readonly adam: Adam;
  /** The backend in use (the configured one unless the ONNX runtime could not be loaded). */
  readonly backend: TrainBackend;
  /** Why the backend differs from the configured one (null when it does not). */
  readonly backendNote: string | null = null;
  /** The ONNX training step (backend "onnx"). */
  readonly onnx: TrainStep | null = null;
  readonly episodes = new EpisodeStats(100);
  readonly numIterations: number;
  readonly batchSize: number;
  readonly minibatchSize: number;
  iteration = 0;
  globalStep = 0;

  private actRng: Rng;
  private shuffleRng: Rng;
  private readonly N: number;
  private readonly O: number;
  private readonly A: number;
  // rollout storage (numSteps x N, flattened step-major: index t*N + i)
  private readonly bObs: Float64Array;
  private readonly bActions: Int32Array;
  private readonly bLogp: Float64Array;
  private readonly bRewards: Float64Array;
  private readonly bDones: Float64Array;
  private readonly bValues: Float64Array;
  private readonly bAdv: Float64Array;
  private readonly bRet: Float64Array;
  private readonly nextObs: Float64Array;
  private readonly nextDone: Float64Array;
  private readonly inds: Int32Array;
  // minibatch scratch
  private readonly mObs: Float64Array;
  private readonly mAct: Int32Array;
  private readonly mOldLogp: Float64Array;
  private readonly mAdv: Float64Array;
  private readonly mRet: Float64Array;
  private readonly mOldV: Float64Array;
  private readonly mNewLogp: Float64Array;
  private readonly mEnt: Float64Array;
  private readonly mLogp: Float64Array;
  private readonly dNewLogp: Float64Array;
  private readonly dEnt: Float64Array;
  private readonly dLogits: Float64Array;
  private readonly dV: Float64Array;
  private readonly actorWs: MlpWorkspace | null;
  private readonly criticWs: MlpWorkspace | null;
  private readonly actorWsRoll: MlpWorkspace | null;
  private readonly criticWsRoll: MlpWorkspace | null;
  private readonly rollScratch: Float64Array;
  private readonly rollLogp: Float64Array;
  private readonly rollAct: Int32Array;
  private readonly onnxFeeds: Record<string, Float64Array | Int32Array>;
  private readonly startTime = performance.now();
  private startStep: number;

  constructor(
    readonly env: VecEnv,
    config: Partial<Omit<PpoConfig, "attention">> & { seed: number; totalTimesteps: number; attention?: Partial<AttentionOptions> },
    restoring = false,
    /** Where the ONNX sessions run (TrainingSession resolves it from the run's device; default the CPU). */
    readonly runtime: { provider?: "cpu" | "cuda" } = {},
  ) {
    const c: PpoConfig = { ...PPO_DEFAULTS, backend: PPO_DEFAULT_BACKEND, ...config, hidden: [...(config.hidden ?? PPO_DEFAULTS.hidden)], attention: { ...ATTENTION_DEFAULTS, ...config.attention } };
    const errs = validatePpoConfig(c, env.numEnvs);
    if (errs.length) throw new RangeError(`invalid PPO configuration: ${errs.join("; ")}`);
    this.config = c;
    const N = (this.N = env.numEnvs),
      O = (this.O = env.obsSize),
      A = (this.A = env.numActions);
    const act = c.activation as "tanh" | "relu";
    if (c.network === "attention") {
      if (!env.obsLayout) throw new RangeError(`network attention needs an environment whose observation is a window of feature rows; ${env.id} has none (use network mlp)`);
      this.actorNet = attentionNet(attentionSpecFor(env.obsLayout, c.attention, c.hidden, A, act));
      this.criticNet = attentionNet(attentionSpecFor(env.obsLayout, c.attention, c.hidden, 1, act));
      this.actor = this.critic = null;
    } else {
      this.actorNet = mlpNet({ sizes: [O, ...c.hidden, A], activation: act });
      this.criticNet = mlpNet({ sizes: [O, ...c.hidden, 1], activation: act });
      this.actor = new Mlp({ sizes: [O, ...c.hidden, A], hidden: c.activation });
      this.critic = new Mlp({ sizes: [O, ...c.hidden, 1], hidden: c.activation });
    }
    this.actorCount = netParamCount(this.actorNet);
    this.params = new Float64Array(this.actorCount + netParamCount(this.criticNet));
    this.grads = new Float64Array(this.params.length);
    const initRng = Rng.create(c.seed, "ppo", "init");
    if (this.actor && this.critic) {
      this.actor.initOrthogonal(this.actorParams(), initRng, Math.SQRT2, 0.01);
      this.critic.initOrthogonal(this.criticParams(), initRng, Math.SQRT2, 1.0);
    } else {
      initNet(this.actorNet, this.actorParams(), initRng, 0.01);
      initNet(this.criticNet, this.criticParams(), initRng, 1.0);
    }
    this.actRng = Rng.create(c.seed, "ppo", "actions");
    this.shuffleRng = Rng.create(c.seed, "ppo", "minibatches");
    this.adam = new Adam(this.params.length, { lr: c.learningRate, eps: c.adamEps });
    this.batchSize = N * c.numSteps;
    this.minibatchSize = this.batchSize / c.numMinibatches;
    this.numIterations = Math.floor(c.totalTimesteps / this.batchSize);
    const T = c.numSteps;
    this.bObs = new Float64Array(T * N * O);
    this.bActions = new Int32Array(T * N);
    this.bLogp = new Float64Array(T * N);
    this.bRewards = new Float64Array(T * N);
    this.bDones = new Float64Array(T * N);
    this.bValues = new Float64Array(T * N);
    this.bAdv = new Float64Array(T * N);
    this.bRet = new Float64Array(T * N);
    this.nextObs = new Float64Array(N * O);
    this.nextDone = new Float64Array(N);
    this.inds = new Int32Array(this.batchSize);
    const M = this.minibatchSize;
    this.mObs = new Float64Array(M * O);
    this.mAct = new Int32Array(M);
    this.mOldLogp = new Float64Array(M);
    this.mAdv = new Float64Array(M);
    this.mRet = new Float64Array(M);
    this.mOldV = new Float64Array(M);
    this.mNewLogp = new Float64Array(M);
    this.mEnt = new Float64Array(M);
    this.mLogp = new Float64Array(M * A);
    this.dNewLogp = new Float64Array(M);
    this.dEnt = new Float64Array(M);
    this.dLogits = new Float64Array(M * A);
    this.dV = new Float64Array(M);
    this.actorWs = this.actor?.workspace(M) ?? null;
    this.criticWs = this.critic?.workspace(M) ?? null;
    this.actorWsRoll = this.actor?.workspace(N) ?? null;
    this.criticWsRoll = this.critic?.workspace(N) ?? null;
    this.rollScratch = new Float64Array(N * A);
    this.rollLogp = new Float64Array(N);
    this.rollAct = new Int32Array(N);
    this.onnxFeeds = { obs: this.mObs, actions: this.mAct, old_logp: this.mOldLogp, advantages: this.mAdv, returns: this.mRet, old_values: this.mOldV };
    this.backend = c.backend;
    if (c.backend === "onnx") {
      try {
        this.onnx = this.createTrainStep();
      } catch (e) {
        if (c.network === "attention") throw new Error(`attention networks need onnxruntime-node, which could not run the training graph: ${(e as Error).message}`, { cause: e });
        this.backend = "ts";
        this.backendNote = `ONNX training step unavailable, using the TypeScript path: ${(e as Error).message}`;
      }
    }
    if (c.network === "attention") this.fwd = new NetsForward([{ name: "actor", net: this.actorNet }, { name: "critic", net: this.criticNet }], O, this.runtime.provider);
    if (!restoring) {
      env.reset(c.seed);
      this.nextObs.set(env.obs);
    }
    this.startStep = this.globalStep;
  }

  /**
   * The float64 training graph of this configuration: actor and critic MLPs over one flat
   * parameter vector (the same layout as `params`), the PPO loss with advantages normalised
   * outside (loadMinibatch), gradient, clipping and Adam; run synchronously.
   */
  private createTrainStep(): TrainStep {
    const c = this.config;
    const lg = ppoLossGraph(
      { actor: this.actorNet, critic: this.criticNet },
      { numActions: this.A, clipVloss: c.clipVloss, normAdv: false },
    );
    const ts = TrainStep.createSync(lg, {
      provider: this.runtime.provider,
      precision: "float64",
      threads: 1,
      optimizer: { lr: c.learningRate, beta1: this.adam.beta1, beta2: this.adam.beta2, eps: c.adamEps, maxGradNorm: c.maxGradNorm },
    });
    if (ts.params.length !== this.params.length) throw new Error(`ONNX training graph has ${ts.params.length} parameters, the networks ${this.params.length}`);
    ts.hyper.clip_coef = c.clipCoef;
    ts.hyper.ent_coef = c.entCoef;
    ts.hyper.vf_coef = c.vfCoef;
    return ts;
  }

  /** The optimiser's state (views): the TypeScript Adam's, or the ONNX TrainStep's. */
  optimizerState(): { step: number; m: Float64Array; v: Float64Array } {
    if (this.onnx) return { step: this.onnx.step, m: this.onnx.m as Float64Array, v: this.onnx.v as Float64Array };
    return { step: this.adam.step, m: this.adam.m, v: this.adam.v };
  }

  private setOptimizerState(s: { step: number; m: Float64Array; v: Float64Array }): void {
    if (this.onnx) this.onnx.setState({ params: this.params, ...s });
    else this.adam.setState(s);
  }

  /** Releases the ONNX session (backend "onnx"); the trainer must not be used afterwards. */
  dispose(): void {
    this.fwd?.dispose();
    this.fwd = null;
    const ts = this.onnx;
    if (!ts) return;
    (this as { onnx: TrainStep | null }).onnx = null;
    void ts.dispose();
  }

  /** The policy's parameters (a view; layout in nn/mlp.ts). */
  actorParams(): Float64Array {
    return this.params.subarray(0, this.actorCount);
  }

  criticParams(): Float64Array {
    return this.params.subarray(this.actorCount);
  }

  /** Actor logits [n, A] and critic values [n] for n observations. */
  private forwardBoth(obs: Float64Array, n: number): { logits: Float64Array; values: Float64Array } {
    if (this.fwd) {
      const r = this.fwd.run(this.params, obs.length === n * this.O ? obs : obs.subarray(0, n * this.O));
      return { logits: r.actor!, values: r.critic! };
    }
    const ws = n === this.N ? this.actorWsRoll! : this.actor!.workspace(n);
    const cws = n === this.N ? this.criticWsRoll! : this.critic!.workspace(n);
    return { logits: this.actor!.forward(this.actorParams(), obs, n, ws), values: this.critic!.forward(this.criticParams(), obs, n, cws) };
  }

  /** Greedy or sampled action for one observation (evaluation helper). */
  act(obs: Float64Array, greedy = true, rng?: Rng): number {
    const logits = this.fwd ? this.fwd.run(this.params, obs.length === this.O ? obs : obs.subarray(0, this.O)).actor! : this.actor!.forward(this.actorParams(), obs, 1, this.actor!.workspace(1));
    if (greedy || !rng) {
      let best = 0;
      for (let k = 1; k < this.A; k++) if (logits[k]! > logits[best]!) best = k;
      return best;
    }
    const a = new Int32Array(1);
    sampleCategorical(logits, 1, this.A, () => rng.uniform(), a, new Float64Array(1), new Float64Array(this.A));
    return a[0]!;
  }

  get done(): boolean {
    return this.iteration >= this.numIterations;
  }

  /** Runs one iteration: a rollout of numSteps x numEnvs steps, then the PPO update. */
  runIteration(): PpoLog {
    if (this.done) throw new Error(`PPO: all ${this.numIterations} iterations are done`);
    const c = this.config;
    const { N, O, A, env } = this;
    this.iteration++;
    const lr = c.annealLr ? linearAnneal(c.learningRate, this.iteration, this.numIterations) : c.learningRate;
    this.adam.lr = lr;
    const pa = this.actorParams(),
      pc = this.criticParams();

    // ---- rollout
    const epBefore = this.episodes.count;
    let epSum = 0;
    const actRng = this.actRng;
    const u = () => actRng.uniform();
    for (let t = 0; t < c.numSteps; t++) {
      this.globalStep += N;
      const base = t * N;
      this.bObs.set(this.nextObs, base * O);
      for (let i = 0; i < N; i++) this.bDones[base + i] = this.nextDone[i]!;
      let v: Float64Array;
      if (this.fwd) {
        const r = this.forwardBoth(this.nextObs, N);
        sampleCategorical(r.logits, N, A, u, this.rollAct, this.rollLogp, this.rollScratch);
        v = r.values;
      } else {
        const logits = this.actor!.forward(pa, this.nextObs, N, this.actorWsRoll!);
        sampleCategorical(logits, N, A, u, this.rollAct, this.rollLogp, this.rollScratch);
        v = this.critic!.forward(pc, this.nextObs, N, this.criticWsRoll!);
      }
      for (let i = 0; i < N; i++) {
        this.bValues[base + i] = v[i]!;
        this.bActions[base + i] = this.rollAct[i]!;
        this.bLogp[base + i] = this.rollLogp[i]!;
      }
      const s = env.step(this.rollAct);
      assertFiniteObs(env, `observation at environment step ${this.globalStep}`);
      for (let i = 0; i < N; i++) {
        const r = s.rewards[i]!;
        if (!Number.isFinite(r)) throw new Error(`reward of environment ${i} is ${r} at environment step ${this.globalStep}; training stopped`);
        this.bRewards[base + i] = r;
        const d = s.terminated[i] || s.truncated[i] ? 1 : 0;
        this.nextDone[i] = d;
        if (d) epSum += s.episodeReturn[i]!;
      }
      this.episodes.addFromStep(s, N);
      this.nextObs.set(s.obs);
    }
    const epCount = this.episodes.count - epBefore;

    // ---- GAE
    const nextV = this.fwd ? this.forwardBoth(this.nextObs, N).values : this.critic!.forward(pc, this.nextObs, N, this.criticWsRoll!);
    computeGae(this.bRewards, this.bValues, this.bDones, nextV, this.nextDone, c.numSteps, N, c.gamma, c.gaeLambda, this.bAdv, this.bRet);

    // ---- update
    const ts = this.onnx;
    if (ts) {
      ts.params.set(this.params);
      ts.optimizer.lr = lr;
    }
    const M = this.minibatchSize;
    const inds = this.inds;
    for (let k = 0; k < this.batchSize; k++) inds[k] = k;
    let clipFracSum = 0,
      clipFracN = 0;
    let pgLoss = 0,
      vLoss = 0,
      entropy = 0,
      approxKl = 0,
      oldApproxKl = 0,
      epochs = 0;
    for (let epoch = 0; epoch < c.updateEpochs; epoch++) {
      epochs++;
      this.shuffleRng.shuffle(inds);
      for (let start = 0; start < this.batchSize; start += M) {
        const st = ts ? this.minibatchStepOnnx(ts, start) : this.minibatchStep(start);
        pgLoss = st.pgLoss;
        vLoss = st.vLoss;
        entropy = st.entropy;
        approxKl = st.approxKl;
        oldApproxKl = st.oldApproxKl;
        clipFracSum += st.clipFrac;
        clipFracN++;
      }
      if (c.targetKl !== null && approxKl > c.targetKl) break;
    }
    if (ts) this.params.set(ts.params);

    // explained variance of the value predictions against the returns
    const ev = explainedVariance(this.bValues, this.bRet);
    const elapsed = (performance.now() - this.startTime) / 1000;
    return {
      iteration: this.iteration,
      globalStep: this.globalStep,
      learningRate: lr,
      episodesThisIteration: epCount,
      episodicReturn: epCount ? epSum / epCount : NaN,
      meanReturn100: this.episodes.meanReturn(),
      episodes: this.episodes.count,
      policyLoss: pgLoss,
      valueLoss: vLoss,
      entropy,
      approxKl,
      oldApproxKl,
      clipFrac: clipFracN ? clipFracSum / clipFracN : 0,
      explainedVariance: ev,
      epochs,
      stepsPerSecond: elapsed > 0 ? (this.globalStep - this.startStep) / elapsed : 0,
    };
  }

  /** One minibatch gradient step on rows inds[start .. start + M). */
  private minibatchStep(start: number) {
    this.loadMinibatch(start);
    const st = this.lossAndGrad(true);
    assertFinite(st.loss, "PPO loss", this.globalStep);
    const norm = clipGradNorm(this.grads, this.config.maxGradNorm);
    assertFinite(norm, "PPO gradient norm", this.globalStep);
    this.adam.update(this.params, this.grads);
    return st;
  }

  /** One minibatch update through the ONNX training graph (loss, gradient, clipping, Adam; metrics from its outputs). */
  private minibatchStepOnnx(ts: TrainStep, start: number) {
    this.loadMinibatch(start);
    let m: Record<string, number>;
    try {
      m = ts.update(this.onnxFeeds);
    } catch (e) {
      // TrainStep commits nothing when the loss or gradient norm is not finite
      this.params.set(ts.params);
      const msg = (e as Error).message.replace(/; parameters left unchanged$/, "");
      throw new Error(`PPO ${msg} at environment step ${this.globalStep}; training stopped`, { cause: e });
    }
    return { pgLoss: m.pg_loss!, vLoss: m.v_loss!, entropy: m.entropy!, approxKl: m.approx_kl!, oldApproxKl: m.old_approx_kl!, clipFrac: m.clip_frac!, loss: m.loss! };
  }

  /** @internal Gathers rollout rows inds[start .. start + M) into the minibatch buffers (normalising advantages). */
  loadMinibatch(start: number): void {
    const c = this.config;
    const { O } = this;
    const M = this.minibatchSize;
    for (let b = 0; b < M; b++) {
      const k = this.inds[start + b]!;
      this.mObs.set(this.bObs.subarray(k * O, k * O + O), b * O);
      this.mAct[b] = this.bActions[k]!;
      this.mOldLogp[b] = this.bLogp[k]!;
      this.mAdv[b] = this.bAdv[k]!;
      this.mRet[b] = this.bRet[k]!;
      this.mOldV[b] = this.bValues[k]!;
    }
    if (c.normAdv) {
      const { mean, std } = meanStd(this.mAdv, M);
      const d = std + 1e-8;
      for (let b = 0; b < M; b++) this.mAdv[b] = (this.mAdv[b]! - mean) / d;
    }
  }

  /**
   * @internal The PPO loss of the loaded minibatch, loss = pg - entCoef * H + vfCoef * v, and (when
   * withGrad) its gradient with respect to params, written to grads.
   */
  lossAndGrad(withGrad: boolean) {
    const c = this.config;
    const { A } = this;
    const M = this.minibatchSize;
    const pa = this.actorParams(),
      pc = this.criticParams();
    if (!this.actor || !this.critic) throw new Error("the TypeScript PPO loss is for MLP networks");
    const ga = this.grads.subarray(0, this.actorCount),
      gc = this.grads.subarray(this.actorCount);
    if (withGrad) this.grads.fill(0);
    // policy
    const logits = this.actor.forward(pa, this.mObs, M, this.actorWs!);
    categoricalForward(logits, this.mAct, this.mLogp, this.mNewLogp, this.mEnt, M, A);
    const pst = ppoPolicyLoss(this.mNewLogp, this.mOldLogp, this.mAdv, M, c.clipCoef, withGrad ? this.dNewLogp : null);
    let ent = 0;
    for (let b = 0; b < M; b++) ent += this.mEnt[b]!;
    ent /= M;
    if (withGrad) {
      this.dEnt.fill(-c.entCoef / M);
      categoricalBackward(this.mLogp, this.mAct, this.mEnt, this.dNewLogp, this.dEnt, this.dLogits, M, A);
      this.actor.backward(pa, ga, this.actorWs!, M, this.dLogits);
    }
    // value
    const v = this.critic.forward(pc, this.mObs, M, this.criticWs!);
    const vLoss = ppoValueLoss(v, this.mOldV, this.mRet, M, c.clipVloss ? c.clipCoef : null, withGrad ? this.dV : null);
    if (withGrad) {
      for (let b = 0; b < M; b++) this.dV[b] = this.dV[b]! * c.vfCoef;
      this.critic.backward(pc, gc, this.criticWs!, M, this.dV);
    }
    const loss = pst.loss - c.entCoef * ent + c.vfCoef * vLoss;
    return { pgLoss: pst.loss, vLoss, entropy: ent, approxKl: pst.approxKl, oldApproxKl: pst.oldApproxKl, clipFrac: pst.clipFrac, loss };
  }

  /**
   * Trains until all iterations are done, `stop()` returns true (checked after each iteration),
   * or globalStep reaches `maxSteps`. Returns the last log.
   */
  train(opts: { onLog?: (l: PpoLog) => void; stop?: (l: PpoLog) => boolean; maxSteps?: number } = {}): PpoLog | null {
    let last: PpoLog | null = null;
    while (!this.done && (opts.maxSteps === undefined || this.globalStep < opts.maxSteps)) {
      last = this.runIteration();
      opts.onLog?.(last);
      if (opts.stop?.(last)) break;
    }
    return last;
  }

  /** Everything needed to continue exactly (at an iteration boundary). */
  checkpoint(): Buffer {
    const opt = this.optimizerState();
    const arrays: Record<string, TypedArray> = {
      params: this.params,
      "adam.m": opt.m,
      "adam.v": opt.v,
      nextObs: this.nextObs,
      nextDone: this.nextDone,
      "episodes.returns": this.episodes.returns,
      "episodes.lengths": this.episodes.lengths,
    };
    const envMeta = envToCheckpoint(this.env, arrays);
    const meta: PpoMeta = {
      kind: "ppo",
      version: 1,
      config: this.config,
      envId: this.env.id,
      numEnvs: this.N,
      obsSize: this.O,
      numActions: this.A,
      iteration: this.iteration,
      globalStep: this.globalStep,
      adamStep: opt.step,
      actRng: this.actRng.getState(),
      shuffleRng: this.shuffleRng.getState(),
      episodes: this.episodes.getState(),
      env: envMeta,
    };
    return packCheckpoint(meta, arrays);
  }

  /**
   * Rebuilds a trainer from checkpoint() output on an environment of the same kind and size.
   * The backend is the checkpoint's ("ts" for checkpoints made before backends existed) unless
   * opts.backend overrides it (the optimiser state carries over; the continuation then matches
   * within the backends' ~1e-9 rather than bit for bit).
   */
  static restore(env: VecEnv, buf: Uint8Array, opts: { backend?: TrainBackend; provider?: "cpu" | "cuda" } = {}): Ppo {
    const ck = unpackCheckpoint<PpoMeta>(buf);
    const m = ck.meta;
    if (m.kind !== "ppo") throw new Error(`not a PPO checkpoint (kind ${String(m.kind)})`);
    checkEnvMatches(env, m);
    const p = new Ppo(env, { ...m.config, backend: opts.backend ?? m.config.backend ?? "ts" }, true, { provider: opts.provider });
    p.params.set(expectArray(ck, "params", Float64Array, p.params.length));
    p.setOptimizerState({ step: m.adamStep, m: expectArray(ck, "adam.m", Float64Array, p.params.length), v: expectArray(ck, "adam.v", Float64Array, p.params.length) });
    p.nextObs.set(expectArray(ck, "nextObs", Float64Array, p.nextObs.length));
    p.nextDone.set(expectArray(ck, "nextDone", Float64Array, p.nextDone.length));
    p.episodes.setState(m.episodes, expectArray(ck, "episodes.returns", Float64Array), expectArray(ck, "episodes.lengths", Int32Array));
    p.actRng = Rng.fromState(m.actRng);
    p.shuffleRng = Rng.fromState(m.shuffleRng);
    p.iteration = m.iteration;
    p.globalStep = m.globalStep;
    p.startStep = m.globalStep;
    envFromCheckpoint(env, m.env, ck.arrays);
    return p;
  }
}

/**
 * GAE(lambda) over a rollout stored step-major (index t*N + i), exactly as CleanRL:
 *   delta_t = r_t + gamma V(t+1) (1 - done_{t+1}) - V(t);  A_t = delta_t + gamma lambda (1 - done_{t+1}) A_{t+1}
 * where done_{t+1} is the done flag stored with step t+1 (nextDone / nextValue after the last step).
 * returns = advantages + values.
 */
export function computeGae(
  rewards: Float64Array,
  values: Float64Array,
  dones: Float64Array,
  nextValue: Float64Array,
  nextDone: Float64Array,
  T: number,
  N: number,
  gamma: number,
  lambda: number,
  adv: Float64Array,
  ret: Float64Array,
): void {
  for (let i = 0; i < N; i++) {
    let lastGae = 0;
    for (let t = T - 1; t >= 0; t--) {
      let nonTerminal: number, nv: number;
      if (t === T - 1) {
        nonTerminal = 1 - nextDone[i]!;
        nv = nextValue[i]!;
      } else {
        nonTerminal = 1 - dones[(t + 1) * N + i]!;
        nv = values[(t + 1) * N + i]!;
      }
      const k = t * N + i;
      const delta = rewards[k]! + gamma * nv * nonTerminal - values[k]!;
      lastGae = delta + gamma * lambda * nonTerminal * lastGae;
      adv[k] = lastGae;
      ret[k] = lastGae + values[k]!;
    }
  }
}

/** 1 - Var(returns - values) / Var(returns) (NaN when Var(returns) = 0), as CleanRL logs it. */
export function explainedVariance(pred: Float64Array, target: Float64Array): number {
  const n = target.length;
  let mt = 0,
    md = 0;
  for (let k = 0; k < n; k++) {
    mt += target[k]!;
    md += target[k]! - pred[k]!;
  }
  mt /= n;
  md /= n;
  let vt = 0,
    vd = 0;
  for (let k = 0; k < n; k++) {
    vt += (target[k]! - mt) ** 2;
    vd += (target[k]! - pred[k]! - md) ** 2;
  }
  return vt === 0 ? NaN : 1 - vd / vt;
}
