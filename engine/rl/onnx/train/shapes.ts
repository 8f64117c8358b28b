/**
 * Static shape and element-type inference over a Graph (../graph.ts), for the
 * ops the networks, losses and gradient graphs use.
 *
 * Reverse-mode differentiation needs, for every value on the path from the
 * parameters to the loss, its rank and which of its dimensions are literally 1
 * (to sum a broadcast gradient back to an operand's shape), plus its element
 * type (only float values carry gradients). Node outputs declared without a
 * shape (shape null) get one here; declared shapes are checked against the
 * inferred rank.
 *
 * Dimensions are numbers or symbolic names ("batch"). An unknown dimension
 * gets a fresh symbol ("?3"); symbols are only ever compared for equality, and
 * a symbolic dimension is never assumed to be 1.
 */
import type { DType, Graph, GraphNode, Shape } from "../graph";

export interface TypeShape {
  dtype: DType;
  shape: Shape;
}

let unknownCounter = 0;
const unknown = (): string => `?${unknownCounter++}`;

const UNARY_SAME = new Set([
  "Identity",
  "Neg",
  "Tanh",
  "Relu",
  "LeakyRelu",
  "Sigmoid",
  "Softplus",
  "Exp",
  "Log",
  "Sqrt",
  "Abs",
  "Sign",
  "Reciprocal",
  "Floor",
  "Ceil",
  "Round",
  "Softmax",
  "LogSoftmax",
  "Clip",
  "Erf",
  "Not",
  "IsNaN",
  "IsInf",
]);
const BROADCAST = new Set(["Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Sum", "Mean", "Where", "And", "Or", "Xor", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "BitShift", "Mod"]);
const BOOL_OUT = new Set(["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Not", "IsNaN", "IsInf"]);
const REDUCE = new Set(["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSumSquare", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSumExp"]);

/** ONNX TensorProto element type -> DType (Cast's `to`). */
const ONNX_TYPE: Record<number, DType> = { 1: "float32", 6: "int32", 7: "int64", 9: "bool", 11: "float32" };

/** Broadcast two dimensions (numpy rules; a symbol meets a number > 1 as that number). */
export function broadcastDim(a: number | string, b: number | string): number | string {
  if (a === 1) return b;
  if (b === 1) return a;
  if (a === b) return a;
  if (typeof a === "number" && typeof b === "number") throw new Error(`cannot broadcast ${a} with ${b}`);
  return typeof a === "number" ? a : b;
}

export function broadcastShapes(shapes: Shape[]): Shape {
  const r = Math.max(0, ...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < r; i++) {
    let d: number | string = 1;
    for (const s of shapes) {
      const k = i - (r - s.length);
      if (k >= 0) d = broadcastDim(d, s[k]!);
    }
    out.push(d);
  }
  return out;
}

const normAxis = (a: number, rank: number) => (a < 0 ? a + rank : a);

export class ShapeInfo {
  private readonly map = new Map<string, TypeShape>();
  /** Contents of small int64 tensors known statically (initializers and Shape outputs), for Reshape / Expand targets. */
  private readonly ints = new Map<string, (number | string)[]>();

  constructor(private readonly g: Graph) {
    for (const v of g.values.values()) {
      if (v.kind === "node") continue;
      this.map.set(v.name, { dtype: v.dtype, shape: v.shape ? [...v.shape] : [] });
    }
    for (const init of g.initializers.values()) {
      if (init.dtype === "int64" && init.data.length <= 64) this.ints.set(init.name, Array.from(init.data as BigInt64Array, (x) => Number(x)));
      if (init.dtype === "int32" && init.data.length <= 64) this.ints.set(init.name, Array.from(init.data as Int32Array));
    }
    for (const n of g.nodes) this.infer(n);
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  get(name: string): TypeShape {
    const t = this.map.get(name);
    if (!t) throw new Error(`shape inference: no type/shape for ${name}`);
    return t;
  }

  shape(name: string): Shape {
    return this.get(name).shape;
  }

  rank(name: string): number {
    return this.get(name).shape.length;
  }

  dtype(name: string): DType {
    return this.get(name).dtype;
  }

  /** Statically known int64 contents (initializer or Shape output), else null. */
  constInts(name: string): (number | string)[] | null {
    return this.ints.get(name) ?? null;
  }

  /** Record the static contents of an int64 value created later. */
  setInts(name: string, values: (number | string)[]): void {
    this.ints.set(name, values);
  }

  /** Record a value created later (by the gradient pass). */
  set(name: string, dtype: DType, shape: Shape): void {
    this.map.set(name, { dtype, shape });
  }

  /** Infer one (already appended) node's outputs. */
  infer(n: GraphNode): void {
    const inferred = this.rule(n);
    n.outputs.forEach((o, k) => {
      const got = inferred[k];
      const declared = this.g.values.get(o);
      if (!got) {
        if (declared?.shape) this.map.set(o, { dtype: declared.dtype, shape: [...declared.shape] });
        else throw new Error(`shape inference: cannot infer output ${k} of ${n.op} (${n.name})`);
        return;
      }
      if (declared?.shape) {
        if (declared.shape.length !== got.shape.length) throw new Error(`shape inference: ${n.op} output ${o} declared [${declared.shape.join(", ")}] but inferred [${got.shape.join(", ")}]`);
        // merge: keep numbers from either side, declared names over unknowns
        got.shape = got.shape.map((d, i) => {
          const dd = declared.shape![i]!;
          if (typeof d === "number" && typeof dd === "number" && d !== dd) throw new Error(`shape inference: ${n.op} output ${o} declared [${declared.shape!.join(", ")}] but inferred [${got.shape.join(", ")}]`);
          if (typeof d === "number") return d;
          if (typeof dd === "number") return dd;
          return d.startsWith("?") ? dd : d;
        });
      }
      this.map.set(o, got);
    });
  }

  private attrInt(n: GraphNode, name: string, dflt: number): number {
    const a = n.attrs[name];
    return a && "int" in a ? a.int : dflt;
  }

  private attrInts(n: GraphNode, name: string): number[] | null {
    const a = n.attrs[name];
    return a && "ints" in a ? a.ints : null;
  }

  private in(n: GraphNode, k: number): TypeShape | null {
    const name = n.inputs[k];
    if (name === undefined || name === "") return null;
    return this.get(name);
  }

  private constAt(n: GraphNode, k: number): number[] | null {
    const name = n.inputs[k];
    if (name === undefined || name === "") return null;
    const c = this.ints.get(name);
    if (!c || c.some((x) => typeof x !== "number")) return null;
    return c as number[];
  }

  private rule(n: GraphNode): (TypeShape | null)[] {
    const x = this.in(n, 0);
    const op = n.op;
    if (UNARY_SAME.has(op)) return [{ dtype: BOOL_OUT.has(op) ? "bool" : x!.dtype, shape: [...x!.shape] }];
    if (op === "Cast") {
      const to = ONNX_TYPE[this.attrInt(n, "to", 1)];
      if (!to) throw new Error(`shape inference: Cast to unsupported type ${this.attrInt(n, "to", 1)}`);
      return [{ dtype: to, shape: [...x!.shape] }];
    }
    if (BROADCAST.has(op)) {
      const ins = n.inputs.filter((i) => i !== "").map((i) => this.get(i));
      const shape = broadcastShapes(ins.map((t) => t.shape));
      const dtype: DType = BOOL_OUT.has(op) ? "bool" : op === "Where" ? ins[1]!.dtype : ins[0]!.dtype;
      return [{ dtype, shape }];
    }
    switch (op) {
      case "MatMul": {
        const a = x!.shape;
        const b = this.in(n, 1)!.shape;
        if (a.length < 1 || b.length < 1) throw new Error("shape inference: MatMul of a scalar");
        const a2 = a.length === 1 ? [1, a[0]!] : a;
        const b2 = b.length === 1 ? [b[0]!, 1] : b;
        const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]);
        const out: Shape = [...batch];
        if (a.length > 1) out.push(a2.at(-2)!);
        if (b.length > 1) out.push(b2.at(-1)!);
        return [{ dtype: x!.dtype, shape: out }];
      }
      case "Gemm": {
        const a = x!.shape;
        const b = this.in(n, 1)!.shape;
        const m = this.attrInt(n, "transA", 0) ? a[1]! : a[0]!;
        const nn = this.attrInt(n, "transB", 0) ? b[0]! : b[1]!;
        return [{ dtype: x!.dtype, shape: [m, nn] }];
      }
      case "Transpose": {
        const perm = this.attrInts(n, "perm") ?? x!.shape.map((_, i) => x!.shape.length - 1 - i);
        return [{ dtype: x!.dtype, shape: perm.map((p) => x!.shape[p]!) }];
      }
      case "Reshape": {
        const target = this.ints.get(n.inputs[1]!);
        if (!target) {
          const len = this.in(n, 1)!.shape[0];
          if (typeof len !== "number") throw new Error("shape inference: Reshape to a shape of unknown rank");
          return [{ dtype: x!.dtype, shape: Array.from({ length: len }, unknown) }];
        }
        const allowzero = this.attrInt(n, "allowzero", 0);
        const out: Shape = target.map((d, i) => (d === 0 && !allowzero ? x!.shape[i]! : d));
        const neg = out.indexOf(-1);
        if (neg >= 0) {
          const total = x!.shape.every((d) => typeof d === "number") ? (x!.shape as number[]).reduce((a, b) => a * b, 1) : null;
          const rest = out.every((d, i) => i === neg || typeof d === "number") ? (out.filter((_, i) => i !== neg) as number[]).reduce((a, b) => a * b, 1) : null;
          if (total !== null && rest !== null) out[neg] = total / rest;
          else {
            // the same symbolic dims on both sides cancel (e.g. [batch, 4, 2] -> [-1, 8] gives batch)
            const xs = [...x!.shape];
            const others = out.filter((_, i) => i !== neg);
            let num = 1;
            const syms: string[] = [];
            for (const d of xs) typeof d === "number" ? (num *= d) : syms.push(d);
            let den = 1;
            let ok = true;
            for (const d of others) {
              if (typeof d === "number") den *= d;
              else {
                const k = syms.indexOf(d);
                if (k < 0) ok = false;
                else syms.splice(k, 1);
              }
            }
            out[neg] = ok && syms.length === 1 && num === den ? syms[0]! : ok && syms.length === 0 ? num / den : unknown();
          }
        }
        return [{ dtype: x!.dtype, shape: out }];
      }
      case "Flatten": {
        const axis = normAxis(this.attrInt(n, "axis", 1), x!.shape.length);
        const prod = (ds: Shape) => (ds.every((d) => typeof d === "number") ? (ds as number[]).reduce((a, b) => a * b, 1) : ds.length === 1 ? ds[0]! : unknown());
        return [{ dtype: x!.dtype, shape: [prod(x!.shape.slice(0, axis)), prod(x!.shape.slice(axis))] }];
      }
      case "Squeeze": {
        const axes = this.constAt(n, 1);
        const r = x!.shape.length;
        const drop = axes ? axes.map((a) => normAxis(a, r)) : x!.shape.flatMap((d, i) => (d === 1 ? [i] : []));
        return [{ dtype: x!.dtype, shape: x!.shape.filter((_, i) => !drop.includes(i)) }];
      }
      case "Unsqueeze": {
        const axes = this.constAt(n, 1);
        if (!axes) throw new Error("shape inference: Unsqueeze axes must be a constant");
        const r = x!.shape.length + axes.length;
        const ax = axes.map((a) => normAxis(a, r));
        const out: Shape = [];
        let k = 0;
        for (let i = 0; i < r; i++) out.push(ax.includes(i) ? 1 : x!.shape[k++]!);
        return [{ dtype: x!.dtype, shape: out }];
      }
      case "Shape": {
        this.ints.set(n.outputs[0]!, [...x!.shape]);
        return [{ dtype: "int64", shape: [x!.shape.length] }];
      }
      case "Size":
        return [{ dtype: "int64", shape: [] }];
      case "ArgMax":
      case "ArgMin": {
        const r = x!.shape.length;
        const axis = normAxis(this.attrInt(n, "axis", 0), r);
        const keep = this.attrInt(n, "keepdims", 1);
        return [{ dtype: "int64", shape: keep ? x!.shape.map((d, i) => (i === axis ? 1 : d)) : x!.shape.filter((_, i) => i !== axis) }];
      }
      case "Concat": {
        const ins = n.inputs.map((i) => this.get(i));
        const r = ins[0]!.shape.length;
        const axis = normAxis(this.attrInt(n, "axis", 0), r);
        const dims = ins.map((t) => t.shape[axis]!);
        const sum = dims.every((d) => typeof d === "number") ? (dims as number[]).reduce((a, b) => a + b, 0) : unknown();
        return [{ dtype: x!.dtype, shape: ins[0]!.shape.map((d, i) => (i === axis ? sum : d)) }];
      }
      case "Split": {
        const r = x!.shape.length;
        const axis = normAxis(this.attrInt(n, "axis", 0), r);
        const split = this.constAt(n, 1);
        const dim = x!.shape[axis]!;
        const k = n.outputs.length;
        const sizes: (number | string)[] = split ?? (typeof dim === "number" ? Array.from({ length: k }, () => dim / k) : Array.from({ length: k }, unknown));
        return sizes.map((s) => ({ dtype: x!.dtype, shape: x!.shape.map((d, i) => (i === axis ? s : d)) }));
      }
      case "Slice": {
        const r = x!.shape.length;
        const starts = this.constAt(n, 1);
        const ends = this.constAt(n, 2);
        const axes = this.constAt(n, 3) ?? starts?.map((_, i) => i) ?? null;
        const steps = this.constAt(n, 4);
        if (!starts || !ends || !axes) return [{ dtype: x!.dtype, shape: x!.shape.map(unknown) }];
        const out = [...x!.shape];
        axes.forEach((a0, j) => {
          const a = normAxis(a0, r);
          const dim = x!.shape[a]!;
          const step = steps?.[j] ?? 1;
          if (typeof dim !== "number") {
            out[a] = starts[j] === 0 && ends[j]! >= 2 ** 31 - 1 && step === 1 ? dim : unknown();
            return;
          }
          const b = sliceBounds(starts[j]!, ends[j]!, step, dim);
          out[a] = b.count;
        });
        return [{ dtype: x!.dtype, shape: out }];
      }
      case "Pad": {
        const pads = this.constAt(n, 1);
        const r = x!.shape.length;
        if (!pads) return [{ dtype: x!.dtype, shape: x!.shape.map(unknown) }];
        return [{ dtype: x!.dtype, shape: x!.shape.map((d, i) => (typeof d === "number" ? d + pads[i]! + pads[i + r]! : pads[i] === 0 && pads[i + r] === 0 ? d : unknown())) }];
      }
      case "Gather": {
        const idx = this.in(n, 1)!.shape;
        const r = x!.shape.length;
        const axis = normAxis(this.attrInt(n, "axis", 0), r);
        return [{ dtype: x!.dtype, shape: [...x!.shape.slice(0, axis), ...idx, ...x!.shape.slice(axis + 1)] }];
      }
      case "GatherElements":
        return [{ dtype: x!.dtype, shape: [...this.in(n, 1)!.shape] }];
      case "ScatterElements":
      case "ScatterND":
        return [{ dtype: x!.dtype, shape: [...x!.shape] }];
      case "Expand": {
        const target = this.ints.get(n.inputs[1]!);
        if (!target) {
          const len = this.in(n, 1)!.shape[0];
          if (typeof len !== "number") throw new Error("shape inference: Expand to a shape of unknown rank");
          return [{ dtype: x!.dtype, shape: broadcastShapes([x!.shape, Array.from({ length: len }, unknown)]) }];
        }
        return [{ dtype: x!.dtype, shape: broadcastShapes([x!.shape, target]) }];
      }
      case "ConstantOfShape": {
        const target = this.ints.get(n.inputs[0]!);
        const len = x!.shape[0];
        return [{ dtype: "float32", shape: target ? [...target] : Array.from({ length: typeof len === "number" ? len : 0 }, unknown) }];
      }
      case "LayerNormalization": {
        const r = x!.shape.length;
        const axis = normAxis(this.attrInt(n, "axis", -1), r);
        const stat: Shape = x!.shape.map((d, i) => (i >= axis ? 1 : d));
        return [{ dtype: x!.dtype, shape: [...x!.shape] }, { dtype: "float32", shape: stat }, { dtype: "float32", shape: [...stat] }];
      }
      default:
        break;
    }
    if (REDUCE.has(op)) {
      const r = x!.shape.length;
      const axesIn = op === "ReduceSum" ? this.constAt(n, 1) : this.attrInts(n, "axes");
      if (op === "ReduceSum" && n.inputs[1] && n.inputs[1] !== "" && !axesIn) throw new Error("shape inference: ReduceSum axes must be a constant");
      const noop = this.attrInt(n, "noop_with_empty_axes", 0);
      const axes = axesIn && axesIn.length ? axesIn.map((a) => normAxis(a, r)) : noop ? [] : x!.shape.map((_, i) => i);
      const keep = this.attrInt(n, "keepdims", 1);
      const shape = keep ? x!.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x!.shape.filter((_, i) => !axes.includes(i));
      return [{ dtype: x!.dtype, shape }];
    }
    return n.outputs.map(() => null);
  }
}

/** Normalised Slice bounds along one axis of numeric length `dim` (ONNX clamping rules; step 1 or -1 and others). */
export function sliceBounds(start: number, end: number, step: number, dim: number): { start: number; end: number; count: number } {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, 0), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  const count = Math.max(0, Math.ceil((e - s) / step));
  return { start: s, end: e, count };
}
