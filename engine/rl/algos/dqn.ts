/**
 * DQN for discrete actions, following CleanRL's dqn.py (Mnih et al. 2015), with options:
 *  - double: the online network picks the next action, the target network values it (van Hasselt 2016);
 *  - dueling: Q = V + A - mean(A) from one extra output column (Wang et al. 2016);
 *  - nStep: n-step returns (see replay.ts);
 *  - loss "mse" (CleanRL) or "huber" (SB3); optional gradient-norm clipping (off in CleanRL).
 * The loop is CleanRL's: at iteration t (t = global_step for one environment)
 *   epsilon = linear_schedule(startE, endE, explorationFraction * totalTimesteps, t)
 *   act epsilon-greedily, step, store (obs, real next obs, action, reward, terminated)
 *   if t > learningStarts: train every trainFrequency iterations on a uniform batch;
 *                          target <- tau * online + (1 - tau) * target every targetNetworkFrequency.
 * With several environments each iteration steps all of them (globalStep = (t + 1) * numEnvs) and
 * each environment draws its own exploration coin (CleanRL draws one for all).
 *
 * Backends for the gradient step (`backend`): "ts" runs the TD loss, its gradient, the
 * optional clipping and Adam on the plain-TypeScript path (engine/rl/nn); "onnx" (default, ~2.3x
 * faster on CartPole with CleanRL's settings, see BENCHMARKS.md) runs them as ONE
 * float64 ONNX graph (engine/rl/onnx/train dqnLossGraph + reverse-mode gradient + clipping + Adam,
 * TrainStep) on onnxruntime-node. The TD targets are computed in TypeScript for both (target
 * network forward, double-DQN argmax, n-step discounts), so double, dueling, n-step and mse / huber
 * are all supported by the graph; acting stays in TypeScript. Results agree within ~1e-9. With
 * "onnx" the Adam state lives in the TrainStep (`optimizerState()`, saved in checkpoints) and
 * `params` stays the canonical copy (pushed into the runner before each update, read back after).
 * If onnxruntime-node's native binding cannot be loaded, an "onnx" run uses "ts" and says so in
 * `backendNote`.
 *
 * Parameters: the online network's Mlp layout (nn/mlp.ts) in `params`; the target copy in `target`.
 * With dueling, output column 0 is V and columns 1..numActions are the advantages.
 *
 * Determinism: env.reset(seed); init, exploration and replay sampling use
 * Rng.create(seed, "dqn", "init" | "explore" | "replay").
 * checkpoint() holds weights, target, Adam, RNG states, counters, environment, pending n-step
 * transitions and (by default) the replay buffer, so restore() continues bit-identically.
 */
import { type Activation } from "../nn/activations";
import { expectArray, packCheckpoint, type TypedArray, unpackCheckpoint } from "../nn/checkpoint";
import { argmaxRows, duelingBackward, duelingForward, huber, mse } from "../nn/losses";
import { Mlp, type MlpWorkspace } from "../nn/mlp";
import { Adam, clipGradNorm, linearSchedule, softUpdate } from "../nn/optim";
import { dqnLossGraph } from "../onnx/train/losses";
import { mlpNet } from "../onnx/train/nets";
import { TrainStep } from "../onnx/train/step";
import { Rng, type RngState } from "../rng";
import { assertFinite, checkEnvMatches, envFromCheckpoint, envToCheckpoint, EpisodeStats } from "./common";
import { assertFiniteObs, type VecEnv } from "./env";
import type { TrainBackend } from "./ppo";
import { NStepAccumulator, type ReplayBatch, ReplayBuffer } from "./replay";

