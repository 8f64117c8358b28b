/**
 * A training run from configuration to registered model: environments,
 * algorithm (PPO or DQN), iteration by iteration (so a service can stream
 * curves, stop, checkpoint and resume exactly), then an honest evaluation and
 * the policy as an ONNX graph.
 *
 * Trading runs split the series by time into train | validation | test; the
 * policy learns on the train span only, features are normalised with past
 * statistics only, a look-ahead check runs before any training (a run whose
 * features see the next bar is refused), and the report shows in-sample
 * (train) and out-of-sample (test) metrics beside baselines on the same spans.
 */
import { coreInstrument } from "../../backtest/runner";
import type { BarColumns, Instrument } from "../../data/types";
import { TIMEFRAME_MS } from "../../data/types";
import type { Metrics } from "../../core/metrics";
import { Dqn, type DqnLog } from "../algos/dqn";
import type { VecEnv } from "../algos/env";
import { Ppo, type PpoLog } from "../algos/ppo";
import { CartPoleVec } from "../cartpole/cartpole";
import { buildDataset, type TradingDataset } from "../env/dataset";
import { defaultFeatureSet, type FeatureSetSpec } from "../env/features";
import { checkFeatureSet, type LookAheadReport } from "../env/lookahead";
import { runPolicyBacktest } from "../env/replay";
import { runBaselines, type BaselineResult } from "../env/baselines";
import { type Fold, type Span, splitByTime, type TimeSplit, walkForwardFolds } from "../env/split";
import { expectArray, packCheckpoint, unpackCheckpoint } from "../nn/checkpoint";
import { VecTradingEnv } from "../env/trading-env";
import { Graph } from "../onnx/graph";
import { emitAttentionEncoder, headSizes } from "../onnx/attention";
import { chooseProvider, type Provider, type ProviderChoice } from "../onnx/runtime";
import { appendMlp } from "../onnx/mlp";
import { parseTrainConfig, TrainConfigError, type TrainConfig, trainingTotalSteps } from "./config";
import { TradingVecEnv } from "./trading-vecenv";

export interface CurvePoint {
  step: number;
  episodeReturn: number | null;
  meanReturn100: number | null;
  policyLoss: number | null;
  valueLoss: number | null;
  entropy: number | null;
  approxKl: number | null;
  clipFrac: number | null;
  tdLoss: number | null;
  epsilon: number | null;
  stepsPerSecond: number;
}

export interface TrainingReport {
  env: string;
  algo: string;
  seed: number;
  steps: number;
  episodes: number;
  meanReturn100: number | null;
  stepsPerSecond: number;
  elapsedMs: number;
  /** Execution provider of the ONNX sessions (training step, attention rollouts), as chosen for the run's device. */
  compute: { provider: string; requested: string; note: string | null; backend: string; backendNote: string | null };
  /** CartPole: greedy policy over 100 fresh episodes (a different seed from training). */
  evaluation?: { episodes: number; meanReturn: number; label: "evaluation" };
  /** Trading: spans and metrics, every figure labelled. */
  trading?: {
    split: TimeSplit;
    spans: { train: { from: string; to: string }; validation: { from: string; to: string }; test: { from: string; to: string } };
    lookAhead: { ok: boolean; features: string[] };
    inSample: { label: "in-sample"; metrics: Metrics; finalValue: number; fills: number };
    outOfSample: { label: "out-of-sample"; metrics: Metrics; finalValue: number; fills: number };
    baselines: BaselineResult[];
    /** Walk-forward folds inside the development part (train + validation; never the test span). */
    walkForward?: { anchored: boolean; folds: FoldResult[]; summary: ReturnType<typeof foldSummary> };
  };
}

/**
 * How a registered policy's network is described in its metadata (the network view reads it).
 * MLP: sizes are the layers from the observation to the outputs. Attention: sizes are the head
 * MLP's (from the pooled encoding + extra features); `attention` is the encoder's shape.
 */
export interface PolicyNetworkSpec {
  kind: "mlp" | "attention";
  obsSize: number;
  sizes: number[];
  activation: string;
  output: string;
  attention?: { window: number; features: number; extra: number; dModel: number; heads: number };
}

