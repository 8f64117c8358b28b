/**
 * node --import tsx engine/bench/rl-env.ts   (part of `npm run bench:rl`)
 *
 * 1. the raw vectorised trading environment (fills, costs, accounting,
 *    rewards, observations, auto-reset), random actions   target >= 5M steps/s
 *    anchor: a bare loop over the same arrays (copy the same observation
 *    windows, mark a position at the closes), nothing else
 * 2. single-observation inference of a 2x64 MLP policy on that
 *    environment's observation                              target p50 <= 20 us
 *    - ORT through the public async API (session.run)
 *    - ORT through the native binding, synchronously
 *    - the plain-TypeScript forward pass
 *    anchors: the timer itself, and a bare multiply-add loop of the same size
 * 3. for information: the attention encoder's single-observation p50 (ORT).
 * Every figure is measured in this run, on this machine; the last line is JSON.
 */
import { emitAttentionEncoder, attentionParamCount } from "../rl/onnx/attention";
import { emitMlp, mlpParamCount, MlpForward } from "../rl/onnx/mlp";
import { hasSyncInference, OrtModel } from "../rl/onnx/runtime";
import { buildDataset } from "../rl/env/dataset";
import { defaultFeatureSet } from "../rl/env/features";
import { Prng } from "../rl/env/prng";
import { syntheticBars } from "../rl/env/testdata";
import { VecTradingEnv, wasmObsBuffers } from "../rl/env/trading-env";

const BARS = Number(process.env.BENCH_RL_BARS ?? 200_000);
const NUM_ENVS = Number(process.env.BENCH_RL_ENVS ?? 64);
const WINDOW = Number(process.env.BENCH_RL_WINDOW ?? 16);
const STEPS = Number(process.env.BENCH_RL_STEPS ?? 20_000);

// ------------------------------------------------------------------ data
const t0 = performance.now();
const bars = syntheticBars(BARS, { seed: 42, tick: 0.25, start: 15_000 });
const ds = buildDataset(
  bars,
  { instrument: { symbol: "NQ", tickSize: 0.25, pointValue: 20, currency: "USD", marginPerContract: 19_000 }, commission: { kind: "per_contract", amount: 2.25 }, slippage: { kind: "ticks", ticks: 1 }, barMs: 60_000, calendar: "cme-globex" },
  defaultFeatureSet(),
);
const prepMs = performance.now() - t0;

// ------------------------------------------------------------------ 1. raw environment
const env = new VecTradingEnv({
  dataset: ds,
  numEnvs: NUM_ENVS,
  window: WINDOW,
  span: { from: 0, to: Math.floor(BARS * 0.8) },
  episodeLength: 2_000,
  actions: { mode: "target", contractSize: 1, maxUnits: 1 },
  cash: 100_000,
  reward: { kind: "pnl" },
});
const rnd = new Prng(7);
const actionSets: Int32Array[] = [];
for (let k = 0; k < 256; k++) {
  const a = new Int32Array(NUM_ENVS);
  // sticky random positions: a fill on about a fifth of the steps
  for (let i = 0; i < NUM_ENVS; i++) a[i] = k > 0 && rnd.float() < 0.8 ? actionSets[k - 1]![i]! : rnd.int(3);
  actionSets.push(a);
}
env.reset(1);
for (let s = 0; s < 3_000; s++) env.step(actionSets[s & 255]!);
let fills = 0;
const envRuns: number[] = [];
for (let rep = 0; rep < 5; rep++) {
  const s0 = performance.now();
  for (let s = 0; s < STEPS; s++) {
    env.step(actionSets[s & 255]!);
    if (rep === 0) for (let i = 0; i < NUM_ENVS; i++) if (env.fillQty[i] !== 0) fills++;
  }
  envRuns.push(performance.now() - s0);
}
const envMs = Math.min(...envRuns.slice(1));
const envSteps = NUM_ENVS * STEPS;
const envSps = (envSteps / envMs) * 1000;

