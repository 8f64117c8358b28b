import { describe, expect, it } from "vitest";
import { Rng } from "../rng";
import { type Activation, activateInPlace, activationBackward } from "./activations";
import { expectArray, packCheckpoint, packParamsAndAdam, unpackCheckpoint, unpackParamsAndAdam } from "./checkpoint";
import { denseBackward, denseForward } from "./dense";
import { checkGradient } from "./gradcheck";
import {
  argmaxRows,
  categoricalBackward,
  categoricalForward,
  duelingBackward,
  duelingForward,
  huber,
  logSoftmax,
  logSoftmaxBackward,
  mse,
  ppoPolicyLoss,
  ppoValueLoss,
  sampleCategorical,
  softmax,
  softmaxBackward,
} from "./losses";
import { Mlp } from "./mlp";
import { Adam, clipGradNorm, linearAnneal, linearSchedule, softUpdate } from "./optim";

const TOL = 1e-6;
const rnd = (rng: Rng, n: number, scale = 1) => Float64Array.from({ length: n }, () => scale * rng.normal());
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, k) => s + v * b[k]!, 0);

function expectGrad(r: ReturnType<typeof checkGradient>) {
  expect(r.checked).toBeGreaterThan(0);
  expect(r.maxRelError).toBeLessThan(TOL);
  expect(r.maxAbsErrorAtZero).toBeLessThan(1e-8);
}

describe("dense layer", () => {
  for (const [batch, nIn, nOut] of [
    [1, 5, 7],
    [3, 5, 7],
    [4, 8, 8],
    [5, 9, 12],
    [2, 1, 3],
  ] as const) {
    it(`forward matches the definition and gradients match finite differences (B=${batch}, ${nIn}x${nOut})`, () => {
      const rng = Rng.create(1, batch, nIn, nOut);
      const P = nIn * nOut + nOut;
      const p = rnd(rng, P + 3); // offset by 3 to exercise wOff/bOff
      const wOff = 3,
        bOff = 3 + nIn * nOut;
      const x = rnd(rng, batch * nIn);
      const y = new Float64Array(batch * nOut);
      denseForward(p, wOff, bOff, x, y, batch, nIn, nOut);
      for (let b = 0; b < batch; b++)
        for (let j = 0; j < nOut; j++) {
          let s = p[bOff + j]!;
          for (let i = 0; i < nIn; i++) s += x[b * nIn + i]! * p[wOff + i * nOut + j]!;
          expect(y[b * nOut + j]).toBeCloseTo(s, 12);
        }
      const w = rnd(rng, batch * nOut);
      const f = () => {
        denseForward(p, wOff, bOff, x, y, batch, nIn, nOut);
        return dot(y, w);
      };
      const g = new Float64Array(P + 3);
      const dx = new Float64Array(batch * nIn);
      denseBackward(p, g, wOff, bOff, x, w, dx, batch, nIn, nOut);
      expectGrad(checkGradient(f, p, g));
      expectGrad(checkGradient(f, x, dx));
      // accumulation: a second backward doubles the parameter gradient
      const g2 = g.slice();
      denseBackward(p, g2, wOff, bOff, x, w, null, batch, nIn, nOut);
      for (let k = 0; k < g.length; k++) expect(g2[k]).toBeCloseTo(2 * g[k]!, 12);
    });
  }

  it("gives each row the same result whether computed alone or in a batch (bitwise)", () => {
    const rng = Rng.create(2);
    const p = rnd(rng, 64 * 64 + 64);
    const x = rnd(rng, 5 * 64);
    const yb = new Float64Array(5 * 64);
    denseForward(p, 0, 64 * 64, x, yb, 5, 64, 64);
    for (let b = 0; b < 5; b++) {
      const y1 = new Float64Array(64);
      denseForward(p, 0, 64 * 64, x.subarray(b * 64), y1, 1, 64, 64);
      expect(y1).toEqual(yb.subarray(b * 64, b * 64 + 64));
    }
  });
});