export interface DqnConfig {
  seed: number;
  /** environment steps the exploration schedule is planned for */
  totalTimesteps: number;
  learningRate: number;
  bufferSize: number;
  gamma: number;
  /** target update rate: 1 = hard copy */
  tau: number;
  /** iterations between target updates */
  targetNetworkFrequency: number;
  batchSize: number;
  startE: number;
  endE: number;
  explorationFraction: number;
  /** iterations before training starts */
  learningStarts: number;
  /** iterations between gradient steps */
  trainFrequency: number;
  hidden: number[];
  activation: Activation;
  double: boolean;
  dueling: boolean;
  nStep: number;
  loss: "mse" | "huber";
  /** null: no clipping (CleanRL) */
  maxGradNorm: number | null;
  adamEps: number;
  /** where the gradient step runs: plain TypeScript or one ONNX graph on onnxruntime-node (see above) */
  backend: TrainBackend;
}

/** The gradient-step backend when the configuration names none (kept apart from DQN_DEFAULTS, the hyperparameters). */
export const DQN_DEFAULT_BACKEND: TrainBackend = "onnx";

/** CleanRL dqn.py defaults. */
export const DQN_DEFAULTS: Omit<DqnConfig, "seed" | "totalTimesteps" | "backend"> = {
  learningRate: 2.5e-4,
  bufferSize: 10_000,
  gamma: 0.99,
  tau: 1.0,
  targetNetworkFrequency: 500,
  batchSize: 128,
  startE: 1,
  endE: 0.05,
  explorationFraction: 0.5,
  learningStarts: 10_000,
  trainFrequency: 10,
  hidden: [120, 84],
  activation: "relu",
  double: false,
  dueling: false,
  nStep: 1,
  loss: "mse",
  maxGradNorm: null,
  adamEps: 1e-8,
};

/**
 * Why the ONNX training graph cannot run this configuration (null: it can). dqnLossGraph covers
 * plain and dueling heads with mse or huber (delta 1) losses; double DQN and n-step returns only
 * change the targets, which are computed outside the graph; clipping (or none) is a graph input.
 * So every configuration validateDqnConfig accepts is supported today; this is the one place to
 * say otherwise when the options grow.
 */
export function dqnOnnxUnsupported(c: DqnConfig): string | null {
  if (c.loss !== "mse" && c.loss !== "huber") return `loss ${String(c.loss)}`;
  if (c.activation !== "tanh" && c.activation !== "relu") return `activation ${String(c.activation)}`;
  return null;
}

export interface DqnLog {
  globalStep: number;
  epsilon: number;
  meanReturn100: number;
  episodes: number;
  /** mean TD loss and mean Q(s, a) of the batch over the gradient steps since the last log */
  tdLoss: number;
  qValue: number;
  gradientSteps: number;
  stepsPerSecond: number;
}

export function validateDqnConfig(c: DqnConfig): string[] {
  const errs: string[] = [];
  const posInt = (k: keyof DqnConfig, min = 1) => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < min) errs.push(`${k} must be an integer >= ${min}, got ${v}`);
  };
  posInt("totalTimesteps");
  posInt("bufferSize");
  posInt("targetNetworkFrequency");
  posInt("batchSize");
  posInt("learningStarts", 0);
  posInt("trainFrequency");
  posInt("nStep");
  if (!Number.isInteger(c.seed)) errs.push(`seed must be an integer, got ${c.seed}`);
  const inRange = (k: keyof DqnConfig, lo: number, hi: number, loOpen = false) => {
    const v = c[k] as number;
    if (!Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi) errs.push(`${k} must be in ${loOpen ? "(" : "["}${lo}, ${hi}], got ${v}`);
  };
  inRange("learningRate", 0, 1, true);
  inRange("gamma", 0, 1);
  inRange("tau", 0, 1, true);
  inRange("startE", 0, 1);
  inRange("endE", 0, 1);
  inRange("explorationFraction", 0, 1);
  inRange("adamEps", 0, 1, true);
  if (c.maxGradNorm !== null && !(c.maxGradNorm > 0)) errs.push(`maxGradNorm must be positive or null, got ${c.maxGradNorm}`);
  if (c.loss !== "mse" && c.loss !== "huber") errs.push(`loss must be mse or huber, got ${c.loss}`);
  if (!Array.isArray(c.hidden) || c.hidden.length === 0 || c.hidden.some((h) => !Number.isInteger(h) || h < 1)) errs.push(`hidden must be a non-empty list of positive integers`);
  if (!["tanh", "relu"].includes(c.activation)) errs.push(`activation must be tanh or relu, got ${c.activation}`);
  if (c.backend !== "ts" && c.backend !== "onnx") errs.push(`backend must be ts or onnx, got ${String(c.backend)}`);
  return errs;
}

