import { describe, expect, it } from "vitest";
import { CartPoleVec } from "../cartpole/cartpole";
import { checkGradient } from "../nn/gradcheck";
import { Rng } from "../rng";
import { parseTrainConfig } from "../train/config";
import { Dqn, type DqnConfig, dqnOnnxUnsupported } from "./dqn";
import type { TrainBackend } from "./ppo";
import { NStepAccumulator, ReplayBuffer } from "./replay";

const row = (a: Float32Array | Float64Array, k: number, O: number) => [...a.subarray(k * O, k * O + O)];
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]!));
  return m;
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return m;
};
const bytes = (a: Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe("replay buffer", () => {
  it("stores transitions as float32, wraps around, and samples uniformly with replacement", () => {
    const rb = new ReplayBuffer(3, 2);
    for (let k = 0; k < 4; k++) rb.add(Float64Array.of(k, k + 0.5), 0, Float64Array.of(-k, 0.1), 0, k % 2, k * 10, k === 3, 0.99);
    expect(rb.full).toBe(true);
    expect(rb.pos).toBe(1);
    expect(rb.size).toBe(3);
    expect(row(rb.obs, 0, 2)).toEqual([3, 3.5]); // transition 3 overwrote slot 0
    expect(rb.nextObs[1]).toBe(Math.fround(0.1));
    expect([...rb.dones]).toEqual([1, 0, 0]);
    const b = ReplayBuffer.batch(3000, 2);
    rb.sample(Rng.create(1), 3000, b);
    const seen = new Set(b.rewards);
    expect([...seen].sort((x, y) => x - y)).toEqual([10, 20, 30]);
    for (let k = 0; k < 3000; k++) expect(b.obs[k * 2]).toBe(b.rewards[k]! / 10);
  });

  it("n-step accumulator: n-step sums, bootstrap discount gamma^m, flush at episode end (done only when terminated)", () => {
    const g = 0.5;
    const rb = new ReplayBuffer(100, 1);
    const acc = new NStepAccumulator(1, 1, 3, g);
    const o = (v: number) => Float64Array.of(v);
    // episode: states 0..4, rewards 1, 2, 4, 8, 16; ends by truncation after the 5th step
    const rewards = [1, 2, 4, 8, 16];
    rewards.forEach((r, t) => {
      const ended = t === 4;
      acc.push(rb, 0, o(t), 0, t % 2, r, false, ended, o(t + 1), 0);
    });
    // emitted: from s0 (1 + 0.5*2 + 0.25*4 = 3, next s3), s1 (2 + 2 + 2 = 6, next s4), then flush at the end:
    // s2 (4 + 4 + 4 = 12, next s5, discount g^3), s3 (8 + 8 = 16, g^2), s4 (16, g)
    expect(rb.size).toBe(5);
    expect([...rb.rewards.subarray(0, 5)]).toEqual([3, 6, 12, 16, 16]);
    expect([...rb.discounts.subarray(0, 5)]).toEqual([g ** 3, g ** 3, g ** 3, g ** 2, g]);
    expect([...rb.obs.subarray(0, 5)]).toEqual([0, 1, 2, 3, 4]);
    expect([...rb.nextObs.subarray(0, 5)]).toEqual([3, 4, 5, 5, 5]);
    expect([...rb.dones.subarray(0, 5)]).toEqual([0, 0, 0, 0, 0]); // truncated: bootstrap
    expect([...rb.actions.subarray(0, 5)]).toEqual([0, 1, 0, 1, 0]);
    // a terminated two-step episode: both flushed with done = 1
    acc.push(rb, 0, o(10), 0, 1, 1, false, false, o(11), 0);
    acc.push(rb, 0, o(11), 0, 0, 1, true, true, o(12), 0);
    expect([...rb.rewards.subarray(5, 7)]).toEqual([1.5, 1]);
    expect([...rb.dones.subarray(5, 7)]).toEqual([1, 1]);
    expect([...rb.nextObs.subarray(5, 7)]).toEqual([12, 12]);
    // n = 1 emits every step at once with discount gamma
    const rb1 = new ReplayBuffer(10, 1);
    const acc1 = new NStepAccumulator(2, 1, 1, 0.9);
    acc1.push(rb1, 1, o(1), 0, 1, 5, false, false, o(2), 0);
    expect([rb1.size, rb1.rewards[0], rb1.discounts[0], rb1.nextObs[0]]).toEqual([1, 5, 0.9, 2]);
  });
});

describe("DQN", () => {
  const quick: Partial<DqnConfig> & { seed: number; totalTimesteps: number } = {
    seed: 5,
    totalTimesteps: 4000,
    learningStarts: 300,
    trainFrequency: 2,
    targetNetworkFrequency: 100,
    bufferSize: 1000,
    batchSize: 32,
    hidden: [32, 32],
  };

  it("refuses impossible configurations, naming each field", () => {
    expect(() => new Dqn(new CartPoleVec(1), { seed: 1, totalTimesteps: 1000, bufferSize: 0, endE: 2, loss: "l3" as "mse", nStep: 0 })).toThrow(
      /bufferSize must be an integer >= 1, got 0.*nStep must be an integer >= 1, got 0.*endE must be in \[0, 1\], got 2.*loss must be mse or huber/,
    );
  });

  it("uses CleanRL's defaults and linear epsilon schedule", () => {
    const d = new Dqn(new CartPoleVec(1), { seed: 1, totalTimesteps: 500_000 });
    expect(d.net.spec.sizes).toEqual([4, 120, 84, 2]);
    expect(d.epsilon(0)).toBe(1);
    expect(d.epsilon(125_000)).toBeCloseTo(0.525, 12);
    expect(d.epsilon(250_000)).toBeCloseTo(0.05, 12);
    expect(d.epsilon(400_000)).toBe(0.05);
    expect(d.target).toEqual(d.params);
  });

  for (const opts of [
    { double: false, dueling: false, loss: "mse" as const },
    { double: true, dueling: false, loss: "huber" as const },
    { double: true, dueling: true, loss: "mse" as const, nStep: 3 },
  ]) {
    it(`TD loss gradient matches finite differences (${JSON.stringify(opts)})`, () => {
      // Checks the DQN plumbing (targets, gather, dueling head, loss) end to end. tanh hidden units:
      // ReLU kinks make finite differences of a whole batch unreliable (ReLU alone is checked in
      // nn.test.ts). gamma 0.5 keeps the targets, and so the loss and its round-off, O(1); entries
      // below 1e-3 of the largest gradient entry are compared in absolute terms.
      const d = new Dqn(new CartPoleVec(2), { ...quick, ...opts, activation: "tanh", gamma: 0.5, learningStarts: 10_000 });
      for (let k = 0; k < 200; k++) d.step(); // fill the buffer without training
      // make the target network differ from the online one
      const rng = Rng.create(1);
      for (let k = 0; k < d.target.length; k++) d.target[k] = d.target[k]! + 0.1 * rng.normal();
      d.sampleBatch();
      d.lossAndGrad(true);
      const g = d.grads.slice();
      // the TD target is a constant (torch.no_grad()): keep it fixed while the online weights move
      const r = checkGradient(() => d.lossAndGrad(false, true).loss, d.params, g, { zeroBelowRel: 1e-3 });
      expect(r.checked).toBeGreaterThan(100);
      expect(r.maxRelError).toBeLessThan(1e-6);
      expect(r.maxAbsErrorAtZero).toBeLessThan(1e-8);
    });
  }

  it("trains deterministically for a seed", () => {
    const run = (seed: number) => {
      const d = new Dqn(new CartPoleVec(1), { ...quick, seed, totalTimesteps: 1500 });
      d.train();
      return { p: d.params.slice(), e: d.episodes.count, m: d.episodes.meanReturn() };
    };
    const a = run(5),
      b = run(5),
      c = run(6);
    expect(b).toEqual(a);
    expect(c.p).not.toEqual(a.p);
  });

  for (const backend of ["ts", "onnx"] as const)
    it(`a checkpointed run resumes exactly (double, dueling, 3-step, soft target, 2 envs; backend ${backend})`, () => {
      const cfg = { ...quick, double: true, dueling: true, nStep: 3, tau: 0.5, backend };
      const full = new Dqn(new CartPoleVec(2), cfg);
      full.train({ maxSteps: 2000 });
      const fullEnd = full.train({ maxSteps: 4000 });

      const first = new Dqn(new CartPoleVec(2), cfg);
      first.train({ maxSteps: 2000 });
      const buf = first.checkpoint();
      const resumed = Dqn.restore(new CartPoleVec(2), buf);
      expect(resumed.globalStep).toBe(2000);
      expect(resumed.backend).toBe(backend);
      const resEnd = resumed.train({ maxSteps: 4000 });
      expect(new Uint8Array(resumed.params.buffer)).toEqual(new Uint8Array(full.params.buffer));
      expect(resumed.target).toEqual(full.target);
      const ro = resumed.optimizerState(),
        fo = full.optimizerState();
      expect(fo.step).toBeGreaterThan(100);
      expect(bytes(ro.m)).toEqual(bytes(fo.m));
      expect(bytes(ro.v)).toEqual(bytes(fo.v));
      expect(ro.step).toBe(fo.step);
      if (backend === "onnx") expect(maxAbs(full.adam.v)).toBe(0); // the TypeScript optimiser is not used
      expect(resumed.episodes.count).toBe(full.episodes.count);
      expect({ ...resEnd, stepsPerSecond: 0 }).toEqual({ ...fullEnd, stepsPerSecond: 0 });

      // without the replay buffer the checkpoint is smaller and the resumed run says it is not exact
      const slim = first.checkpoint({ replay: false });
      expect(slim.length).toBeLessThan(buf.length);
      expect(Dqn.restore(new CartPoleVec(2), slim).replayIntact).toBe(false);
      expect(() => Dqn.restore(new CartPoleVec(1), buf)).toThrow(/checkpoint was made on/);
    });

  it("backend: onnx is the default; onnx covers every configuration (double, dueling, n-step, mse / huber, clipping); impossible values are refused", () => {
    const d = new Dqn(new CartPoleVec(1), quick);
    expect(d.config.backend).toBe("onnx");
    expect(d.onnx).not.toBeNull();
    expect(new Dqn(new CartPoleVec(1), { ...quick, backend: "ts" }).onnx).toBeNull();
    for (const double of [false, true])
      for (const dueling of [false, true])
        for (const loss of ["mse", "huber"] as const)
          for (const activation of ["relu", "tanh"] as const) {
            const cfg = { ...quick, double, dueling, loss, activation, nStep: 3, maxGradNorm: 1, backend: "onnx" as const };
            const o = new Dqn(new CartPoleVec(1), cfg);
            expect(dqnOnnxUnsupported(o.config)).toBeNull();
            expect(o.backend).toBe("onnx");
            expect(o.backendNote).toBeNull();
            o.dispose();
          }
    expect(() => new Dqn(new CartPoleVec(1), { ...quick, backend: "cuda" as TrainBackend })).toThrow(/backend must be ts or onnx, got cuda/);
    expect(parseTrainConfig({ env: "cartpole", algo: "dqn", steps: 1000, dqn: { backend: "onnx" } }).dqn.backend).toBe("onnx");
    expect(() => parseTrainConfig({ env: "cartpole", algo: "dqn", steps: 1000, dqn: { backend: "fast" } })).toThrow(/dqn\.backend/);
  });

  for (const opts of [
    {},
    { double: true, dueling: true, nStep: 3, loss: "huber" as const, maxGradNorm: 0.5 },
    { double: true, loss: "huber" as const, activation: "tanh" as const, tau: 0.5, maxGradNorm: 10 },
    { dueling: true, nStep: 2, maxGradNorm: 0.05 },
  ])
    it(`backend onnx: the gradient steps match the TypeScript backend within 1e-9 relative (float64 graph; ${JSON.stringify(opts)})`, () => {
      const cfg = { ...quick, ...opts, seed: 13 };
      const ts = new Dqn(new CartPoleVec(2), { ...cfg, backend: "ts" });
      const ox = new Dqn(new CartPoleVec(2), { ...cfg, backend: "onnx" });
      expect(ox.backend).toBe("onnx");
      expect(ox.params).toEqual(ts.params);
      for (const until of [700, 1000, 1400]) {
        const a = ts.train({ maxSteps: until }),
          b = ox.train({ maxSteps: until });
        expect(b.gradientSteps).toBe(a.gradientSteps);
        expect(b.episodes).toBe(a.episodes);
        expect(Math.abs(b.tdLoss - a.tdLoss)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a.tdLoss)));
        expect(Math.abs(b.qValue - a.qValue)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a.qValue)));
        expect(maxDiff(ox.params, ts.params), `params at step ${until}`).toBeLessThanOrEqual(1e-9 * maxAbs(ts.params));
        expect(maxDiff(ox.target, ts.target)).toBeLessThanOrEqual(1e-9 * maxAbs(ts.target));
        const mo = ox.optimizerState(),
          mt = ts.optimizerState();
        expect(mo.step).toBe(mt.step);
        expect(maxDiff(mo.m, mt.m)).toBeLessThanOrEqual(1e-9 * maxAbs(mt.m));
        expect(maxDiff(mo.v, mt.v)).toBeLessThanOrEqual(1e-9 * maxAbs(mt.v));
      }
      expect(ox.optimizerState().step).toBeGreaterThan(150); // gradient steps compared
      expect(maxDiff(ox.params, ts.params)).toBeGreaterThan(0);
    });
});