describe("activations", () => {
  for (const act of ["tanh", "relu", "linear"] as Activation[]) {
    it(`${act} backward matches finite differences`, () => {
      const rng = Rng.create(3);
      const z = rnd(rng, 40);
      const w = rnd(rng, 40);
      const y = new Float64Array(40);
      const f = () => {
        y.set(z);
        activateInPlace(act, y, 40);
        return dot(y, w);
      };
      f();
      const dz = new Float64Array(40);
      activationBackward(act, y, w, dz, 40);
      const r = checkGradient(f, z, dz);
      expectGrad(r);
      if (act === "relu") expect(r.checked).toBeLessThan(40); // the negative half has zero gradient
    });
  }
  it("tanh matches Math.tanh to 3.4e-16 absolute, saturates, and keeps NaN", () => {
    const xs = Float64Array.from({ length: 20001 }, (_, k) => (k - 10000) / 1000);
    const y = Float64Array.from([...xs, 1e-300, -1e-12, 400, -400, 1e308, -Infinity, NaN]);
    const ref = [...y].map(Math.tanh);
    activateInPlace("tanh", y, y.length);
    for (let k = 0; k < y.length - 1; k++) expect(Math.abs(y[k]! - ref[k]!)).toBeLessThanOrEqual(3.4e-16);
    expect([y[20003], y[20004], y[20005], y[20006]]).toEqual([1, -1, 1, -1]);
    expect(Number.isNaN(y[y.length - 1]!)).toBe(true);
  });

  it("relu keeps NaN visible", () => {
    const y = Float64Array.of(NaN, -1, 2);
    activateInPlace("relu", y, 3);
    expect(Number.isNaN(y[0]!)).toBe(true);
    expect([y[1], y[2]]).toEqual([0, 2]);
  });
});

