import { describe, expect, it } from "vitest";
import { parseTrainConfig } from "../train/config";
import { CartPoleVec } from "../cartpole/cartpole";
import { checkGradient } from "../nn/gradcheck";
import { Rng } from "../rng";
import type { EnvSnapshot, VecEnv, VecStep } from "./env";
import { computeGae, Ppo, type PpoConfig, type PpoLog, type TrainBackend } from "./ppo";

const small = { seed: 3, totalTimesteps: 4 * 32 * 40, numSteps: 32 } as const;
const strip = (l: PpoLog) => ({ ...l, stepsPerSecond: 0 });
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

describe("PPO", () => {
  it("refuses impossible configurations, naming each field", () => {
    const env = new CartPoleVec(4);
    expect(() => new Ppo(env, { seed: 1, totalTimesteps: 1000, numMinibatches: 3, gamma: 1.5, clipCoef: 0, hidden: [64, 0] })).toThrow(
      /numMinibatches \(3\) must divide.*gamma must be in \[0, 1\], got 1.5.*clipCoef must be in \(0, 10\], got 0.*hidden must be/,
    );
    expect(() => new Ppo(env, { seed: 1, totalTimesteps: 100 })).toThrow(/totalTimesteps \(100\) must be at least one batch \(512\)/);
  });

  it("initialises like CleanRL: one flat vector [actor, critic], orthogonal, 0.01 policy head, 1.0 value head", () => {
    const ppo = new Ppo(new CartPoleVec(4), { seed: 1, totalTimesteps: 500_000 });
    expect(ppo.actor!.spec.sizes).toEqual([4, 64, 64, 2]);
    expect(ppo.critic!.spec.sizes).toEqual([4, 64, 64, 1]);
    expect(ppo.params.length).toBe(ppo.actor!.numParams + ppo.critic!.numParams);
    expect(ppo.actorParams().length).toBe(4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2);
    const head = ppo.actor!.layers[2]!;
    let n2 = 0;
    for (let k = 0; k < 64 * 2; k++) n2 += ppo.actorParams()[head.wOff + k]! ** 2;
    expect(n2).toBeCloseTo(2 * 0.01 ** 2, 12); // two orthonormal columns scaled by 0.01
    expect(ppo.numIterations).toBe(976);
    expect(ppo.batchSize).toBe(512);
    expect(ppo.minibatchSize).toBe(128);
  });

  it("GAE matches the definition A_t = sum_k (gamma lambda)^k delta_{t+k} within episodes", () => {
    const T = 6,
      N = 2,
      g = 0.9,
      lam = 0.8;
    const rng = Rng.create(2);
    const r = Float64Array.from({ length: T * N }, () => rng.normal());
    const v = Float64Array.from({ length: T * N }, () => rng.normal());
    const dones = new Float64Array(T * N);
    dones[3 * N + 0] = 1; // env 0: a new episode starts at t = 3
    const nextV = Float64Array.of(0.5, -0.25),
      nextDone = Float64Array.of(0, 1);
    const adv = new Float64Array(T * N),
      ret = new Float64Array(T * N);
    computeGae(r, v, dones, nextV, nextDone, T, N, g, lam, adv, ret);
    for (let i = 0; i < N; i++)
      for (let t = 0; t < T; t++) {
        let a = 0,
          w = 1;
        for (let k = t; k < T; k++) {
          const doneNext = k + 1 < T ? dones[(k + 1) * N + i]! : nextDone[i]!;
          const vNext = k + 1 < T ? v[(k + 1) * N + i]! : nextV[i]!;
          a += w * (r[k * N + i]! + g * vNext * (1 - doneNext) - v[k * N + i]!);
          if (doneNext) break;
          w *= g * lam;
        }
        expect(adv[t * N + i]).toBeCloseTo(a, 13);
        expect(ret[t * N + i]).toBeCloseTo(a + v[t * N + i]!, 13);
      }
  });

  it("the full minibatch loss (clipped policy, entropy, clipped value through both MLPs) has the right gradient", () => {
    // The finite differences' round-off is about eps * |loss| / h in absolute terms: gamma 0.5 keeps
    // the returns, and so the loss, O(1), and entries below 1e-3 of the largest gradient entry are
    // compared in absolute terms (bounded by 1e-8) rather than relative ones (every op on its own
    // is checked at relative 1e-6 without this allowance in nn.test.ts).
    const ppo = new Ppo(new CartPoleVec(4), { ...small, numSteps: 16, numMinibatches: 2, gamma: 0.5 });
    ppo.runIteration();
    // move the parameters away from the rollout policy so that some ratios are clipped
    const rng = Rng.create(5);
    for (let k = 0; k < ppo.params.length; k++) ppo.params[k] = ppo.params[k]! + 0.2 * rng.normal();
    ppo.loadMinibatch(0);
    const st = ppo.lossAndGrad(true);
    expect(st.clipFrac).toBeGreaterThan(0);
    const analytic = ppo.grads.slice();
    const r = checkGradient(() => ppo.lossAndGrad(false).loss, ppo.params, analytic, { zeroBelowRel: 1e-3 });
    expect(r.checked).toBeGreaterThan(ppo.params.length / 2);
    expect(r.maxRelError).toBeLessThan(1e-6);
    expect(r.maxAbsErrorAtZero).toBeLessThan(1e-8);
  });

  it("is deterministic for a seed and logs the CleanRL metrics", () => {
    const run = (seed: number) => {
      const ppo = new Ppo(new CartPoleVec(4), { ...small, seed });
      const logs = [0, 1, 2].map(() => strip(ppo.runIteration()));
      return { logs, params: ppo.params.slice() };
    };
    const a = run(3),
      b = run(3),
      c = run(4);
    expect(b.params).toEqual(a.params);
    expect(b.logs).toEqual(a.logs);
    expect(c.params).not.toEqual(a.params);
    const l = a.logs[2]!;
    expect(l.globalStep).toBe(3 * 4 * 32);
    expect(l.episodes).toBeGreaterThan(0);
    for (const k of ["policyLoss", "valueLoss", "entropy", "approxKl", "clipFrac", "meanReturn100", "learningRate"] as const) expect(Number.isFinite(l[k])).toBe(true);
    expect(l.entropy).toBeGreaterThan(0.6); // near ln 2 at the start
    expect(l.learningRate).toBeCloseTo(2.5e-4 * (1 - 2 / 40), 15);
  });

  for (const backend of ["ts", "onnx"] as const)
    it(`a checkpointed run resumes exactly: k iterations + restore + k equals 2k uninterrupted (backend ${backend})`, () => {
      const cfg = { ...small, seed: 7, targetKl: 0.015, backend };
      const full = new Ppo(new CartPoleVec(4), cfg);
      const fullLogs = Array.from({ length: 6 }, () => strip(full.runIteration()));

      const first = new Ppo(new CartPoleVec(4), cfg);
      for (let k = 0; k < 3; k++) first.runIteration();
      const buf = first.checkpoint();
      const resumed = Ppo.restore(new CartPoleVec(4), buf);
      expect(resumed.backend).toBe(backend);
      expect(resumed.iteration).toBe(3);
      expect(resumed.globalStep).toBe(3 * 128);
      const resumedLogs = Array.from({ length: 3 }, () => strip(resumed.runIteration()));
      expect(resumedLogs).toEqual(fullLogs.slice(3));
      expect(new Uint8Array(resumed.params.buffer)).toEqual(new Uint8Array(full.params.buffer));
      const ro = resumed.optimizerState(),
        fo = full.optimizerState();
      expect(fo.step).toBeGreaterThan(3 * 4); // the optimiser state is the backend's and it moved
      expect(maxAbs(fo.v)).toBeGreaterThan(0);
      expect(new Uint8Array(ro.m.buffer, ro.m.byteOffset, ro.m.byteLength)).toEqual(new Uint8Array(fo.m.buffer, fo.m.byteOffset, fo.m.byteLength));
      expect(new Uint8Array(ro.v.buffer, ro.v.byteOffset, ro.v.byteLength)).toEqual(new Uint8Array(fo.v.buffer, fo.v.byteOffset, fo.v.byteLength));
      expect(ro.step).toBe(fo.step);
      if (backend === "onnx") expect(maxAbs(full.adam.m)).toBe(0); // the TypeScript optimiser is not used
      expect(Buffer.compare(resumed.checkpoint(), full.checkpoint())).toBe(0);
      // a checkpoint only restores onto the same kind of environment
      expect(() => Ppo.restore(new CartPoleVec(2), buf)).toThrow(/checkpoint was made on CartPole-v1 \(4 envs/);
    });

  it("backend: onnx is the default; impossible values are refused (engine and configuration schema)", () => {
    const ppo = new Ppo(new CartPoleVec(4), small);
    expect(ppo.config.backend).toBe("onnx");
    expect(ppo.backend).toBe("onnx");
    expect(ppo.backendNote).toBeNull();
    expect(ppo.onnx).not.toBeNull();
    expect(new Ppo(new CartPoleVec(4), { ...small, backend: "ts" }).onnx).toBeNull();
    expect(() => new Ppo(new CartPoleVec(4), { ...small, backend: "gpu" as TrainBackend })).toThrow(/backend must be ts or onnx, got gpu/);
    expect(parseTrainConfig({ env: "cartpole", algo: "ppo", steps: 1000, ppo: { backend: "ts" } }).ppo.backend).toBe("ts");
    expect(() => parseTrainConfig({ env: "cartpole", algo: "ppo", steps: 1000, ppo: { backend: "gpu" } })).toThrow(/ppo\.backend/);
  });

  const variants: Partial<PpoConfig>[] = [
    {},
    { targetKl: 2e-4, maxGradNorm: 0.05, learningRate: 1e-3 },
    { clipVloss: false, normAdv: false, activation: "relu", hidden: [32, 16, 8], annealLr: false, entCoef: 0.05, vfCoef: 1.3, clipCoef: 0.1 },
  ];
  for (const v of variants)
    it(`backend onnx: the updates match the TypeScript backend within 1e-9 relative (float64 graph; ${JSON.stringify(v)})`, () => {
      const cfg = { ...small, seed: 11, numSteps: 32, ...v };
      const ts = new Ppo(new CartPoleVec(4), { ...cfg, backend: "ts" });
      const ox = new Ppo(new CartPoleVec(4), { ...cfg, backend: "onnx" });
      expect(ox.backend).toBe("onnx");
      expect(ox.params).toEqual(ts.params); // same initialisation
      let klStops = 0;
      for (let it = 0; it < 4; it++) {
        const a = ts.runIteration(),
          b = ox.runIteration();
        // 16 minibatch updates per iteration (fewer with the KL stop)
        expect(b.epochs).toBe(a.epochs);
        expect(b.globalStep).toBe(a.globalStep);
        expect(b.learningRate).toBe(a.learningRate);
        for (const k of ["policyLoss", "valueLoss", "entropy", "approxKl", "oldApproxKl", "clipFrac", "explainedVariance", "meanReturn100"] as const)
          expect(Math.abs(b[k] - a[k]), `${k} at iteration ${it + 1}: ${b[k]} vs ${a[k]}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a[k])));
        expect(maxDiff(ox.params, ts.params), `params after iteration ${it + 1}`).toBeLessThanOrEqual(1e-9 * maxAbs(ts.params));
        const mo = ox.optimizerState(),
          mt = ts.optimizerState();
        expect(mo.step).toBe(mt.step);
        expect(maxDiff(mo.m, mt.m)).toBeLessThanOrEqual(1e-9 * maxAbs(mt.m));
        expect(maxDiff(mo.v, mt.v)).toBeLessThanOrEqual(1e-9 * maxAbs(mt.v));
        if (a.epochs < ts.config.updateEpochs) klStops++;
      }
      expect(maxDiff(ox.params, ts.params)).toBeGreaterThan(0); // two different computations
      if (v.targetKl) expect(klStops).toBeGreaterThan(0); // the KL early stop fired, at the same epoch on both
    });

  it("a TypeScript-backend checkpoint resumes on the ONNX backend (optimiser state carried over; within 1e-9)", () => {
    const a = new Ppo(new CartPoleVec(4), { ...small, seed: 9, backend: "ts" });
    for (let k = 0; k < 2; k++) a.runIteration();
    const b = Ppo.restore(new CartPoleVec(4), a.checkpoint(), { backend: "onnx" });
    expect(b.backend).toBe("onnx");
    expect(b.optimizerState().step).toBe(a.optimizerState().step);
    for (let k = 0; k < 2; k++) {
      a.runIteration();
      b.runIteration();
    }
    expect(maxDiff(b.params, a.params)).toBeLessThanOrEqual(1e-9 * maxAbs(a.params));
  });

  for (const backend of ["ts", "onnx"] as const)
    it(`stops with a message naming the step when the loss is NaN (backend ${backend})`, () => {
      const ppo = new Ppo(new CartPoleVec(4), { ...small, backend });
      ppo.criticParams()[0] = Number.NaN; // values, returns and so the value loss become NaN
      const before = ppo.params.slice();
      expect(() => ppo.runIteration()).toThrow(/^PPO .*loss is NaN.* at environment step 128; training stopped$/);
      expect(Array.from(ppo.params.subarray(0, ppo.actor!.numParams))).toEqual(Array.from(before.subarray(0, ppo.actor!.numParams)));
    });

  it("stops with a message naming the environment, feature and step when an observation is NaN", () => {
    const inner = new CartPoleVec(4);
    let n = 0;
    const env: VecEnv = {
      id: "nan-cartpole",
      numEnvs: 4,
      obsSize: 4,
      numActions: 2,
      get obs() {
        return inner.obs;
      },
      get rewards() {
        return inner.rewards;
      },
      get terminated() {
        return inner.terminated;
      },
      get truncated() {
        return inner.truncated;
      },
      get finalObs() {
        return inner.finalObs;
      },
      get episodeReturn() {
        return inner.episodeReturn;
      },
      get episodeLength() {
        return inner.episodeLength;
      },
      reset: (s: number) => inner.reset(s),
      step(a: Int32Array): VecStep {
        inner.step(a);
        if (++n === 20) inner.obs[2 * 4 + 3] = NaN;
        return this;
      },
      saveState: (): EnvSnapshot => inner.saveState(),
      loadState: (s: EnvSnapshot) => inner.loadState(s),
    };
    const ppo = new Ppo(env, small);
    expect(() => ppo.runIteration()).toThrow("observation at environment step 80: observation feature 3 (value 3 of environment 2's observation) is NaN; training stopped");
  });
});
