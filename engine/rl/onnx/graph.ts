/**
 * A small ONNX graph builder. A Graph holds typed values (graph inputs,
 * initializers, node outputs: each with an element type and a shape whose
 * dimensions are numbers or symbolic names), and nodes in topological order:
 * a node can only consume values that already exist, so the node list is a
 * valid evaluation order by construction. That is also what a reverse-mode
 * differentiation pass needs: walk `nodes` backwards, look up each input's
 * type and shape in `values`, and append the gradient nodes to the same
 * graph (parameters are the float initializers listed in `params`).
 *
 * toBytes() encodes an ONNX ModelProto (IR 8, opset 17 by default) with onnx-proto.
 */
import { AttrType, IR_VERSION, onnx, OPSET, TensorDataType } from "./proto";

export type DType = "float32" | "int64" | "int32" | "bool";
export type Dim = number | string;
export type Shape = Dim[];

export interface ValueInfo {
  name: string;
  dtype: DType;
  /** null when unknown. */
  shape: Shape | null;
  /** What produced it. */
  kind: "input" | "initializer" | "node";
}

export type AttrValue = { int: number } | { float: number } | { ints: number[] } | { floats: number[] } | { string: string };

export interface GraphNode {
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface Initializer {
  name: string;
  dtype: DType;
  dims: number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
  /** A trainable parameter (float weights), as opposed to a constant (shapes, positional encodings). */
  param: boolean;
}

export const attr = {
  int: (v: number): AttrValue => ({ int: v }),
  float: (v: number): AttrValue => ({ float: v }),
  ints: (v: number[]): AttrValue => ({ ints: v }),
  floats: (v: number[]): AttrValue => ({ floats: v }),
  string: (v: string): AttrValue => ({ string: v }),
};

const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

export class Graph {
  readonly name: string;
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly nodes: GraphNode[] = [];
  readonly initializers = new Map<string, Initializer>();
  readonly values = new Map<string, ValueInfo>();
  private counter = 0;

  constructor(name = "graph") {
    this.name = name;
  }

  /** A fresh value name with the given prefix. */
  fresh(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`;
    while (this.values.has(n));
    return n;
  }

  private define(v: ValueInfo): string {
    if (this.values.has(v.name)) throw new Error(`graph ${this.name}: value ${v.name} is defined twice`);
    this.values.set(v.name, v);
    return v.name;
  }

  value(name: string): ValueInfo {
    const v = this.values.get(name);
    if (!v) throw new Error(`graph ${this.name}: unknown value ${name}`);
    return v;
  }

  shapeOf(name: string): Shape | null {
    return this.value(name).shape;
  }

  input(name: string, dtype: DType, shape: Shape): string {
    const v: ValueInfo = { name, dtype, shape, kind: "input" };
    this.inputs.push(v);
    return this.define(v);
  }

  /** A float initializer; `param` marks trainable weights (default true). */
  floats(name: string, data: ArrayLike<number>, dims: number[], param = true): string {
    if (data.length !== size(dims)) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims.join(", ")}]`);
    const arr = data instanceof Float32Array ? new Float32Array(data) : Float32Array.from(data);
    this.initializers.set(name, { name, dtype: "float32", dims, data: arr, param });
    return this.define({ name, dtype: "float32", shape: dims, kind: "initializer" });
  }

  /** An int64 constant initializer (shapes, axes, slice bounds). */
  int64s(name: string, data: ArrayLike<number>, dims: number[] = [data.length]): string {
    const arr = BigInt64Array.from(Array.from(data, (x) => BigInt(x)));
    this.initializers.set(name, { name, dtype: "int64", dims, data: arr, param: false });
    return this.define({ name, dtype: "int64", shape: dims, kind: "initializer" });
  }

  /** A float scalar constant. */
  scalar(value: number, prefix = "const"): string {
    return this.floats(this.fresh(prefix), [value], [], false);
  }

  /**
   * Append a node. Its inputs must exist already (topological order); its
   * outputs get the given names (or fresh ones) and the given types/shapes.
   */
  node(op: string, inputs: string[], outputs: { name?: string; dtype?: DType; shape?: Shape | null }[] | number = 1, attrs: Record<string, AttrValue> = {}, domain = ""): string[] {
    for (const i of inputs) if (i !== "" && !this.values.has(i)) throw new Error(`graph ${this.name}: node ${op} reads ${i} before it is defined`);
    const outs = typeof outputs === "number" ? Array.from({ length: outputs }, () => ({})) : outputs;
    const firstType = inputs.length && inputs[0] !== "" ? this.value(inputs[0]!).dtype : "float32";
    const names = outs.map((o: { name?: string; dtype?: DType; shape?: Shape | null }) => this.define({ name: o.name ?? this.fresh(op.toLowerCase()), dtype: o.dtype ?? firstType, shape: o.shape ?? null, kind: "node" }));
    this.nodes.push({ name: this.fresh(`n_${op}`), op, domain, inputs, outputs: names, attrs });
    return names;
  }