describe("MLP", () => {
  for (const [hidden, output] of [
    ["tanh", "linear"],
    ["relu", "linear"],
    ["linear", "tanh"],
  ] as [Activation, Activation][]) {
    it(`batched gradient (params and input) matches finite differences: ${hidden} hidden, ${output} output`, () => {
      const mlp = new Mlp({ sizes: [5, 7, 6, 3], hidden, output });
      expect(mlp.numParams).toBe(5 * 7 + 7 + 7 * 6 + 6 + 6 * 3 + 3);
      const rng = Rng.create(4);
      const p = rnd(rng, mlp.numParams, 0.7);
      const B = 3;
      const x = rnd(rng, B * 5);
      const w = rnd(rng, B * 3);
      const ws = mlp.workspace(B);
      const f = () => dot(mlp.forward(p, x, B, ws).subarray(0, B * 3), w);
      f();
      const g = new Float64Array(mlp.numParams);
      const dx = new Float64Array(B * 5);
      mlp.backward(p, g, ws, B, w, dx);
      expectGrad(checkGradient(f, p, g));
      expectGrad(checkGradient(f, x, dx));
    });
  }

  it("documents its parameter layout: [W1 (in x out, row-major), b1, W2, b2, ...]", () => {
    const mlp = new Mlp({ sizes: [2, 3, 1], hidden: "tanh" });
    expect(mlp.layers.map((l) => [l.wOff, l.bOff, l.nIn, l.nOut, l.act])).toEqual([
      [0, 6, 2, 3, "tanh"],
      [9, 12, 3, 1, "linear"],
    ]);
    // y = tanh(x W1 + b1) W2 + b2 by hand
    const p = Float64Array.of(0.1, 0.2, 0.3, -0.4, 0.5, -0.6, 0.01, 0.02, 0.03, 1, -1, 0.5, 0.25);
    const x = Float64Array.of(1.5, -2);
    const h = [0, 1, 2].map((j) => Math.tanh(x[0]! * p[j]! + x[1]! * p[3 + j]! + p[6 + j]!));
    const y = h[0]! * 1 + h[1]! * -1 + h[2]! * 0.5 + 0.25;
    expect(mlp.predict(p, x)[0]).toBeCloseTo(y, 14);
  });

  it("orthogonal init: orthonormal columns/rows scaled by the gain, zero biases, deterministic", () => {
    for (const [nIn, nOut] of [
      [4, 64],
      [64, 64],
      [64, 2],
    ] as const) {
      const mlp = new Mlp({ sizes: [nIn, nOut], hidden: "tanh" });
      const p = new Float64Array(mlp.numParams);
      mlp.initOrthogonal(p, Rng.create(9), Math.SQRT2, 0.01);
      const gain = 0.01; // single layer = output layer
      // W is nIn x nOut; W^T W = gain^2 I when nIn >= nOut, W W^T = gain^2 I otherwise
      const small = Math.min(nIn, nOut);
      for (let a = 0; a < small; a++)
        for (let b = 0; b < small; b++) {
          let s = 0;
          if (nIn >= nOut) for (let i = 0; i < nIn; i++) s += p[i * nOut + a]! * p[i * nOut + b]!;
          else for (let j = 0; j < nOut; j++) s += p[a * nOut + j]! * p[b * nOut + j]!;
          expect(s).toBeCloseTo(a === b ? gain * gain : 0, 12);
        }
      expect([...p.subarray(nIn * nOut)].every((v) => v === 0)).toBe(true);
      const q = new Float64Array(mlp.numParams);
      mlp.initOrthogonal(q, Rng.create(9), Math.SQRT2, 0.01);
      expect(q).toEqual(p);
    }
    // hidden vs output gain on a deeper net
    const mlp = new Mlp({ sizes: [4, 64, 64, 1], hidden: "tanh" });
    const p = new Float64Array(mlp.numParams);
    mlp.initOrthogonal(p, Rng.create(1), Math.SQRT2, 1);
    const L0 = mlp.layers[0]!,
      L2 = mlp.layers[2]!;
    let n0 = 0;
    for (let i = 0; i < 4 * 64; i++) n0 += p[L0.wOff + i]! ** 2;
    expect(n0).toBeCloseTo(4 * 2, 10); // 4 orthonormal rows of W^T... each of norm sqrt(2)
    let n2 = 0;
    for (let i = 0; i < 64; i++) n2 += p[L2.wOff + i]! ** 2;
    expect(n2).toBeCloseTo(1, 10);
  });
});

