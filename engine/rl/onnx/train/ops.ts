/**
 * Thin, type-correct helpers over Graph for the loss and optimiser graphs
 * (Graph.op types a node's output like its first input, which is wrong for
 * comparisons, Cast, Size and Where; these set the element type explicitly).
 * Shapes are left to ./shapes.ts inference unless given.
 */
import { attr, type DType, type Graph, type Shape } from "../graph";

export class Ops {
  constructor(readonly g: Graph) {}

  private one(op: string, inputs: string[], attrs: Record<string, ReturnType<typeof attr.int>> = {}, dtype: DType = "float32", shape: Shape | null = null, name?: string): string {
    return this.g.node(op, inputs, [{ name, dtype, shape }], attrs)[0]!;
  }

  scalar(v: number): string {
    return this.g.scalar(v);
  }
  ints(v: number[]): string {
    return this.g.int64s(this.g.fresh("ints"), v);
  }
  add(a: string, b: string): string {
    return this.one("Add", [a, b]);
  }
  sub(a: string, b: string): string {
    return this.one("Sub", [a, b]);
  }
  mul(a: string, b: string): string {
    return this.one("Mul", [a, b]);
  }
  div(a: string, b: string): string {
    return this.one("Div", [a, b]);
  }
  neg(a: string): string {
    return this.one("Neg", [a]);
  }
  exp(a: string): string {
    return this.one("Exp", [a]);
  }
  log(a: string): string {
    return this.one("Log", [a]);
  }
  abs(a: string): string {
    return this.one("Abs", [a]);
  }
  sqrt(a: string): string {
    return this.one("Sqrt", [a]);
  }
  pow(a: string, b: string): string {
    return this.one("Pow", [a, b]);
  }
  max(a: string, b: string): string {
    return this.one("Max", [a, b]);
  }
  min(a: string, b: string): string {
    return this.one("Min", [a, b]);
  }
  clip(x: string, lo: string, hi: string): string {
    return this.one("Clip", [x, lo, hi]);
  }
  where(cond: string, a: string, b: string): string {
    return this.one("Where", [cond, a, b]);
  }
  cmp(op: "Less" | "Greater" | "Equal" | "LessOrEqual" | "GreaterOrEqual", a: string, b: string): string {
    return this.one(op, [a, b], {}, "bool");
  }
  /** Cast to float (DOUBLE in a float64 encoding, see ./encode.ts). */
  castFloat(a: string): string {
    return this.one("Cast", [a], { to: attr.int(1) });
  }
  /** Number of elements, as a float scalar. */
  count(a: string): string {
    return this.castFloat(this.one("Size", [a], {}, "int64"));
  }
  /** Mean over axes (all when omitted), keepdims 0 unless asked. */
  mean(x: string, axes?: number[], keepdims = false): string {
    const attrs: Record<string, ReturnType<typeof attr.int>> = { keepdims: attr.int(keepdims ? 1 : 0) };
    if (axes) attrs.axes = attr.ints(axes);
    return this.one("ReduceMean", [x], attrs);
  }
  sum(x: string, axes?: number[], keepdims = false): string {
    return this.one("ReduceSum", axes ? [x, this.ints(axes)] : [x], { keepdims: attr.int(keepdims ? 1 : 0) });
  }
  sumSquares(x: string): string {
    return this.one("ReduceSumSquare", [x], { keepdims: attr.int(0) });
  }
  unsqueeze(x: string, axes: number[]): string {
    return this.g.node("Unsqueeze", [x, this.ints(axes)], [{ dtype: this.g.value(x).dtype }])[0]!;
  }
  squeeze(x: string, axes: number[]): string {
    return this.g.node("Squeeze", [x, this.ints(axes)], [{ dtype: this.g.value(x).dtype }])[0]!;
  }
  slice(x: string, starts: number[], ends: number[], axes: number[]): string {
    return this.g.slice(x, starts, ends, axes);
  }
  logSoftmax(x: string, axis = -1): string {
    return this.one("LogSoftmax", [x], { axis: attr.int(axis) });
  }
  gatherElements(x: string, idx: string, axis: number): string {
    return this.one("GatherElements", [x, idx], { axis: attr.int(axis) });
  }
  /** A named Identity (for graph outputs). */
  named(x: string, name: string, shape: Shape | null = null): string {
    return this.one("Identity", [x], {}, "float32", shape, name);
  }
}
