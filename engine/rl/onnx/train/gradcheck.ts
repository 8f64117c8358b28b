/**
 * Gradient checking of graph gradients against central finite differences,
 * both evaluated with ORT (test support).
 *
 * opGradCheck(build, inputs): builds a graph whose inputs are `inputs`, whose
 * body is `build(g, names)` (one or more float outputs), and whose loss is
 * sum_k sum(out_k * w_k) with fixed random weights w_k (a random projection,
 * so the check covers the whole vector-Jacobian product, not one direction).
 * backward() gives the analytic gradient of every float input marked `grad`;
 * each entry is then perturbed by +-h and (L(x+h) - L(x-h)) / 2h compared.
 *
 * In float64 (default) the error of an entry must be within atol + rtol *
 * max(|analytic|, |numeric|); the float32 encoding of the same graph is also
 * run and its analytic gradient compared with the float64 one.
 */
import { Graph, type Shape } from "../graph";
import { backward } from "./autodiff";
import type { Precision } from "./encode";
import { Ops } from "./ops";
import { type FeedArray, GraphSession } from "./session";
import { ShapeInfo } from "./shapes";

export interface CheckInput {
  name: string;
  /** Numeric shape of the data. */
  shape: number[];
  /** Shape declared in the graph (default: `shape`); may use symbolic dims, resolved through `dims`. */
  declared?: Shape;
  dtype?: "float32" | "int32" | "int64";
  /** Values (default: uniform in [-1, 1) from the check's seed). */
  data?: ArrayLike<number>;
  /** Differentiate with respect to it (default true for float inputs). */
  grad?: boolean;
}

export interface CheckResult {
  /** Worst error relative to the tolerance (pass: <= 1). */
  worstRatio: number;
  maxAbsError: number;
  maxRelError: number;
  /** Worst |float32 analytic - float64 analytic| / (atol32 + rtol32 * |float64|) (pass: <= 1). */
  worstRatio32: number;
  checked: number;
  /** Where the worst float64 error is (input name, index, analytic, numeric). */
  worst: { input: string; index: number; analytic: number; numeric: number } | null;
  /** The op types of the appended backward nodes. */
  backwardOps: string[];
}

export interface CheckOptions {
  h?: number;
  rtol?: number;
  atol?: number;
  rtol32?: number;
  atol32?: number;
  seed?: number;
  /** Values of symbolic dimensions used in `declared` shapes. */
  dims?: Record<string, number>;
  /** Skip the float32 comparison (e.g. when float32 cancellation is expected). */
  skip32?: boolean;
  /**
   * "float32": for ops without a double kernel in ORT's CPU provider (Mean,
   * Softplus): the finite differences run in float32 too (defaults h = 1e-2,
   * rtol = 2e-3, atol = 1e-4) and there is no float64 comparison.
   */
  precision?: Precision;
}

