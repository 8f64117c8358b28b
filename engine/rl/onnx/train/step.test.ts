/**
 * The one-graph training step: Adam against a hand-written torch.optim.Adam and
 * engine/rl/nn's Adam, global-norm clipping against clip_grad_norm_, whole PPO
 * updates against the plain-TypeScript path, toy regressions that must learn,
 * and the runner's state handling.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { AttentionSpec } from "../attention";
import { Adam } from "../../nn/optim";
import { rng } from "./gradcheck";
import { mseLossGraph, type PpoModel, ppoLossGraph } from "./losses";
import { attentionNet, type NetSpec, mlpNet, netParamCount } from "./nets";
import { PlainPpo, type PpoBatch } from "./reference";
import { GraphSession } from "./session";
import { buildAdamGraph, TrainStep } from "./step";

const open: { dispose(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of open) await s.dispose();
});
async function track<T extends { dispose(): Promise<void> }>(p: Promise<T>): Promise<T> {
  const s = await p;
  open.push(s);
  return s;
}

const randn = (r: () => number) => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
const randVec = (n: number, scale: number, seed: number) => {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => randn(r) * scale);
};
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

/** torch.optim.Adam written out (float64). */
function adamRef(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, t: number, lr: number, b1: number, b2: number, eps: number): void {
  for (let k = 0; k < p.length; k++) {
    m[k] = b1 * m[k]! + (1 - b1) * g[k]!;
    v[k] = b2 * v[k]! + (1 - b2) * g[k]! * g[k]!;
    const mhat = m[k]! / (1 - b1 ** t);
    const vhat = v[k]! / (1 - b2 ** t);
    p[k] = p[k]! - (lr * mhat) / (Math.sqrt(vhat) + eps);
  }
}