  /** Single-output shorthand. */
  op(op: string, inputs: string[], shape: Shape | null = null, attrs: Record<string, AttrValue> = {}, name?: string): string {
    return this.node(op, inputs, [{ name, shape }], attrs)[0]!;
  }

  /** Declare a graph output (an existing value). */
  output(name: string, shape?: Shape): void {
    const v = this.value(name);
    this.outputs.push({ ...v, shape: shape ?? v.shape });
  }

  /** Trainable parameters in definition order. */
  get params(): Initializer[] {
    return [...this.initializers.values()].filter((i) => i.param);
  }

  /** Encode as an ONNX ModelProto. */
  toBytes(opts: { opset?: number; producer?: string; docString?: string } = {}): Uint8Array {
    for (const o of this.outputs) if (!this.values.has(o.name)) throw new Error(`graph ${this.name}: output ${o.name} undefined`);
    const valueInfo = (v: ValueInfo) => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: TensorDataType[v.dtype],
          ...(v.shape ? { shape: { dim: v.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } : {}),
        },
      },
    });
    const attrProto = (name: string, a: AttrValue) => {
      if ("int" in a) return { name, type: AttrType.INT, i: a.int };
      if ("float" in a) return { name, type: AttrType.FLOAT, f: a.float };
      if ("ints" in a) return { name, type: AttrType.INTS, ints: a.ints };
      if ("floats" in a) return { name, type: AttrType.FLOATS, floats: a.floats };
      return { name, type: AttrType.STRING, s: new TextEncoder().encode(a.string) };
    };
    const tensor = (t: Initializer) => {
      const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
      return { name: t.name, dims: t.dims, dataType: TensorDataType[t.dtype], rawData: bytes };
    };
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: opts.producer ?? "tradeforge",
      producerVersion: "1",
      docString: opts.docString ?? "",
      opsetImport: [{ domain: "", version: opts.opset ?? OPSET }],
      graph: {
        name: this.name,
        node: this.nodes.map((n) => ({ name: n.name, opType: n.op, domain: n.domain, input: n.inputs, output: n.outputs, attribute: Object.entries(n.attrs).map(([k, v]) => attrProto(k, v)) })),
        initializer: [...this.initializers.values()].map(tensor),
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  // ------------------------------------------------------------ op helpers (shape-tracking)

  matmul(a: string, b: string, shape: Shape | null = null): string {
    return this.op("MatMul", [a, b], shape);
  }
  add(a: string, b: string, shape: Shape | null = null): string {
    return this.op("Add", [a, b], shape ?? this.shapeOf(a));
  }
  mul(a: string, b: string, shape: Shape | null = null): string {
    return this.op("Mul", [a, b], shape ?? this.shapeOf(a));
  }
  /** y = x W + b with W [in, out], b [out] (Gemm, 2-D x). */
  gemm(x: string, w: string, b: string, outShape: Shape): string {
    return this.op("Gemm", [x, w, b], outShape);
  }
  activation(kind: "tanh" | "relu" | "none" | "sigmoid", x: string): string {
    if (kind === "none") return x;
    return this.op(kind === "tanh" ? "Tanh" : kind === "relu" ? "Relu" : "Sigmoid", [x], this.shapeOf(x));
  }
  reshape(x: string, shape: number[], outShape: Shape | null = null): string {
    return this.op("Reshape", [x, this.int64s(this.fresh("shape"), shape)], outShape);
  }
  transpose(x: string, perm: number[], outShape: Shape | null = null): string {
    return this.op("Transpose", [x], outShape, { perm: attr.ints(perm) });
  }
  softmax(x: string, axis = -1): string {
    return this.op("Softmax", [x], this.shapeOf(x), { axis: attr.int(axis) });
  }
  /** x[..., starts:ends] along the given axes. */
  slice(x: string, starts: number[], ends: number[], axes: number[], outShape: Shape | null = null): string {
    return this.op("Slice", [x, this.int64s(this.fresh("starts"), starts), this.int64s(this.fresh("ends"), ends), this.int64s(this.fresh("axes"), axes)], outShape);
  }
  concat(xs: string[], axis: number, outShape: Shape | null = null): string {
    return this.op("Concat", xs, outShape, { axis: attr.int(axis) });
  }
  layerNorm(x: string, gamma: string, beta: string, epsilon = 1e-5): string {
    return this.op("LayerNormalization", [x, gamma, beta], this.shapeOf(x), { axis: attr.int(-1), epsilon: attr.float(epsilon) });
  }
  /** Mean over axes (opset 17: axes as an attribute). */
  reduceMean(x: string, axes: number[], keepdims: boolean, outShape: Shape | null = null): string {
    return this.op("ReduceMean", [x], outShape, { axes: attr.ints(axes), keepdims: attr.int(keepdims ? 1 : 0) });
  }
}
