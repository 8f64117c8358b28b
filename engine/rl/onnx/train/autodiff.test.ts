/**
 * Every gradient rule of ./autodiff.ts against central finite differences.
 *
 * Precision: each check evaluates the graph in float64 (DOUBLE; ORT's CPU
 * kernels support double for every op here) with h = 1e-6 and requires
 * |analytic - numeric| <= 1e-8 + 1e-6 * max(|analytic|, |numeric|) for every
 * entry; the same graph encoded in float32 must give an analytic gradient
 * within 1e-5 + 1e-4 * |g64| of the float64 one. Piecewise ops are evaluated
 * at points at least 0.05 from their kinks.
 */
import { afterAll, describe, expect, it } from "vitest";
import { attr, Graph } from "../graph";
import { backward, DIFFERENTIABLE_OPS } from "./autodiff";
import { type CheckInput, type CheckOptions, opGradCheck, rng } from "./gradcheck";
import { GraphSession } from "./session";

const summary: { name: string; maxRel: number; maxAbs: number; ratio32: number; checked: number }[] = [];
const covered = new Set<string>();

/** Values in [lo, hi) at least `margin` away from each point in `avoid`. */
function vals(n: number, seed: number, opts: { lo?: number; hi?: number; avoid?: number[]; margin?: number } = {}): number[] {
  const r = rng(seed);
  const lo = opts.lo ?? -1;
  const hi = opts.hi ?? 1;
  const out: number[] = [];
  while (out.length < n) {
    const v = lo + (hi - lo) * r();
    if ((opts.avoid ?? []).every((a) => Math.abs(v - a) >= (opts.margin ?? 0.05))) out.push(v);
  }
  return out;
}

async function check(name: string, ops: string[], build: (g: Graph, x: Record<string, string>) => string | string[], inputs: CheckInput[], opts: CheckOptions = {}): Promise<void> {
  const r = await opGradCheck(build, inputs, opts);
  summary.push({ name, maxRel: r.maxRelError, maxAbs: r.maxAbsError, ratio32: r.worstRatio32, checked: r.checked });
  if (r.worstRatio > 1) throw new Error(`${name}: gradient mismatch ${JSON.stringify(r.worst)} (ratio ${r.worstRatio})`);
  expect(r.worstRatio).toBeLessThanOrEqual(1);
  if (!opts.skip32) expect(r.worstRatio32).toBeLessThanOrEqual(1);
  expect(r.checked).toBeGreaterThan(0);
  for (const op of ops) covered.add(op);
}

const f = (name: string, shape: number[], extra: Partial<CheckInput> = {}): CheckInput => ({ name, shape, ...extra });

afterAll(() => {
  const rows = summary.map((s) => `${s.name.padEnd(48)} entries ${String(s.checked).padStart(4)}  max rel ${s.maxRel.toExponential(1)}  max abs ${s.maxAbs.toExponential(1)}  f32/f64 ${s.ratio32.toFixed(2)}`);
  if (process.env.GRADCHECK_SUMMARY) console.log(rows.join("\n"));
});

