/**
 * A registered RL model (engine/store/training.ts: ONNX bytes plus metadata)
 * as a trading-core Strategy, so it can be backtested on any series like a
 * built-in strategy.
 *
 * The model's `featureSpec` says how its observations were built (window,
 * the default feature set with past-only expanding normalisation, action
 * mode, contract size, ...). loadModelPolicy validates it (errors name the
 * field), opens the ONNX graph with onnxruntime-node, checks the graph's
 * input is window x featureWidth + 2 and its first output has one score per
 * action, and returns a ModelPolicy:
 *
 * - act(obs): the greedy action, argmax of the first output (ties go to the
 *   lowest index; extra outputs such as attention maps are ignored);
 * - prepare(bars, market, span): the feature matrix of the whole loaded
 *   series (past-only, so bars before the span are warm-up) and a factory of
 *   PolicyStrategy instances (engine/rl/env/replay.ts) that decide from
 *   span.from, with synchronous inference (the core's onBar is synchronous);
 * - dispose(): releases the inference sessions.
 *
 * Pure domain: no database, no web framework.
 */
import type { Strategy } from "../core/ports";
import type { BarColumns } from "../data/types";
import { buildDataset, type MarketSpec, type TradingDataset } from "./env/dataset";
import { defaultFeatureSet, featureColumns } from "./env/features";
import { PolicyStrategy } from "./env/replay";
import { type ActionMode, numActionsFor } from "./env/trading-env";
import { hasSyncInference, OrtModel } from "./onnx/runtime";

/** A model registry row (or anything shaped like one): only these fields are read. */
export interface RegisteredModel {
  id: string;
  name: string;
  env: string;
  featureSpec: unknown;
  onnx: Uint8Array;
}

/** The trading model metadata, with the defaults for fields older rows lack. */
export interface TradingModelSpec {
  window: number;
  features: "default";
  normalisation: string;
  actions: ActionMode;
  contractSize: number;
  maxUnits: number;
  cash: number;
  unrealizedScale: number;
  flatAtSessionEnd: boolean;
  obsSize: number;
  numActions: number;
  /** The series it was trained on (informational: any series can be backtested). */
  symbol: string | null;
  timeframe: string | null;
}

/** A model that cannot be used as a strategy; `field` names what is wrong (e.g. "featureSpec.window"). */
export class ModelStrategyError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "ModelStrategyError";
  }
}

/** Columns of the default feature set (the only one models are trained with). */
export function defaultFeatureWidth(): number {
  return defaultFeatureSet().features.reduce((n, f) => n + featureColumns(f).length, 0);
}

const label = (m: { id: string; name: string }) => `model '${m.name}' (${m.id})`;