interface DqnMeta {
  kind: "dqn";
  version: 1;
  config: DqnConfig;
  envId: string;
  numEnvs: number;
  obsSize: number;
  numActions: number;
  t: number;
  adamStep: number;
  exploreRng: RngState;
  sampleRng: RngState;
  episodes: ReturnType<EpisodeStats["getState"]>;
  replay: { included: boolean; pos: number; full: boolean };
  env: unknown;
}

export class Dqn {
  readonly config: DqnConfig;
  readonly net: Mlp;
  readonly params: Float64Array;
  readonly target: Float64Array;
  readonly grads: Float64Array;
  /** The plain-TypeScript optimiser (backend "ts"; with "onnx" the state is in the TrainStep, see optimizerState()). */
  readonly adam: Adam;
  /** The backend in use (the configured one unless the ONNX runtime or graph cannot run this configuration). */
  readonly backend: TrainBackend;
  /** Why the backend differs from the configured one (null when it does not). */
  readonly backendNote: string | null = null;
  /** The ONNX training step (backend "onnx"). */
  readonly onnx: TrainStep | null = null;
  readonly replay: ReplayBuffer;
  readonly nstep: NStepAccumulator;
  readonly episodes = new EpisodeStats(100);
  /** iterations done (each steps every environment once) */
  t = 0;
  /** false after restoring a checkpoint saved without its replay buffer */
  replayIntact = true;

  private exploreRng: Rng;
  private sampleRng: Rng;
  private readonly N: number;
  private readonly O: number;
  private readonly A: number;
  private readonly obs: Float64Array;
  private readonly actions: Int32Array;
  private readonly batch: ReplayBatch;
  private readonly ws: MlpWorkspace;
  private readonly wsNext: MlpWorkspace;
  private readonly wsAct: MlpWorkspace;
  private readonly qBatch: Float64Array;
  private readonly qNext: Float64Array;
  private readonly qNextOnline: Float64Array;
  private readonly nextArg: Int32Array;
  private readonly qAct: Float64Array;
  private readonly tdTarget: Float64Array;
  private readonly qTaken: Float64Array;
  private readonly dTaken: Float64Array;
  private readonly dQ: Float64Array;
  private readonly dRaw: Float64Array;
  private readonly explore: Uint8Array;
  private lossSum = 0;
  private qSum = 0;
  private gradSteps = 0;
  private readonly startTime = performance.now();
  private startT: number;