describe("Adam graph", () => {
  const P = 37;
  const hyper = { lr: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

  it("float64: six steps equal torch's formula and engine/rl/nn's Adam to 1e-12 (relative)", async () => {
    const s = await track(GraphSession.create(buildAdamGraph(P), { precision: "float64" }));
    const p = randVec(P, 1, 1);
    const m = new Float64Array(P);
    const v = new Float64Array(P);
    const pr = p.slice();
    const mr = new Float64Array(P);
    const vr = new Float64Array(P);
    const nn = new Adam(P, { lr: hyper.lr, eps: hyper.eps });
    const pn = p.slice();
    for (let t = 0; t < 6; t++) {
      const g = randVec(P, 0.1 * (t + 1), 10 + t);
      const out = s.run({ params: p, grad: g, m, v, step: t, ...hyper });
      p.set(out.params_out as Float64Array);
      m.set(out.m_out as Float64Array);
      v.set(out.v_out as Float64Array);
      expect(Number(out.step_out![0])).toBe(t + 1);
      adamRef(pr, g, mr, vr, t + 1, hyper.lr, hyper.beta1, hyper.beta2, hyper.eps);
      nn.update(pn, g);
    }
    expect(maxDiff(p, pr)).toBeLessThanOrEqual(1e-12 * maxAbs(pr));
    expect(maxDiff(m, mr)).toBeLessThanOrEqual(1e-12 * maxAbs(mr));
    expect(maxDiff(v, vr)).toBeLessThanOrEqual(1e-12 * maxAbs(vr));
    expect(maxDiff(p, pn)).toBeLessThanOrEqual(1e-12 * maxAbs(pn));
  });

  it("float32: six steps within 1e-6 (parameters, absolute) and 2e-6 (moments, relative to the largest) of the float64 reference", async () => {
    // (the scalar coefficients are computed in double inside the graph: with float32 betas, 1 - beta2 alone would be off by 1.3e-5)
    const s = await track(GraphSession.create(buildAdamGraph(P), { precision: "float32" }));
    const p0 = randVec(P, 1, 2);
    const p = Float32Array.from(p0);
    const m = new Float32Array(P);
    const v = new Float32Array(P);
    const pr = Float64Array.from(p);
    const mr = new Float64Array(P);
    const vr = new Float64Array(P);
    for (let t = 0; t < 6; t++) {
      const g = Float32Array.from(randVec(P, 0.1, 20 + t));
      const out = s.run({ params: p, grad: g, m, v, step: t, ...hyper });
      p.set(out.params_out as Float32Array);
      m.set(out.m_out as Float32Array);
      v.set(out.v_out as Float32Array);
      adamRef(pr, Float64Array.from(g), mr, vr, t + 1, hyper.lr, hyper.beta1, hyper.beta2, hyper.eps);
    }
    expect(maxDiff(p, pr)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(m, mr)).toBeLessThanOrEqual(2e-6 * maxAbs(mr));
    expect(maxDiff(v, vr)).toBeLessThanOrEqual(2e-6 * maxAbs(vr));
  });
});

// ------------------------------------------------------------------ PPO updates vs the plain path

const O = 6;
const A = 3;
const hidden = [16, 16];
const model: PpoModel = { actor: mlpNet({ sizes: [O, ...hidden, A], activation: "tanh" }), critic: mlpNet({ sizes: [O, ...hidden, 1], activation: "tanh" }) };
const P = netParamCount(model.actor) + netParamCount(model.critic);

function batch(n: number, seed: number): PpoBatch {
  const r = rng(seed);
  return {
    obs: randVec(n * O, 1, seed),
    actions: Int32Array.from({ length: n }, () => Math.floor(r() * A)),
    oldLogp: Float64Array.from({ length: n }, () => Math.log(1 / A) + 0.3 * randn(r)),
    advantages: randVec(n, 1, seed + 1),
    returns: randVec(n, 1, seed + 2),
    oldValues: randVec(n, 0.5, seed + 3),
  };
}
const feeds = (b: PpoBatch) => ({ obs: b.obs, actions: b.actions, old_logp: b.oldLogp, advantages: b.advantages, returns: b.returns, old_values: b.oldValues });

describe("PPO training step", () => {
  for (const maxGradNorm of [0.5, 0.02, Infinity]) {
    it(`float64: five updates equal the plain-TypeScript path (nn gradients + clip_grad_norm_ + Adam) to 1e-9 (max_grad_norm ${maxGradNorm})`, async () => {
      const p0 = randVec(P, 0.3, 3);
      const ts = await track(TrainStep.create(ppoLossGraph(model, { numActions: A }), { precision: "float64", params: p0, optimizer: { lr: 1e-2, eps: 1e-5, maxGradNorm } }));
      const ref = new PlainPpo({ obsSize: O, hidden, activation: "tanh", numActions: A, maxBatch: 32, lr: 1e-2, eps: 1e-5, maxGradNorm });
      ref.params.set(p0);
      let clipped = 0;
      for (let u = 0; u < 5; u++) {
        const b = batch(32, 100 + u);
        const mg = ts.update(feeds(b));
        const mr = ref.update(b, 32);
        for (const k of Object.keys(mr)) expect(Math.abs(mg[k]! - mr[k]!)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(mr[k]!)));
        if (mr.grad_norm! > maxGradNorm) clipped++;
      }
      expect(maxDiff(ts.params, ref.params)).toBeLessThanOrEqual(1e-9 * maxAbs(ref.params));
      expect(maxDiff(ts.m, ref.adam.m)).toBeLessThanOrEqual(1e-9 * maxAbs(ref.adam.m));
      expect(maxDiff(ts.v, ref.adam.v)).toBeLessThanOrEqual(1e-9 * maxAbs(ref.adam.v));
      expect(ts.step).toBe(5);
      if (maxGradNorm === 0.02) expect(clipped).toBe(5);
      if (maxGradNorm === Infinity) expect(clipped).toBe(0);
    });
  }

  it("float32: five updates within 2e-5 of the plain path's parameters", async () => {
    const p0 = randVec(P, 0.3, 4);
    const ts = await track(TrainStep.create(ppoLossGraph(model, { numActions: A }), { params: p0, optimizer: { lr: 1e-2 } }));
    const ref = new PlainPpo({ obsSize: O, hidden, activation: "tanh", numActions: A, maxBatch: 32, lr: 1e-2 });
    ref.params.set(Float32Array.from(p0));
    for (let u = 0; u < 5; u++) {
      const b = batch(32, 200 + u);
      ts.update(feeds(b)); // Float64Array batches are converted into reused float32 buffers
      ref.update(b, 32);
    }
    expect(ts.params).toBeInstanceOf(Float32Array);
    expect(maxDiff(ts.params, ref.params)).toBeLessThanOrEqual(2e-5);
  });

  it("one session serves any batch size; the async path equals the sync one", async () => {
    const p0 = randVec(P, 0.3, 5);
    const a = await track(TrainStep.create(ppoLossGraph(model, { numActions: A }), { params: p0 }));
    const b = await track(TrainStep.create(ppoLossGraph(model, { numActions: A }), { params: p0 }));
    for (const n of [8, 32, 5]) {
      const x = batch(n, 300 + n);
      const ma = a.update(feeds(x));
      const mb = await b.updateAsync(feeds(x));
      expect(ma).toEqual(mb);
    }
    expect(Array.from(a.params)).toEqual(Array.from(b.params));
    expect(a.batchInputs).toEqual(["obs", "actions", "old_logp", "advantages", "returns", "old_values"]);
  });

  it("createSync (native binding) builds the same runner as create", async () => {
    const p0 = randVec(P, 0.3, 8);
    const a = await track(TrainStep.create(ppoLossGraph(model, { numActions: A }), { precision: "float64", params: p0 }));
    const b = TrainStep.createSync(ppoLossGraph(model, { numActions: A }), { precision: "float64", params: p0 });
    open.push(b);
    expect(b.session.sync).toBe(true);
    for (let u = 0; u < 3; u++) {
      const x = batch(16, 700 + u);
      expect(b.update(feeds(x))).toEqual(a.update(feeds(x)));
    }
    expect(Array.from(b.params)).toEqual(Array.from(a.params));
  });

  it("a NaN in the batch stops the update with the update number; nothing is committed", async () => {
    const ts = await track(TrainStep.create(ppoLossGraph(model, { numActions: A }), { params: randVec(P, 0.3, 6) }));
    ts.update(feeds(batch(16, 400)));
    const before = ts.getState();
    const bad = batch(16, 401);
    bad.obs[5] = Number.NaN;
    expect(() => ts.update(feeds(bad))).toThrow(/training update 2: loss is NaN/);
    expect(ts.step).toBe(1);
    expect(Array.from(ts.params)).toEqual(Array.from(before.params));
    expect(Array.from(ts.m)).toEqual(Array.from(before.m));
  });

  it("state round-trips: a resumed runner continues bit-identically; lr and coefficients apply per update", async () => {
    const p0 = randVec(P, 0.3, 7);
    const a = await track(TrainStep.create(ppoLossGraph(model, { numActions: A }), { params: p0 }));
    for (let u = 0; u < 3; u++) a.update(feeds(batch(16, 500 + u)));
    const snap = a.getState();
    for (let u = 3; u < 5; u++) a.update(feeds(batch(16, 500 + u)));
    const b = await track(TrainStep.create(ppoLossGraph(model, { numActions: A })));
    b.setState(snap);
    for (let u = 3; u < 5; u++) b.update(feeds(batch(16, 500 + u)));
    expect(Array.from(b.params)).toEqual(Array.from(a.params));
    expect(Array.from(b.v)).toEqual(Array.from(a.v));
    expect(b.step).toBe(5);
    // lr 0: parameters stay, moments move
    const frozen = b.params.slice();
    const m0 = b.m.slice();
    b.optimizer.lr = 0;
    b.hyper.ent_coef = 0.5;
    const m = b.update(feeds(batch(16, 600)));
    expect(Array.from(b.params)).toEqual(Array.from(frozen));
    expect(maxDiff(b.m, m0)).toBeGreaterThan(0);
    expect(m.loss).toBeCloseTo(m.pg_loss! - 0.5 * m.entropy! + 0.5 * m.v_loss!, 5);
  });
});