describe("autodiff: elementwise binary ops with broadcasting", () => {
  for (const op of ["Add", "Sub", "Mul"]) {
    it(`${op}: same shape, [2,3] with [3], [2,1,4] with [3,1], with a scalar`, async () => {
      await check(`${op} [2,3]x[2,3]`, [op], (g, x) => g.op(op, [x.a!, x.b!]), [f("a", [2, 3]), f("b", [2, 3])]);
      await check(`${op} [2,3]x[3]`, [op], (g, x) => g.op(op, [x.a!, x.b!]), [f("a", [2, 3]), f("b", [3])]);
      await check(`${op} [2,1,4]x[3,1]`, [op], (g, x) => g.op(op, [x.a!, x.b!]), [f("a", [2, 1, 4]), f("b", [3, 1])]);
      await check(`${op} []x[2,3]`, [op], (g, x) => g.op(op, [x.a!, x.b!]), [f("a", []), f("b", [2, 3])]);
    });
  }
  it("Div: numerator and (broadcast) denominator", async () => {
    await check("Div [2,3]/[3]", ["Div"], (g, x) => g.op("Div", [x.a!, x.b!]), [f("a", [2, 3]), f("b", [3], { data: vals(3, 5, { lo: 0.5, hi: 2 }) })]);
    await check("Div [3]/[2,3]", ["Div"], (g, x) => g.op("Div", [x.a!, x.b!]), [f("a", [3]), f("b", [2, 3], { data: vals(6, 6, { lo: -2, hi: 2, avoid: [0], margin: 0.4 }) })]);
  });
  it("Pow: variable base and exponent, constant exponents 2 and 3", async () => {
    await check("Pow x^e", ["Pow"], (g, x) => g.op("Pow", [x.a!, x.b!]), [f("a", [2, 3], { data: vals(6, 7, { lo: 0.3, hi: 2 }) }), f("b", [3])]);
    await check("Pow x^2", ["Pow"], (g, x) => g.op("Pow", [x.a!, g.scalar(2)]), [f("a", [2, 3])]);
    await check("Pow x^3", ["Pow"], (g, x) => g.op("Pow", [x.a!, g.scalar(3)]), [f("a", [2, 3])]);
  });
  it("Min / Max: two and three inputs with broadcasting (distinct values)", async () => {
    for (const op of ["Min", "Max"]) {
      await check(`${op} [2,3],[3]`, [op], (g, x) => g.op(op, [x.a!, x.b!]), [f("a", [2, 3], { data: [0.1, -0.5, 0.9, -0.2, 0.6, 0.3] }), f("b", [3], { data: [0.35, 0.0, 0.7] })]);
      await check(`${op} 3 inputs`, [op], (g, x) => g.op(op, [x.a!, x.b!, x.c!]), [f("a", [4], { data: [0.1, 0.5, -0.3, 0.8] }), f("b", [4], { data: [0.4, -0.2, 0.2, 0.1] }), f("c", [4], { data: [-0.3, 0.9, 0.6, 0.45] })]);
    }
  });
  it("Min / Max: ties split the gradient evenly (torch convention)", async () => {
    const g = new Graph("tie");
    const a = g.input("a", "float32", [3]);
    const b = g.input("b", "float32", [3]);
    const y = g.op("Max", [a, b]);
    const loss = g.op("ReduceSum", [y], [], { keepdims: attr.int(0) });
    const { grads } = backward(g, loss, [a, b]);
    g.output(g.op("Identity", [grads.get(a)!], [3], {}, "ga"));
    g.output(g.op("Identity", [grads.get(b)!], [3], {}, "gb"));
    const s = await GraphSession.create(g, { precision: "float64" });
    const r = s.run({ a: Float64Array.from([1, 2, 3]), b: Float64Array.from([1, 5, 0]) });
    expect(Array.from(r.ga as Float64Array)).toEqual([0.5, 0, 1]);
    expect(Array.from(r.gb as Float64Array)).toEqual([0.5, 1, 0]);
    await s.dispose();
  });
  it("Where: gradient to the selected branch only (mask from a comparison)", async () => {
    await check(
      "Where(a>b, a*2, b)",
      ["Where"],
      (g, x) => {
        const cond = g.node("Greater", [x.a!, x.b!], [{ dtype: "bool" }])[0]!;
        return g.node("Where", [cond, g.op("Mul", [x.a!, g.scalar(2)]), x.b!], [{ dtype: "float32" }])[0]!;
      },
      [f("a", [2, 3], { data: [0.1, -0.5, 0.9, -0.2, 0.6, 0.3] }), f("b", [3], { data: [0.35, 0.0, 0.7] })],
    );
  });
  it("Sum (variadic, broadcasting)", async () => {
    await check("Sum 3 inputs", ["Sum"], (g, x) => g.op("Sum", [x.a!, x.b!, x.c!]), [f("a", [2, 3]), f("b", [3]), f("c", [2, 1])]);
  });
});