  constructor(
    readonly env: VecEnv,
    config: Partial<DqnConfig> & { seed: number; totalTimesteps: number },
    restoring = false,
    /** Where the ONNX sessions run (TrainingSession resolves it from the run's device; default the CPU). */
    readonly runtime: { provider?: "cpu" | "cuda" } = {},
  ) {
    const c: DqnConfig = { ...DQN_DEFAULTS, backend: DQN_DEFAULT_BACKEND, ...config, hidden: [...(config.hidden ?? DQN_DEFAULTS.hidden)] };
    const errs = validateDqnConfig(c);
    // an explicit request for the ONNX backend with a combination its graph does not cover is a configuration error
    const unsupported = errs.length === 0 && config.backend === "onnx" ? dqnOnnxUnsupported(c) : null;
    if (unsupported) errs.push(`backend onnx does not support ${unsupported}; use backend ts`);
    if (errs.length) throw new RangeError(`invalid DQN configuration: ${errs.join("; ")}`);
    this.config = c;
    const N = (this.N = env.numEnvs),
      O = (this.O = env.obsSize),
      A = (this.A = env.numActions);
    const outW = c.dueling ? A + 1 : A;
    this.net = new Mlp({ sizes: [O, ...c.hidden, outW], hidden: c.activation });
    this.params = new Float64Array(this.net.numParams);
    this.target = new Float64Array(this.net.numParams);
    this.grads = new Float64Array(this.net.numParams);
    // CleanRL's QNetwork keeps torch's default nn.Linear initialisation
    this.net.initTorchDefault(this.params, Rng.create(c.seed, "dqn", "init"));
    this.target.set(this.params);
    this.exploreRng = Rng.create(c.seed, "dqn", "explore");
    this.sampleRng = Rng.create(c.seed, "dqn", "replay");
    this.adam = new Adam(this.params.length, { lr: c.learningRate, eps: c.adamEps });
    this.replay = new ReplayBuffer(c.bufferSize, O);
    this.nstep = new NStepAccumulator(N, O, c.nStep, c.gamma);
    this.obs = new Float64Array(N * O);
    this.actions = new Int32Array(N);
    const B = c.batchSize;
    this.batch = ReplayBuffer.batch(B, O);
    this.ws = this.net.workspace(B);
    this.wsNext = this.net.workspace(B);
    this.wsAct = this.net.workspace(N);
    this.qBatch = new Float64Array(B * A);
    this.qNext = new Float64Array(B * A);
    this.qNextOnline = new Float64Array(B * A);
    this.nextArg = new Int32Array(B);
    this.qAct = new Float64Array(N * A);
    this.tdTarget = new Float64Array(B);
    this.qTaken = new Float64Array(B);
    this.dTaken = new Float64Array(B);
    this.dQ = new Float64Array(B * A);
    this.dRaw = new Float64Array(B * outW);
    this.explore = new Uint8Array(N);
    this.backend = c.backend;
    if (c.backend === "onnx") {
      const why = dqnOnnxUnsupported(c);
      if (why) {
        this.backend = "ts";
        this.backendNote = `backend onnx does not support ${why}: using the TypeScript path`;
      } else {
        try {
          this.onnx = this.createTrainStep();
        } catch (e) {
          this.backend = "ts";
          this.backendNote = `ONNX training step unavailable, using the TypeScript path: ${(e as Error).message}`;
        }
      }
    }
    if (!restoring) {
      env.reset(c.seed);
      this.obs.set(env.obs);
    }
    this.startT = this.t;
  }

  /** The float64 training graph: Q-network over the flat parameters (Mlp layout), TD loss on given targets, clipping, Adam. */
  private createTrainStep(): TrainStep {
    const c = this.config;
    const lg = dqnLossGraph(mlpNet({ sizes: [this.O, ...c.hidden, c.dueling ? this.A + 1 : this.A], activation: c.activation as "tanh" | "relu" }), { numActions: this.A, dueling: c.dueling, loss: c.loss, huberDelta: 1 });
    const ts = TrainStep.createSync(lg, {
      provider: this.runtime.provider,
      precision: "float64",
      threads: 1,
      optimizer: { lr: c.learningRate, beta1: this.adam.beta1, beta2: this.adam.beta2, eps: c.adamEps, maxGradNorm: c.maxGradNorm ?? Infinity },
    });
    if (ts.params.length !== this.params.length) throw new Error(`ONNX training graph has ${ts.params.length} parameters, the network ${this.params.length}`);
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
    const ts = this.onnx;
    if (!ts) return;
    (this as { onnx: TrainStep | null }).onnx = null;
    void ts.dispose();
  }

  get globalStep(): number {
    return this.t * this.N;
  }

  /** Iterations in the configured run (each steps every environment once). */
  get totalIterations(): number {
    return Math.ceil(this.config.totalTimesteps / this.N);
  }

  get done(): boolean {
    return this.t >= this.totalIterations;
  }

  epsilon(t = this.t): number {
    const c = this.config;
    return linearSchedule(c.startE, c.endE, c.explorationFraction * c.totalTimesteps, t);
  }