describe("softmax, categorical and losses", () => {
  const B = 4,
    A = 3;
  it("log-softmax and softmax gradients match finite differences", () => {
    const rng = Rng.create(5);
    const z = rnd(rng, B * A, 2);
    const w = rnd(rng, B * A);
    const out = new Float64Array(B * A);
    const fl = () => (logSoftmax(z, out, B, A), dot(out, w));
    fl();
    const dz = new Float64Array(B * A);
    logSoftmaxBackward(out, w, dz, B, A);
    expectGrad(checkGradient(fl, z, dz));
    const fs = () => (softmax(z, out, B, A), dot(out, w));
    fs();
    softmaxBackward(out, w, dz, B, A);
    expectGrad(checkGradient(fs, z, dz));
    // stable for large logits
    const big = Float64Array.of(1000, 0, -1000);
    const o = new Float64Array(3);
    softmax(big, o, 1, 3);
    expect(o[0]).toBe(1);
    expect(Number.isFinite(o[2]!)).toBe(true);
  });

  it("categorical log-prob and entropy gradients match finite differences", () => {
    const rng = Rng.create(6);
    const z = rnd(rng, B * A, 1.5);
    const actions = Int32Array.of(0, 2, 1, 2);
    const wl = rnd(rng, B),
      we = rnd(rng, B);
    const logp = new Float64Array(B * A),
      lp = new Float64Array(B),
      H = new Float64Array(B);
    const f = () => (categoricalForward(z, actions, logp, lp, H, B, A), dot(lp, wl) + dot(H, we));
    f();
    // entropy by definition
    for (let b = 0; b < B; b++) {
      let h = 0;
      for (let k = 0; k < A; k++) h -= Math.exp(logp[b * A + k]!) * logp[b * A + k]!;
      expect(H[b]).toBeCloseTo(h, 14);
    }
    const dz = new Float64Array(B * A);
    categoricalBackward(logp, actions, H, wl, we, dz, B, A);
    expectGrad(checkGradient(f, z, dz));
    // without the entropy term
    const f2 = () => (categoricalForward(z, actions, logp, lp, null, B, A), dot(lp, wl));
    f2();
    categoricalBackward(logp, actions, null, wl, null, dz, B, A);
    expectGrad(checkGradient(f2, z, dz));
  });

  it("sampling follows the probabilities; argmax picks the first maximum", () => {
    const z = Float64Array.of(Math.log(0.2), Math.log(0.5), Math.log(0.3));
    const rng = Rng.create(8);
    const counts = [0, 0, 0];
    const act = new Int32Array(1),
      lp = new Float64Array(1),
      scratch = new Float64Array(3);
    for (let i = 0; i < 30000; i++) {
      sampleCategorical(z, 1, 3, () => rng.uniform(), act, lp, scratch);
      counts[act[0]!]!++;
      expect(lp[0]).toBeCloseTo(z[act[0]!]!, 12);
    }
    expect(counts[0]! / 30000).toBeCloseTo(0.2, 1);
    expect(counts[1]! / 30000).toBeCloseTo(0.5, 1);
    const am = new Int32Array(2);
    argmaxRows(Float64Array.of(1, 3, 3, -1, -2, -5), 2, 3, am);
    expect([...am]).toEqual([1, 0]);
  });

  it("mse and huber gradients match finite differences", () => {
    const rng = Rng.create(7);
    const pred = rnd(rng, 10, 2),
      tgt = rnd(rng, 10, 2);
    const g = new Float64Array(10);
    mse(pred, tgt, 10, g);
    expectGrad(checkGradient(() => mse(pred, tgt, 10), pred, g));
    huber(pred, tgt, 10, 1, g);
    expectGrad(checkGradient(() => huber(pred, tgt, 10, 1), pred, g));
    expect(mse(Float64Array.of(1, 2), Float64Array.of(0, 0), 2)).toBe(2.5);
    expect(huber(Float64Array.of(0.5, 3), Float64Array.of(0, 0), 2)).toBe((0.125 + 2.5) / 2);
  });

  it("PPO clipped policy loss: value, statistics and gradient", () => {
    const rng = Rng.create(11);
    const n = 40;
    const oldLp = rnd(rng, n, 0.5);
    const newLp = Float64Array.from(oldLp, (v) => v + 0.4 * rng.normal()); // many ratios outside [0.8, 1.2]
    const adv = rnd(rng, n);
    const g = new Float64Array(n);
    const st = ppoPolicyLoss(newLp, oldLp, adv, n, 0.2, g);
    let loss = 0,
      kl = 0,
      cf = 0;
    for (let k = 0; k < n; k++) {
      const r = Math.exp(newLp[k]! - oldLp[k]!);
      loss += Math.max(-adv[k]! * r, -adv[k]! * Math.min(Math.max(r, 0.8), 1.2));
      kl += r - 1 - Math.log(r);
      cf += Math.abs(r - 1) > 0.2 ? 1 : 0;
    }
    expect(st.loss).toBeCloseTo(loss / n, 14);
    expect(st.approxKl).toBeCloseTo(kl / n, 12);
    expect(st.clipFrac).toBe(cf / n);
    expect(st.clipFrac).toBeGreaterThan(0.2);
    const r = checkGradient(() => ppoPolicyLoss(newLp, oldLp, adv, n, 0.2, null).loss, newLp, g);
    expectGrad(r);
    expect(r.checked).toBeLessThan(n); // some terms are clipped (zero gradient)
  });

  it("PPO value loss (clipped and unclipped): gradient", () => {
    const rng = Rng.create(12);
    const n = 40;
    const oldV = rnd(rng, n),
      ret = rnd(rng, n);
    const v = Float64Array.from(oldV, (x) => x + 0.5 * rng.normal());
    const g = new Float64Array(n);
    for (const clip of [0.2, null]) {
      ppoValueLoss(v, oldV, ret, n, clip, g);
      expectGrad(checkGradient(() => ppoValueLoss(v, oldV, ret, n, clip, null), v, g));
    }
    expect(ppoValueLoss(Float64Array.of(2), Float64Array.of(0), Float64Array.of(0), 1, null, null)).toBe(2);
    // clipped: v moved from 0 to 2 with clip 0.2 and R = 3: max((2-3)^2, (0.2-3)^2) = 7.84
    expect(ppoValueLoss(Float64Array.of(2), Float64Array.of(0), Float64Array.of(3), 1, 0.2, null)).toBeCloseTo(0.5 * 7.84, 14);
  });

  it("dueling combine: Q = V + A - mean(A), gradient", () => {
    const rng = Rng.create(13);
    const nA = 3;
    const raw = rnd(rng, B * (nA + 1));
    const q = new Float64Array(B * nA);
    duelingForward(raw, q, B, nA);
    expect(q[1]).toBeCloseTo(raw[0]! + raw[2]! - (raw[1]! + raw[2]! + raw[3]!) / 3, 14);
    const w = rnd(rng, B * nA);
    const d = new Float64Array(B * (nA + 1));
    duelingBackward(w, d, B, nA);
    expectGrad(checkGradient(() => (duelingForward(raw, q, B, nA), dot(q, w)), raw, d));
  });
});