// ------------------------------------------------------------------ learning

function trainRegression(net: NetSpec, params: Float64Array, target: (x: Float64Array, off: number) => number, inSize: number, steps: number, lr: number) {
  return (async () => {
    const ts = await track(TrainStep.create(mseLossGraph(net), { params, optimizer: { lr, maxGradNorm: Infinity } }));
    const r = rng(99);
    const n = 64;
    const x = new Float32Array(n * inSize);
    const y = new Float32Array(n);
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      for (let k = 0; k < x.length; k++) x[k] = r() * 2 - 1;
      const xd = Float64Array.from(x);
      for (let k = 0; k < n; k++) y[k] = target(xd, k * inSize);
      losses.push(ts.update({ x, y }).loss!);
    }
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    return { first: mean(losses.slice(0, 10)), last: mean(losses.slice(-10)) };
  })();
}

describe("learning", () => {
  it("a 2x32 tanh MLP fits y = sin(2 x0) cos(1.5 x1) + 0.5 x2 in 400 Adam steps: loss falls more than 20-fold (float32)", async () => {
    const net = mlpNet({ sizes: [3, 32, 32, 1], activation: "tanh" });
    const params = randVec(netParamCount(net), 0.35, 8);
    const { first, last } = await trainRegression(net, params, (x, o) => Math.sin(2 * x[o]!) * Math.cos(1.5 * x[o + 1]!) + 0.5 * x[o + 2]!, 3, 400, 1e-2);
    expect(last).toBeLessThan(first / 20);
  });

  it("the attention encoder learns a window statistic (y = tanh(2 mean_t x[t,0]) + x_extra) in 300 steps: loss falls more than 5-fold (float32)", async () => {
    const spec: AttentionSpec = { window: 4, features: 2, extra: 1, dModel: 8, heads: 2, head: [16, 1], activation: "tanh" };
    const net = attentionNet(spec);
    const params = randVec(netParamCount(net), 0.3, 9);
    // LayerNorm gain 1, bias 0 (offsets from attentionLayout: gamma, beta come after the 4 projections)
    const d = spec.dModel;
    const gOff = spec.features * d + d + 4 * (d * d + d);
    for (let k = 0; k < d; k++) {
      params[gOff + k] = 1;
      params[gOff + d + k] = 0;
    }
    const W = spec.window;
    const F = spec.features;
    const { first, last } = await trainRegression(
      net,
      params,
      (x, o) => {
        let s = 0;
        for (let t = 0; t < W; t++) s += x[o + t * F]!;
        return Math.tanh((2 * s) / W) + x[o + W * F]!;
      },
      W * F + spec.extra,
      300,
      5e-3,
    );
    expect(last).toBeLessThan(first / 5);
  });
});