/** Validate a model's metadata for trading; throws ModelStrategyError naming the field. */
export function parseTradingModelSpec(model: { id: string; name: string; env: string; featureSpec: unknown }): TradingModelSpec {
  const who = label(model);
  if (model.env !== "trading") {
    const what = model.env === "cartpole" ? "CartPole (a control benchmark: its observations are pole angles, not market data)" : `the '${model.env}' environment`;
    throw new ModelStrategyError("env", `${who} was trained on ${what}; only trading models can be backtested`);
  }
  const fs = model.featureSpec;
  if (fs === null || typeof fs !== "object" || Array.isArray(fs)) throw new ModelStrategyError("featureSpec", `${who} has no feature spec; it cannot be turned into a strategy`);
  const s = fs as Record<string, unknown>;
  const bad = (field: string, msg: string): never => {
    throw new ModelStrategyError(`featureSpec.${field}`, `${who}: featureSpec.${field} ${msg}`);
  };
  const missing = ["window", "actions", "contractSize"].filter((k) => s[k] === undefined || s[k] === null);
  if (missing.length) throw new ModelStrategyError(`featureSpec.${missing[0]}`, `${who}: its feature spec lacks ${missing.join(", ")} (saved by an older version); it cannot be backtested, retrain it`);
  const posInt = (k: string, max: number) => {
    const v = s[k];
    if (!(typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= max)) bad(k, `must be an integer in [1, ${max}], got ${JSON.stringify(v)}`);
    return v as number;
  };
  const posNum = (k: string, dflt: number) => {
    const v = s[k] ?? dflt;
    if (!(typeof v === "number" && Number.isFinite(v) && v > 0)) bad(k, `must be a positive number, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const window = posInt("window", 4096);
  const features = s.features ?? "default";
  if (features !== "default") bad("features", `is ${JSON.stringify(features)}; only the default feature set is supported`);
  const normalisation = s.normalisation ?? "expanding (past only)";
  if (typeof normalisation !== "string" || !normalisation.startsWith("expanding")) bad("normalisation", `is ${JSON.stringify(normalisation)}; the default feature set normalises with expanding past-only statistics`);
  const actions = s.actions;
  if (actions !== "target" && actions !== "trade") bad("actions", `must be "target" or "trade", got ${JSON.stringify(actions)}`);
  const contractSize = posNum("contractSize", NaN);
  const maxUnits = s.maxUnits === undefined || s.maxUnits === null ? 1 : posInt("maxUnits", 1000);
  const cash = posNum("cash", 100_000);
  const unrealizedScale = posNum("unrealizedScale", cash * 0.01);
  const flat = s.flatAtSessionEnd ?? false;
  if (typeof flat !== "boolean") bad("flatAtSessionEnd", `must be true or false, got ${JSON.stringify(flat)}`);
  const expectedObs = window * defaultFeatureWidth() + 2;
  if (s.obsSize !== undefined && s.obsSize !== null && s.obsSize !== expectedObs) bad("obsSize", `is ${JSON.stringify(s.obsSize)} but window ${window} x ${defaultFeatureWidth()} features + 2 = ${expectedObs} (the feature set differs from the one it was trained with)`);
  const nA = numActionsFor(actions as ActionMode, maxUnits);
  if (s.numActions !== undefined && s.numActions !== null && s.numActions !== nA) bad("numActions", `is ${JSON.stringify(s.numActions)} but ${actions} actions with maxUnits ${maxUnits} make ${nA}`);
  const str = (k: string) => (typeof s[k] === "string" ? (s[k] as string) : null);
  return {
    window,
    features: "default",
    normalisation: normalisation as string,
    actions: actions as ActionMode,
    contractSize,
    maxUnits,
    cash,
    unrealizedScale,
    flatAtSessionEnd: flat as boolean,
    obsSize: expectedObs,
    numActions: nA,
    symbol: str("symbol"),
    timeframe: str("timeframe"),
  };
}

/** Index of the largest score; ties go to the lowest index. Throws on a non-finite score. */
export function argmax(scores: ArrayLike<number>, n = scores.length): number {
  let best = 0;
  let bv = scores[0]!;
  if (!Number.isFinite(bv)) return -1;
  for (let k = 1; k < n; k++) {
    const v = scores[k]!;
    if (!Number.isFinite(v)) return -1;
    if (v > bv) {
      bv = v;
      best = k;
    }
  }
  return best;
}

/** Backtest market info the dataset needs (instrument, bar size, calendar; costs only for the dataset's own use). */
export type ModelMarket = MarketSpec;

export interface ModelPolicy {
  readonly id: string;
  readonly name: string;
  readonly spec: TradingModelSpec;
  /** Observation length (window x feature width + 2). */
  readonly obsSize: number;
  readonly numActions: number;
  /** onnxruntime execution provider in use. */
  readonly provider: string;
  /** Action scores of the first output for one observation (a view, overwritten by the next call). */
  scores(obs: Float32Array): Float32Array;
  /** Greedy action (argmax, lowest index on ties). */
  act(obs: Float32Array): number;
  /** The trading dataset (default features, past-only) of a series. */
  dataset(bars: BarColumns, market: ModelMarket): TradingDataset;
  /** A strategy over `dataset`, deciding at bars [span.from, span.to - 2] (the last decision's order fills at span.to - 1). */
  strategy(dataset: TradingDataset, span: { from: number; to?: number }): PolicyStrategy;
  /** Features of the whole loaded series, then a factory of strategies deciding from span.from: what the backtest runner calls. */
  prepare(bars: BarColumns, market: ModelMarket, span: { from: number; to: number }): () => Strategy;
  dispose(): Promise<void>;
}

/** Validate a registered model and open its policy for backtesting; throws ModelStrategyError with a message naming the problem. */
export async function loadModelPolicy(model: RegisteredModel, opts: { threads?: number } = {}): Promise<ModelPolicy> {
  const spec = parseTradingModelSpec(model);
  const who = label(model);
  if (!(model.onnx instanceof Uint8Array) || model.onnx.byteLength === 0) throw new ModelStrategyError("onnx", `${who} has no ONNX graph`);
  if (!hasSyncInference()) throw new ModelStrategyError("onnx", `${who}: onnxruntime-node's native binding could not be loaded, and a backtest needs synchronous inference`);
  let ort: OrtModel;
  try {
    // one observation per call: the CPU provider (no GPU probe, no transfer per bar)
    ort = await OrtModel.create(model.onnx, spec.obsSize, { device: "cpu", threads: opts.threads ?? 1 });
  } catch (e) {
    throw new ModelStrategyError("onnx", `${who}: the ONNX graph could not be loaded (${((e as Error).message ?? String(e)).split("\n")[0]!.slice(0, 300)})`);
  }
  try {
    checkGraph(ort, spec, who);
  } catch (e) {
    await ort.dispose().catch(() => {});
    throw e;
  }
  return new OrtModelPolicy(model, spec, ort);
}

function checkGraph(ort: OrtModel, spec: TradingModelSpec, who: string): void {
  const s = ort.session;
  if (s.inputNames.length !== 1) throw new ModelStrategyError("onnx", `${who}: the graph has ${s.inputNames.length} inputs (${s.inputNames.join(", ")}); a policy takes one, "obs"`);
  if (s.outputNames.length < 1) throw new ModelStrategyError("onnx", `${who}: the graph has no output`);
  const meta = s.inputMetadata?.[0];
  if (meta && meta.isTensor) {
    if (meta.type !== "float32") throw new ModelStrategyError("onnx", `${who}: input "${meta.name}" is ${meta.type}; a policy takes float32 observations`);
    const last = meta.shape.at(-1);
    if (typeof last === "number" && last !== spec.obsSize) {
      throw new ModelStrategyError("onnx", `${who}: the graph's input size is ${last}, but window ${spec.window} x ${defaultFeatureWidth()} features + 2 = ${spec.obsSize}; the model does not match its feature spec`);
    }
  }
  // a probe: runs with the expected input size and has one score per action
  let out: Float32Array;
  try {
    out = ort.runOneSync(new Float32Array(spec.obsSize));
  } catch (e) {
    throw new ModelStrategyError("onnx", `${who}: the graph does not run on ${spec.obsSize} observation values (window ${spec.window} x ${defaultFeatureWidth()} features + 2): ${((e as Error).message ?? String(e)).split("\n")[0]!.slice(0, 300)}`);
  }
  if (out.length !== spec.numActions) {
    throw new ModelStrategyError("onnx", `${who}: the graph's first output has ${out.length} scores, but ${spec.actions} actions with maxUnits ${spec.maxUnits} need ${spec.numActions}`);
  }
}

class OrtModelPolicy implements ModelPolicy {
  readonly id: string;
  readonly name: string;
  readonly spec: TradingModelSpec;
  readonly obsSize: number;
  readonly numActions: number;
  private ort: OrtModel | null;

  constructor(model: RegisteredModel, spec: TradingModelSpec, ort: OrtModel) {
    this.id = model.id;
    this.name = model.name;
    this.spec = spec;
    this.obsSize = spec.obsSize;
    this.numActions = spec.numActions;
    this.ort = ort;
  }

  get provider(): string {
    return this.ort?.provider ?? "disposed";
  }

  scores(obs: Float32Array): Float32Array {
    if (!this.ort) throw new Error(`${label(this)} was disposed`);
    if (obs.length < this.obsSize) throw new RangeError(`${label(this)}: observation has ${obs.length} values, expected ${this.obsSize}`);
    return this.ort.runOneSync(obs);
  }

  act(obs: Float32Array): number {
    const a = argmax(this.scores(obs), this.numActions);
    if (a < 0) throw new RangeError(`${label(this)} returned a non-finite action score`);
    return a;
  }

  dataset(bars: BarColumns, market: ModelMarket): TradingDataset {
    return buildDataset(bars, market, defaultFeatureSet());
  }

  strategy(dataset: TradingDataset, span: { from: number; to?: number }): PolicyStrategy {
    const s = this.spec;
    if (dataset.features.width * s.window + 2 !== this.obsSize) throw new RangeError(`${label(this)}: the dataset has ${dataset.features.width} feature columns, the model expects ${defaultFeatureWidth()}`);
    return new PolicyStrategy({
      dataset,
      window: s.window,
      actions: { mode: s.actions, contractSize: s.contractSize, maxUnits: s.maxUnits },
      cash: s.cash,
      unrealizedScale: s.unrealizedScale,
      flatAtSessionEnd: s.flatAtSessionEnd,
      from: span.from,
      firstDecision: span.from,
      ...(span.to !== undefined ? { lastDecision: span.to - 2 } : {}),
      policy: (obs, bar) => {
        const a = argmax(this.scores(obs), this.numActions);
        if (a < 0) throw new RangeError(`${label(this)} returned a non-finite action score at bar ${bar}`);
        return a;
      },
      name: this.name,
    });
  }

  prepare(bars: BarColumns, market: ModelMarket, span: { from: number; to: number }): () => Strategy {
    const ds = this.dataset(bars, market);
    return () => this.strategy(ds, span);
  }

  async dispose(): Promise<void> {
    const o = this.ort;
    this.ort = null;
    await o?.dispose();
  }
}
