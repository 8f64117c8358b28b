/**
 * The training step as ONE ONNX graph, and its runner.
 *
 *   params, m, v [P], step, lr, beta1, beta2, eps, max_grad_norm [],
 *   the loss's batch and hyperparameter inputs
 *     -> forward (networks over slices of params) -> loss
 *     -> backward (./autodiff.ts) -> flat gradient [P]
 *     -> global gradient-norm clipping -> Adam (./adam.ts)
 *     -> params_out, m_out, v_out [P], step_out, grad_norm [], the loss metrics
 *
 * ORT's training API is not in onnxruntime-node: this is plain inference of a
 * graph that computes the update. TrainStep keeps the parameters and Adam
 * moments in flat typed arrays between steps (Float32Array; Float64Array for a
 * float64 session), feeds them as inputs and copies the outputs back; the
 * session is created once per model shape (batch size is symbolic).
 *
 * A non-finite loss or gradient norm stops with an error naming the update
 * number, before anything is committed (the parameters stay as they were).
 */
import { Graph } from "../graph";
import { adamInputs, ADAM_DEFAULTS, appendAdam, appendGradClip } from "./adam";
import { backward } from "./autodiff";
import { markDouble, type Precision } from "./encode";
import type { LossGraph } from "./losses";
import { Ops } from "./ops";
import { type FeedArray, type Feeds, type FloatArray, GraphSession } from "./session";

/** Append the backward pass of a loss graph; returns the flat gradient value [P]. */
export function appendFlatGradient(lg: LossGraph): string {
  const { grads } = backward(lg.g, lg.loss, lg.flat.slots.map((s) => s.value));
  return lg.flat.flatten(grads);
}

/** Loss graph + backward: outputs the metrics and "grad" [P] (no update). For gradient checks and external optimisers. */
export function buildGradGraph(lg: LossGraph): Graph {
  const grad = appendFlatGradient(lg);
  for (const v of Object.values(lg.metrics)) lg.g.output(v);
  lg.g.output(new Ops(lg.g).named(grad, "grad", [lg.flat.total]));
  return lg.g;
}

/** Loss graph + backward + clipping + Adam: the whole update as one graph. */
export function buildTrainGraph(lg: LossGraph): Graph {
  const g = lg.g;
  const o = new Ops(g);
  const P = lg.flat.total;
  const grad = appendFlatGradient(lg);
  const m = g.input("m", "float32", [P]);
  const v = g.input("v", "float32", [P]);
  const h = adamInputs(g);
  const maxNorm = g.input("max_grad_norm", "float32", []);
  const clipped = appendGradClip(g, grad, maxNorm);
  const up = appendAdam(g, { params: lg.flat.input, grad: clipped.grad, m, v }, h);
  g.output(o.named(up.params, "params_out", [P]));
  g.output(o.named(up.m, "m_out", [P]));
  g.output(o.named(up.v, "v_out", [P]));
  g.output(o.named(up.step, "step_out", []));
  markDouble(g, "step_out");
  g.output(o.named(clipped.norm, "grad_norm", []));
  for (const val of Object.values(lg.metrics)) g.output(val);
  return g;
}

/** Adam alone over flat vectors (inputs params, grad, m, v and the scalars; outputs params_out, m_out, v_out, step_out). */
export function buildAdamGraph(P: number): Graph {
  const g = new Graph("adam");
  const o = new Ops(g);
  const params = g.input("params", "float32", [P]);
  const grad = g.input("grad", "float32", [P]);
  const m = g.input("m", "float32", [P]);
  const v = g.input("v", "float32", [P]);
  const up = appendAdam(g, { params, grad, m, v }, adamInputs(g));
  g.output(o.named(up.params, "params_out", [P]));
  g.output(o.named(up.m, "m_out", [P]));
  g.output(o.named(up.v, "v_out", [P]));
  g.output(o.named(up.step, "step_out", []));
  markDouble(g, "step_out");
  return g;
}

export interface OptimizerSettings {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Global gradient-norm bound; Infinity disables clipping. */
  maxGradNorm: number;
}

export interface TrainStepOptions {
  precision?: Precision;
  threads?: number;
  /** Execution provider of the training graph (default "cpu"). */
  provider?: "cpu" | "cuda";
  /** Initial parameters (flat, the loss graph's layout); default zeros. */
  params?: ArrayLike<number>;
  optimizer?: Partial<OptimizerSettings>;
}

export interface TrainStepState {
  params: FloatArray;
  m: FloatArray;
  v: FloatArray;
  step: number;
}

export class TrainStep {
  readonly params: FloatArray;
  readonly m: FloatArray;
  readonly v: FloatArray;
  /** Updates done (Adam's t after the last update). */
  step = 0;
  readonly optimizer: OptimizerSettings;
  /** The loss's scalar hyperparameters (e.g. clip_coef, ent_coef, vf_coef); change freely between updates. */
  readonly hyper: Record<string, number>;
  readonly metricNames: readonly string[];
  private readonly feeds: Feeds;
  private readonly batchNames: readonly string[];
  private readonly conv = new Map<string, FloatArray>();
  /** ORT writes the new vectors here (checked, then copied into params / m / v). */
  private readonly scratch: Record<"params_out" | "m_out" | "v_out", FloatArray>;