  /** Q-values of `batch` observations with the given parameters (dueling combined). */
  private qValues(params: Float64Array, x: Float64Array, batch: number, ws: MlpWorkspace, out: Float64Array): Float64Array {
    const raw = this.net.forward(params, x, batch, ws);
    if (!this.config.dueling) return raw;
    duelingForward(raw, out, batch, this.A);
    return out;
  }

  /** Greedy action for one observation (evaluation helper). */
  act(obs: Float64Array): number {
    const ws = this.net.workspace(1);
    const q = this.qValues(this.params, obs, 1, ws, new Float64Array(this.A));
    const a = new Int32Array(1);
    argmaxRows(q, 1, this.A, a);
    return a[0]!;
  }

  /** One iteration: act, step every environment, store, maybe train and update the target. */
  step(): void {
    const c = this.config;
    const { N, O, A, env } = this;
    const t = this.t;
    const eps = this.epsilon(t);
    let greedy = false;
    for (let i = 0; i < N; i++) {
      const ex = this.exploreRng.uniform() < eps;
      this.explore[i] = ex ? 1 : 0;
      if (ex) this.actions[i] = this.exploreRng.int(A);
      else greedy = true;
    }
    if (greedy) {
      const q = this.qValues(this.params, this.obs, N, this.wsAct, this.qAct);
      for (let i = 0; i < N; i++)
        if (!this.explore[i]) {
          let best = 0;
          for (let k = 1; k < A; k++) if (q[i * A + k]! > q[i * A + best]!) best = k;
          this.actions[i] = best;
        }
    }
    const s = env.step(this.actions);
    this.t = t + 1;
    assertFiniteObs(env, `observation at environment step ${this.globalStep}`);
    for (let i = 0; i < N; i++) {
      const r = s.rewards[i]!;
      if (!Number.isFinite(r)) throw new Error(`reward of environment ${i} is ${r} at environment step ${this.globalStep}; training stopped`);
      const term = s.terminated[i] === 1;
      const ended = term || s.truncated[i] === 1;
      this.nstep.push(this.replay, i, this.obs, i * O, this.actions[i]!, r, term, ended, ended ? s.finalObs : s.obs, i * O);
    }
    this.episodes.addFromStep(s, N);
    this.obs.set(s.obs);

    if (t > c.learningStarts) {
      if (t % c.trainFrequency === 0) this.trainStep();
      if (t % c.targetNetworkFrequency === 0) softUpdate(this.target, this.params, c.tau);
    }
  }

  /** @internal Draws a training batch from the replay buffer. */
  sampleBatch(): void {
    this.replay.sample(this.sampleRng, this.config.batchSize, this.batch);
  }

  /**
   * @internal TD loss of the current batch and, when withGrad, its gradient in grads. The target
   * (r + discount * (1 - done) * Q_target(next, a*)) is a constant, as under torch.no_grad();
   * reuseTargets keeps the targets of the previous call (for gradient checks).
   */
  lossAndGrad(withGrad: boolean, reuseTargets = false): { loss: number; q: number } {
    const c = this.config;
    const { A } = this;
    const B = c.batchSize;
    const bt = this.batch;
    if (!reuseTargets) this.computeTargets();
    // online Q(s, a)
    const q = this.qValues(this.params, bt.obs, B, this.ws, this.qBatch);
    let qs = 0;
    for (let b = 0; b < B; b++) {
      this.qTaken[b] = q[b * A + bt.actions[b]!]!;
      qs += this.qTaken[b]!;
    }
    const dT = withGrad ? this.dTaken : null;
    const loss = c.loss === "mse" ? mse(this.qTaken, this.tdTarget, B, dT) : huber(this.qTaken, this.tdTarget, B, 1, dT);
    if (withGrad) {
      this.grads.fill(0);
      this.dQ.fill(0);
      for (let b = 0; b < B; b++) this.dQ[b * A + bt.actions[b]!] = this.dTaken[b]!;
      if (c.dueling) {
        duelingBackward(this.dQ, this.dRaw, B, A);
        this.net.backward(this.params, this.grads, this.ws, B, this.dRaw);
      } else this.net.backward(this.params, this.grads, this.ws, B, this.dQ);
    }
    return { loss, q: qs / B };
  }