describe("optimisation", () => {
  it("Adam matches hand-computed steps (torch formula), with and without weight decay", () => {
    const p = Float64Array.of(1, -2);
    const adam = new Adam(2, { lr: 0.01 });
    adam.update(p, Float64Array.of(0.5, -0.1));
    // step 1: m = 0.1 g, v = 0.001 g^2, bc1 = 0.1, sqrt(bc2) = sqrt(0.001): update = lr * g / (|g| + 1e-8)
    expect(p[0]).toBeCloseTo(1 - (0.01 * 0.5) / (0.5 + 1e-8), 15);
    expect(p[1]).toBeCloseTo(-2 + (0.01 * 0.1) / (0.1 + 1e-8), 15);
    adam.update(p, Float64Array.of(0.2, 0.3));
    // step 2, parameter 0: m = 0.9*0.05 + 0.1*0.2 = 0.065; v = 0.999*0.00025 + 0.001*0.04 = 0.00028975
    const m = 0.065,
      v = 0.00028975;
    const p0 = 1 - (0.01 * 0.5) / (0.5 + 1e-8) - (0.01 / (1 - 0.81)) * (m / (Math.sqrt(v) / Math.sqrt(1 - 0.998001) + 1e-8));
    expect(p[0]).toBeCloseTo(p0, 15);
    expect(adam.step).toBe(2);
    expect(adam.m[0]).toBeCloseTo(m, 16);
    expect(adam.v[0]).toBeCloseTo(v, 16);

    // eps 1e-5 (CleanRL PPO) and L2 weight decay 0.1: the gradient becomes g + 0.1 p
    const q = Float64Array.of(3);
    const a2 = new Adam(1, { lr: 0.1, eps: 1e-5, weightDecay: 0.1 });
    a2.update(q, Float64Array.of(-1));
    const g = -1 + 0.1 * 3; // -0.7
    expect(q[0]).toBeCloseTo(3 - (0.1 / 0.1) * ((0.1 * g) / (Math.sqrt(0.001 * g * g) / Math.sqrt(0.001) + 1e-5)), 14);
  });

  it("clips the global gradient norm like torch (maxNorm / (norm + 1e-6))", () => {
    const g = Float64Array.of(3, 4);
    expect(clipGradNorm(g, 1)).toBe(5);
    expect(g[0]).toBeCloseTo((3 * 1) / (5 + 1e-6), 15);
    const h = Float64Array.of(0.3, 0.4);
    clipGradNorm(h, 1);
    expect([...h]).toEqual([0.3, 0.4]);
  });

  it("schedules", () => {
    expect(linearAnneal(2.5e-4, 1, 100)).toBe(2.5e-4);
    expect(linearAnneal(2.5e-4, 100, 100)).toBeCloseTo(2.5e-6, 18);
    expect(linearSchedule(1, 0.05, 100, 0)).toBe(1);
    expect(linearSchedule(1, 0.05, 100, 50)).toBeCloseTo(0.525, 14);
    expect(linearSchedule(1, 0.05, 100, 500)).toBe(0.05);
    const t = Float64Array.of(0, 10),
      s = Float64Array.of(1, 20);
    softUpdate(t, s, 0.5);
    expect([...t]).toEqual([0.5, 15]);
    softUpdate(t, s, 1);
    expect([...t]).toEqual([1, 20]);
  });
});

