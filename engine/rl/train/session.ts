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
import { splitByTime, type TimeSplit } from "../env/split";
import { VecTradingEnv } from "../env/trading-env";
import { Graph } from "../onnx/graph";
import { emitAttentionEncoder, headSizes } from "../onnx/attention";
import { appendMlp } from "../onnx/mlp";
import { parseTrainConfig, TrainConfigError, type TrainConfig } from "./config";
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

function cleanNum(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

export class TrainingSession {
  readonly config: TrainConfig;
  readonly env: VecEnv;
  algo: Algo;
  readonly curves: CurvePoint[] = [];
  private dataset: TradingDataset | null = null;
  private split: TimeSplit | null = null;
  private lookAhead: LookAheadReport | null = null;
  private started = performance.now();
  private lastLogStep = 0;
  private episodes = 0;

  private constructor(config: TrainConfig, env: VecEnv, algo: Algo, extra: { dataset?: TradingDataset; split?: TimeSplit; lookAhead?: LookAheadReport } = {}) {
    this.config = config;
    this.env = env;
    this.algo = algo;
    this.dataset = extra.dataset ?? null;
    this.split = extra.split ?? null;
    this.lookAhead = extra.lookAhead ?? null;
  }

  /** Validate, build the environment (refusing look-ahead features), and create or restore the trainer. */
  static async create(input: unknown, deps: TrainDeps = {}, checkpoint?: Uint8Array): Promise<TrainingSession> {
    const config = parseTrainConfig(input);
    let env: VecEnv;
    let extra: { dataset?: TradingDataset; split?: TimeSplit; lookAhead?: LookAheadReport } = {};
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
      const inner = new VecTradingEnv({
        dataset,
        // PPO: 8 parallel episode windows (~20k env steps/s here; 4 gave ~17.7k, see BENCHMARKS.md)
        numEnvs: config.numEnvs ?? (config.algo === "ppo" ? 8 : 4),
        window: t.window,
        span: split.train,
        episodeLength: Math.min(t.episodeLength, Math.max(1, split.train.to - split.train.from - 2)),
        actions: { mode: t.actions, contractSize: t.contractSize },
        reward: t.reward === "pnl_drawdown" ? { kind: "pnl_drawdown", lambda: t.drawdownPenalty } : { kind: t.reward },
        cash: t.cash,
        flatAtSessionEnd: t.flatAtSessionEnd,
      });
      env = new TradingVecEnv(inner, `trading:${t.symbol}:${t.timeframe}:w${t.window}:${t.actions}`);
      extra = { dataset, split, lookAhead };
    }
    let algo: Algo;
    try {
      if (checkpoint) algo = config.algo === "ppo" ? Ppo.restore(env, checkpoint) : Dqn.restore(env, checkpoint);
      else if (config.algo === "ppo") algo = new Ppo(env, { ...config.ppo, seed: config.seed, totalTimesteps: config.steps });
      else algo = new Dqn(env, { ...config.dqn, seed: config.seed, totalTimesteps: config.steps });
    } catch (e) {
      throw new TrainConfigError(config.algo, (e as Error).message);
    }
    return new TrainingSession(config, env, algo, extra);
  }

  get globalStep(): number {
    return this.algo.globalStep;
  }

  get done(): boolean {
    return this.algo.done || this.algo.globalStep >= this.config.steps;
  }

  /** One unit of work: a PPO iteration, or DQN steps up to the next 1,000 environment steps. Returns the curve point. */
  step(): CurvePoint {
    if (this.algo instanceof Ppo) {
      const l: PpoLog = this.algo.runIteration();
      this.episodes = l.episodes;
      const p: CurvePoint = {
        step: l.globalStep,
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
      step: l.globalStep,
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

  checkpoint(): Buffer {
    return this.algo.checkpoint();
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
    const t = this.config.trading!;
    const obs64 = new Float64Array(this.env.obsSize);
    const policy = (obs: Float32Array) => {
      for (let k = 0; k < obs.length; k++) obs64[k] = obs[k]!;
      return this.act(obs64);
    };
    const r = runPolicyBacktest(this.dataset!, this.split![span], { window: t.window, actions: { mode: t.actions, contractSize: t.contractSize }, cash: t.cash, flatAtSessionEnd: t.flatAtSessionEnd, policy });
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
    return base;
  }
}
