/**
 * node --import tsx engine/bench/rl-train-graph.ts
 *
 * One PPO minibatch update (forward, loss, backward, global-norm clipping,
 * Adam) of a 2x64 tanh actor + critic on a minibatch of 128, through
 *   - the ONNX training graph (engine/rl/onnx/train: one ORT call per update,
 *     CPU provider, native binding, parameters / moments fed and read back as
 *     flat arrays), float32, with 1 and 2 intra-op threads, and float64;
 *   - the plain-TypeScript path (engine/rl/nn, float64), as engine/rl/algos/ppo.ts runs it.
 * for a CartPole-sized observation (4) and a trading-environment-sized one
 * (window 16 x 10 features + 2 = 162); then, for information, the attention
 * encoder (window 16, 10 features, d 32, 4 heads) as a shared PPO torso.
 * Every figure is measured in this run, on this machine (p50 leads: the mean
 * absorbs other processes on a busy 2-core machine); the last line is JSON.
 * Env: BENCH_TRAIN_BATCH (128), BENCH_TRAIN_UPDATES (400).
 */
import type { AttentionSpec } from "../rl/onnx/attention";
import { rng } from "../rl/onnx/train/gradcheck";
import { ppoLossGraph, type PpoModel } from "../rl/onnx/train/losses";
import { attentionNet, mlpNet, netParamCount } from "../rl/onnx/train/nets";
import { PlainPpo, type PpoBatch } from "../rl/onnx/train/reference";
import { TrainStep } from "../rl/onnx/train/step";

const BATCH = Number(process.env.BENCH_TRAIN_BATCH ?? 128);
const UPDATES = Number(process.env.BENCH_TRAIN_UPDATES ?? 400);
const A = 3;
const HIDDEN = [64, 64];

const randn = (r: () => number) => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());

function makeBatches(O: number, count: number): PpoBatch[] {
  const r = rng(O);
  return Array.from({ length: count }, () => ({
    obs: Float64Array.from({ length: BATCH * O }, () => randn(r)),
    actions: Int32Array.from({ length: BATCH }, () => Math.floor(r() * A)),
    oldLogp: Float64Array.from({ length: BATCH }, () => Math.log(1 / A) + 0.1 * randn(r)),
    advantages: Float64Array.from({ length: BATCH }, () => randn(r)),
    returns: Float64Array.from({ length: BATCH }, () => randn(r)),
    oldValues: Float64Array.from({ length: BATCH }, () => randn(r)),
  }));
}

type Feeds = Record<string, Float32Array | Float64Array | Int32Array>;
function toFeeds(b: PpoBatch, f32: boolean): Feeds {
  const c = (x: Float64Array) => (f32 ? Float32Array.from(x) : x);
  return { obs: c(b.obs), actions: b.actions, old_logp: c(b.oldLogp), advantages: c(b.advantages), returns: c(b.returns), old_values: c(b.oldValues) };
}

interface Timing {
  meanUs: number;
  p50Us: number;
}

function time(fn: (k: number) => void, n: number): Timing {
  for (let k = 0; k < Math.min(50, n); k++) fn(k); // warm-up
  const t = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    fn(k);
    t[k] = (performance.now() - t0) * 1000;
  }
  const sorted = Float64Array.from(t).sort();
  return { meanUs: t.reduce((a, b) => a + b, 0) / n, p50Us: sorted[Math.floor(n / 2)]! };
}

function initParams(P: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: P }, () => randn(r) * 0.1);
}

async function onnxTiming(model: PpoModel, batches: PpoBatch[], precision: "float32" | "float64", threads: number): Promise<Timing & { nodes: number }> {
  const lg = ppoLossGraph(model, { numActions: A });
  const P = lg.flat.total;
  const ts = await TrainStep.create(lg, { precision, threads, params: initParams(P, 1), optimizer: { lr: 2.5e-4, maxGradNorm: 0.5 } });
  const feeds = batches.map((b) => toFeeds(b, precision === "float32"));
  const t = time((k) => ts.update(feeds[k % feeds.length]!), UPDATES);
  const nodes = lg.g.nodes.length;
  await ts.dispose();
  return { ...t, nodes };
}