// anchors: the same observation copies and a mark-to-market at the closes, nothing else;
// (a) copies with obs.set(features.subarray(...)), (b) with the env's WebAssembly memory.copy
const close = ds.bars.close;
const F = ds.features.width;
const WF = WINDOW * F;
const S = WF + 2;
const lo = WINDOW + 100;
const hi = Math.floor(BARS * 0.8) - 2;
function bareLoop(kind: "set" | "wasm"): number {
  const w = kind === "wasm" ? wasmObsBuffers(ds.features.data, NUM_ENVS * S) : null;
  if (kind === "wasm" && !w) return NaN;
  const feat = w ? w.feat : ds.features.data;
  const obs = w ? w.obs : new Float32Array(NUM_ENVS * S);
  const cur = new Int32Array(NUM_ENVS);
  const eq = new Float64Array(NUM_ENVS);
  for (let i = 0; i < NUM_ENVS; i++) cur[i] = lo + ((i * 7919) % (hi - lo));
  const runs: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const s0 = performance.now();
    for (let s = 0; s < STEPS; s++) {
      const a = actionSets[s & 255]!;
      for (let i = 0; i < NUM_ENVS; i++) {
        let t = cur[i]!;
        const t1 = t + 1;
        eq[i] = eq[i]! + (a[i]! - 1) * (close[t1]! - close[t]!);
        t = t1 >= hi ? lo : t1;
        cur[i] = t;
        const src = (t - WINDOW + 1) * F;
        if (w) w.copy(w.obsByte + i * S * 4, src * 4, WF * 4);
        else obs.set(feat.subarray(src, src + WF), i * S);
      }
    }
    runs.push(performance.now() - s0);
  }
  if (eq[0] === 12345.678) console.log(obs[0]);
  return (envSteps / Math.min(...runs.slice(1))) * 1000;
}
const bareSps = bareLoop("set");
const bareWasmSps = bareLoop("wasm");

// ------------------------------------------------------------------ 2. inference
const obsSize = env.obsSize;
const sizes = [obsSize, 64, 64, env.numActions];
const pr = new Prng(3);
const params = Float32Array.from({ length: mlpParamCount(sizes) }, () => pr.normal() * 0.1);
const mlpBytes = emitMlp({ sizes, activation: "tanh" }, params).toBytes();
const ortModel = await OrtModel.create(mlpBytes, obsSize);
const tsModel = new MlpForward({ sizes, activation: "tanh" }, params);
const sample = env.reset(5).slice(0, obsSize);
const N = Number(process.env.BENCH_RL_INFER ?? 20_000);

function pct(xs: Float64Array, q: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 1000;
}
async function latencyAsync(fn: () => Promise<unknown>, n: number): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 1000; i++) await fn();
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    await fn();
    ts[i] = performance.now() - a;
  }
  return { p50: pct(ts, 0.5), p99: pct(ts, 0.99) };
}
function latency(fn: () => unknown, n: number): { p50: number; p99: number } {
  for (let i = 0; i < 2000; i++) fn();
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    fn();
    ts[i] = performance.now() - a;
  }
  return { p50: pct(ts, 0.5), p99: pct(ts, 0.99) };
}

// correctness before timing: the three paths agree
const yAsync = await ortModel.runOne(sample);
const ySync = hasSyncInference() ? ortModel.runOneSync(sample) : yAsync;
const yTs = tsModel.forward(sample);
let agree = 0;
for (let j = 0; j < env.numActions; j++) agree = Math.max(agree, Math.abs(yAsync[j]! - yTs[j]!), Math.abs(ySync[j]! - yTs[j]!));
if (agree > 1e-4) throw new Error(`inference paths disagree by ${agree}`);

const ortAsync = await latencyAsync(() => ortModel.runOne(sample), N);
const ortSync = hasSyncInference() ? latency(() => ortModel.runOneSync(sample), N) : null;
let sink = 0;
const tsLat = latency(() => (sink += tsModel.forward(sample)[0]!), N * 2);
// anchors: the timer alone; a bare multiply-add loop of the MLP's size (same weights array length, Float64)
const timer = latency(() => 0, N);
// the same multiply-adds as the MLP's three layers in plain nested loops: no bias, no activation, no unrolling
const macs = sizes.slice(1).reduce((a, c, l) => a + sizes[l]! * c, 0);
const wBare = new Float64Array(macs).map((_, i) => Math.sin(i) * 0.01);
const xBare = new Float64Array(Math.max(...sizes)).map((_, i) => Math.cos(i));
const bareMac = latency(() => {
  let o = 0;
  let s = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const rows = sizes[l]!;
    const cols = sizes[l + 1]!;
    for (let j = 0; j < cols; j++) {
      let acc = 0;
      for (let i = 0; i < rows; i++) acc += wBare[o + i]! * xBare[i]!;
      o += rows;
      s += acc;
    }
  }
  sink += s;
}, N);