describe("checkpoint", () => {
  it("packs and unpacks typed arrays bit-exactly, with JSON metadata", () => {
    const f = Float64Array.of(0.1, -0, NaN, Infinity, 1e-310, Math.PI);
    const buf = packCheckpoint({ step: 7, name: "x", nested: { a: [1, 2] } }, { f, g: Float32Array.of(1.5), i: Int32Array.of(-3), u: Uint8Array.of(1, 2, 3), w: Uint32Array.of(4294967295) });
    const ck = unpackCheckpoint<{ step: number }>(new Uint8Array(buf));
    expect(ck.meta.step).toBe(7);
    const f2 = expectArray(ck, "f", Float64Array, 6);
    expect(new Uint8Array(f2.buffer)).toEqual(new Uint8Array(f.buffer));
    expect(Object.is(f2[1], -0)).toBe(true);
    expect([...expectArray(ck, "u", Uint8Array)]).toEqual([1, 2, 3]);
    expect(expectArray(ck, "w", Uint32Array)[0]).toBe(4294967295);
    expect(() => expectArray(ck, "missing", Float64Array)).toThrow(/missing array 'missing'/);
    expect(() => unpackCheckpoint(Buffer.from("nope nope nope"))).toThrow(/bad magic/);
  });

  it("a checkpoint of weights and Adam state continues training bit-identically", () => {
    const mlp = new Mlp({ sizes: [3, 16, 16, 2], hidden: "tanh" });
    const rng = Rng.create(21);
    const data = rnd(rng, 32 * 3),
      target = rnd(rng, 32 * 2);
    const ws = mlp.workspace(32);
    const trainSteps = (p: Float64Array, adam: Adam, k: number) => {
      const g = new Float64Array(mlp.numParams),
        d = new Float64Array(64);
      for (let s = 0; s < k; s++) {
        g.fill(0);
        const out = mlp.forward(p, data, 32, ws);
        mse(out, target, 64, d);
        mlp.backward(p, g, ws, 32, d);
        clipGradNorm(g, 0.5);
        adam.update(p, g);
      }
    };
    const p = new Float64Array(mlp.numParams);
    mlp.initOrthogonal(p, Rng.create(3));
    const adam = new Adam(mlp.numParams, { lr: 1e-3, eps: 1e-5 });
    trainSteps(p, adam, 10);
    const buf = packParamsAndAdam(p, adam, { note: "after 10" });
    trainSteps(p, adam, 15); // uninterrupted: 25 steps

    const p2 = new Float64Array(mlp.numParams);
    const adam2 = new Adam(mlp.numParams, { lr: 1e-3, eps: 1e-5 });
    expect(unpackParamsAndAdam(buf, p2, adam2).note).toBe("after 10");
    expect(adam2.step).toBe(10);
    trainSteps(p2, adam2, 15);
    expect(new Uint8Array(p2.buffer)).toEqual(new Uint8Array(p.buffer));
    expect(adam2.m).toEqual(adam.m);
    expect(adam2.step).toBe(25);
  });
});