export interface TrainDeps {
  /** Bars and instrument of a stored series (trading runs). */
  loadBars?: (symbol: string, timeframe: string) => Promise<{ bars: BarColumns; instrument: Instrument }>;
}

type Algo = Ppo | Dqn;

interface TradingExtra {
  dataset?: TradingDataset;
  split?: TimeSplit;
  lookAhead?: LookAheadReport;
  folds?: Fold[];
  makeEnv?: (span: Span) => VecEnv;
}

/** One walk-forward fold's result: its policy, trained on `train` only, measured on `validation`. */
export interface FoldResult {
  index: number;
  train: { from: string; to: string };
  validation: { from: string; to: string };
  bars: { train: Span; validation: Span };
  steps: number;
  /** Out-of-sample for the fold's policy (the block is after its training data; it lies in the development part, never in the test span). */
  label: "out-of-sample";
  metrics: Metrics;
  finalValue: number;
  fills: number;
}

interface FoldsCheckpointMeta {
  kind: "walk-forward";
  phase: number;
  offset: number;
  results: FoldResult[];
}

/** Mean and spread of the folds' validation figures (the stability of the configuration). */
export function foldSummary(folds: readonly FoldResult[]): { folds: number; meanSharpe: number | null; stdSharpe: number | null; meanReturn: number | null; positive: number } {
  const sh = folds.map((f) => f.metrics.sharpe).filter((x) => Number.isFinite(x));
  const ret = folds.map((f) => f.metrics.totalReturn).filter((x) => Number.isFinite(x));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const m = mean(sh);
  const sd = m !== null && sh.length > 1 ? Math.sqrt(sh.reduce((a, x) => a + (x - m) ** 2, 0) / (sh.length - 1)) : null;
  return { folds: folds.length, meanSharpe: m, stdSharpe: sd, meanReturn: mean(ret), positive: ret.filter((x) => x > 0).length };
}

