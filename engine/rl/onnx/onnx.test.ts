import { afterAll, describe, expect, it } from "vitest";
import { Prng } from "../env/prng";
import { type AttentionSpec, attentionParamCount, emitAttentionEncoder } from "./attention";
import { Graph } from "./graph";
import { emitMlp, type MlpSpec, mlpParamCount, MlpForward } from "./mlp";
import { decodeModel, IR_VERSION, OPSET } from "./proto";
import { chooseProvider, cudaUnavailableReason, hasSyncInference, OrtModel } from "./runtime";

const rnd = new Prng(2024);
const randn = (n: number, scale: number) => Float32Array.from({ length: n }, () => rnd.normal() * scale);

// ------------------------------------------------------------------ plain references (deliberately naive)

type Mat = number[][];
const act = (k: string, x: number) => (k === "tanh" ? Math.tanh(x) : k === "relu" ? Math.max(0, x) : x);

function refMlp(sizes: number[], activation: string, outAct: string, p: ArrayLike<number>, x: number[]): number[] {
  let h = x;
  let off = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const nin = sizes[l]!;
    const nout = sizes[l + 1]!;
    const y: number[] = [];
    for (let j = 0; j < nout; j++) {
      let s = p[off + nin * nout + j]!;
      for (let i = 0; i < nin; i++) s += h[i]! * p[off + i * nout + j]!;
      y.push(s);
    }
    off += nin * nout + nout;
    const last = l + 2 === sizes.length;
    if (!last) h = y.map((v) => act(activation, v));
    else if (outAct === "softmax") {
      const m = Math.max(...y);
      const e = y.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      h = e.map((v) => v / s);
    } else h = y.map((v) => act(outAct, v));
  }
  return h;
}

function take(p: ArrayLike<number>, off: { v: number }, rows: number, cols: number): Mat {
  const m: Mat = [];
  for (let i = 0; i < rows; i++) {
    const r: number[] = [];
    for (let j = 0; j < cols; j++) r.push(p[off.v + i * cols + j]!);
    m.push(r);
  }
  off.v += rows * cols;
  return m;
}
const matmul = (a: Mat, b: Mat): Mat => a.map((r) => b[0]!.map((_, j) => r.reduce((s, x, k) => s + x * b[k]![j]!, 0)));
const addRow = (a: Mat, b: number[]): Mat => a.map((r) => r.map((x, j) => x + b[j]!));

/** The encoder written out step by step for one observation; returns the output and the attention maps [h][i][j]. */
function refAttention(s: AttentionSpec, p: ArrayLike<number>, obs: number[]): { out: number[]; attn: number[][][] } {
  const { window: W, features: F, extra: E, dModel: d, heads: H } = s;
  const dh = d / H;
  const off = { v: 0 };
  const Win = take(p, off, F, d);
  const bin = take(p, off, 1, d)[0]!;
  const Wq = take(p, off, d, d);
  const bq = take(p, off, 1, d)[0]!;
  const Wk = take(p, off, d, d);
  const bk = take(p, off, 1, d)[0]!;
  const Wv = take(p, off, d, d);
  const bv = take(p, off, 1, d)[0]!;
  const Wo = take(p, off, d, d);
  const bo = take(p, off, 1, d)[0]!;
  const gamma = take(p, off, 1, d)[0]!;
  const beta = take(p, off, 1, d)[0]!;
  const X: Mat = [];
  for (let t = 0; t < W; t++) X.push(obs.slice(t * F, (t + 1) * F));
  // projection + positional encoding
  const h0 = addRow(matmul(X, Win), bin).map((r, pos) => r.map((x, i) => x + (i % 2 === 0 ? Math.sin(pos / 10000 ** ((2 * Math.floor(i / 2)) / d)) : Math.cos(pos / 10000 ** ((2 * Math.floor(i / 2)) / d)))));
  const Q = addRow(matmul(h0, Wq), bq);
  const K = addRow(matmul(h0, Wk), bk);
  const V = addRow(matmul(h0, Wv), bv);
  const ctx: Mat = Array.from({ length: W }, () => new Array(d).fill(0));
  const attn: number[][][] = [];
  for (let hd = 0; hd < H; hd++) {
    const A: number[][] = [];
    for (let i = 0; i < W; i++) {
      const sc: number[] = [];
      for (let j = 0; j < W; j++) {
        let dot = 0;
        for (let k = 0; k < dh; k++) dot += Q[i]![hd * dh + k]! * K[j]![hd * dh + k]!;
        sc.push(dot / Math.sqrt(dh));
      }
      const m = Math.max(...sc);
      const e = sc.map((v) => Math.exp(v - m));
      const z = e.reduce((a, b) => a + b, 0);
      const a = e.map((v) => v / z);
      A.push(a);
      for (let k = 0; k < dh; k++) ctx[i]![hd * dh + k] = a.reduce((acc, w, j) => acc + w * V[j]![hd * dh + k]!, 0);
    }
    attn.push(A);
  }
  const O = addRow(matmul(ctx, Wo), bo).map((r, i) => r.map((x, j) => x + h0[i]![j]!));
  const N = O.map((r) => {
    const mu = r.reduce((a, b) => a + b, 0) / d;
    const v = r.reduce((a, b) => a + (b - mu) ** 2, 0) / d;
    return r.map((x, j) => ((x - mu) / Math.sqrt(v + 1e-5)) * gamma[j]! + beta[j]!);
  });
  const pooled = N[0]!.map((_, j) => N.reduce((a, r) => a + r[j]!, 0) / W);
  const z = [...pooled, ...obs.slice(W * F, W * F + E)];
  const headP = Array.from({ length: p.length - off.v }, (_, k) => p[off.v + k]!);
  return { out: refMlp([d + E, ...s.head], s.activation, s.outputActivation ?? "none", headP, z), attn };
}

