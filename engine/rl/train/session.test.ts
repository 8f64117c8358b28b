import { describe, expect, it } from "vitest";
import { BUILTIN_INSTRUMENTS } from "../../data/instruments";
import { syntheticBars } from "../env/testdata";
import { OrtModel } from "../onnx/runtime";
import { TrainConfigError } from "./config";
import { TrainingSession } from "./session";

const btc = BUILTIN_INSTRUMENTS.find((i) => i.symbol === "BTC-PERP")!;
const deps = { loadBars: async () => ({ bars: syntheticBars(6000, { seed: 3, start: 40_000, tick: 0.1 }), instrument: btc }) };

async function refused(p: Promise<unknown>): Promise<TrainConfigError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TrainConfigError) return e;
    throw e;
  }
  throw new Error("not refused");
}

describe("training sessions", () => {
  it("trains PPO on CartPole, resumes exactly from a checkpoint, and exports a policy ONNX graph that acts like it", async () => {
    const cfg = { env: "cartpole", algo: "ppo", steps: 8192, seed: 3 };
    const a = await TrainingSession.create(cfg);
    for (let k = 0; k < 8; k++) a.step();
    const ck = a.checkpoint();
    const b = await TrainingSession.create(cfg, {}, ck);
    while (!a.done) a.step();
    while (!b.done) b.step();
    expect(b.globalStep).toBe(a.globalStep);
    expect(Buffer.compare(a.checkpoint(), b.checkpoint())).toBe(0);
    const report = a.evaluate();
    expect(report.evaluation!.episodes).toBe(100);
    expect(a.curves.at(-1)!.step).toBe(8192);

    const { bytes } = a.policyOnnx();
    const model = await OrtModel.create(bytes, a.env.obsSize);
    let s = 5;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.2;
    for (let k = 0; k < 50; k++) {
      const obs = Float64Array.from({ length: 4 }, rnd);
      const logits = await model.runOne(Float32Array.from(obs));
      const onnxAction = logits.indexOf(Math.max(...logits));
      expect(onnxAction).toBe(a.act(obs));
    }
    await model.dispose();
    // the network view reads the same weights back from the ONNX graph
    const { networkView } = await import("./network");
    const spec = a.policyOnnx().spec;
    for (let k = 0; k < 10; k++) {
      const obs = Float64Array.from({ length: 4 }, rnd);
      const view = networkView(bytes, spec, obs);
      expect(view.layers.map((l) => l.size)).toEqual([4, 64, 64, 2]);
      expect(view.action).toBe(a.act(obs));
    }
  }, 120_000);

  it("DQN with a dueling head exports Q-values that pick the same actions", async () => {
    const s = await TrainingSession.create({ env: "cartpole", algo: "dqn", steps: 3000, seed: 2, dqn: { dueling: true, learningStarts: 500 } });
    while (!s.done) s.step();
    const model = await OrtModel.create(s.policyOnnx().bytes, 4);
    for (let k = 0; k < 20; k++) {
      const obs = Float64Array.from({ length: 4 }, (_, j) => Math.sin(k * 7 + j) * 0.1);
      const q = await model.runOne(Float32Array.from(obs));
      expect(q.indexOf(Math.max(...q))).toBe(s.act(obs));
    }
    await model.dispose();
  }, 120_000);

  it("trading: trains on the train span only and reports in-sample and out-of-sample metrics beside baselines", async () => {
    const s = await TrainingSession.create({ env: "trading", algo: "ppo", steps: 4096, seed: 1, trading: { symbol: "BTC-PERP", timeframe: "1m", window: 8, episodeLength: 256, contractSize: 0.01 } }, deps);
    while (!s.done) s.step();
    const r = s.evaluate();
    const t = r.trading!;
    expect(t.split.train.to).toBeLessThanOrEqual(t.split.validation.from);
    expect(t.split.validation.to).toBeLessThanOrEqual(t.split.test.from);
    expect(t.inSample.label).toBe("in-sample");
    expect(t.outOfSample.label).toBe("out-of-sample");
    expect(t.outOfSample.metrics.bars).toBe(t.split.test.to - t.split.test.from);
    expect(t.baselines.map((b) => `${b.name}:${b.label}`)).toEqual(expect.arrayContaining(["flat:out-of-sample", "buy-and-hold:out-of-sample", "sma-cross:out-of-sample", "buy-and-hold:in-sample"]));
    expect(t.lookAhead.ok).toBe(true);
  }, 120_000);

  it("trading PPO with attention policies: trains through ORT, resumes exactly, exports logits + attention map, and the network view reads them", async () => {
    const cfg = {
      env: "trading",
      algo: "ppo",
      steps: 2048,
      seed: 4,
      numEnvs: 4,
      ppo: { network: "attention", attention: { dModel: 8, heads: 2 }, hidden: [16], numSteps: 64 },
      trading: { symbol: "BTC-PERP", timeframe: "1m", window: 6, episodeLength: 128, contractSize: 0.01 },
    };
    const a = await TrainingSession.create(cfg, deps);
    const ppo = a.algo as import("../algos/ppo").Ppo;
    expect(ppo.actorNet.kind).toBe("attention");
    const init = ppo.params.slice();
    for (let k = 0; k < 4; k++) a.step();
    const ck = a.checkpoint();
    const b = await TrainingSession.create(cfg, deps, ck);
    while (!a.done) a.step();
    while (!b.done) b.step();
    expect(Buffer.compare(a.checkpoint(), b.checkpoint())).toBe(0);
    expect(a.curves.map((p) => p.policyLoss)).toEqual(expect.arrayContaining([expect.any(Number)]));
    expect(ppo.params.some((v, i) => v !== init[i])).toBe(true);
    const r = a.evaluate();
    expect(r.trading!.outOfSample.label).toBe("out-of-sample");

    const { bytes, spec } = a.policyOnnx();
    expect(spec.kind).toBe("attention");
    const O = a.env.obsSize;
    expect(spec.obsSize).toBe(O);
    const model = await OrtModel.create(bytes, O);
    const env = a.env;
    env.reset(99);
    const acts = new Int32Array(env.numEnvs);
    let agree = 0;
    for (let k = 0; k < 40; k++) {
      const obs = env.obs.slice(0, O);
      const out = await model.run(Float32Array.from(obs), 1);
      const logits = out.logits!;
      if (logits.indexOf(Math.max(...logits)) === a.act(obs)) agree++;
      const att = out.attention!;
      expect(att.length).toBe(2 * 6 * 6);
      for (let q = 0; q < 12; q++) expect(att.subarray(q * 6, q * 6 + 6).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5);
      for (let i = 0; i < env.numEnvs; i++) acts[i] = (k + i) % env.numActions;
      env.step(acts);
    }
    // float32 export vs the float64 training graph: the same greedy choice except at near-ties
    expect(agree).toBeGreaterThanOrEqual(39);
    await model.dispose();

    const { networkViewOf } = await import("./network");
    const obs = Array.from(env.obs.subarray(0, O));
    const view = await networkViewOf(bytes, spec, obs);
    expect(view.attention!.maps).toHaveLength(2);
    expect(view.attention!.maps[0]).toHaveLength(6);
    expect(view.layers.map((l) => l.size)).toEqual([8 + 2, 16, 3]);
    expect(view.layers[0]!.activations.slice(8)).toEqual([obs[O - 2], obs[O - 1]].map((x) => Math.fround(x!)));
    await expect(networkViewOf(bytes, spec, obs.slice(1))).rejects.toThrow(/takes/);
  }, 180_000);

  it("walk-forward folds: a fresh policy per fold measured on its validation block, then the final run; resumes exactly across a fold boundary", async () => {
    const cfg = {
      env: "trading",
      algo: "ppo",
      steps: 1024,
      seed: 2,
      numEnvs: 2,
      ppo: { numSteps: 128, hidden: [16] },
      trading: { symbol: "BTC-PERP", timeframe: "1m", window: 6, episodeLength: 128, contractSize: 0.01, walkForward: { folds: 3 } },
    };
    const a = await TrainingSession.create(cfg, deps);
    expect(a.totalSteps).toBe(4 * 1024);
    expect(a.currentFold).toBe(0);
    // stop in the middle of fold 1
    while (a.foldResults.length < 1 || a.globalStep < 1024 + 512) a.step();
    expect(a.currentFold).toBe(1);
    const ck = a.checkpoint();
    const b = await TrainingSession.create(cfg, deps, ck);
    expect(b.globalStep).toBe(a.globalStep);
    expect(b.foldResults).toEqual(a.foldResults);
    while (!a.done) a.step();
    while (!b.done) b.step();
    expect(Buffer.compare(a.checkpoint(), b.checkpoint())).toBe(0);
    expect(a.globalStep).toBe(4 * 1024);
    expect(a.curves.at(-1)!.step).toBe(4 * 1024);
    const r = a.evaluate();
    const wf = r.trading!.walkForward!;
    expect(wf.folds).toHaveLength(3);
    expect(wf.anchored).toBe(true);
    const split = r.trading!.split;
    for (const [i, f] of wf.folds.entries()) {
      expect(f.index).toBe(i);
      expect(f.label).toBe("out-of-sample");
      expect(f.bars.train.from).toBe(split.train.from); // anchored
      expect(f.bars.train.to).toBeLessThanOrEqual(f.bars.validation.from - split.embargo);
      expect(f.bars.validation.to).toBeLessThanOrEqual(split.test.from - split.embargo); // never the test span
      expect(f.metrics.bars).toBe(f.bars.validation.to - f.bars.validation.from);
      if (i > 0) expect(f.bars.validation.from).toBe(wf.folds[i - 1]!.bars.validation.to);
    }
    expect(wf.summary.folds).toBe(3);
    expect(r.trading!.outOfSample.metrics.bars).toBe(split.test.to - split.test.from);
    // a checkpoint made without folds cannot continue a run with them
    const plain = await TrainingSession.create({ ...cfg, trading: { ...cfg.trading, walkForward: undefined } }, deps);
    plain.step();
    expect((await refused(TrainingSession.create(cfg, deps, plain.checkpoint()))).field).toBe("trading.walkForward");
    expect((await refused(TrainingSession.create({ ...cfg, trading: { ...cfg.trading, walkForward: { folds: 1 } } }, deps))).field).toBe("trading.walkForward.folds");
  }, 180_000);

  it("device: a requested GPU that is not there is reported and the run uses the CPU; auto says which provider it chose", async () => {
    const { cudaUnavailableReason } = await import("../onnx/runtime");
    const why = await cudaUnavailableReason();
    const s = await TrainingSession.create({ env: "cartpole", algo: "ppo", steps: 1024, device: "cuda" });
    if (why === null) {
      expect(s.compute.provider).toBe("cuda"); // a machine with a usable GPU
    } else {
      expect(s.compute).toEqual({ provider: "cpu", requested: "cuda", note: `GPU requested but not available, using the CPU: ${why}` });
    }
    while (!s.done) s.step();
    const r = s.evaluate();
    expect(r.compute.requested).toBe("cuda");
    expect(r.compute.provider).toBe(s.compute.provider);
    expect(r.compute.backend).toBe("onnx");
    const auto = await TrainingSession.create({ env: "cartpole", algo: "ppo", steps: 1024 });
    expect(auto.compute.requested).toBe("auto");
    expect(auto.compute.provider).toBe(why === null ? "cuda" : "cpu");
    expect((await refused(TrainingSession.create({ env: "cartpole", algo: "ppo", steps: 1024, device: "tpu" }))).field).toBe("device");
  });

  it("a non-finite trading observation stops the run naming the feature and the bar", async () => {
    const { assertFiniteObs } = await import("../algos/env");
    const s = await TrainingSession.create({ env: "trading", algo: "ppo", steps: 2048, numEnvs: 2, trading: { symbol: "BTC-PERP", timeframe: "1m", window: 4 } }, deps);
    const env = s.env as import("./trading-vecenv").TradingVecEnv;
    const { features: F } = env.obsLayout;
    const ds = env.inner.dataset;
    const bar = env.inner.bar[1]!;
    env.obs[env.obsSize + 2 * F + 1] = Number.POSITIVE_INFINITY; // env 1, window row 2 (bar - 1), feature 1
    const name = ds.features.names[1]!;
    expect(() => assertFiniteObs(env, "observation at environment step 0")).toThrow(`observation at environment step 0: feature ${name} of bar ${bar - 1} (${new Date(ds.bars.ts[bar - 1]!).toISOString()}) (value ${2 * F + 1} of environment 1's observation) is Infinity; training stopped`);
    env.obs[env.obsSize + 2 * F + 1] = 0;
    env.obs[env.obsSize + 4 * F + 1] = Number.NaN;
    expect(() => assertFiniteObs(env, "x")).toThrow(/the unrealized P&L feature/);
  });

  it("refuses attention where it cannot work, naming the field", async () => {
    expect((await refused(TrainingSession.create({ env: "cartpole", algo: "ppo", steps: 1000, ppo: { network: "attention" } }))).field).toBe("ppo.network");
    expect((await refused(TrainingSession.create({ env: "cartpole", algo: "ppo", steps: 1000, ppo: { attention: { dModel: 10, heads: 4 } } }))).field).toBe("ppo.attention.heads");
    expect((await refused(TrainingSession.create({ env: "trading", algo: "ppo", steps: 1000, ppo: { network: "attention", backend: "ts" }, trading: { symbol: "BTC-PERP", timeframe: "1m" } }, deps))).field).toBe("ppo.backend");
  });

  it("refuses a planted look-ahead feature, naming it, and bad configurations naming the field", async () => {
    const e = await refused(TrainingSession.create({ env: "trading", algo: "ppo", steps: 1000, trading: { symbol: "BTC-PERP", timeframe: "1m", plantLookAhead: true } }, deps));
    expect(e.field).toBe("trading.features");
    expect(e.message).toMatch(/next_return/);
    expect((await refused(TrainingSession.create({ env: "cartpole", algo: "ppo", steps: 0 }))).field).toBe("steps");
    expect((await refused(TrainingSession.create({ env: "trading", algo: "ppo", steps: 10 }))).field).toBe("trading");
    expect((await refused(TrainingSession.create({ env: "cartpole", algo: "ppo", steps: 10, ppo: { gamma: 2 } }))).field).toBe("ppo.gamma");
  });
});