/** A small deterministic generator (mulberry32) for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

export async function opGradCheck(build: (g: Graph, x: Record<string, string>) => string | string[], inputs: CheckInput[], opts: CheckOptions = {}): Promise<CheckResult> {
  const only32 = opts.precision === "float32";
  const h = opts.h ?? (only32 ? 1e-2 : 1e-6);
  const rtol = opts.rtol ?? (only32 ? 2e-3 : 1e-6);
  const atol = opts.atol ?? (only32 ? 1e-4 : 1e-8);
  const rtol32 = opts.rtol32 ?? 1e-4;
  const atol32 = opts.atol32 ?? 1e-5;
  const rand = rng(opts.seed ?? 1);
  const g = new Graph("gradcheck");
  const names: Record<string, string> = {};
  for (const i of inputs) names[i.name] = g.input(i.name, i.dtype ?? "float32", i.declared ?? i.shape);
  const built = build(g, names);
  const outs = Array.isArray(built) ? built : [built];
  const info = new ShapeInfo(g);
  const o = new Ops(g);
  const weights: { name: string; data: Float64Array }[] = [];
  let loss: string | null = null;
  outs.forEach((out, k) => {
    const shape = info.shape(out).map((d) => {
      if (typeof d === "number") return d;
      const v = opts.dims?.[d];
      if (v === undefined) throw new Error(`gradcheck: output ${out} has symbolic dim ${d}`);
      return v;
    });
    const w = g.input(`w_${k}`, "float32", [size(shape)]);
    weights.push({ name: w, data: Float64Array.from({ length: size(shape) }, () => rand() * 2 - 1) });
    const wr = shape.length === 1 ? w : g.op("Reshape", [w, g.op("Shape", [out])]);
    const term = shape.length === 0 ? o.mul(out, o.squeeze(w, [0])) : o.sum(o.mul(out, wr));
    loss = loss === null ? term : o.add(loss, term);
  });
  const wrt = inputs.filter((i) => (i.dtype ?? "float32") === "float32" && i.grad !== false).map((i) => names[i.name]!);
  const before = g.nodes.length;
  const { grads } = backward(g, loss!, wrt);
  const backwardOps = [...new Set(g.nodes.slice(before).map((n) => n.op))].sort();
  g.output(o.named(loss!, "loss", []));
  const gradNames = wrt.map((w, k) => {
    const out = o.named(grads.get(w)!, `grad_${k}`);
    g.output(out);
    return out;
  });

  const data = inputs.map((i) => {
    const n = size(i.shape);
    const src = i.data ?? Array.from({ length: n }, () => rand() * 2 - 1);
    if (src.length !== n) throw new Error(`gradcheck: input ${i.name} has ${src.length} values for [${i.shape.join(", ")}]`);
    return { i, values: Float64Array.from(src) };
  });
  const feedsFor = (p: Precision) => {
    const f: Record<string, FeedArray> = {};
    for (const { i, values } of data) {
      const dt = i.dtype ?? "float32";
      f[i.name] = dt === "int32" ? Int32Array.from(values) : dt === "int64" ? BigInt64Array.from(Array.from(values, (x) => BigInt(x))) : p === "float64" ? values : Float32Array.from(values);
    }
    for (const w of weights) f[w.name] = p === "float64" ? w.data : Float32Array.from(w.data);
    return f;
  };

  const s64 = await GraphSession.create(g, { precision: only32 ? "float32" : "float64" });
  const s32 = opts.skip32 || only32 ? null : await GraphSession.create(g, { precision: "float32" });
  try {
    const f64 = feedsFor(only32 ? "float32" : "float64");
    const res = s64.run(f64);
    const analytic = gradNames.map((n) => Float64Array.from(res[n] as Float64Array));
    let worstRatio32 = 0;
    if (s32) {
      const r32 = s32.run(feedsFor("float32"));
      gradNames.forEach((n, k) => {
        const a32 = r32[n] as Float32Array;
        const a64 = analytic[k]!;
        for (let j = 0; j < a64.length; j++) worstRatio32 = Math.max(worstRatio32, Math.abs(a32[j]! - a64[j]!) / (atol32 + rtol32 * Math.abs(a64[j]!)));
      });
    }
    let worstRatio = 0;
    let maxAbs = 0;
    let maxRel = 0;
    let checked = 0;
    let worst: CheckResult["worst"] = null;
    const lossAt = () => Number((s64.run(f64).loss as Float64Array)[0]);
    wrt.forEach((w, k) => {
      const x = f64[w] as Float64Array | Float32Array;
      const a = analytic[k]!;
      if (a.length !== x.length) throw new Error(`gradcheck: gradient of ${w} has ${a.length} values, the input ${x.length}`);
      for (let j = 0; j < x.length; j++) {
        const orig = x[j]!;
        x[j] = orig + h;
        const fp = lossAt();
        x[j] = orig - h;
        const fm = lossAt();
        x[j] = orig;
        const num = (fp - fm) / (2 * h);
        const err = Math.abs(a[j]! - num);
        const scale = Math.max(Math.abs(a[j]!), Math.abs(num));
        const ratio = err / (atol + rtol * scale);
        checked++;
        maxAbs = Math.max(maxAbs, err);
        if (scale > 1e-6) maxRel = Math.max(maxRel, err / scale);
        if (ratio > worstRatio) {
          worstRatio = ratio;
          worst = { input: w, index: j, analytic: a[j]!, numeric: num };
        }
      }
    });
    return { worstRatio, maxAbsError: maxAbs, maxRelError: maxRel, worstRatio32, checked, worst, backwardOps };
  } finally {
    await s64.dispose();
    await s32?.dispose();
  }
}