describe("autodiff: elementwise unary ops", () => {
  const unary: [string, CheckInput["data"] | undefined][] = [
    ["Neg", undefined],
    ["Tanh", vals(6, 11, { lo: -2, hi: 2 })],
    ["Sigmoid", vals(6, 12, { lo: -3, hi: 3 })],
    ["Exp", undefined],
    ["Log", vals(6, 13, { lo: 0.2, hi: 3 })],
    ["Sqrt", vals(6, 14, { lo: 0.2, hi: 3 })],
    ["Abs", vals(6, 15, { avoid: [0] })],
    ["Reciprocal", vals(6, 16, { lo: 0.3, hi: 2 })],
    ["Relu", vals(6, 17, { avoid: [0] })],
    ["Identity", undefined],
  ];
  for (const [op, data] of unary) {
    it(op, async () => {
      await check(op, [op], (g, x) => g.op(op, [x.a!]), [f("a", [2, 3], { data })]);
    });
  }
  it("LeakyRelu (alpha 0.1)", async () => {
    await check("LeakyRelu", ["LeakyRelu"], (g, x) => g.op("LeakyRelu", [x.a!], null, { alpha: attr.float(0.1) }), [f("a", [2, 3], { data: vals(6, 18, { avoid: [0] }) })]);
  });
  it("Cast float -> float", async () => {
    await check("Cast", ["Cast"], (g, x) => g.node("Cast", [g.op("Tanh", [x.a!])], [{ dtype: "float32" }], { to: attr.int(1) })[0]!, [f("a", [2, 3])]);
  });
  it("Clip: input and (scalar) bounds; both bounds, min only", async () => {
    const data = vals(8, 19, { lo: -2, hi: 2, avoid: [-0.5, 0.7] });
    await check("Clip(x, lo, hi)", ["Clip"], (g, x) => g.op("Clip", [x.a!, x.lo!, x.hi!]), [f("a", [2, 4], { data }), f("lo", [], { data: [-0.5] }), f("hi", [], { data: [0.7] })]);
    await check("Clip(x, lo)", ["Clip"], (g, x) => g.op("Clip", [x.a!, x.lo!]), [f("a", [2, 4], { data }), f("lo", [], { data: [-0.5] })]);
  });
});

describe("autodiff: softmax family and reductions", () => {
  it("Softmax and LogSoftmax over the last axis and over axis 1 of a 3-D tensor", async () => {
    for (const op of ["Softmax", "LogSoftmax"]) {
      await check(`${op} axis -1`, [op], (g, x) => g.op(op, [x.a!], null, { axis: attr.int(-1) }), [f("a", [2, 4])]);
      await check(`${op} axis 1 [2,3,4]`, [op], (g, x) => g.op(op, [x.a!], null, { axis: attr.int(1) }), [f("a", [2, 3, 4])]);
    }
  });
  it("ReduceSum: one axis with and without keepdims, negative axis, all axes", async () => {
    const rs = (g: Graph, x: string, axes: number[] | null, keep: number) => g.op("ReduceSum", axes ? [x, g.int64s(g.fresh("ax"), axes)] : [x], null, { keepdims: attr.int(keep) });
    await check("ReduceSum axis 1 keepdims 0", ["ReduceSum"], (g, x) => rs(g, x.a!, [1], 0), [f("a", [2, 3, 4])]);
    await check("ReduceSum axes [0,2] keepdims 1", ["ReduceSum"], (g, x) => rs(g, x.a!, [0, -1], 1), [f("a", [2, 3, 4])]);
    await check("ReduceSum all", ["ReduceSum"], (g, x) => rs(g, x.a!, null, 0), [f("a", [2, 3])]);
  });
  it("ReduceMean: static and symbolic (batch) reduced dimension", async () => {
    await check("ReduceMean axis 1", ["ReduceMean"], (g, x) => g.op("ReduceMean", [x.a!], null, { axes: attr.ints([1]), keepdims: attr.int(0) }), [f("a", [2, 3, 4])]);
    await check("ReduceMean over batch (symbolic)", ["ReduceMean"], (g, x) => g.op("ReduceMean", [x.a!], null, { axes: attr.ints([0]), keepdims: attr.int(1) }), [f("a", [5, 3], { declared: ["batch", 3] })], { dims: { batch: 5 } });
    await check("ReduceMean all", ["ReduceMean"], (g, x) => g.op("ReduceMean", [x.a!], null, { keepdims: attr.int(0) }), [f("a", [5, 3], { declared: ["batch", 3] })], { dims: { batch: 5 } });
  });
  it("ReduceSumSquare, ReduceMax, ReduceMin", async () => {
    await check("ReduceSumSquare all", ["ReduceSumSquare"], (g, x) => g.op("ReduceSumSquare", [x.a!], null, { keepdims: attr.int(0) }), [f("a", [2, 3])]);
    for (const op of ["ReduceMax", "ReduceMin"]) {
      await check(`${op} axis 1`, [op], (g, x) => g.op(op, [x.a!], null, { axes: attr.ints([1]), keepdims: attr.int(0) }), [f("a", [2, 4], { data: [0.1, 0.7, -0.3, 0.4, -0.8, 0.2, 0.9, 0.5] })]);
    }
  });
});