// ------------------------------------------------------------------ 3. attention encoder (information)
const aspec = { window: WINDOW, features: F, extra: 2, dModel: 32, heads: 4, head: [64, env.numActions], activation: "tanh" as const };
const aparams = Float32Array.from({ length: attentionParamCount(aspec) }, () => pr.normal() * 0.1);
const attnModel = await OrtModel.create(emitAttentionEncoder(aspec, aparams).toBytes(), obsSize);
const attnLat = hasSyncInference() ? latency(() => attnModel.runOneSync(sample), Math.floor(N / 4)) : await latencyAsync(() => attnModel.runOne(sample), Math.floor(N / 4));

// batched ORT throughput for the MLP (a rollout's forward over all envs)
const batchObs = env.obs;
const batchLat = hasSyncInference() ? latency(() => ortModel.runSync(batchObs, NUM_ENVS), 2000) : await latencyAsync(() => ortModel.run(batchObs, NUM_ENVS), 2000);

// ------------------------------------------------------------------ report
const f = (x: number) => x.toFixed(2);
console.log(`data: ${BARS.toLocaleString()} synthetic 1-minute NQ bars, ${F} features, window ${WINDOW} -> observation ${obsSize} floats; prepared in ${prepMs.toFixed(0)} ms`);
console.log(`execution provider: ${ortModel.provider}${ortModel.choice.note ? ` (${ortModel.choice.note})` : ""}`);
console.log(`1. raw vectorised env (${NUM_ENVS} envs, fills on ${((fills / envSteps) * 100).toFixed(1)} % of steps): ${f(envSps / 1e6)} M steps/s (best of 4 x ${envSteps.toLocaleString()} steps)   target >= 5 M steps/s   anchors: bare loop (same obs copies + mark) ${f(bareSps / 1e6)} M steps/s with set/subarray, ${f(bareWasmSps / 1e6)} M steps/s with memory.copy`);
console.log(`2. single-observation inference, 2x64 MLP [${sizes.join(", ")}], p50 (p99):   target p50 <= 20 us`);
console.log(`   ORT ${ortModel.provider}, public async API (session.run):   ${f(ortAsync.p50)} us (${f(ortAsync.p99)})`);
if (ortSync) console.log(`   ORT ${ortModel.provider}, native binding, synchronous:     ${f(ortSync.p50)} us (${f(ortSync.p99)})`);
console.log(`   plain TypeScript forward pass:                ${f(tsLat.p50)} us (${f(tsLat.p99)})`);
console.log(`   anchors: timer alone ${f(timer.p50)} us; bare loop of the same ${macs.toLocaleString()} multiply-adds ${f(bareMac.p50)} us`);
console.log(`3. attention encoder (d 32, 4 heads, window ${WINDOW}) single observation via ORT: p50 ${f(attnLat.p50)} us (${f(attnLat.p99)}); MLP batch of ${NUM_ENVS} via ORT: p50 ${f(batchLat.p50)} us`);
console.log(
  JSON.stringify({
    bars: BARS,
    numEnvs: NUM_ENVS,
    window: WINDOW,
    obsSize,
    envStepsPerSec: Math.round(envSps),
    bareLoopStepsPerSec: Math.round(bareSps),
    bareLoopWasmStepsPerSec: Math.round(bareWasmSps),
    fillRate: Number((fills / envSteps).toFixed(4)),
    provider: ortModel.provider,
    providerNote: ortModel.choice.note,
    mlpSizes: sizes,
    ortAsyncP50Us: Number(f(ortAsync.p50)),
    ortSyncP50Us: ortSync ? Number(f(ortSync.p50)) : null,
    tsForwardP50Us: Number(f(tsLat.p50)),
    timerP50Us: Number(f(timer.p50)),
    bareMacLoopP50Us: Number(f(bareMac.p50)),
    attentionP50Us: Number(f(attnLat.p50)),
    mlpBatchP50Us: Number(f(batchLat.p50)),
    sink: sink !== 0,
  }),
);
await ortModel.dispose();
await attnModel.dispose();