// ------------------------------------------------------------------ tests

const models: OrtModel[] = [];
afterAll(async () => {
  for (const m of models) await m.dispose();
});

describe("ONNX MLP", () => {
  const cases: MlpSpec[] = [
    { sizes: [13, 64, 64, 3], activation: "tanh" },
    { sizes: [7, 32, 16, 5], activation: "relu", outputActivation: "softmax" },
    { sizes: [9, 1], activation: "tanh", outputActivation: "tanh" },
  ];
  for (const spec of cases) {
    it(`ORT output equals the plain-TS reference forward pass to 1e-5: [${spec.sizes.join(", ")}] ${spec.activation}/${spec.outputActivation ?? "none"}`, async () => {
      const params = randn(mlpParamCount(spec.sizes), 0.3);
      const bytes = emitMlp(spec, params).toBytes();
      const m = await OrtModel.create(bytes, spec.sizes[0]!);
      models.push(m);
      const n = 6;
      const x = randn(n * spec.sizes[0]!, 1);
      const out = spec.sizes.at(-1)!;
      const batched = (await m.run(x, n)).out!;
      const sync = hasSyncInference() ? m.runSync(x, n).out! : batched;
      const fast = new MlpForward(spec, params);
      for (let k = 0; k < n; k++) {
        const ref = refMlp(spec.sizes, spec.activation, spec.outputActivation ?? "none", params, Array.from(x.subarray(k * spec.sizes[0]!, (k + 1) * spec.sizes[0]!)));
        const one = await m.runOne(x, k * spec.sizes[0]!);
        const oneSync = hasSyncInference() ? m.runOneSync(x, k * spec.sizes[0]!) : one;
        const ts = fast.forward(x, k * spec.sizes[0]!);
        for (let j = 0; j < out; j++) {
          expect(Math.abs(batched[k * out + j]! - ref[j]!)).toBeLessThanOrEqual(1e-5);
          expect(Math.abs(sync[k * out + j]! - ref[j]!)).toBeLessThanOrEqual(1e-5);
          expect(Math.abs(one[j]! - ref[j]!)).toBeLessThanOrEqual(1e-5);
          expect(Math.abs(oneSync[j]! - ref[j]!)).toBeLessThanOrEqual(1e-5);
          expect(Math.abs(ts[j]! - ref[j]!)).toBeLessThanOrEqual(1e-12);
        }
      }
    });
  }

  it("model bytes round-trip through onnx-proto with the expected graph", () => {
    const spec: MlpSpec = { sizes: [10, 64, 64, 4], activation: "tanh" };
    const params = randn(mlpParamCount(spec.sizes), 0.1);
    const g = emitMlp(spec, params);
    const model = decodeModel(g.toBytes());
    expect(Number(model.irVersion)).toBe(IR_VERSION);
    expect(Number(model.opsetImport![0]!.version)).toBe(OPSET);
    const graph = model.graph!;
    // 3 Gemm + 2 Tanh + Identity
    expect(graph.node!.map((n) => n.opType)).toEqual(["Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Identity"]);
    expect(graph.initializer!.length).toBe(6);
    expect(graph.initializer!.map((t) => t.name)).toEqual(["mlp.W0", "mlp.b0", "mlp.W1", "mlp.b1", "mlp.W2", "mlp.b2"]);
    const w0 = graph.initializer![0]!;
    expect(w0.dims!.map(Number)).toEqual([10, 64]);
    const back = new Float32Array(new Uint8Array(w0.rawData!).buffer);
    expect(Array.from(back)).toEqual(Array.from(params.subarray(0, 640)));
    // every parameter is stored once
    const total = graph.initializer!.reduce((a, t) => a + t.rawData!.length / 4, 0);
    expect(total).toBe(mlpParamCount(spec.sizes));
    expect(graph.input![0]!.type!.tensorType!.shape!.dim![0]!.dimParam).toBe("batch");
  });

  it("rejects a parameter array of the wrong length and reading an undefined value", () => {
    expect(() => emitMlp({ sizes: [3, 4, 2], activation: "tanh" }, new Float32Array(5))).toThrow(/expected 26 values/);
    const g = new Graph("g");
    g.input("x", "float32", [1]);
    expect(() => g.op("Relu", ["y"])).toThrow(/reads y before it is defined/);
    expect(() => g.input("x", "float32", [1])).toThrow(/defined twice/);
  });
});