describe("autodiff: matrix products", () => {
  it("MatMul: 2-D, batched with a 2-D weight, 4-D, and broadcast batch dims", async () => {
    await check("MatMul [3,4]x[4,5]", ["MatMul"], (g, x) => g.op("MatMul", [x.a!, x.b!]), [f("a", [3, 4]), f("b", [4, 5])]);
    await check("MatMul [2,3,4]x[4,5]", ["MatMul"], (g, x) => g.op("MatMul", [x.a!, x.b!]), [f("a", [2, 3, 4]), f("b", [4, 5])]);
    await check("MatMul [batch,3,4]x[4,5]", ["MatMul"], (g, x) => g.op("MatMul", [x.a!, x.b!]), [f("a", [2, 3, 4], { declared: ["batch", 3, 4] }), f("b", [4, 5])], { dims: { batch: 2 } });
    await check("MatMul [2,2,3,4]x[2,2,4,3]", ["MatMul"], (g, x) => g.op("MatMul", [x.a!, x.b!]), [f("a", [2, 2, 3, 4]), f("b", [2, 2, 4, 3])]);
    await check("MatMul [2,1,3,4]x[3,4,2]", ["MatMul"], (g, x) => g.op("MatMul", [x.a!, x.b!]), [f("a", [2, 1, 3, 4]), f("b", [3, 4, 2])]);
  });
  it("Gemm: all transA / transB combinations with alpha, beta and C of shape [N], [1,N], [M,N], [], absent", async () => {
    const M = 3;
    const K = 4;
    const N = 2;
    for (const tA of [0, 1])
      for (const tB of [0, 1]) {
        await check(
          `Gemm tA${tA} tB${tB} C[N]`,
          ["Gemm"],
          (g, x) => g.op("Gemm", [x.a!, x.b!, x.c!], null, { transA: attr.int(tA), transB: attr.int(tB), alpha: attr.float(0.7), beta: attr.float(1.3) }),
          [f("a", tA ? [K, M] : [M, K]), f("b", tB ? [N, K] : [K, N]), f("c", [N])],
        );
      }
    for (const cShape of [[1, N], [M, N], []]) {
      await check(`Gemm C[${cShape.join(",")}]`, ["Gemm"], (g, x) => g.op("Gemm", [x.a!, x.b!, x.c!], null, { beta: attr.float(0.5) }), [f("a", [M, K]), f("b", [K, N]), f("c", cShape)]);
    }
    await check("Gemm no C", ["Gemm"], (g, x) => g.op("Gemm", [x.a!, x.b!], null, { transB: attr.int(1) }), [f("a", [M, K]), f("b", [N, K])]);
  });
});

