/**
 * Speed of the plain-TypeScript RL stack on this machine:
 *  - dense kernel throughput (multiply-adds per second) on a 128 x 64 x 64 batch;
 *  - single-observation policy inference latency (p50 / p99) of a 2 x 64 tanh MLP actor, obs sizes
 *    4 (CartPole) and 64, each call timed on its own with the timer's own cost subtracted;
 *  - raw vectorised CartPole steps per second (random actions);
 *  - PPO (CleanRL defaults, 4 envs) and DQN (CleanRL defaults, 1 env) training steps per second on
 *    CartPole (DQN measured after learning starts, where every 10th step trains a 128 batch), and
 *    PPO end to end on the trading environment (TrainingSession defaults: 8 envs, window 16, 2x64
 *    tanh, synthetic 1-minute BTC-PERP bars), each with the "ts" and the "onnx" update backend (the
 *    rollout is TypeScript in both; "onnx" runs each minibatch update as one float64 ORT graph),
 *    and with an attention policy (rollouts and updates on ORT).
 *    The PPO figures also split an iteration into rollout and update time.
 * Run: node --import tsx engine/rl/algos/bench.ts [--quick]
 */
import { BUILTIN_INSTRUMENTS } from "../../data/instruments";
import { syntheticBars } from "../env/testdata";
import { TrainingSession } from "../train/session";
import { CartPoleVec } from "../cartpole/cartpole";
import { denseForward } from "../nn/dense";
import { argmaxRows } from "../nn/losses";
import { Mlp } from "../nn/mlp";
import { Rng } from "../rng";
import { Dqn } from "./dqn";
import { Ppo, type TrainBackend } from "./ppo";

const quick = process.argv.includes("--quick");
const fmt = (x: number, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

function denseThroughput(): number {
  const B = 128,
    n = 64;
  const p = Float64Array.from({ length: n * n + n }, (_, k) => Math.sin(k));
  const x = Float64Array.from({ length: B * n }, (_, k) => Math.cos(k));
  const y = new Float64Array(B * n);
  for (let i = 0; i < 500; i++) denseForward(p, 0, n * n, x, y, B, n, n);
  const reps = quick ? 1000 : 4000;
  const t = performance.now();
  for (let i = 0; i < reps; i++) denseForward(p, 0, n * n, x, y, B, n, n);
  return (reps * B * n * n) / ((performance.now() - t) / 1000);
}

function inferenceLatency(obsSize: number): { p50: number; p99: number; mean: number } {
  const mlp = new Mlp({ sizes: [obsSize, 64, 64, 3], hidden: "tanh" });
  const params = new Float64Array(mlp.numParams);
  mlp.initOrthogonal(params, Rng.create(1), Math.SQRT2, 0.01);
  const ws = mlp.workspace(1);
  const obs = new Float64Array(obsSize);
  const act = new Int32Array(1);
  const rng = Rng.create(2);
  const once = () => {
    const out = mlp.forward(params, obs, 1, ws);
    argmaxRows(out, 1, 3, act);
  };
  for (let i = 0; i < 20_000; i++) {
    obs[i % obsSize] = rng.normal();
    once();
  }
  const n = quick ? 20_000 : 100_000;
  const samples = new Float64Array(n);
  const empty = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    obs[i % obsSize] = rng.normal();
    const t0 = process.hrtime.bigint();
    once();
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0);
    const t2 = process.hrtime.bigint();
    empty[i] = Number(process.hrtime.bigint() - t2);
  }
  samples.sort();
  empty.sort();
  const timer = empty[n >> 1]!;
  const t = performance.now();
  for (let i = 0; i < n; i++) once();
  const mean = ((performance.now() - t) * 1e6) / n;
  return { p50: (samples[n >> 1]! - timer) / 1000, p99: (samples[Math.floor(n * 0.99)]! - timer) / 1000, mean: mean / 1000 };
}

function cartpoleRaw(): number {
  const N = 16;
  const env = new CartPoleVec(N);
  env.reset(1);
  const a = new Int32Array(N);
  const rng = Rng.create(3);
  const steps = quick ? 200_000 : 1_000_000;
  const t = performance.now();
  for (let s = 0; s < steps; s += N) {
    for (let i = 0; i < N; i++) a[i] = rng.nextUint32() & 1;
    env.step(a);
  }
  return steps / ((performance.now() - t) / 1000);
}

interface PpoTiming {
  sps: number;
  /** per iteration, ms: the update phase (all minibatch updates) and the rest (rollout, GAE) */
  updateMs: number;
  restMs: number;
}