function cleanNum(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

export class TrainingSession {
  readonly config: TrainConfig;
  /** Where the run's ONNX sessions execute, what was asked for, and why it differs (a requested GPU that is not there). */
  readonly compute: ProviderChoice;
  env: VecEnv;
  algo: Algo;
  readonly curves: CurvePoint[] = [];
  /** Walk-forward results of the finished folds (each fold's policy on its validation block). */
  readonly foldResults: FoldResult[] = [];
  private dataset: TradingDataset | null = null;
  private split: TimeSplit | null = null;
  private lookAhead: LookAheadReport | null = null;
  private readonly folds: Fold[];
  private readonly makeEnv: ((span: Span) => VecEnv) | null;
  /** 0..folds-1: training fold `phase`; folds: the final training on the whole train span. */
  private phase = 0;
  /** Environment steps of the finished phases. */
  private offset = 0;
  private started = performance.now();
  private lastLogStep = 0;
  private episodes = 0;

  private constructor(config: TrainConfig, env: VecEnv, algo: Algo, extra: TradingExtra, compute: ProviderChoice) {
    this.config = config;
    this.compute = compute;
    this.env = env;
    this.algo = algo;
    this.dataset = extra.dataset ?? null;
    this.split = extra.split ?? null;
    this.lookAhead = extra.lookAhead ?? null;
    this.folds = extra.folds ?? [];
    this.makeEnv = extra.makeEnv ?? null;
  }

  /** Validate, build the environment (refusing look-ahead features), and create or restore the trainer. */
  static async create(input: unknown, deps: TrainDeps = {}, checkpoint?: Uint8Array): Promise<TrainingSession> {
    const config = parseTrainConfig(input);
    let env: VecEnv | undefined;
    let extra: TradingExtra = {};
    if (config.env === "cartpole") {
      env = new CartPoleVec(config.numEnvs ?? (config.algo === "ppo" ? 4 : 1));
    } else {
      const t = config.trading!;
      if (!deps.loadBars) throw new TrainConfigError("trading", "trading runs need stored market data (run them in the engine or the CLI with a database)");
      let loaded;
      try {
        loaded = await deps.loadBars(t.symbol, t.timeframe);
      } catch (e) {
        throw new TrainConfigError("trading.symbol", (e as Error).message);
      }
      const bars = loaded.bars;
      const features: FeatureSetSpec = defaultFeatureSet();
      if (t.plantLookAhead) {
        features.features.push({
          kind: "custom",
          name: "next_return",
          compute: (b, out) => {
            for (let i = 0; i < b.length; i++) out[i] = i + 1 < b.length ? Math.log(b.close[i + 1]! / b.close[i]!) : NaN;
          },
        });
      }
      const lookAhead = checkFeatureSet(bars, features);
      if (!lookAhead.ok) throw new TrainConfigError("trading.features", `look-ahead: feature(s) ${lookAhead.features.join(", ")} use bars after the decision bar; the run is refused (its results would not be valid)`);
      const inst = coreInstrument(loaded.instrument);
      const dataset = buildDataset(bars, { instrument: inst, barMs: TIMEFRAME_MS[t.timeframe], calendar: loaded.instrument.calendar, commission: loaded.instrument.commissionType === "percent" ? { kind: "percent", percent: loaded.instrument.commission } : { kind: "per_contract", amount: loaded.instrument.commission } }, features);
      const start = dataset.features.validFrom + t.window;
      let split: TimeSplit;
      try {
        split = splitByTime(dataset.length, { ...t.split, embargo: t.window, start });
      } catch (e) {
        throw new TrainConfigError("trading.split", (e as Error).message);
      }
      let folds: Fold[] = [];
      if (t.walkForward) {
        try {
          folds = walkForwardFolds(split, { folds: t.walkForward.folds, anchored: t.walkForward.anchored });
        } catch (e) {
          throw new TrainConfigError("trading.walkForward.folds", (e as Error).message);
        }
      }
      const makeEnv = (span: Span) =>
        new TradingVecEnv(
          new VecTradingEnv({
            dataset,
            // PPO: 8 parallel episode windows (~20k env steps/s here; 4 gave ~17.7k, see BENCHMARKS.md)
            numEnvs: config.numEnvs ?? (config.algo === "ppo" ? 8 : 4),
            window: t.window,
            span,
            episodeLength: Math.min(t.episodeLength, Math.max(1, span.to - span.from - 2)),
            actions: { mode: t.actions, contractSize: t.contractSize },
            reward: t.reward === "pnl_drawdown" ? { kind: "pnl_drawdown", lambda: t.drawdownPenalty } : { kind: t.reward },
            cash: t.cash,
            flatAtSessionEnd: t.flatAtSessionEnd,
          }),
          `trading:${t.symbol}:${t.timeframe}:w${t.window}:${t.actions}`,
        );
      extra = { dataset, split, lookAhead, folds, makeEnv };
    }
    // walk-forward runs checkpoint their phase (fold i, or the final run) around the algorithm's checkpoint
    let phase: FoldsCheckpointMeta | null = null;
    let algoCheckpoint = checkpoint;
    if (checkpoint && extra.folds?.length) {
      const ck = unpackCheckpoint<FoldsCheckpointMeta>(checkpoint);
      if (ck.meta?.kind !== "walk-forward") throw new TrainConfigError("trading.walkForward", "the checkpoint was made without walk-forward folds; reset the run to train it with them");
      phase = ck.meta;
      algoCheckpoint = expectArray(ck, "algo", Uint8Array);
    }
    const nFolds = extra.folds?.length ?? 0;
    const phaseIndex = phase?.phase ?? 0;
    if (extra.makeEnv) env = extra.makeEnv(phaseIndex < nFolds ? extra.folds![phaseIndex]!.train : extra.split!.train);
    const compute = await chooseProvider(config.device);
    const algo = TrainingSession.makeAlgo(config, env!, algoCheckpoint, compute.provider);
    const session = new TrainingSession(config, env!, algo, extra, compute);
    if (phase) {
      session.phase = phase.phase;
      session.offset = phase.offset;
      session.foldResults.push(...phase.results);
    }
    return session;
  }

  private static makeAlgo(config: TrainConfig, env: VecEnv, checkpoint: Uint8Array | undefined, provider: Provider): Algo {
    try {
      if (checkpoint) return config.algo === "ppo" ? Ppo.restore(env, checkpoint, { provider }) : Dqn.restore(env, checkpoint, { provider });
      if (config.algo === "ppo") return new Ppo(env, { ...config.ppo, seed: config.seed, totalTimesteps: config.steps }, false, { provider });
      return new Dqn(env, { ...config.dqn, seed: config.seed, totalTimesteps: config.steps }, false, { provider });
    } catch (e) {
      throw new TrainConfigError(config.algo, (e as Error).message);
    }
  }

  /** Environment steps of the whole run: one training per walk-forward fold plus the final one. */
  get totalSteps(): number {
    return trainingTotalSteps(this.config);
  }

  /** Steps done over every phase (finished folds and the current training). */
  get globalStep(): number {
    return this.offset + this.algo.globalStep;
  }

  /** The current training's own steps are done (a fold's or the final one's). */
  private get phaseDone(): boolean {
    return this.algo.done || this.algo.globalStep >= this.config.steps;
  }

  get done(): boolean {
    return this.phase >= this.folds.length && this.phaseDone;
  }

  /** Walk-forward: the fold being trained (0-based), or null for the final training on the whole train span. */
  get currentFold(): number | null {
    return this.phase < this.folds.length ? this.phase : null;
  }

  /**
   * A fold's training is done: its greedy policy is measured on the fold's
   * validation block (bars it never trained on), then the next phase starts
   * from fresh weights on its own train span.
   */
  private finishFold(): void {
    const f = this.folds[this.phase]!;
    const r = this.policyMetricsOnSpan(f.validation);
    const ds = this.dataset!;
    const iso = (i: number) => new Date(ds.bars.ts[Math.min(i, ds.length - 1)]!).toISOString();
    this.foldResults.push({ index: f.index, train: { from: iso(f.train.from), to: iso(f.train.to - 1) }, validation: { from: iso(f.validation.from), to: iso(f.validation.to - 1) }, bars: { train: f.train, validation: f.validation }, steps: this.algo.globalStep, label: "out-of-sample", ...r });
    this.offset += this.algo.globalStep;
    this.algo.dispose();
    this.phase++;
    this.lastLogStep = 0;
    this.env = this.makeEnv!(this.phase < this.folds.length ? this.folds[this.phase]!.train : this.split!.train);
    this.algo = TrainingSession.makeAlgo(this.config, this.env, undefined, this.compute.provider);
  }

  /**
   * One unit of work: a PPO iteration, or DQN steps up to the next 1,000 environment steps. Returns
   * the curve point (its step counts every phase). With walk-forward folds, the step that ends a
   * fold's training also measures it on its validation block and starts the next phase.
   */
  step(): CurvePoint {
    const p = this.stepAlgo();
    if (this.phase < this.folds.length && this.phaseDone) this.finishFold();
    return p;
  }

  private stepAlgo(): CurvePoint {
    if (this.algo instanceof Ppo) {
      const l: PpoLog = this.algo.runIteration();
      this.episodes = l.episodes;
      const p: CurvePoint = {
        step: this.offset + l.globalStep,
        episodeReturn: cleanNum(l.episodicReturn),
        meanReturn100: cleanNum(l.meanReturn100),
        policyLoss: cleanNum(l.policyLoss),
        valueLoss: cleanNum(l.valueLoss),
        entropy: cleanNum(l.entropy),
        approxKl: cleanNum(l.approxKl),
        clipFrac: cleanNum(l.clipFrac),
        tdLoss: null,
        epsilon: null,
        stepsPerSecond: Math.round(l.stepsPerSecond),
      };
      this.push(p);
      return p;
    }
    const d = this.algo;
    const target = Math.min(this.config.steps, this.lastLogStep + 1000);
    while (!d.done && d.globalStep < target) d.step();
    this.lastLogStep = d.globalStep;
    const l: DqnLog = d.log();
    this.episodes = l.episodes;
    const p: CurvePoint = {
      step: this.offset + l.globalStep,
      episodeReturn: null,
      meanReturn100: cleanNum(l.meanReturn100),
      policyLoss: null,
      valueLoss: null,
      entropy: null,
      approxKl: null,
      clipFrac: null,
      tdLoss: cleanNum(l.tdLoss),
      epsilon: cleanNum(l.epsilon),
      stepsPerSecond: Math.round(l.stepsPerSecond),
    };
    this.push(p);
    return p;
  }

  private push(p: CurvePoint): void {
    this.curves.push(p);
    // keep at most ~2000 points: thin the older half when full
    if (this.curves.length > 2000) {
      const keep = this.curves.filter((_, i) => i % 2 === 0 || i >= 1000);
      this.curves.length = 0;
      this.curves.push(...keep);
    }
  }

  /** The algorithm's checkpoint; with walk-forward folds wrapped with the phase and the finished folds' results. */
  checkpoint(): Buffer {
    const inner = this.algo.checkpoint();
    if (this.folds.length === 0) return inner;
    const meta: FoldsCheckpointMeta = { kind: "walk-forward", phase: this.phase, offset: this.offset, results: this.foldResults };
    return packCheckpoint(meta, { algo: new Uint8Array(inner.buffer, inner.byteOffset, inner.byteLength) });
  }

  meanReturn100(): number | null {
    const last = this.curves.at(-1);
    return last?.meanReturn100 ?? null;
  }

  /** Greedy action for one observation (float64), for evaluation and the network view. */
  act(obs: Float64Array): number {
    return this.algo.act(obs);
  }

  /**
   * The policy as an ONNX graph: obs [batch, obsSize] -> logits or Q-values [batch, numActions]
   * (first output). An attention policy also outputs "attention" [batch, heads, window, window]
   * and "encoding" (its head's input) for the network view.
   */
  policyOnnx(): { bytes: Uint8Array; spec: PolicyNetworkSpec } {
    const env = this.env;
    if (this.algo instanceof Ppo && this.algo.actorNet.kind === "attention") {
      const a = this.algo.actorNet.attention;
      const g = emitAttentionEncoder(a, Float32Array.from(this.algo.actorParams()), { attentionOutput: true, encodingOutput: true, output: "logits" });
      return {
        bytes: g.toBytes({ producer: "tradeforge" }),
        spec: { kind: "attention", obsSize: env.obsSize, sizes: headSizes(a), activation: a.activation, output: "logits", attention: { window: a.window, features: a.features, extra: a.extra, dModel: a.dModel, heads: a.heads } },
      };
    }
    const g = new Graph("policy");
    const x = g.input("obs", "float32", ["batch", env.obsSize]);
    let out: string;
    let sizes: number[];
    const activation = (this.algo instanceof Ppo ? this.algo.config.activation : this.algo.config.activation) as "tanh" | "relu";
    if (this.algo instanceof Ppo) {
      sizes = [env.obsSize, ...this.algo.config.hidden, env.numActions];
      out = appendMlp(g, x, { sizes, activation }, this.algo.actorParams(), "actor");
    } else {
      const dueling = this.algo.config.dueling;
      sizes = [env.obsSize, ...this.algo.config.hidden, dueling ? env.numActions + 1 : env.numActions];
      const raw = appendMlp(g, x, { sizes, activation }, this.algo.params, "q");
      if (dueling) {
        const v = g.slice(raw, [0], [1], [1], ["batch", 1]);
        const a = g.slice(raw, [1], [env.numActions + 1], [1], ["batch", env.numActions]);
        const mean = g.op("ReduceMean", [a], ["batch", 1], { axes: { ints: [1] }, keepdims: { int: 1 } });
        out = g.add(v, g.op("Sub", [a, mean], ["batch", env.numActions]), ["batch", env.numActions]);
      } else out = raw;
    }
    const y = g.op("Identity", [out], ["batch", env.numActions], {}, this.algo instanceof Ppo ? "logits" : "q_values");
    g.output(y);
    return { bytes: g.toBytes({ producer: "tradeforge" }), spec: { kind: "mlp", obsSize: env.obsSize, sizes, activation, output: this.algo instanceof Ppo ? "logits" : "q_values" } };
  }

  /**
   * The greedy policy backtested on one span of a trading run (train =
   * in-sample, validation = for tuning, test = out-of-sample), with the
   * dataset's costs. Hyperparameter tuning must use "validation", never "test".
   */
  policyMetricsOn(span: "train" | "validation" | "test"): { metrics: Metrics; finalValue: number; fills: number } {
    if (this.config.env !== "trading") throw new Error("span metrics are for trading runs");
    return this.policyMetricsOnSpan(this.split![span]);
  }

  /** The greedy policy backtested on bars [from, to) of the dataset. */
  private policyMetricsOnSpan(span: Span): { metrics: Metrics; finalValue: number; fills: number } {
    const t = this.config.trading!;
    const obs64 = new Float64Array(this.env.obsSize);
    const policy = (obs: Float32Array) => {
      for (let k = 0; k < obs.length; k++) obs64[k] = obs[k]!;
      return this.act(obs64);
    };
    const r = runPolicyBacktest(this.dataset!, span, { window: t.window, actions: { mode: t.actions, contractSize: t.contractSize }, cash: t.cash, flatAtSessionEnd: t.flatAtSessionEnd, policy });
    return { metrics: r.metrics, finalValue: r.result.finalValue, fills: r.result.fillCount };
  }

  /** Evaluation after training: CartPole greedy returns; trading in-sample and out-of-sample metrics with baselines. */
  evaluate(): TrainingReport {
    const elapsedMs = performance.now() - this.started;
    const base: TrainingReport = {
      env: this.config.env,
      algo: this.config.algo,
      seed: this.config.seed,
      steps: this.globalStep,
      episodes: this.episodes,
      meanReturn100: this.meanReturn100(),
      stepsPerSecond: Math.round((this.globalStep / Math.max(1, elapsedMs)) * 1000),
      elapsedMs: Math.round(elapsedMs),
      compute: { provider: this.compute.provider, requested: this.compute.requested, note: this.compute.note, backend: this.algo.backend, backendNote: this.algo.backendNote },
    };
    if (this.config.env === "cartpole") {
      const env = new CartPoleVec(1);
      let obs = env.reset(this.config.seed + 1_000_003);
      const actions = new Int32Array(1);
      const returns: number[] = [];
      while (returns.length < 100) {
        actions[0] = this.act(obs);
        const r = env.step(actions);
        obs = r.obs;
        if (r.terminated[0] || r.truncated[0]) returns.push(r.episodeReturn[0]!);
      }
      base.evaluation = { episodes: 100, meanReturn: returns.reduce((a, b) => a + b, 0) / returns.length, label: "evaluation" };
      return base;
    }
    const t = this.config.trading!;
    const ds = this.dataset!;
    const split = this.split!;
    const iso = (i: number) => new Date(ds.bars.ts[Math.min(i, ds.length - 1)]!).toISOString();
    const spanIso = (s: { from: number; to: number }) => ({ from: iso(s.from), to: iso(s.to - 1) });
    const ins = this.policyMetricsOn("train");
    const oos = this.policyMetricsOn("test");
    base.trading = {
      split,
      spans: { train: spanIso(split.train), validation: spanIso(split.validation), test: spanIso(split.test) },
      lookAhead: { ok: this.lookAhead?.ok ?? true, features: this.lookAhead?.features ?? [] },
      inSample: { label: "in-sample", ...ins },
      outOfSample: { label: "out-of-sample", ...oos },
      baselines: [...runBaselines(ds, split.train, { cash: t.cash, contractSize: t.contractSize, label: "in-sample" }), ...runBaselines(ds, split.test, { cash: t.cash, contractSize: t.contractSize, label: "out-of-sample" })],
    };
    if (this.folds.length) base.trading.walkForward = { anchored: t.walkForward?.anchored ?? true, folds: this.foldResults, summary: foldSummary(this.foldResults) };
    return base;
  }
}
