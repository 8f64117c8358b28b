/**
 * Reverse-mode automatic differentiation over the ONNX graph builder.
 *
 * `backward(g, loss, wrt)` appends to `g` the nodes (plain ONNX ops, opset 17)
 * that compute d loss / d w for every value w in `wrt` (by default the
 * trainable initializers, g.params), and returns the gradient value names.
 *
 * How: the forward nodes are already in topological order. A forward sweep
 * marks the float values that depend on some w ("needs"); the backward sweep
 * visits the nodes in reverse, and for each node whose outputs have a
 * gradient and whose inputs need one, applies that op's gradient rule (below),
 * which emits ONNX nodes computing the vector-Jacobian product. Contributions
 * to a value used more than once are summed (one Sum node) when the value's
 * producer is reached, i.e. after all its consumers have contributed.
 * Gradients of broadcast operands are summed back to the operand's shape
 * (ReduceSum over the broadcast axes, then Squeeze of the leading ones).
 * Shapes and element types come from ./shapes.ts.
 *
 * Non-float values (indices, masks, shapes) carry no gradient; ops that only
 * produce them (comparisons, Shape, Size, ArgMax, Cast to an integer type) stop
 * the sweep. Subgradient conventions follow PyTorch: Relu'(0) = 0, Abs'(0) = 0,
 * Clip passes the gradient for min <= x <= max, Min/Max and ReduceMax/Min split
 * it evenly between tied inputs.
 *
 * Ops with a rule: Identity, Cast (float to float), Add, Sub, Mul, Div, Pow,
 * Neg, Abs, Reciprocal, Sqrt, Exp, Log, Tanh, Sigmoid, Relu, LeakyRelu,
 * Softplus, Softmax, LogSoftmax, ReduceSum, ReduceMean, ReduceSumSquare,
 * ReduceMax, ReduceMin, MatMul (batched, broadcasting, rank >= 2), Gemm (alpha,
 * beta, transA, transB, optional C), Transpose, Reshape, Flatten, Squeeze,
 * Unsqueeze, Expand, Concat, Split, Slice (step 1), Gather, GatherElements,
 * Clip, Min, Max, Sum, Mean, Where, LayerNormalization.
 */
import { attr, type AttrValue, type DType, type Graph, type GraphNode, type Shape } from "../graph";
import { ShapeInfo, sliceBounds } from "./shapes";

/** Ops whose outputs carry no gradient (integer / boolean results, or piecewise-constant functions). */
const NON_DIFFERENTIABLE = new Set([
  "Shape",
  "Size",
  "ArgMax",
  "ArgMin",
  "Equal",
  "Less",
  "Greater",
  "LessOrEqual",
  "GreaterOrEqual",
  "And",
  "Or",
  "Xor",
  "Not",
  "IsNaN",
  "IsInf",
  "Sign",
  "Floor",
  "Ceil",
  "Round",
  "ConstantOfShape",
]);

export interface BackwardOptions {
  /** Prefix of the gradient value names (default "grad"). */
  prefix?: string;
}

export interface BackwardResult {
  /** wrt value name -> its gradient's value name (same shape). */
  grads: Map<string, string>;
  /** Shape information, including the appended gradient values. */
  shapes: ShapeInfo;
}

type Dy = string | null;
type Rule = (c: RuleContext, dys: Dy[]) => Dy[];

/** What a gradient rule sees: the node, shapes, and node-emitting helpers. */
export class RuleContext {
  node!: GraphNode;
  /** Whether input k needs a gradient. */
  wants: (k: number) => boolean = () => false;

  constructor(
    readonly g: Graph,
    readonly s: ShapeInfo,
    private readonly prefix: string,
  ) {}