  /** TD targets of the current batch (constants for the gradient, as under torch.no_grad()). */
  private computeTargets(): void {
    const c = this.config;
    const { A } = this;
    const B = c.batchSize;
    const bt = this.batch;
    const qt = this.qValues(this.target, bt.nextObs, B, this.wsNext, this.qNext);
    if (c.double) {
      const qo = this.qValues(this.params, bt.nextObs, B, this.ws, this.qNextOnline);
      argmaxRows(qo, B, A, this.nextArg);
    } else argmaxRows(qt, B, A, this.nextArg);
    for (let b = 0; b < B; b++) this.tdTarget[b] = bt.rewards[b]! + bt.discounts[b]! * qt[b * A + this.nextArg[b]!]! * (1 - bt.dones[b]!);
  }

  private trainStep(): void {
    this.sampleBatch();
    if (this.onnx) {
      this.trainStepOnnx(this.onnx);
      return;
    }
    const { loss, q } = this.lossAndGrad(true);
    assertFinite(loss, "DQN TD loss", this.globalStep);
    if (this.config.maxGradNorm !== null) clipGradNorm(this.grads, this.config.maxGradNorm);
    this.adam.update(this.params, this.grads);
    this.lossSum += loss;
    this.qSum += q;
    this.gradSteps++;
  }

  /** Targets in TypeScript, then loss + gradient + clipping + Adam as one ONNX graph run. */
  private trainStepOnnx(ts: TrainStep): void {
    this.computeTargets();
    ts.params.set(this.params);
    let m: Record<string, number>;
    try {
      m = ts.update({ obs: this.batch.obs, actions: this.batch.actions, targets: this.tdTarget });
    } catch (e) {
      const msg = (e as Error).message.replace(/; parameters left unchanged$/, "");
      throw new Error(`DQN ${msg} at environment step ${this.globalStep}; training stopped`, { cause: e });
    }
    this.params.set(ts.params);
    this.lossSum += m.loss!;
    this.qSum += m.q_mean!;
    this.gradSteps++;
  }

  /** Statistics since the previous log() call. */
  log(): DqnLog {
    const elapsed = (performance.now() - this.startTime) / 1000;
    const l: DqnLog = {
      globalStep: this.globalStep,
      epsilon: this.epsilon(),
      meanReturn100: this.episodes.meanReturn(),
      episodes: this.episodes.count,
      tdLoss: this.gradSteps ? this.lossSum / this.gradSteps : NaN,
      qValue: this.gradSteps ? this.qSum / this.gradSteps : NaN,
      gradientSteps: this.gradSteps,
      stepsPerSecond: elapsed > 0 ? ((this.t - this.startT) * this.N) / elapsed : 0,
    };
    this.lossSum = this.qSum = this.gradSteps = 0;
    return l;
  }

  /**
   * Runs iterations until the configured total, globalStep >= maxSteps, or stop() is true (checked
   * after every iteration with the episode statistics). Calls onLog every logEvery env steps.
   */
  train(opts: { onLog?: (l: DqnLog) => void; logEvery?: number; stop?: (d: Dqn) => boolean; maxSteps?: number } = {}): DqnLog {
    const every = opts.logEvery ?? 10_000;
    let nextLog = (Math.floor(this.globalStep / every) + 1) * every;
    while (!this.done && (opts.maxSteps === undefined || this.globalStep < opts.maxSteps)) {
      this.step();
      if (this.globalStep >= nextLog) {
        opts.onLog?.(this.log());
        nextLog += every;
      }
      if (opts.stop?.(this)) break;
    }
    return this.log();
  }

