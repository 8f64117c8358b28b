/**
 * Encoding a Graph as float32 (the graph's own toBytes) or as float64.
 *
 * The graph builder (../graph.ts) only knows float32; the gradient checks want
 * DOUBLE graphs (ORT's CPU kernels cover double for every op used here, see
 * gradcheck tests), so `toBytes(g, "float64")` re-types the encoded model: every
 * float32 graph input, output and initializer becomes DOUBLE (initializer data
 * widened exactly), and every `Cast to=FLOAT` becomes `Cast to=DOUBLE`. Nothing
 * else in an emitted graph names a float type (ops are type-polymorphic), so
 * the double model computes the same function in double precision. (Float
 * constants are stored as float32 by the builder, so in a double model they
 * are the float32-rounded values, widened exactly.)
 *
 * Values marked with markDouble() are DOUBLE in both encodings: scalar inputs,
 * outputs and constants whose arithmetic should not be rounded to float32 (the
 * optimiser's scalar coefficients, e.g. 1 - beta2 and the bias corrections,
 * which torch also computes in double on the host). The graph must Cast them
 * (Cast to=FLOAT) before they meet float tensors.
 */
import type { Graph } from "../graph";
import { decodeModel, onnx } from "../proto";

export type Precision = "float32" | "float64";

const doubles = new WeakMap<Graph, Set<string>>();

/** Keep these inputs / outputs / float initializers DOUBLE in a float32 encoding too. */
export function markDouble(g: Graph, ...names: string[]): void {
  let set = doubles.get(g);
  if (!set) doubles.set(g, (set = new Set()));
  for (const n of names) set.add(n);
}

/** The names marked with markDouble(). */
export function doubleValues(g: Graph): ReadonlySet<string> {
  return doubles.get(g) ?? new Set();
}

const FLOAT = 1;
const DOUBLE = 11;

export function toBytes(g: Graph, precision: Precision = "float32", opts: { opset?: number; docString?: string } = {}): Uint8Array {
  const bytes = g.toBytes(opts);
  const keep = doubleValues(g);
  if (precision === "float32" && keep.size === 0) return bytes;
  const widen = (name: string) => precision === "float64" || keep.has(name);
  const model = decodeModel(bytes);
  const graph = model.graph!;
  for (const vi of [...(graph.input ?? []), ...(graph.output ?? [])]) {
    const tt = vi.type?.tensorType;
    if (tt && tt.elemType === FLOAT && widen(vi.name!)) tt.elemType = DOUBLE;
  }
  for (const t of graph.initializer ?? []) {
    if (t.dataType !== FLOAT || !widen(t.name!)) continue;
    const raw = t.rawData!;
    const f32 = new Float32Array(raw.byteLength / 4);
    new Uint8Array(f32.buffer).set(raw);
    t.dataType = DOUBLE;
    t.rawData = new Uint8Array(Float64Array.from(f32).buffer);
  }
  for (const n of graph.node ?? []) {
    if (n.opType !== "Cast" || precision !== "float64") continue;
    for (const a of n.attribute ?? []) if (a.name === "to" && Number(a.i) === FLOAT) a.i = DOUBLE;
  }
  return onnx.ModelProto.encode(model).finish();
}