describe("autodiff: shape ops", () => {
  it("Transpose (explicit and default perm)", async () => {
    await check("Transpose [0,2,3,1]", ["Transpose"], (g, x) => g.op("Transpose", [x.a!], null, { perm: attr.ints([0, 2, 3, 1]) }), [f("a", [2, 3, 2, 2])]);
    await check("Transpose default", ["Transpose"], (g, x) => g.op("Transpose", [x.a!]), [f("a", [2, 3, 4])]);
  });
  it("Reshape (with -1 and 0), Flatten, Squeeze, Unsqueeze", async () => {
    await check("Reshape [0,-1]", ["Reshape"], (g, x) => g.op("Tanh", [g.op("Reshape", [x.a!, g.int64s("s", [0, -1])])]), [f("a", [2, 3, 2])]);
    await check("Reshape symbolic batch", ["Reshape"], (g, x) => g.op("Tanh", [g.op("Reshape", [x.a!, g.int64s("s", [-1, 2, 3])])]), [f("a", [3, 6], { declared: ["batch", 6] })], { dims: { batch: 3 } });
    await check("Flatten axis 1", ["Flatten"], (g, x) => g.op("Flatten", [x.a!], null, { axis: attr.int(1) }), [f("a", [2, 3, 2])]);
    await check("Squeeze", ["Squeeze"], (g, x) => g.op("Squeeze", [x.a!, g.int64s("ax", [1])]), [f("a", [3, 1, 2])]);
    await check("Unsqueeze", ["Unsqueeze"], (g, x) => g.op("Unsqueeze", [x.a!, g.int64s("ax", [0, 2])]), [f("a", [3, 2])]);
  });
  it("Expand", async () => {
    await check("Expand [3,1]->[2,3,4]", ["Expand"], (g, x) => g.op("Expand", [x.a!, g.int64s("s", [2, 3, 4])]), [f("a", [3, 1])]);
  });
  it("Concat (three inputs, and one input used twice)", async () => {
    await check("Concat axis 1", ["Concat"], (g, x) => g.op("Concat", [x.a!, x.b!, x.c!], null, { axis: attr.int(1) }), [f("a", [2, 1]), f("b", [2, 3]), f("c", [2, 2])]);
    await check("Concat [a, a] axis 0", ["Concat"], (g, x) => g.op("Concat", [x.a!, g.op("Tanh", [x.a!])], null, { axis: attr.int(0) }), [f("a", [2, 3])]);
  });
  it("Split (only some outputs used: zeros for the others)", async () => {
    await check(
      "Split [1,2,1] use 0 and 2",
      ["Split"],
      (g, x) => {
        const [p0, , p2] = g.node("Split", [x.a!, g.int64s("sp", [1, 2, 1])], 3, { axis: attr.int(1) });
        return [g.op("Tanh", [p0!]), g.op("Exp", [p2!])];
      },
      [f("a", [2, 4])],
    );
    await check("Split equal, all used", ["Split"], (g, x) => g.node("Split", [x.a!], 2, { axis: attr.int(0) }), [f("a", [4, 3])]);
  });
  it("Slice (negative bounds, two axes, symbolic batch)", async () => {
    await check("Slice [1:-1, -3:]", ["Slice"], (g, x) => g.slice(x.a!, [1, -3], [-1, 100], [0, 1]), [f("a", [4, 5])]);
    await check("Slice axis 1 over batch", ["Slice"], (g, x) => g.slice(x.a!, [2], [5], [1]), [f("a", [3, 6], { declared: ["batch", 6] })], { dims: { batch: 3 } });
  });
  it("Gather: axis 0 with repeated 2-D indices, axis 1", async () => {
    await check("Gather axis 0 repeated", ["Gather"], (g, x) => g.op("Gather", [x.a!, x.i!], null, { axis: attr.int(0) }), [f("a", [4, 3]), f("i", [2, 3], { dtype: "int64", data: [0, 2, 2, 3, 0, 0] })]);
    await check("Gather axis 1", ["Gather"], (g, x) => g.op("Gather", [x.a!, x.i!], null, { axis: attr.int(1) }), [f("a", [2, 4, 3]), f("i", [3], { dtype: "int64", data: [3, 1, 3] })]);
  });
  it("GatherElements (the chosen action's log-probability; repeated indices)", async () => {
    await check("GatherElements axis 1", ["GatherElements"], (g, x) => g.op("GatherElements", [x.a!, x.i!], null, { axis: attr.int(1) }), [f("a", [4, 3]), f("i", [4, 2], { dtype: "int32", data: [0, 0, 2, 1, 1, 1, 2, 0] })]);
  });
  it("LayerNormalization: last axis with scale and bias; over the last two axes", async () => {
    await check(
      "LayerNormalization axis -1",
      ["LayerNormalization"],
      (g, x) => g.op("LayerNormalization", [x.a!, x.s!, x.b!], null, { axis: attr.int(-1), epsilon: attr.float(1e-5) }),
      [f("a", [2, 3, 5]), f("s", [5], { data: vals(5, 3, { lo: 0.5, hi: 1.5 }) }), f("b", [5])],
    );
    await check("LayerNormalization axis 1", ["LayerNormalization"], (g, x) => g.op("LayerNormalization", [x.a!, x.s!], null, { axis: attr.int(1), epsilon: attr.float(1e-3) }), [f("a", [2, 3, 4]), f("s", [3, 4])]);
  });
});