  /** Everything needed to continue exactly; without the replay buffer the resumed run refills it. */
  checkpoint(opts: { replay?: boolean } = {}): Buffer {
    const withReplay = opts.replay ?? true;
    const opt = this.optimizerState();
    const arrays: Record<string, TypedArray> = {
      params: this.params,
      target: this.target,
      "adam.m": opt.m,
      "adam.v": opt.v,
      obs: this.obs,
      "episodes.returns": this.episodes.returns,
      "episodes.lengths": this.episodes.lengths,
      "nstep.obs": this.nstep.pObs,
      "nstep.act": this.nstep.pAct,
      "nstep.rew": this.nstep.pRew,
      "nstep.count": this.nstep.count,
      "nstep.head": this.nstep.head,
    };
    if (withReplay) {
      const r = this.replay;
      Object.assign(arrays, { "replay.obs": r.obs, "replay.nextObs": r.nextObs, "replay.actions": r.actions, "replay.rewards": r.rewards, "replay.dones": r.dones, "replay.discounts": r.discounts });
    }
    const envMeta = envToCheckpoint(this.env, arrays);
    const meta: DqnMeta = {
      kind: "dqn",
      version: 1,
      config: this.config,
      envId: this.env.id,
      numEnvs: this.N,
      obsSize: this.O,
      numActions: this.A,
      t: this.t,
      adamStep: opt.step,
      exploreRng: this.exploreRng.getState(),
      sampleRng: this.sampleRng.getState(),
      episodes: this.episodes.getState(),
      replay: { included: withReplay, pos: this.replay.pos, full: this.replay.full },
      env: envMeta,
    };
    return packCheckpoint(meta, arrays);
  }

  /**
   * Rebuilds a trainer from checkpoint() output. The backend is the checkpoint's ("ts" for
   * checkpoints made before backends existed) unless opts.backend overrides it.
   */
  static restore(env: VecEnv, buf: Uint8Array, opts: { backend?: TrainBackend; provider?: "cpu" | "cuda" } = {}): Dqn {
    const ck = unpackCheckpoint<DqnMeta>(buf);
    const m = ck.meta;
    if (m.kind !== "dqn") throw new Error(`not a DQN checkpoint (kind ${String(m.kind)})`);
    checkEnvMatches(env, m);
    const d = new Dqn(env, { ...m.config, backend: opts.backend ?? m.config.backend ?? "ts" }, true, { provider: opts.provider });
    d.params.set(expectArray(ck, "params", Float64Array, d.params.length));
    d.target.set(expectArray(ck, "target", Float64Array, d.target.length));
    d.setOptimizerState({ step: m.adamStep, m: expectArray(ck, "adam.m", Float64Array, d.params.length), v: expectArray(ck, "adam.v", Float64Array, d.params.length) });
    d.obs.set(expectArray(ck, "obs", Float64Array, d.obs.length));
    d.episodes.setState(m.episodes, expectArray(ck, "episodes.returns", Float64Array), expectArray(ck, "episodes.lengths", Int32Array));
    d.nstep.pObs.set(expectArray(ck, "nstep.obs", Float64Array));
    d.nstep.pAct.set(expectArray(ck, "nstep.act", Int32Array));
    d.nstep.pRew.set(expectArray(ck, "nstep.rew", Float64Array));
    d.nstep.count.set(expectArray(ck, "nstep.count", Int32Array));
    d.nstep.head.set(expectArray(ck, "nstep.head", Int32Array));
    if (m.replay.included) {
      const r = d.replay;
      r.obs.set(expectArray(ck, "replay.obs", Float32Array, r.obs.length));
      r.nextObs.set(expectArray(ck, "replay.nextObs", Float32Array, r.nextObs.length));
      r.actions.set(expectArray(ck, "replay.actions", Int32Array));
      r.rewards.set(expectArray(ck, "replay.rewards", Float64Array));
      r.dones.set(expectArray(ck, "replay.dones", Uint8Array));
      r.discounts.set(expectArray(ck, "replay.discounts", Float64Array));
      r.pos = m.replay.pos;
      r.full = m.replay.full;
    } else d.replayIntact = false;
    d.exploreRng = Rng.fromState(m.exploreRng);
    d.sampleRng = Rng.fromState(m.sampleRng);
    d.t = m.t;
    d.startT = m.t;
    envFromCheckpoint(env, m.env, ck.arrays);
    return d;
  }
}