function plainTiming(O: number, batches: PpoBatch[]): Timing {
  const ref = new PlainPpo({ obsSize: O, hidden: HIDDEN, activation: "tanh", numActions: A, maxBatch: BATCH, lr: 2.5e-4, maxGradNorm: 0.5 });
  ref.params.set(initParams(ref.params.length, 1));
  return time((k) => ref.update(batches[k % batches.length]!, BATCH), UPDATES);
}

const f = (x: number) => x.toFixed(1);
const results: Record<string, unknown>[] = [];
console.log(`PPO minibatch update (forward + loss + backward + clip + Adam), batch ${BATCH}, actor [O, ${HIDDEN.join(", ")}, ${A}] + critic [O, ${HIDDEN.join(", ")}, 1] tanh; ${UPDATES} timed updates after 50 warm-up; p50 (mean) per update`);
for (const O of [4, 162]) {
  const model: PpoModel = { actor: mlpNet({ sizes: [O, ...HIDDEN, A], activation: "tanh" }), critic: mlpNet({ sizes: [O, ...HIDDEN, 1], activation: "tanh" }) };
  const P = netParamCount(model.actor) + netParamCount(model.critic);
  const batches = makeBatches(O, 16);
  // the plain path first: after ORT runs, the garbage of their output arrays slows it
  const ts = plainTiming(O, batches);
  const o32 = await onnxTiming(model, batches, "float32", 1);
  const o32t2 = await onnxTiming(model, batches, "float32", 2);
  const o64 = await onnxTiming(model, batches, "float64", 1);
  console.log(`obs ${O} (${P.toLocaleString()} parameters; training graph ${o32.nodes} nodes):`);
  console.log(`   ONNX training graph, ORT cpu, float32, 1 thread:   ${f(o32.p50Us)} us (${f(o32.meanUs)})`);
  console.log(`   ONNX training graph, ORT cpu, float32, 2 threads:  ${f(o32t2.p50Us)} us (${f(o32t2.meanUs)})`);
  console.log(`   ONNX training graph, ORT cpu, float64, 1 thread:   ${f(o64.p50Us)} us (${f(o64.meanUs)})`);
  console.log(`   plain TypeScript (engine/rl/nn, float64):          ${f(ts.p50Us)} us (${f(ts.meanUs)})   plain / ONNX f32 1 thread (p50): ${(ts.p50Us / o32.p50Us).toFixed(2)}x`);
  results.push({ obs: O, params: P, graphNodes: o32.nodes, onnxF32P50Us: Number(f(o32.p50Us)), onnxF32T2P50Us: Number(f(o32t2.p50Us)), onnxF64P50Us: Number(f(o64.p50Us)), plainTsP50Us: Number(f(ts.p50Us)), onnxF32MeanUs: Number(f(o32.meanUs)), plainTsMeanUs: Number(f(ts.meanUs)) });
}

// attention encoder as a shared torso (information)
const spec: AttentionSpec = { window: 16, features: 10, extra: 2, dModel: 32, heads: 4, head: [64, A + 1], activation: "tanh" };
const attnModel: PpoModel = { shared: attentionNet(spec) };
const attnO = spec.window * spec.features + spec.extra;
const attnBatches = makeBatches(attnO, 8);
const at1 = await onnxTiming(attnModel, attnBatches, "float32", 1);
const at2 = await onnxTiming(attnModel, attnBatches, "float32", 2);
console.log(`attention encoder torso (window 16, 10 features, d 32, 4 heads, head [64, ${A + 1}]; ${netParamCount(attnModel.shared).toLocaleString()} parameters; graph ${at1.nodes} nodes), float32: 1 thread ${f(at1.p50Us)} us (${f(at1.meanUs)}), 2 threads ${f(at2.p50Us)} us (${f(at2.meanUs)})`);
console.log(JSON.stringify({ batch: BATCH, updates: UPDATES, mlp: results, attention: { params: netParamCount(attnModel.shared), onnxF32P50Us: Number(f(at1.p50Us)), onnxF32T2P50Us: Number(f(at2.p50Us)) } }));
