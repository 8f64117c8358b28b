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

  it("refuses a planted look-ahead feature, naming it, and bad configurations naming the field", async () => {
    const e = await refused(TrainingSession.create({ env: "trading", algo: "ppo", steps: 1000, trading: { symbol: "BTC-PERP", timeframe: "1m", plantLookAhead: true } }, deps));
    expect(e.field).toBe("trading.features");
    expect(e.message).toMatch(/next_return/);
    expect((await refused(TrainingSession.create({ env: "cartpole", algo: "ppo", steps: 0 }))).field).toBe("steps");
    expect((await refused(TrainingSession.create({ env: "trading", algo: "ppo", steps: 10 }))).field).toBe("trading");
    expect((await refused(TrainingSession.create({ env: "cartpole", algo: "ppo", steps: 10, ppo: { gamma: 2 } }))).field).toBe("ppo.gamma");
  });
});