describe("autodiff: the sweep", () => {
  it("accumulates the gradient of a value used several times (x x + tanh(x) + softmax(x) + x W)", async () => {
    await check(
      "multi-use accumulation",
      [],
      (g, x) => {
        const a = x.a!;
        const t = g.op("Add", [g.op("Mul", [a, a]), g.op("Tanh", [a])]);
        const s = g.op("Softmax", [a], null, { axis: attr.int(-1) });
        return [g.op("Add", [t, s]), g.op("MatMul", [a, x.w!])];
      },
      [f("a", [2, 3]), f("w", [3, 3])],
    );
  });
  it("gradients flow around non-differentiable branches (ArgMax, Shape, comparisons) and ignore integer inputs", async () => {
    await check(
      "non-differentiable side branches",
      ["ArgMax"],
      (g, x) => {
        const am = g.node("ArgMax", [x.a!], [{ dtype: "int64" }], { axis: attr.int(1), keepdims: attr.int(1) })[0]!;
        const picked = g.op("GatherElements", [x.a!, am], null, { axis: attr.int(1) });
        const sh = g.node("Shape", [x.a!], [{ dtype: "int64" }])[0]!;
        return g.op("Mul", [g.op("Reshape", [g.op("Exp", [x.a!]), sh]), picked]);
      },
      [f("a", [3, 4], { data: vals(12, 21, { lo: -1, hi: 1 }) })],
    );
  });
  it("rejects an op without a rule, a non-scalar loss and a non-float wrt", () => {
    const g = new Graph("bad");
    const x = g.input("x", "float32", [2]);
    const y = g.op("Erf", [x]);
    const l = g.op("ReduceSum", [y], [], { keepdims: attr.int(0) });
    expect(() => backward(g, l, [x])).toThrow(/no gradient rule for Erf/);
    const g2 = new Graph("bad2");
    const x2 = g2.input("x", "float32", [2]);
    expect(() => backward(g2, g2.op("Tanh", [x2]), [x2])).toThrow(/must be a scalar/);
    const i = g2.input("i", "int64", [2]);
    expect(() => backward(g2, g2.op("ReduceSum", [x2], [], { keepdims: attr.int(0) }), [i])).toThrow(/cannot differentiate/);
  });
  it("a parameter the loss does not depend on gets a zero gradient", async () => {
    const g = new Graph("unused");
    const x = g.input("x", "float32", [2]);
    const u = g.input("u", "float32", [3]);
    const l = g.op("ReduceSum", [g.op("Exp", [x])], [], { keepdims: attr.int(0) });
    const { grads } = backward(g, l, [x, u]);
    g.output(g.op("Identity", [grads.get(u)!], [3], {}, "gu"));
    const s = await GraphSession.create(g);
    expect(Array.from(s.run({ x: new Float32Array(2), u: new Float32Array([1, 2, 3]) }).gu as Float32Array)).toEqual([0, 0, 0]);
    await s.dispose();
  });
});

describe("autodiff: float32-only ops (no double kernel in ORT's CPU provider)", () => {
  // finite differences in float32: h = 1e-2, |error| <= 1e-4 + 2e-3 * |g|
  it("Mean (variadic, broadcasting)", async () => {
    await check("Mean 2 inputs [float32]", ["Mean"], (g, x) => g.op("Mean", [x.a!, x.b!]), [f("a", [2, 3]), f("b", [1, 3])], { precision: "float32" });
  });
  it("Softplus", async () => {
    await check("Softplus [float32]", ["Softplus"], (g, x) => g.op("Softplus", [x.a!]), [f("a", [2, 3], { data: vals(6, 22, { lo: -3, hi: 3 }) })], { precision: "float32" });
  });
});

describe("autodiff: coverage", () => {
  it("every op with a rule was checked above", () => {
    expect(DIFFERENTIABLE_OPS.filter((op) => !covered.has(op))).toEqual([]);
  });
});