  shape(v: string): Shape {
    return this.s.shape(v);
  }
  rank(v: string): number {
    return this.s.rank(v);
  }
  input(k: number): string {
    return this.node.inputs[k]!;
  }
  has(k: number): boolean {
    const i = this.node.inputs[k];
    return i !== undefined && i !== "";
  }
  output(k = 0): string {
    return this.node.outputs[k]!;
  }
  attrInt(name: string, dflt: number): number {
    const a = this.node.attrs[name];
    return a && "int" in a ? a.int : dflt;
  }
  attrFloat(name: string, dflt: number): number {
    const a = this.node.attrs[name];
    return a && "float" in a ? a.float : dflt;
  }
  attrInts(name: string): number[] | null {
    const a = this.node.attrs[name];
    return a && "ints" in a ? a.ints : null;
  }
  /** Static contents of an int64 input (initializer / Shape output), numbers only. */
  constInts(k: number): number[] | null {
    if (!this.has(k)) return null;
    const c = this.s.constInts(this.input(k));
    return c && c.every((x) => typeof x === "number") ? (c as number[]) : null;
  }

  /** Emit one node; records the output's type and shape (inferred, or the given shape). */
  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, dtype: DType = "float32"): string {
    const [name] = this.g.node(type, inputs, [{ name: this.g.fresh(`${this.prefix}_${type.toLowerCase()}`), dtype }], attrs);
    const n = this.g.nodes[this.g.nodes.length - 1]!;
    this.s.infer(n);
    return name!;
  }
  /** Emit a multi-output node. */
  ops(type: string, inputs: string[], count: number, attrs: Record<string, AttrValue> = {}): string[] {
    const outs = this.g.node(type, inputs, Array.from({ length: count }, () => ({ name: this.g.fresh(`${this.prefix}_${type.toLowerCase()}`), dtype: "float32" as DType })), attrs);
    this.s.infer(this.g.nodes[this.g.nodes.length - 1]!);
    return outs;
  }
  private constCache = new Map<string, string>();
  /** A float scalar constant (shape []), shared within the pass. */
  scalar(v: number): string {
    const key = `f${v}`;
    let n = this.constCache.get(key);
    if (!n) {
      n = this.g.floats(this.g.fresh(`${this.prefix}_c`), [v], [], false);
      this.s.set(n, "float32", []);
      this.constCache.set(key, n);
    }
    return n;
  }
  /** An int64 constant vector. */
  ints(v: number[]): string {
    const key = `i${v.join(",")}`;
    let n = this.constCache.get(key);
    if (!n) {
      n = this.g.int64s(this.g.fresh(`${this.prefix}_i`), v, [v.length]);
      this.s.set(n, "int64", [v.length]);
      this.s.setInts(n, [...v]);
      this.constCache.set(key, n);
    }
    return n;
  }
  shapeOf(v: string): string {
    return this.op("Shape", [v], {}, "int64");
  }
  /** Zeros shaped like v. */
  zerosLike(v: string): string {
    const sh = this.shape(v);
    if (sh.every((d) => typeof d === "number")) return this.op("Expand", [this.scalar(0), this.ints(sh as number[])]);
    return this.op("Expand", [this.scalar(0), this.shapeOf(v)]);
  }
  add(a: string, b: string): string {
    return this.op("Add", [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op("Sub", [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op("Mul", [a, b]);
  }
  div(a: string, b: string): string {
    return this.op("Div", [a, b]);
  }
  neg(a: string): string {
    return this.op("Neg", [a]);
  }
  where(cond: string, a: string, b: string): string {
    return this.op("Where", [cond, a, b]);
  }
  cmp(type: "Greater" | "Less" | "Equal" | "GreaterOrEqual" | "LessOrEqual", a: string, b: string): string {
    return this.op(type, [a, b], {}, "bool");
  }
  castFloat(a: string): string {
    return this.op("Cast", [a], { to: attr.int(1) });
  }
  reduceSum(x: string, axes: number[], keepdims: boolean): string {
    return this.op("ReduceSum", [x, this.ints(axes)], { keepdims: attr.int(keepdims ? 1 : 0) });
  }
  reshapeLike(x: string, like: string): string {
    const sh = this.shape(like);
    if (sh.every((d) => typeof d === "number")) return this.op("Reshape", [x, this.ints(sh as number[])]);
    return this.op("Reshape", [x, this.shapeOf(like)]);
  }
  transpose(x: string, perm: number[]): string {
    if (perm.every((p, i) => p === i)) return x;
    return this.op("Transpose", [x], { perm: attr.ints(perm) });
  }

  /**
   * Sum a gradient shaped like `yShape` (the broadcast result) back to the
   * shape of operand `x`: ReduceSum over the leading axes x lacks and over the
   * axes where x has a literal 1 and the result does not; then drop the leading axes.
   */
  unbroadcast(dy: string, x: string, yShape: Shape = this.shape(dy)): string {
    const xs = this.shape(x);
    const lead = yShape.length - xs.length;
    if (lead < 0) throw new Error(`autodiff: operand ${x} has a higher rank than the result`);
    const axes: number[] = [];
    for (let i = 0; i < lead; i++) axes.push(i);
    xs.forEach((d, i) => {
      if (d === 1 && yShape[lead + i] !== 1) axes.push(lead + i);
    });
    if (!axes.length) return dy;
    let r = this.reduceSum(dy, axes, true);
    if (lead > 0) r = this.op("Squeeze", [r, this.ints(axes.slice(0, lead))]);
    return r;
  }
}

const swapLast = (r: number) => Array.from({ length: r }, (_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
const invPerm = (p: number[]) => {
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return inv;
};
const normAxis = (a: number, r: number) => (a < 0 ? a + r : a);
const isNumeric = (s: Shape): s is number[] => s.every((d) => typeof d === "number");

/** Reduction axes of a Reduce* node (normalised), from the input (ReduceSum, opset 13+) or the attribute. */
function reduceAxes(c: RuleContext): number[] {
  const r = c.rank(c.input(0));
  const fromInput = c.node.op === "ReduceSum";
  if (fromInput && c.has(1) && !c.constInts(1)) throw new Error("autodiff: ReduceSum axes must be a constant");
  const axes = fromInput ? c.constInts(1) : c.attrInts("axes");
  if (axes && axes.length) return axes.map((a) => normAxis(a, r)).sort((a, b) => a - b);
  if (c.attrInt("noop_with_empty_axes", 0)) return [];
  return Array.from({ length: r }, (_, i) => i);
}

/** dy of a reduction, brought back to the input's rank (keepdims) and expanded to its shape. */
function expandReduced(c: RuleContext, dy: string, axes: number[]): string {
  const x = c.input(0);
  let d = dy;
  if (!c.attrInt("keepdims", 1) && axes.length && c.rank(dy) !== c.rank(x)) d = c.op("Unsqueeze", [dy, c.ints(axes)]);
  const xs = c.shape(x);
  return c.op("Expand", [d, isNumeric(xs) ? c.ints(xs) : c.shapeOf(x)]);
}

/** Elementwise: dx = dy * f'(.) */
function unary(f: (c: RuleContext, dy: string) => string): Rule {
  return (c, [dy]) => [dy ? f(c, dy) : null];
}

const same: Rule = (_c, [dy]) => [dy ?? null];
const reshapeBack: Rule = (c, [dy]) => [dy ? c.reshapeLike(dy, c.input(0)) : null, ...c.node.inputs.slice(1).map(() => null)];

function minMax(c: RuleContext, dy: string): Dy[] {
  // even split between the inputs equal to the result (torch's convention for ties)
  const y = c.output();
  const k = c.node.inputs.length;
  if (k === 1) return [dy];
  const eqs = c.node.inputs.map((x) => c.cmp("Equal", x, y));
  const count = c.op("Sum", eqs.map((e) => c.castFloat(e)));
  const share = c.div(dy, count);
  const zero = c.scalar(0);
  return c.node.inputs.map((x, i) => (c.wants(i) ? c.unbroadcast(c.where(eqs[i]!, share, zero), x, c.shape(y)) : null));
}

function gemmRule(c: RuleContext, [dy]: Dy[]): Dy[] {
  if (!dy) return [null, null, null];
  const A = c.input(0);
  const B = c.input(1);
  const alpha = c.attrFloat("alpha", 1);
  const beta = c.attrFloat("beta", 1);
  const tA = c.attrInt("transA", 0);
  const tB = c.attrInt("transB", 0);
  const gemm = (a: string, b: string, transA: number, transB: number) => {
    const attrs: Record<string, AttrValue> = {};
    if (transA) attrs.transA = attr.int(1);
    if (transB) attrs.transB = attr.int(1);
    if (alpha !== 1) attrs.alpha = attr.float(alpha);
    return c.op("Gemm", [a, b], attrs);
  };
  let dA: Dy = null;
  let dB: Dy = null;
  if (c.wants(0)) {
    if (!tA && !tB) dA = gemm(dy, B, 0, 1);
    else if (!tA && tB) dA = gemm(dy, B, 0, 0);
    else if (tA && !tB) dA = gemm(B, dy, 0, 1);
    else dA = gemm(B, dy, 1, 1);
  }
  if (c.wants(1)) {
    if (!tA && !tB) dB = gemm(A, dy, 1, 0);
    else if (!tA && tB) dB = gemm(dy, A, 1, 0);
    else if (tA && !tB) dB = gemm(A, dy, 0, 0);
    else dB = gemm(dy, A, 1, 1);
  }
  let dC: Dy = null;
  if (c.has(2) && c.wants(2)) {
    const scaled = beta === 1 ? dy : c.mul(dy, c.scalar(beta));
    dC = c.unbroadcast(scaled, c.input(2), c.shape(c.output()));
  }
  return [dA, dB, dC];
}

function matmulRule(c: RuleContext, [dy]: Dy[]): Dy[] {
  if (!dy) return [null, null];
  const a = c.input(0);
  const b = c.input(1);
  const ra = c.rank(a);
  const rb = c.rank(b);
  if (ra < 2 || rb < 2) throw new Error("autodiff: MatMul gradient needs operands of rank >= 2");
  const yShape = c.shape(c.output());
  let da: Dy = null;
  let db: Dy = null;
  if (c.wants(0)) da = c.unbroadcast(c.op("MatMul", [dy, c.transpose(b, swapLast(rb))]), a, yShape.slice(0, -2).concat(c.shape(a).slice(-2)));
  if (c.wants(1)) {
    const as = c.shape(a);
    const ys = c.shape(dy);
    const K = as.at(-1)!;
    const N = ys.at(-1)!;
    if (rb === 2 && ra > 2 && typeof K === "number" && typeof N === "number") {
      // x [.., M, K] @ W [K, N]: dW = x2^T dy2 over all leading rows, one Gemm
      const a2 = c.op("Reshape", [a, c.ints([-1, K])]);
      const d2 = c.op("Reshape", [dy, c.ints([-1, N])]);
      db = c.op("Gemm", [a2, d2], { transA: attr.int(1) });
    } else {
      db = c.unbroadcast(c.op("MatMul", [c.transpose(a, swapLast(ra)), dy]), b, yShape.slice(0, -2).concat(c.shape(b).slice(-2)));
    }
  }
  return [da, db];
}

function layerNormRule(c: RuleContext, [dy]: Dy[]): Dy[] {
  if (!dy) return [null, null, null];
  const x = c.input(0);
  const scale = c.input(1);
  const r = c.rank(x);
  const axis = normAxis(c.attrInt("axis", -1), r);
  const eps = c.attrFloat("epsilon", 1e-5);
  const axes = Array.from({ length: r - axis }, (_, i) => axis + i);
  const mean = (v: string) => c.op("ReduceMean", [v], { axes: attr.ints(axes), keepdims: attr.int(1) });
  // recompute the statistics (population variance, as the forward op)
  const mu = mean(x);
  const xc = c.sub(x, mu);
  const variance = mean(c.mul(xc, xc));
  const rstd = c.op("Reciprocal", [c.op("Sqrt", [c.add(variance, c.scalar(eps))])]);
  const xhat = c.mul(xc, rstd);
  let dx: Dy = null;
  if (c.wants(0)) {
    const dxhat = c.mul(dy, scale);
    const t = c.sub(c.sub(dxhat, mean(dxhat)), c.mul(xhat, mean(c.mul(dxhat, xhat))));
    dx = c.mul(t, rstd);
  }
  const dScale = c.wants(1) ? c.unbroadcast(c.mul(dy, xhat), scale, c.shape(x)) : null;
  const dBias = c.has(2) && c.wants(2) ? c.unbroadcast(dy, c.input(2), c.shape(x)) : null;
  return [dx, dScale, dBias];
}

function sliceRule(c: RuleContext, [dy]: Dy[]): Dy[] {
  if (!dy) return [null];
  const x = c.input(0);
  const xs = c.shape(x);
  const r = xs.length;
  const starts = c.constInts(1);
  const ends = c.constInts(2);
  const axes = c.has(3) ? c.constInts(3) : starts?.map((_, i) => i);
  const steps = c.has(4) ? c.constInts(4) : null;
  if (!starts || !ends || !axes || (c.has(4) && !steps)) throw new Error("autodiff: Slice gradient needs constant starts / ends / axes / steps");
  if (steps && steps.some((s) => s !== 1)) throw new Error("autodiff: Slice gradient supports step 1 only");
  const pads = new Array<number>(2 * r).fill(0);
  axes.forEach((a0, j) => {
    const a = normAxis(a0, r);
    const dim = xs[a]!;
    if (typeof dim !== "number") {
      if (starts[j] === 0 && ends[j]! >= 2 ** 31 - 1) return;
      throw new Error(`autodiff: Slice gradient needs a static size along axis ${a}`);
    }
    const b = sliceBounds(starts[j]!, ends[j]!, 1, dim);
    pads[a] = b.start;
    pads[a + r] = dim - b.start - b.count;
  });
  if (pads.every((p) => p === 0)) return [dy];
  return [c.op("Pad", [dy, c.ints(pads)])];
}

function concatRule(c: RuleContext, [dy]: Dy[]): Dy[] {
  if (!dy) return c.node.inputs.map(() => null);
  const r = c.rank(c.output());
  const axis = normAxis(c.attrInt("axis", 0), r);
  const sizes = c.node.inputs.map((i) => c.shape(i)[axis]!);
  if (!sizes.every((s) => typeof s === "number")) throw new Error(`autodiff: Concat gradient needs static sizes along axis ${axis}`);
  if (c.node.inputs.length === 1) return [dy];
  const parts = c.ops("Split", [dy, c.ints(sizes as number[])], sizes.length, { axis: attr.int(axis) });
  return parts.map((p, i) => (c.wants(i) ? p : null));
}

function splitRule(c: RuleContext, dys: Dy[]): Dy[] {
  const r = c.rank(c.input(0));
  const axis = normAxis(c.attrInt("axis", 0), r);
  const parts = dys.map((d, i) => d ?? c.zerosLike(c.output(i)));
  return [parts.length === 1 ? parts[0]! : c.op("Concat", parts, { axis: attr.int(axis) }), null];
}

function gatherRule(c: RuleContext, [dy]: Dy[]): Dy[] {
  if (!dy) return [null, null];
  const data = c.input(0);
  const idx = c.input(1);
  const r = c.rank(data);
  const q = c.rank(idx);
  const a = normAxis(c.attrInt("axis", 0), r);
  // dy: [pre (a), idx (q), post (r-a-1)] -> [idx, pre, post]; scatter-add into [data[a], pre, post]
  const permDy = [...Array.from({ length: q }, (_, i) => a + i), ...Array.from({ length: a }, (_, i) => i), ...Array.from({ length: r - a - 1 }, (_, i) => a + q + i)];
  const permData = [a, ...Array.from({ length: a }, (_, i) => i), ...Array.from({ length: r - a - 1 }, (_, i) => a + 1 + i)];
  const dyT = c.transpose(dy, permDy);
  const ds = c.shape(data);
  const targetShape = isNumeric(ds) ? c.ints(permData.map((p) => ds[p]!)) : c.op("Gather", [c.shapeOf(data), c.ints(permData)], {}, "int64");
  const zeros = c.op("Expand", [c.scalar(0), targetShape]);
  const ind = c.op("Unsqueeze", [idx, c.ints([-1])], {}, c.s.dtype(idx));
  const scattered = c.op("ScatterND", [zeros, ind, dyT], { reduction: attr.string("add") });
  return [c.transpose(scattered, invPerm(permData)), null];
}

function clipRule(c: RuleContext, [dy]: Dy[]): Dy[] {
  if (!dy) return [null, null, null];
  const x = c.input(0);
  const lo = c.has(1) ? c.input(1) : null;
  const hi = c.has(2) ? c.input(2) : null;
  const zero = c.scalar(0);
  let dx: Dy = null;
  if (c.wants(0)) {
    let g = dy;
    if (lo) g = c.where(c.cmp("GreaterOrEqual", x, lo), g, zero);
    if (hi) g = c.where(c.cmp("LessOrEqual", x, hi), g, zero);
    dx = g;
  }
  const dlo = lo && c.wants(1) ? c.unbroadcast(c.where(c.cmp("Less", x, lo), dy, zero), lo, c.shape(x)) : null;
  const dhi = hi && c.wants(2) ? c.unbroadcast(c.where(c.cmp("Greater", x, hi), dy, zero), hi, c.shape(x)) : null;
  return [dx, dlo, dhi];
}

const RULES: Record<string, Rule> = {
  Identity: same,
  Cast: same, // only reached for float -> float casts (non-float outputs never carry gradients)
  Neg: unary((c, dy) => c.neg(dy)),
  Add: (c, [dy]) => {
    if (!dy) return [null, null];
    const yS = c.shape(c.output());
    return [c.wants(0) ? c.unbroadcast(dy, c.input(0), yS) : null, c.wants(1) ? c.unbroadcast(dy, c.input(1), yS) : null];
  },
  Sub: (c, [dy]) => {
    if (!dy) return [null, null];
    const yS = c.shape(c.output());
    return [c.wants(0) ? c.unbroadcast(dy, c.input(0), yS) : null, c.wants(1) ? c.unbroadcast(c.neg(dy), c.input(1), yS) : null];
  },
  Mul: (c, [dy]) => {
    if (!dy) return [null, null];
    const [a, b] = c.node.inputs as [string, string];
    const yS = c.shape(c.output());
    return [c.wants(0) ? c.unbroadcast(c.mul(dy, b), a, yS) : null, c.wants(1) ? c.unbroadcast(c.mul(dy, a), b, yS) : null];
  },
  Div: (c, [dy]) => {
    if (!dy) return [null, null];
    const [a, b] = c.node.inputs as [string, string];
    const yS = c.shape(c.output());
    return [c.wants(0) ? c.unbroadcast(c.div(dy, b), a, yS) : null, c.wants(1) ? c.unbroadcast(c.neg(c.mul(dy, c.div(c.output(), b))), b, yS) : null];
  },
  Pow: (c, [dy]) => {
    if (!dy) return [null, null];
    const [x, e] = c.node.inputs as [string, string];
    const yS = c.shape(c.output());
    let dx: Dy = null;
    if (c.wants(0)) {
      const init = c.g.initializers.get(e);
      const ev = init && init.data.length === 1 && init.dtype === "float32" ? (init.data as Float32Array)[0]! : null;
      const dPow = ev === 2 ? c.mul(x, c.scalar(2)) : c.mul(e, c.op("Pow", [x, c.sub(e, c.scalar(1))]));
      dx = c.unbroadcast(c.mul(dy, dPow), x, yS);
    }
    const de = c.wants(1) ? c.unbroadcast(c.mul(dy, c.mul(c.output(), c.op("Log", [x]))), e, yS) : null;
    return [dx, de];
  },
  Abs: unary((c, dy) => c.mul(dy, c.op("Sign", [c.input(0)]))),
  Reciprocal: unary((c, dy) => c.neg(c.mul(dy, c.mul(c.output(), c.output())))),
  Sqrt: unary((c, dy) => c.div(dy, c.mul(c.output(), c.scalar(2)))),
  Exp: unary((c, dy) => c.mul(dy, c.output())),
  Log: unary((c, dy) => c.div(dy, c.input(0))),
  Tanh: unary((c, dy) => c.mul(dy, c.sub(c.scalar(1), c.mul(c.output(), c.output())))),
  Sigmoid: unary((c, dy) => c.mul(dy, c.mul(c.output(), c.sub(c.scalar(1), c.output())))),
  Relu: unary((c, dy) => c.where(c.cmp("Greater", c.input(0), c.scalar(0)), dy, c.scalar(0))),
  LeakyRelu: unary((c, dy) => c.where(c.cmp("Greater", c.input(0), c.scalar(0)), dy, c.mul(dy, c.scalar(c.attrFloat("alpha", 0.01))))),
  Softplus: unary((c, dy) => c.mul(dy, c.op("Sigmoid", [c.input(0)]))),
  Softmax: unary((c, dy) => {
    const y = c.output();
    const axis = normAxis(c.attrInt("axis", -1), c.rank(y));
    const s = c.reduceSum(c.mul(dy, y), [axis], true);
    return c.mul(y, c.sub(dy, s));
  }),
  LogSoftmax: unary((c, dy) => {
    const y = c.output();
    const axis = normAxis(c.attrInt("axis", -1), c.rank(y));
    const s = c.reduceSum(dy, [axis], true);
    return c.sub(dy, c.mul(c.op("Exp", [y]), s));
  }),
  ReduceSum: (c, [dy]) => [dy ? expandReduced(c, dy, reduceAxes(c)) : null, null],
  ReduceMean: (c, [dy]) => {
    if (!dy) return [null];
    const axes = reduceAxes(c);
    const xs = c.shape(c.input(0));
    const dims = axes.map((a) => xs[a]!);
    // divide by the count (an integer, exact in float32 constants; 1/count would be rounded)
    const count = dims.every((d) => typeof d === "number")
      ? c.scalar((dims as number[]).reduce((a, b) => a * b, 1))
      : c.div(c.castFloat(c.op("Size", [c.input(0)], {}, "int64")), c.castFloat(c.op("Size", [c.output()], {}, "int64")));
    return [c.div(expandReduced(c, dy, axes), count)];
  },
  ReduceSumSquare: (c, [dy]) => [dy ? c.mul(expandReduced(c, dy, reduceAxes(c)), c.mul(c.input(0), c.scalar(2))) : null],
  ReduceMax: (c, [dy]) => [dy ? reduceExtreme(c, dy) : null],
  ReduceMin: (c, [dy]) => [dy ? reduceExtreme(c, dy) : null],
  MatMul: matmulRule,
  Gemm: gemmRule,
  Transpose: unary((c, dy) => {
    const r = c.rank(c.input(0));
    const perm = c.attrInts("perm") ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    return c.transpose(dy, invPerm(perm));
  }),
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Expand: (c, [dy]) => [dy ? c.unbroadcast(dy, c.input(0), c.shape(c.output())) : null, null],
  Concat: concatRule,
  Split: splitRule,
  Slice: (c, dys) => [...sliceRule(c, dys), null, null, null, null],
  Gather: gatherRule,
  GatherElements: (c, [dy]) => {
    if (!dy) return [null, null];
    const data = c.input(0);
    const scattered = c.op("ScatterElements", [c.zerosLike(data), c.input(1), dy], { axis: attr.int(c.attrInt("axis", 0)), reduction: attr.string("add") });
    return [scattered, null];
  },
  Clip: clipRule,
  Min: (c, [dy]) => (dy ? minMax(c, dy) : c.node.inputs.map(() => null)),
  Max: (c, [dy]) => (dy ? minMax(c, dy) : c.node.inputs.map(() => null)),
  Sum: (c, [dy]) => c.node.inputs.map((x, i) => (dy && c.wants(i) ? c.unbroadcast(dy, x, c.shape(c.output())) : null)),
  Mean: (c, [dy]) => {
    if (!dy) return c.node.inputs.map(() => null);
    const scaled = c.div(dy, c.scalar(c.node.inputs.length));
    return c.node.inputs.map((x, i) => (c.wants(i) ? c.unbroadcast(scaled, x, c.shape(c.output())) : null));
  },
  Where: (c, [dy]) => {
    if (!dy) return [null, null, null];
    const [cond, a, b] = c.node.inputs as [string, string, string];
    const zero = c.scalar(0);
    const yS = c.shape(c.output());
    return [null, c.wants(1) ? c.unbroadcast(c.where(cond, dy, zero), a, yS) : null, c.wants(2) ? c.unbroadcast(c.where(cond, zero, dy), b, yS) : null];
  },
  LayerNormalization: layerNormRule,
};

function reduceExtreme(c: RuleContext, dy: string): string {
  const axes = reduceAxes(c);
  const x = c.input(0);
  const keep = c.attrInt("keepdims", 1);
  const y = keep || !axes.length ? c.output() : c.op("Unsqueeze", [c.output(), c.ints(axes)]);
  const mask = c.castFloat(c.cmp("Equal", x, y));
  const count = c.op("ReduceSum", [mask, c.ints(axes)], { keepdims: attr.int(1) });
  const dyk = keep || !axes.length ? dy : c.op("Unsqueeze", [dy, c.ints(axes)]);
  return c.mul(mask, c.div(dyk, count));
}

/** The ops backward() can differentiate. */
export const DIFFERENTIABLE_OPS: readonly string[] = Object.keys(RULES).sort();

/**
 * Append the gradient of the scalar `loss` (shape [] or all-ones) with
 * respect to each value in `wrt` (default: the trainable initializers) to `g`.
 */
export function backward(g: Graph, loss: string, wrt: string[] = g.params.map((p) => p.name), opts: BackwardOptions = {}): BackwardResult {
  const prefix = opts.prefix ?? "grad";
  const s = new ShapeInfo(g);
  const lossShape = s.shape(loss);
  if (!lossShape.every((d) => d === 1)) throw new Error(`autodiff: the loss must be a scalar, ${loss} has shape [${lossShape.join(", ")}]`);
  for (const w of wrt) if (s.dtype(w) !== "float32") throw new Error(`autodiff: cannot differentiate with respect to ${w} (${s.dtype(w)})`);
  const forward = [...g.nodes];

  // forward sweep: which float values depend on wrt
  const needs = new Set<string>(wrt);
  for (const n of forward) {
    if (NON_DIFFERENTIABLE.has(n.op)) continue;
    if (n.inputs.some((i) => needs.has(i))) for (const o of n.outputs) if (s.dtype(o) === "float32") needs.add(o);
  }

  const c = new RuleContext(g, s, prefix);
  const contribs = new Map<string, string[]>();
  const push = (v: string, d: string) => {
    const l = contribs.get(v);
    if (l) l.push(d);
    else contribs.set(v, [d]);
  };
  const total = (v: string): string | null => {
    const l = contribs.get(v);
    if (!l || !l.length) return null;
    if (l.length === 1) return l[0]!;
    const sum = c.op("Sum", l);
    contribs.set(v, [sum]);
    return sum;
  };
  push(loss, lossShape.length === 0 ? c.scalar(1) : c.op("Expand", [c.scalar(1), c.ints(lossShape as number[])]));

  for (let k = forward.length - 1; k >= 0; k--) {
    const n = forward[k]!;
    if (!n.outputs.some((o) => contribs.has(o))) continue;
    const wanted = n.inputs.map((i) => i !== "" && needs.has(i));
    if (!wanted.some(Boolean)) continue;
    const rule = RULES[n.op];
    if (!rule || NON_DIFFERENTIABLE.has(n.op)) {
      if (NON_DIFFERENTIABLE.has(n.op)) continue;
      throw new Error(`autodiff: no gradient rule for ${n.op} (node ${n.name}); supported: ${DIFFERENTIABLE_OPS.join(", ")}`);
    }
    const dys = n.outputs.map((o) => total(o));
    c.node = n;
    c.wants = (i) => wanted[i] ?? false;
    const dxs = rule(c, dys);
    n.inputs.forEach((inp, i) => {
      const d = dxs[i];
      if (d && wanted[i]) push(inp, d);
    });
  }

  const grads = new Map<string, string>();
  for (const w of wrt) {
    const d = total(w) ?? c.zerosLike(w);
    // a named, distinct value per parameter (Identity when the gradient is another value as-is)
    grads.set(w, d);
  }
  return { grads, shapes: s };
}