/** Environment steps per second over `iters` iterations after 5 warm-up ones; the update phase timed apart. */
function timePpo(ppo: Ppo, iters: number): PpoTiming {
  for (let i = 0; i < 5; i++) ppo.runIteration(); // warm-up
  // the update phase: the minibatch steps (private methods, wrapped on the instance for timing)
  let upd = 0;
  const self = ppo as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of ["minibatchStep", "minibatchStepOnnx"]) {
    const f = self[name]!;
    self[name] = (...a: unknown[]) => {
      const t0 = performance.now();
      const r = f.apply(ppo, a);
      upd += performance.now() - t0;
      return r;
    };
  }
  const s0 = ppo.globalStep;
  const t = performance.now();
  for (let i = 0; i < iters; i++) ppo.runIteration();
  const ms = performance.now() - t;
  for (const name of ["minibatchStep", "minibatchStepOnnx"]) delete self[name];
  return { sps: (ppo.globalStep - s0) / (ms / 1000), updateMs: upd / iters, restMs: (ms - upd) / iters };
}

function ppoSps(backend: TrainBackend): PpoTiming {
  const ppo = new Ppo(new CartPoleVec(4), { seed: 1, totalTimesteps: 500_000, backend });
  const r = timePpo(ppo, quick ? 20 : 60);
  ppo.dispose();
  return r;
}

const btc = BUILTIN_INSTRUMENTS.find((i) => i.symbol === "BTC-PERP")!;
const tradingBars = syntheticBars(200_000, { seed: 3, start: 40_000, tick: 0.1 });

async function ppoTradingSps(backend: TrainBackend, network: "mlp" | "attention" = "mlp"): Promise<PpoTiming & { obsSize: number; numEnvs: number }> {
  const s = await TrainingSession.create(
    { env: "trading", algo: "ppo", steps: 10_000_000, seed: 1, trading: { symbol: "BTC-PERP", timeframe: "1m", window: 16 }, ppo: { backend, network } },
    { loadBars: async () => ({ bars: tradingBars, instrument: btc }) },
  );
  const ppo = s.algo as Ppo;
  const r = timePpo(ppo, network === "attention" ? (quick ? 3 : 10) : quick ? 20 : 60);
  ppo.dispose();
  return { ...r, obsSize: s.env.obsSize, numEnvs: s.env.numEnvs };
}

function dqnSps(backend: TrainBackend): number {
  const dqn = new Dqn(new CartPoleVec(1), { seed: 1, totalTimesteps: 500_000, backend });
  dqn.train({ maxSteps: 12_000 }); // past learningStarts (10k)
  const s0 = dqn.globalStep;
  const t = performance.now();
  dqn.train({ maxSteps: s0 + (quick ? 10_000 : 40_000) });
  const sps = (dqn.globalStep - s0) / ((performance.now() - t) / 1000);
  dqn.dispose();
  return sps;
}

const g = denseThroughput();
console.log(`dense 128x64x64 forward: ${fmt(g / 1e9, 2)} G multiply-adds/s`);
for (const o of [4, 64]) {
  const l = inferenceLatency(o);
  console.log(`single-observation inference, 2x64 tanh MLP, obs ${o}: p50 ${fmt(l.p50, 2)} us, p99 ${fmt(l.p99, 2)} us, back-to-back mean ${fmt(l.mean, 2)} us`);
}
console.log(`raw CartPole (16 envs, random actions): ${fmt(cartpoleRaw() / 1e6, 1)} M steps/s`);
const ppoLine = (r: PpoTiming) => `${fmt(r.sps)} env steps/s (per iteration: update ${fmt(r.updateMs, 1)} ms, rollout + GAE ${fmt(r.restMs, 1)} ms)`;
for (const backend of ["ts", "onnx"] as const) console.log(`PPO CartPole training (CleanRL defaults), backend ${backend}: ${ppoLine(ppoSps(backend))}`);
for (const backend of ["ts", "onnx"] as const) {
  const r = await ppoTradingSps(backend);
  console.log(`PPO trading-environment training (${r.numEnvs} envs, window 16, obs ${r.obsSize}, 2x64 tanh), backend ${backend}: ${ppoLine(r)}   [target >= 20,000]`);
}
{
  const r = await ppoTradingSps("onnx", "attention");
  console.log(`PPO trading-environment training, attention policy (${r.numEnvs} envs, window 16, d 32, 4 heads, head 2x64), backend onnx: ${ppoLine(r)}`);
}
for (const backend of ["ts", "onnx"] as const) console.log(`DQN CartPole training (CleanRL defaults, after learning starts), backend ${backend}: ${fmt(dqnSps(backend))} env steps/s`);