describe("ONNX attention encoder", () => {
  const spec: AttentionSpec = { window: 6, features: 5, extra: 2, dModel: 8, heads: 2, head: [16, 3], activation: "tanh" };

  it("matches a plain-TS reference implementation (output and attention maps)", async () => {
    const params = randn(attentionParamCount(spec), 0.4);
    const g = emitAttentionEncoder(spec, params, { attentionOutput: true });
    const size = spec.window * spec.features + spec.extra;
    const m = await OrtModel.create(g.toBytes(), size);
    models.push(m);
    expect([...m.outputNames].sort()).toEqual(["attention", "out"]);
    const n = 4;
    const x = randn(n * size, 1);
    const res = await m.run(x, n);
    const W = spec.window;
    const H = spec.heads;
    let worst = 0;
    for (let k = 0; k < n; k++) {
      const ref = refAttention(spec, params, Array.from(x.subarray(k * size, (k + 1) * size)));
      for (let j = 0; j < 3; j++) worst = Math.max(worst, Math.abs(res.out![k * 3 + j]! - ref.out[j]!));
      for (let h = 0; h < H; h++)
        for (let i = 0; i < W; i++)
          for (let j = 0; j < W; j++) {
            const a = res.attention![((k * H + h) * W + i) * W + j]!;
            expect(Math.abs(a - ref.attn[h]![i]![j]!)).toBeLessThanOrEqual(1e-5);
          }
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
    // attention rows are distributions
    for (let r = 0; r < n * H * W; r++) {
      let s = 0;
      for (let j = 0; j < W; j++) s += res.attention![r * W + j]!;
      expect(s).toBeCloseTo(1, 5);
    }
  });

  it("round-trips with the expected ops and parameter count", () => {
    const params = randn(attentionParamCount(spec), 0.1);
    const g = emitAttentionEncoder(spec, params);
    const model = decodeModel(g.toBytes());
    const ops = model.graph!.node!.map((n) => n.opType);
    for (const op of ["Slice", "Reshape", "MatMul", "Softmax", "Transpose", "LayerNormalization", "ReduceMean", "Concat", "Gemm"]) expect(ops).toContain(op);
    const params2 = model.graph!.initializer!.filter((t) => g.initializers.get(t.name!)!.param);
    expect(params2.reduce((a, t) => a + t.rawData!.length / 4, 0)).toBe(attentionParamCount(spec));
    expect(g.nodes.length).toBe(model.graph!.node!.length);
    expect(() => emitAttentionEncoder({ ...spec, heads: 3 }, params)).toThrow(/heads/);
  });
});

describe("execution provider", () => {
  it("chooses automatically and reports it; a GPU asked for but absent falls back to the CPU with a note", async () => {
    const why = await cudaUnavailableReason();
    const auto = await chooseProvider("auto");
    const cuda = await chooseProvider("cuda");
    const cpu = await chooseProvider("cpu");
    expect(cpu).toEqual({ provider: "cpu", requested: "cpu", note: null });
    if (why === null) {
      expect(auto.provider).toBe("cuda");
      expect(cuda.provider).toBe("cuda");
    } else {
      expect(auto.provider).toBe("cpu");
      expect(cuda.provider).toBe("cpu");
      expect(cuda.note).toMatch(/GPU requested but not available, using the CPU/);
    }
    const m = await OrtModel.create(emitMlp({ sizes: [2, 2], activation: "tanh" }, new Float32Array(6)).toBytes(), 2, { device: "cuda" });
    models.push(m);
    expect(m.provider).toBe(why === null ? "cuda" : "cpu");
  });
});