  private constructor(
    readonly session: GraphSession,
    lg: LossGraph,
    opts: TrainStepOptions,
  ) {
    const P = lg.flat.total;
    const F = session.precision === "float64" ? Float64Array : Float32Array;
    this.params = new F(P);
    if (opts.params) {
      if (opts.params.length !== P) throw new RangeError(`train step: ${opts.params.length} initial parameters, the model has ${P}`);
      this.params.set(opts.params);
    }
    this.m = new F(P);
    this.v = new F(P);
    this.scratch = { params_out: new F(P), m_out: new F(P), v_out: new F(P) };
    this.optimizer = { ...ADAM_DEFAULTS, maxGradNorm: 0.5, ...opts.optimizer };
    this.hyper = { ...lg.hyper };
    this.metricNames = Object.keys(lg.metrics);
    this.feeds = { params: this.params, m: this.m, v: this.v };
    const fixed = new Set(["params", "m", "v", "step", "lr", "beta1", "beta2", "eps", "max_grad_norm", ...Object.keys(lg.hyper)]);
    this.batchNames = session.inputs.map((i) => i.name).filter((n) => !fixed.has(n));
  }

  /** Build the training graph for a loss graph (consumes it) and open its session. */
  static async create(lg: LossGraph, opts: TrainStepOptions = {}): Promise<TrainStep> {
    const g = buildTrainGraph(lg);
    const session = await GraphSession.create(g, { precision: opts.precision, threads: opts.threads, provider: opts.provider });
    return new TrainStep(session, lg, opts);
  }

  /** As create(), synchronously (needs onnxruntime-node's native binding; throws without it). */
  static createSync(lg: LossGraph, opts: TrainStepOptions = {}): TrainStep {
    const g = buildTrainGraph(lg);
    const session = GraphSession.createSync(g, { precision: opts.precision, threads: opts.threads, provider: opts.provider });
    return new TrainStep(session, lg, opts);
  }

  /** Names of the per-batch inputs (e.g. obs, actions, old_logp, ...). */
  get batchInputs(): readonly string[] {
    return this.batchNames;
  }

  private prepare(batch: Record<string, FeedArray>): Feeds {
    const f = this.feeds;
    const o = this.optimizer;
    f.step = this.step;
    f.lr = o.lr;
    f.beta1 = o.beta1;
    f.beta2 = o.beta2;
    f.eps = o.eps;
    f.max_grad_norm = o.maxGradNorm;
    for (const [k, val] of Object.entries(this.hyper)) f[k] = val;
    const F = this.session.precision === "float64" ? Float64Array : Float32Array;
    for (const name of this.batchNames) {
      const d = batch[name];
      if (d === undefined) throw new Error(`train step: missing batch input ${name}`);
      if ((d instanceof Float32Array || d instanceof Float64Array) && !(d instanceof F)) {
        // convert into a reused buffer
        let buf = this.conv.get(name);
        if (!buf || buf.length !== d.length) this.conv.set(name, (buf = new F(d.length)));
        buf.set(d);
        f[name] = buf;
      } else f[name] = d;
    }
    return f;
  }

  private commit(out: Record<string, FeedArray>): Record<string, number> {
    const metrics: Record<string, number> = {};
    for (const k of this.metricNames) metrics[k] = Number(out[k]![0]);
    metrics.grad_norm = Number(out.grad_norm![0]);
    const update = this.step + 1;
    for (const k of ["loss", "grad_norm"]) {
      if (!Number.isFinite(metrics[k])) throw new Error(`training update ${update}: ${k} is ${metrics[k]} (not finite); parameters left unchanged`);
    }
    this.params.set(out.params_out as FloatArray);
    this.m.set(out.m_out as FloatArray);
    this.v.set(out.v_out as FloatArray);
    this.step = update;
    return metrics;
  }

  /** One update on a batch (synchronous). Returns the metrics (loss, ..., grad_norm before clipping). */
  update(batch: Record<string, FeedArray>): Record<string, number> {
    return this.commit(this.session.run(this.prepare(batch), this.scratch));
  }

  async updateAsync(batch: Record<string, FeedArray>): Promise<Record<string, number>> {
    return this.commit(await this.session.runAsync(this.prepare(batch)));
  }

  /** A copy of the optimiser state (for checkpoints). */
  getState(): TrainStepState {
    return { params: this.params.slice(), m: this.m.slice(), v: this.v.slice(), step: this.step };
  }

  setState(s: { params: ArrayLike<number>; m: ArrayLike<number>; v: ArrayLike<number>; step: number }): void {
    const P = this.params.length;
    if (s.params.length !== P || s.m.length !== P || s.v.length !== P) throw new RangeError(`train step state: expected ${P} values per vector`);
    this.params.set(s.params);
    this.m.set(s.m);
    this.v.set(s.v);
    this.step = s.step;
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}
